"""Bulk actions of the tickets changelist: each ticket goes through the services."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tickets import services
from tickets.access import tickets_for_staff
from tickets.admin import forms as wforms
from tickets.workflow import TRANSITIONS


class TicketActionsMixin:
    """Assign to me, assign to…, change status…, escalate, merge… (for `TicketAdmin`)."""

    actions = [
        "action_assign_to_me",
        "action_assign_to",
        "action_change_status",
        "action_escalate",
        "action_merge",
    ]

    def _each(self, request, queryset, call, done_message: tuple[str, str]):
        """Run `call` on each ticket; `done_message` is (singular, plural) for ngettext."""
        done, failed = 0, []
        for ticket in queryset.select_related("queue", "requester"):
            try:
                call(ticket)
                done += 1
            except ValidationError as exc:
                failed.append(f"{ticket.reference}: {' '.join(exc.messages)}")
        if done:
            singular, plural = done_message
            text = ngettext(singular, plural, done) % {"count": done}
            self.message_user(request, text, messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    def _intermediate(self, request, queryset, *, action, title, form, extra=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "action": action,
            "form": form,
            "tickets": list(queryset.select_related("queue")[:200]),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
            **(extra or {}),
        }
        return TemplateResponse(request, "admin/tickets/ticket/bulk_action.html", context)

    @admin.action(description=gettext_lazy("Assign to me"), permissions=["change"])
    def action_assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.ticket_assign(ticket=t, assignee=request.user, actor=request.user),
            ("%(count)s ticket assigned to you.", "%(count)s tickets assigned to you."),
        )

    @admin.action(description=gettext_lazy("Assign to…"), permissions=["change"])
    def action_assign_to(self, request, queryset):
        form = wforms.AssignActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            self._each(
                request,
                queryset,
                lambda t: services.ticket_assign(ticket=t, assignee=assignee, actor=request.user),
                ("%(count)s ticket assigned.", "%(count)s tickets assigned."),
            )
            return None
        return self._intermediate(
            request, queryset, action="action_assign_to", title=_("Assign tickets"), form=form
        )

    @admin.action(description=gettext_lazy("Change status…"), permissions=["change"])
    def action_change_status(self, request, queryset):
        current = set(queryset.values_list("status", flat=True).distinct())
        # Only a status every selected ticket may move to (one transitions table).
        allowed = set.intersection(*(set(TRANSITIONS[s]) for s in current)) if current else set()
        if not allowed:
            self.message_user(
                request,
                _("The selected tickets have no status in common they could move to."),
                messages.WARNING,
            )
            return None
        form = wforms.StatusActionForm(
            request.POST if "apply" in request.POST else None, statuses=sorted(allowed)
        )
        if form.is_bound and form.is_valid():
            status = form.cleaned_data["status"]
            self._each(
                request,
                queryset,
                lambda t: services.ticket_set_status(ticket=t, status=status, actor=request.user),
                ("Status changed on %(count)s ticket.", "Status changed on %(count)s tickets."),
            )
            return None
        return self._intermediate(
            request, queryset, action="action_change_status", title=_("Change status"), form=form
        )

    @admin.action(description=gettext_lazy("Escalate to line 2…"), permissions=["change"])
    def action_escalate(self, request, queryset):
        form = wforms.EscalateActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self._each(
                request,
                queryset,
                lambda t: services.ticket_escalate(
                    ticket=t,
                    actor=request.user,
                    group=data["group"],
                    note=data["note"],
                    checklist=data["checklist"],
                ),
                (
                    "%(count)s ticket handed to the second line.",
                    "%(count)s tickets handed to the second line.",
                ),
            )
            return None
        return self._intermediate(
            request, queryset, action="action_escalate", title=_("Hand to line 2"), form=form
        )

    @admin.action(description=gettext_lazy("Merge…"), permissions=["change"])
    def action_merge(self, request, queryset):
        tickets = list(queryset.select_related("queue")[:200])
        form = wforms.MergeActionForm(
            request.POST if "apply" in request.POST else None, tickets=tickets
        )
        if form.is_bound and form.is_valid():
            visible = tickets_for_staff(request.user)
            if form.cleaned_data["number"]:
                target = visible.filter(number=form.cleaned_data["number"]).first()
            else:
                target = visible.filter(pk=form.cleaned_data["target"]).first()
            if target is None:
                self.message_user(request, _("No such ticket."), messages.ERROR)
                return None
            sources = [t for t in tickets if t.pk != target.pk]
            done = 0
            for source in sources:
                try:
                    services.ticket_merge(source=source, target=target, actor=request.user)
                    done += 1
                except ValidationError as exc:
                    self.message_user(
                        request, f"{source.reference}: {' '.join(exc.messages)}", messages.ERROR
                    )
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s ticket merged into %(target)s.",
                        "%(count)s tickets merged into %(target)s.",
                        done,
                    )
                    % {"count": done, "target": target.reference},
                    messages.SUCCESS,
                )
            return None
        return self._intermediate(
            request, queryset, action="action_merge", title=_("Merge tickets"), form=form
        )
