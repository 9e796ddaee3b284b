from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentDeadline(models.Model):
    """A department's mandatory time to carry out what it is handed (seed 003:
    «обязательный срок исполнения»). A department without one: DEPARTMENT_DEADLINE_HOURS.

    The hours are working hours on the ticket's queue clock (its business calendar),
    like every other target.
    """

    group = models.OneToOneField(
        Group,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="deadline",
    )
    hours = models.PositiveIntegerField(
        _("deadline, hours"),
        help_text=_(
            "Working hours (the queue's business calendar) the department has to carry out "
            "an escalated appeal."
        ),
    )

    class Meta:
        verbose_name = _("department deadline")
        verbose_name_plural = _("department deadlines")
        ordering = ["group__name"]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.hours}"


def department_deadline_hours(group: Group | None) -> int:
    """The department's own deadline, else the setting (second line without a department
    included)."""
    if group is not None:
        own = DepartmentDeadline.objects.filter(group=group).values_list("hours", flat=True)
        for hours in own:
            return hours
    return settings.DEPARTMENT_DEADLINE_HOURS
