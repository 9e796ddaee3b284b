"""The tickets changelist's default view (issue 20, item 8): open tickets, the most
urgent first answer at the top, under the title «Обращения»."""

from django.contrib import admin
from django.db.models import Case, F, IntegerField, Value, When
from django.utils.translation import gettext_lazy

from tickets.selectors_admin import OPEN_STATUSES

# Owed a first answer first (soonest due at the top), then the rest, newest first. A
# click on a column header replaces this.
URGENCY_ORDERING = (
    Case(
        When(first_response_at__isnull=True, status__in=OPEN_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    ).asc(),
    F("first_response_due").asc(nulls_last=True),
    F("number").desc(),
)


class OpenFilter(admin.SimpleListFilter):
    """Open tickets unless asked otherwise. Choosing a status in the status filter shows
    that status (a closed one too) without also having to switch this off."""

    title = gettext_lazy("show")
    parameter_name = "show"

    def lookups(self, request, model_admin):
        return [("open", gettext_lazy("open tickets")), ("all", gettext_lazy("all tickets"))]

    def choices(self, changelist):
        current = self.value() or "open"
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "all" or "status__exact" in request.GET:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES)
