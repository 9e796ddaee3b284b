"""The outbox in the admin: what was sent, what is owed, what needs a person."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Notification
from notifications.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "reference",
        "template",
        "recipient",
        "kind",
        "status",
        "attempts",
        "sent_at",
        "reason",
    )
    list_filter = ("status", "kind", "template", "channel")
    search_fields = ("=reference", "recipient", "=message_id", "=idempotency_key")
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    actions = ["resend"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    fieldsets = (
        (None, {"fields": ("reference", "recipient", "template", "language", "kind", "channel")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "status",
                    "reason",
                    "attempts",
                    "last_error",
                    "created_at",
                    "next_attempt_at",
                    "sending_started_at",
                    "handed_off_at",
                    "sent_at",
                )
            },
        ),
        (
            _("Message"),
            {
                "fields": (
                    "message_id",
                    "idempotency_key",
                    "from_email",
                    "reply_to",
                    "headers",
                    "context",
                    "attachments",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again (failed or suppressed messages only)"))
    def resend(self, request, queryset):
        requeued = sum(1 for row in queryset if notification_resend(notification=row))
        skipped = queryset.count() - requeued
        if requeued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message queued for sending.",
                    "%(count)d messages queued for sending.",
                    requeued,
                )
                % {"count": requeued},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was skipped: it is sent or still being sent.",
                    "%(count)d messages were skipped: they are sent or still being sent.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
