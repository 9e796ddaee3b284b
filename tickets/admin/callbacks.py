"""The operators' call-back list (regulation 12) in the admin: open entries, the most
urgent first, numbers masked until revealed (the reveal is audited), a `tel:` link, and
the outcome form. Every fetch goes through the staff access layer."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from tickets.access import access_callback_for_staff
from tickets.admin.forms import CallbackOutcomeForm
from tickets.admin.panels import TicketPanel, ticket_panel_register
from tickets.admin.site import model_admin_view
from tickets.models import CallbackRequest
from tickets.selectors_admin import mask_phone
from tickets.selectors_callbacks import (
    callbacks_closed_for_staff,
    callbacks_open_for_staff,
    ticket_callbacks,
)
from tickets.services import callback_record_outcome

PER_PAGE = 50


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    """Not Django's change list: a list of cards that fits a phone, with a form each."""

    def has_add_permission(self, request):
        return False  # entries come from citizens, missed calls and the services

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who was called back stays

    def has_view_permission(self, request, obj=None):
        return (
            request.user.is_active
            and request.user.is_staff
            and (
                request.user.is_superuser
                or request.user.has_perm("tickets.view_ticket")
                or request.user.has_perm("tickets.change_ticket")
            )
        )

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_perm("tickets.change_ticket")
        )

    def get_urls(self):
        def wrap(view):
            return model_admin_view(self, view)

        return [
            path("", wrap(callback_list), name="tickets_callbackrequest_changelist"),
            path(
                "<int:callback_id>/reveal/",
                wrap(callback_reveal),
                name="tickets_callbackrequest_reveal",
            ),
            path(
                "<int:callback_id>/outcome/",
                wrap(callback_outcome),
                name="tickets_callbackrequest_outcome",
            ),
            path(
                "<int:callback_id>/change/",
                wrap(lambda model_admin, request, callback_id: _to_list()),
                name="tickets_callbackrequest_change",
            ),
        ]


def _to_list() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:tickets_callbackrequest_changelist"))


def _entry(callback: CallbackRequest, *, revealed: bool) -> dict:
    return {
        "callback": callback,
        "ticket": callback.ticket,
        "phone": callback.phone if revealed else mask_phone(callback.phone),
        "revealed": revealed,
        "form": CallbackOutcomeForm(),
    }


def callback_list(model_admin, request, *, revealed_id: int | None = None, bound=None):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    closed = request.GET.get("state") == "closed"
    queryset = (
        callbacks_closed_for_staff(request.user)
        if closed
        else callbacks_open_for_staff(request.user)
    )
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("p"))
    entries = []
    for callback in page.object_list:
        entry = _entry(callback, revealed=callback.pk == revealed_id)
        if bound is not None and bound[0] == callback.pk:
            entry["form"] = bound[1]
        entries.append(entry)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Call-backs"),
        "entries": entries,
        "page": page,
        "closed": closed,
        "can_change": model_admin.has_change_permission(request),
        "now": timezone.now(),
    }
    return TemplateResponse(request, "admin/tickets/callbackrequest/list.html", context)


def callback_reveal(model_admin, request, callback_id):
    """Shows one number in full, with its `tel:` link; who saw whose number is recorded
    (152-FZ), every time."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    callback = access_callback_for_staff(request.user, callback_id)
    audit_record(
        "personal_data.viewed",
        request=request,
        obj=callback,
        object_label=callback.ticket.reference,
        details={"field": "callback.phone", "ticket": callback.ticket_id},
    )
    return callback_list(model_admin, request, revealed_id=callback.pk)


def callback_outcome(model_admin, request, callback_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    callback = access_callback_for_staff(request.user, callback_id)
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    form = CallbackOutcomeForm(request.POST)
    if form.is_valid():
        try:
            callback = callback_record_outcome(
                callback=callback,
                outcome=form.cleaned_data["outcome"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            label = CallbackRequest.Outcome(callback.outcome).label
            if callback.closed_at:
                messages.success(
                    request,
                    _("%(ref)s: %(outcome)s. The call-back is closed.")
                    % {"ref": callback.ticket.reference, "outcome": label},
                )
            else:
                messages.info(
                    request,
                    _("%(ref)s: %(outcome)s (attempt %(n)s). It comes up again later.")
                    % {"ref": callback.ticket.reference, "outcome": label, "n": callback.attempts},
                )
        return _to_list()
    return callback_list(model_admin, request, bound=(callback.pk, form))


def _ticket_page_panel(request, ticket) -> dict | None:
    callbacks = ticket_callbacks(ticket)
    if not callbacks:
        return None
    return {"callbacks": [{"callback": c, "phone": mask_phone(c.phone)} for c in callbacks]}


ticket_panel_register(
    TicketPanel(
        key="callbacks",
        template="admin/tickets/ticket/_panel_callbacks.html",
        context=_ticket_page_panel,
        order=10,
    )
)
