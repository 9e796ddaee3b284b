"""The call log and the operators' extensions in the admin."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from telephony.models import CallRecord, OperatorPhone
from telephony.selectors import calls_for_staff
from tickets.access import user_sees_personal_data, user_works_tickets
from tickets.admin.workspace import ReadOnlyAdmin
from tickets.selectors_admin import mask_phone


@admin.register(CallRecord)
class CallRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "ring_at",
        "direction",
        "number",
        "missed",
        "wait_seconds",
        "talk_seconds",
        "cause",
        "operator",
        "ticket_link",
    )
    list_filter = ("direction", "missed", "cause", "ring_at")
    list_select_related = ("operator", "ticket")
    date_hierarchy = "ring_at"
    ordering = ("-ring_at", "-id")
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request):
        return calls_for_staff(request.user).select_related("operator", "ticket")

    def has_view_permission(self, request, obj=None):
        return user_works_tickets(request.user)

    def has_module_permission(self, request):
        return user_works_tickets(request.user)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if user_sees_personal_data(request.user):
            return fields
        return [f for f in fields if f not in ("from_number", "to_number")]

    def get_list_display(self, request):
        if user_sees_personal_data(request.user):
            return self.list_display
        return tuple("number_masked" if c == "number" else c for c in self.list_display)

    @admin.display(description=_("number"))
    def number(self, obj):
        return obj.citizen_number

    @admin.display(description=_("number"))
    def number_masked(self, obj):
        return mask_phone(obj.citizen_number)

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj):
        if obj.ticket_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:tickets_ticket_change", args=[obj.ticket_id]),
            obj.ticket.reference,
        )


@admin.register(OperatorPhone)
class OperatorPhoneAdmin(admin.ModelAdmin):
    list_display = ("extension", "user")
    search_fields = ("extension", "user__username")
    list_select_related = ("user",)
