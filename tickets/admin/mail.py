"""Inbound e-mail (quarantine) and IMAP mailboxes in the admin.

Thin: the actions call `tickets.intake` services; nothing here decides about mail.
"""

from pathlib import PurePath

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.downloads import file_response
from tickets.intake.imap import mailbox_poll
from tickets.intake.ingest import email_process
from tickets.models import InboundEmail, Mailbox, Queue


class InboundEmailActionForm(ActionForm):
    queue = forms.ModelChoiceField(
        label=_("queue"),
        queryset=Queue.objects.filter(is_active=True),
        required=False,
        help_text=_("For “turn into ticket”."),
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    action_form = InboundEmailActionForm
    actions = ["retry", "turn_into_ticket"]
    list_display = [
        "received_at",
        "status",
        "source",
        "sender",
        "subject",
        "ticket_link",
        "error_short",
    ]
    list_filter = ["status", "source", "mailbox", "received_at"]
    search_fields = ["subject", "sender", "message_id", "recipient"]
    date_hierarchy = "received_at"
    list_select_related = ["ticket"]
    list_per_page = 50
    readonly_fields = [
        "received_at",
        "processed_at",
        "status",
        "source",
        "mailbox",
        "message_id",
        "sender",
        "recipient",
        "subject",
        "size",
        "ticket_link",
        "raw_download",
        "error_block",
        "retried_by",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Received mail is evidence: only a superuser may remove it.
        return request.user.is_superuser

    def get_urls(self):
        return [
            path(
                "<int:pk>/raw/",
                self.admin_site.admin_view(self.raw_view),
                name="tickets_inboundemail_raw",
            ),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise Http404
        inbound = get_object_or_404(InboundEmail, pk=pk)
        if not inbound.raw:
            raise Http404
        return file_response(
            inbound.raw, filename=f"inbound-{inbound.pk}.eml", content_type="message/rfc822"
        )

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj: InboundEmail):
        if obj.ticket_id is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">{}</a>', url, obj.ticket.reference)

    @admin.display(description=_("raw message"))
    def raw_download(self, obj: InboundEmail):
        if not obj.raw:
            return "—"
        url = reverse("admin:tickets_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a> ({} B)', url, PurePath(obj.raw.name).name, obj.size)

    @admin.display(description=_("error"))
    def error_short(self, obj: InboundEmail) -> str:
        first = (obj.error or "").strip().splitlines()
        return first[0][:120] if first else ""

    @admin.display(description=_("error"))
    def error_block(self, obj: InboundEmail):
        if not obj.error:
            return "—"
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.error)

    def _report(self, request, results) -> None:
        done = [r for r in results if r.status == InboundEmail.Status.PROCESSED]
        failed = [r for r in results if r.status != InboundEmail.Status.PROCESSED]
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message processed: %(refs)s.",
                    "%(count)d messages processed: %(refs)s.",
                    len(done),
                )
                % {"count": len(done), "refs": ", ".join(r.reference for r in done)},
                messages.SUCCESS,
            )
        for result in failed:
            self.message_user(
                request,
                _("Message %(id)s: %(status)s. %(error)s")
                % {
                    "id": result.inbound_email_id,
                    "status": result.status,
                    "error": (result.error or "").splitlines()[0] if result.error else "",
                },
                messages.WARNING,
            )

    @admin.action(description=_("Retry the selected messages"), permissions=["change"])
    def retry(self, request, queryset):
        results = [
            email_process(inbound=inbound, actor=request.user)
            for inbound in queryset.exclude(status=InboundEmail.Status.PROCESSED).select_related(
                "mailbox__queue"
            )
        ]
        self._report(request, results)

    @admin.action(
        description=_("Turn into a new ticket in the chosen queue"), permissions=["change"]
    )
    def turn_into_ticket(self, request, queryset):
        try:
            queue = InboundEmailActionForm.base_fields["queue"].clean(
                request.POST.get("queue") or None
            )
        except ValidationError:
            queue = None
        if queue is None:
            self.message_user(request, _("Choose a queue first."), messages.ERROR)
            return
        results = [
            email_process(inbound=inbound, queue=queue, force_new=True, actor=request.user)
            for inbound in queryset.exclude(status=InboundEmail.Status.PROCESSED)
        ]
        self._report(request, results)


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current one, or use the environment variable."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "queue",
            "host",
            "port",
            "security",
            "username",
            "password",
            "password_env",
            "folder",
            "archive_folder",
            "is_active",
        ]

    def clean_password(self) -> str:
        value = self.cleaned_data.get("password") or ""
        if not value and self.instance.pk:
            return self.instance.password
        return value


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "__str__",
        "queue",
        "security",
        "archive_folder",
        "is_active",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["is_active", "queue"]
    readonly_fields = ["last_polled_at", "last_error"]
    actions = ["poll_now"]

    @admin.action(description=_("Fetch new mail now"), permissions=["change"])
    def poll_now(self, request, queryset):
        for mailbox in queryset.select_related("queue"):
            stats = mailbox_poll(mailbox=mailbox)
            level = messages.ERROR if stats.get("error") else messages.SUCCESS
            self.message_user(
                request,
                _(
                    "%(mailbox)s: %(fetched)s fetched, %(processed)s processed, "
                    "%(quarantined)s quarantined. %(error)s"
                )
                % {"mailbox": mailbox, **stats},
                level,
            )
