"""Queues in the admin, with their own mail templates (regulation 8): the placeholder
list and a live preview next to the fields."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.template import TemplateSyntaxError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.admin.site import model_admin_view
from tickets.mail_templates import (
    OVERRIDABLE,
    PLACEHOLDERS,
    mail_template_check,
    mail_template_render,
)
from tickets.models import Queue

TEMPLATE_FIELDS = [f"{name}_{part}" for name in OVERRIDABLE for part in ("subject", "text")]
# What the preview fills the placeholders with.
SAMPLE = {
    "number": "SP-0042",
    "name": "Мария Ивановна",
    "queue": "Сайт Навигатора",
    "subject": "Не приходит СМС-код",
    "status_label": "в работе",
    "due": "до 18:00 пятницы, 5 декабря (МСК)",
    "sla_hours": "24",
    "status_url": "https://support.example.org/appeal/SP-0042/?t=…",
    "text": "Здравствуйте! Код приходит на номер из личного кабинета; проверьте его.",
    "operator": "Анна Соколова",
    "feedback_yes_url": "https://support.example.org/appeal/SP-0042/feedback/?solved=yes",
    "feedback_no_url": "https://support.example.org/appeal/SP-0042/feedback/?solved=no",
    "feedback_url": "https://support.example.org/appeal/SP-0042/feedback/",
    "where": "МФЦ «Мои документы», ул. Ленина, 1, тел. 8 800 100-00-00",
    "what": "Подайте заявление о выдаче справки лично, с паспортом.",
}


class QueueForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = [*TEMPLATE_FIELDS, "signature"]  # the admin adds the rest

    def clean(self):
        cleaned = super().clean()
        for name in TEMPLATE_FIELDS:
            try:
                mail_template_check(cleaned.get(name) or "")
            except TemplateSyntaxError as exc:
                self.add_error(
                    name, ValidationError(_("Template error: %(error)s") % {"error": exc})
                )
        return cleaned


def placeholder_list(template: str) -> str:
    return format_html(
        "<ul class='ws-placeholders'>{}</ul>",
        format_html_join(
            "",
            "<li><code>{{{{ {} }}}}</code> — {}</li>",
            ((name, label) for name, label in PLACEHOLDERS[template].items()),
        ),
    )


def template_preview(model_admin, request: HttpRequest) -> JsonResponse:
    """The mail a template makes, filled with sample values (the admin's live preview)."""
    if request.method != "POST":
        return JsonResponse({"error": _("Unknown mail.")}, status=405)
    if not model_admin.has_change_permission(request) and not model_admin.has_add_permission(
        request
    ):
        raise PermissionDenied
    template = request.POST.get("template", "")
    if template not in OVERRIDABLE:
        return JsonResponse({"error": _("Unknown mail.")}, status=400)
    try:
        return JsonResponse(
            {
                part: mail_template_render(
                    request.POST.get(part, ""), template=template, context=SAMPLE
                )
                for part in ("subject", "text")
            }
        )
    except TemplateSyntaxError as exc:
        return JsonResponse({"error": _("Template error: %(error)s") % {"error": exc}})


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    form = QueueForm
    list_display = (
        "name",
        "slug",
        "email_address",
        "sla_first_response_hours",
        "calendar",
        "operators_group",
        "auto_assign",
        "is_active",
        "position",
    )
    list_editable = ("position", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("operators_group", "calendar")

    class Media:
        css = {"all": ("admin-workspace/workspace.css",)}
        js = ("admin-workspace/queue-templates.js",)

    def get_fieldsets(self, request, obj=None):
        # Every other editable field of the queue (other features add theirs) comes first.
        main = [
            field.name
            for field in [*Queue._meta.fields, *Queue._meta.many_to_many]
            if field.editable
            and not field.primary_key
            and field.name not in (*TEMPLATE_FIELDS, "signature")
        ]
        titles = {
            "auto_reply": gettext_lazy("Auto-reply of this queue"),
            "answer": gettext_lazy("Answer mail of this queue"),
            "resolved": gettext_lazy("«Solved?» mail of this queue"),
            "redirected": gettext_lazy("«Redirected» mail of this queue"),
        }
        hint = _("Empty fields: the global mail is sent. Placeholders:")
        preview_url = reverse("admin:tickets_queue_template_preview")
        return [
            (None, {"fields": main}),
            *[
                (
                    titles[name],
                    {
                        "fields": [f"{name}_subject", f"{name}_text"],
                        "classes": ["ws-mail-template"],
                        "description": format_html(
                            "{} {}<div class='ws-preview' data-template='{}' data-url='{}' "
                            "aria-live='polite'></div>",
                            hint,
                            placeholder_list(name),
                            name,
                            preview_url,
                        ),
                    },
                )
                for name in OVERRIDABLE
            ],
            (gettext_lazy("Signature"), {"fields": ["signature"]}),
        ]

    def get_urls(self):
        custom = [
            path(
                "template-preview/",
                model_admin_view(self, template_preview),
                name="tickets_queue_template_preview",
            )
        ]
        return custom + super().get_urls()
