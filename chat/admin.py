"""Chat sessions and operators' availability in the admin, and the operator console."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from chat import views
from chat.models import ChatSession, OperatorPresence
from tickets.access import tickets_for_staff, user_sees_all_tickets, user_sees_personal_data

# Never shown: `secret` is half of every citizen token of the session.
_HIDDEN_FIELDS = ("secret",)
_PERSONAL_FIELDS = ("email",)


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ("ticket_link", "status", "queue", "operator", "started_at", "ended_at")
    list_filter = ("status", "queue")
    list_select_related = ("ticket", "queue", "operator")
    search_fields = ("ticket__number", "citizen_name")
    date_hierarchy = "started_at"
    change_list_template = "chat/admin/chatsession_changelist.html"

    def get_urls(self):
        # /admin/chat/chatsession/console/: the operator console inside the admin.
        console = self.admin_site.admin_view(self.console_view)
        return [path("console/", console, name="chat_console"), *super().get_urls()]

    def console_view(self, request):
        return views.console(request, admin_context=self.admin_site.each_context(request))

    def get_queryset(self, request):
        # The sessions of tickets this user may see (tickets.access): their queues.
        queryset = super().get_queryset(request)
        if user_sees_all_tickets(request.user):
            return queryset
        return queryset.filter(ticket__in=tickets_for_staff(request.user).values("pk"))

    def get_fields(self, request, obj=None):
        hidden = set(_HIDDEN_FIELDS)
        if not user_sees_personal_data(request.user):
            hidden.update(_PERSONAL_FIELDS)
        return [f.name for f in ChatSession._meta.fields if f.name not in hidden]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj: ChatSession):
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">{}</a>', url, obj.ticket.reference)


@admin.register(OperatorPresence)
class OperatorPresenceAdmin(admin.ModelAdmin):
    list_display = ("user", "availability", "max_chats", "last_seen")
    list_editable = ("max_chats",)
    list_filter = ("availability",)
    list_select_related = ("user",)
    autocomplete_fields = ()
    raw_id_fields = ("user",)
