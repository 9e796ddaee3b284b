"""Webhooks in the admin: subscriptions (the secret is shown once) and the delivery log.

Thin: every change goes through `webhooks.services`, which records it in the audit log.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.access import tickets_for_staff, user_sees_all_tickets
from webhooks import services
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookSubscription
from webhooks.targets import TargetRefused, url_check


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "event_types", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            url_check(url)
        except TargetRefused as exc:
            raise ValidationError(str(exc)) from None
        return url


def _secret_page(request, model_admin, subscription, secret, *, rotated: bool):
    return TemplateResponse(
        request,
        "admin/webhooks/secret.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Webhook secret"),
            "subscription": subscription,
            "secret": secret,
            "rotated": rotated,
            "opts": model_admin.model._meta,
            "back": reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]),
        },
    )


HEALTH_FIELDS = (
    "last_success_at",
    "last_failure_at",
    "failing_since",
    "consecutive_failures",
    "disabled_at",
    "disabled_reason",
    "log",
)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = (
        "name",
        "url",
        "is_active",
        "events",
        "last_success_at",
        "failing_since",
        "disabled_at",
        "log",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    actions = ["rotate_secret"]
    readonly_fields = (*HEALTH_FIELDS, "created_by", "created_at")
    fieldsets = (
        (None, {"fields": ("name", "url", "event_types", "is_active")}),
        (_("Health"), {"fields": HEALTH_FIELDS}),
        (None, {"fields": ("created_by", "created_at")}),
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets[:1] if obj is None else self.fieldsets

    @admin.display(description=_("events"))
    def events(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description=_("delivery log"))
    def log(self, obj):
        if obj is None or obj.pk is None:
            return ""
        url = reverse("admin:webhooks_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?subscription__id__exact={}">{}</a>', url, obj.pk, _("deliveries")
        )

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name] for name in ("name", "url", "event_types", "is_active")
        }
        if change:
            changed = {name: data[name] for name in form.changed_data if name in data}
            services.subscription_update(subscription=obj, actor=request.user, **changed)
        else:
            subscription, secret = services.subscription_create(actor=request.user, **data)
            obj.pk = subscription.pk
            obj._state.adding = False
            request._webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        # The secret is shown on this page only: it is not kept in the session, a
        # message cookie or a later page.
        return _secret_page(request, self, obj, secret, rotated=False)

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.subscription_delete(subscription=subscription, actor=request.user)

    @admin.action(description=_("Replace the secret (shown once)"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select one subscription."), messages.WARNING)
            return None
        subscription = queryset.get()
        secret = services.subscription_secret_rotate(subscription=subscription, actor=request.user)
        return _secret_page(request, self, subscription, secret, rotated=True)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("started_at", "status_code", "duration_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "reference",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event", "subscription")
    search_fields = ("=reference", "=id")
    list_select_related = ("subscription",)
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    actions = ["resend"]
    inlines = [AttemptInline]
    fields = (
        "id",
        "subscription",
        "event",
        "reference",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "payload_pretty",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_sees_all_tickets(request.user):
            return queryset
        # A payload shows the ticket: queue-scoped staff see their queues' deliveries only.
        return queryset.filter(ticket_id__in=tickets_for_staff(request.user).values("pk"))

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj):
        return format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>",
            json.dumps(obj.payload, ensure_ascii=False, indent=2),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("webhooks.resend_webhookdelivery")

    @admin.action(
        description=_("Send again (delivered or failed deliveries)"), permissions=["resend"]
    )
    def resend(self, request, queryset):
        queued = sum(
            1
            for delivery in queryset
            if services.delivery_resend(delivery=delivery, actor=request.user)
        )
        skipped = queryset.count() - queued
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery queued for sending.",
                    "%(count)d deliveries queued for sending.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery was skipped: it is still pending.",
                    "%(count)d deliveries were skipped: they are still pending.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
