"""Tickets, contacts, queues, canned responses in the admin (the operator workspace)."""

from functools import lru_cache

from django.contrib import admin
from django.contrib.admin import helpers
from django.forms import Media
from django.http import HttpResponseRedirect
from django.urls import get_script_prefix, path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from tickets.access import tickets_for_staff, user_sees_all_tickets, user_sees_personal_data
from tickets.admin import views
from tickets.admin.actions import TicketActionsMixin
from tickets.admin.changelist import URGENCY_ORDERING, OpenFilter
from tickets.admin.pagination import EstimatedCountPaginator
from tickets.admin.site import model_admin_view
from tickets.models import (
    Attachment,
    CannedResponse,
    Contact,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.selectors_admin import (
    mask_email,
    mask_name,
    mask_phone,
    ticket_resolution_state,
    ticket_sla_state,
    tickets_filter_sla,
    tickets_search,
)

WORKSPACE_MEDIA = Media(
    css={"all": ["admin-workspace/workspace.css"]}, js=["admin-workspace/workspace.js"]
)


_PK_MARK = "987654321"


@lru_cache(maxsize=8)
def _change_url_pattern(script_prefix: str) -> str:
    return reverse("admin:tickets_ticket_change", args=[_PK_MARK])


def _change_url(pk: int) -> str:
    """The ticket page URL without a `reverse()` per changelist row."""
    return _change_url_pattern(get_script_prefix()).replace(_PK_MARK, str(pk))


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("assignee")
    parameter_name = "who"

    def lookups(self, request, model_admin):
        return [("mine", gettext_lazy("mine")), ("unassigned", gettext_lazy("unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class SlaFilter(admin.SimpleListFilter):
    title = gettext_lazy("first answer (SLA)")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("breached", gettext_lazy("breached")),
            ("soon", gettext_lazy("due within 2 h")),
            ("ontime", gettext_lazy("on time")),
        ]

    def queryset(self, request, queryset):
        if self.value():
            return tickets_filter_sla(queryset, self.value())
        return queryset


@admin.register(Ticket)
class TicketAdmin(TicketActionsMixin, admin.ModelAdmin):
    list_display = (
        "number_link",
        "subject",
        "requester_masked",
        "status_badge",
        "sla_countdown",
        "resolution_countdown",
        "queue_name",
        "line_short",
        "assignee_short",
    )
    list_display_links = None
    list_filter = (
        OpenFilter,
        "status",
        "queue",
        "channel",
        "line",
        "kind",
        AssigneeFilter,
        SlaFilter,
    )
    list_select_related = ("queue__calendar", "requester", "assignee")
    list_per_page = 100
    list_max_show_all = 500
    ordering = URGENCY_ORDERING
    sortable_by = ("number_link", "sla_countdown", "resolution_countdown")
    search_fields = ("number",)  # the real search is `tickets_search` (index-backed)
    search_help_text = gettext_lazy(
        "Ticket number (SP-0042, sp42, 42), e-mail, phone, INN, name or subject"
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    change_list_template = "admin/tickets/ticket/change_list.html"

    @property
    def media(self):
        return super().media + WORKSPACE_MEDIA

    # --- Who sees what -------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": capfirst(self.opts.verbose_name_plural), **(extra_context or {})}
        )

    def get_queryset(self, request):
        return tickets_for_staff(request.user, super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        return tickets_search(queryset, search_term), False

    def has_add_permission(self, request):
        # Tickets are created by calls, mail, the form and chat: "add" is "register call".
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # appeals are records (regulation 7): never deleted from the admin

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- Columns -------------------------------------------------------------------

    def action_checkbox(self, obj):
        # Same markup as Django's, without rendering a widget template per row (a
        # quarter of the changelist's time at 100 rows).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), obj.reference),
        )

    @admin.display(description=gettext_lazy("number"), ordering="number")
    def number_link(self, obj):
        return format_html(
            '<a class="ws-number" href="{}">{}</a>', _change_url(obj.pk), obj.reference
        )

    @admin.display(description=gettext_lazy("requester"))
    def requester_masked(self, obj):
        requester = obj.requester
        contact = mask_email(requester.email) or mask_phone(requester.phone)
        return format_html(
            '<span class="ws-requester">{}</span><br><small>{}</small>',
            mask_name(requester.full_name),
            contact,
        )

    @admin.display(description=gettext_lazy("queue and channel"), ordering="queue")
    def queue_name(self, obj):
        # One column for both: the list fits 1366 px without scrolling sideways.
        return format_html(
            '<span class="ws-queue">{}</span><br><small class="ws-channel">{}</small>',
            obj.queue.name,
            obj.get_channel_display(),
        )

    @admin.display(description=gettext_lazy("line"), ordering="line")
    def line_short(self, obj):
        return format_html(
            '<span class="ws-line ws-line-{}" title="{}">{}</span>',
            obj.line,
            obj.get_line_display(),
            "1" if obj.line == Ticket.Line.FIRST else "2",
        )

    @admin.display(description=gettext_lazy("assignee"), ordering="assignee")
    def assignee_short(self, obj):
        user = obj.assignee
        if user is None:
            return "—"
        if user.last_name:
            return f"{user.last_name} {user.first_name[:1]}.".strip()
        return user.get_username()

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span class="ws-badge ws-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=gettext_lazy("first answer"), ordering="first_response_due")
    def sla_countdown(self, obj):
        state = ticket_sla_state(obj)
        return format_html('<span class="ws-sla ws-sla-{}">{}</span>', state.state, state.text)

    @admin.display(description=gettext_lazy("resolution"), ordering="resolution_due")
    def resolution_countdown(self, obj):
        state = ticket_resolution_state(obj)
        return format_html('<span class="ws-sla ws-sla-{}">{}</span>', state.state, state.text)

    # --- Pages ---------------------------------------------------------------------

    def get_urls(self):
        def wrap(view):
            return model_admin_view(self, view)

        custom = [
            path("register-call/", wrap(views.register_call), name="tickets_ticket_register_call"),
            path(
                "register-call/<int:ticket_id>/",
                wrap(views.register_call_done),
                name="tickets_ticket_register_call_done",
            ),
            path(
                "<int:ticket_id>/presence/",
                wrap(views.presence),
                name="tickets_ticket_presence",
            ),
            path(
                "<int:ticket_id>/files/<int:attachment_id>/",
                wrap(views.attachment_download),
                name="tickets_ticket_attachment",
            ),
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:tickets_ticket_register_call"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return views.ticket_page(self, request, int(object_id))


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("full_name", "email", "phone", "inn", "organisation")
    search_fields = ("=email", "=phone", "=inn")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-id",)

    def get_list_display(self, request):
        if user_sees_personal_data(request.user):
            return self.list_display
        return ("name_masked", "email_masked", "phone_masked", "organisation")

    def get_search_fields(self, request):
        # An exact search answers "is this e-mail/phone/INN on file?" even with the
        # list masked: a look-up of personal data, for those allowed to see it only.
        if user_sees_personal_data(request.user):
            return self.search_fields
        return ()

    @admin.display(description=gettext_lazy("full name"))
    def name_masked(self, obj):
        return mask_name(obj.full_name)

    @admin.display(description=gettext_lazy("e-mail"))
    def email_masked(self, obj):
        return mask_email(obj.email)

    @admin.display(description=gettext_lazy("phone"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    def changelist_view(self, request, extra_context=None):
        if user_sees_personal_data(request.user):
            audit_record(
                "personal_data.viewed",
                request=request,
                object_ref="tickets.contact",
                details={"list": request.GET.urlencode()},
            )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and request.method == "GET":
            # Only those who see personal data in full get here (has_view_permission).
            audit_record(
                "personal_data.viewed",
                request=request,
                object_ref=f"tickets.contact:{object_id}",
            )
        return response

    def has_view_permission(self, request, obj=None):
        # Personal data in full is for those allowed to see it (regulation 10).
        return super().has_view_permission(request, obj) and (
            obj is None or user_sees_personal_data(request.user)
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "queue", "is_active")
    list_filter = ("queue", "is_active")
    search_fields = ("title", "body")
    list_select_related = ("queue",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: visible to staff, changed only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_sees_all_tickets(request.user):
            return queryset
        return queryset.filter(ticket__in=tickets_for_staff(request.user).values("pk"))


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "ticket",
        "kind",
        "actor_label",
        "field",
        "old_value",
        "new_value",
    )
    list_filter = ("kind",)
    list_select_related = ("ticket",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-id",)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ticket", "author_kind", "is_internal", "channel")
    list_filter = ("author_kind", "is_internal", "channel")
    list_select_related = ("ticket",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-id",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "ticket", "content_type", "size", "created_at", "download")
    # The stored file only as the checked download link: the field's own display would
    # link the storage's URL (none for the object store: tickets/downloads.py).
    exclude = ("file",)
    readonly_fields = ("download",)
    list_select_related = ("ticket",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-id",)

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:tickets_ticket_attachment", args=[obj.ticket_id, obj.pk]),
            _("download"),
        )


@admin.register(TicketLink)
class TicketLinkAdmin(ReadOnlyAdmin):
    list_display = ("source", "kind", "target", "created_at")
    list_filter = ("kind",)
    list_select_related = ("source", "target")
    ordering = ("-id",)

    def get_queryset(self, request):
        queryset = super(ReadOnlyAdmin, self).get_queryset(request)
        if user_sees_all_tickets(request.user):
            return queryset
        return queryset.filter(source__in=tickets_for_staff(request.user).values("pk"))
