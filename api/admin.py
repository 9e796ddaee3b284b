"""API tokens in the admin: issue (the token is shown once, on the page that answers
the form, never stored in a message or a cookie), see when and from where each was last
used, revoke. Tokens are never deleted: a revoked row stays as the record."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiToken, Scope
from api.services import api_token_create, api_token_revoke, scopes_clean
from tickets.selectors import staff_users


class ApiTokenCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in, days"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: never (revoke it when it is no longer needed)."),
    )

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "queues"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = staff_users()
        if request is not None and not request.user.is_superuser:
            # A token acts as its user: only a superuser may issue one for someone else.
            users = users.filter(pk=request.user.pk)
        self.fields["user"].queryset = users

    def clean_scopes(self):
        try:
            return scopes_clean(self.cleaned_data["scopes"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix_display",
        "user",
        "scopes_display",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "state",
    ]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]
    readonly_fields = [
        "name",
        "prefix_display",
        "user",
        "scopes_display",
        "queues_display",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            form = ApiTokenCreateForm

            class RequestForm(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            kwargs["form"] = RequestForm
            kwargs["fields"] = [*ApiTokenCreateForm.Meta.fields, "expires_in_days"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*ApiTokenCreateForm.Meta.fields, "expires_in_days"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        days = form.cleaned_data.get("expires_in_days")
        token, raw = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            queues=form.cleaned_data["queues"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            created_by=request.user,
            request=request,
        )
        obj.pk = token.pk
        obj._raw_token = raw

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On add the queues were set by api_token_create.

    def response_add(self, request, obj, post_url_continue=None):
        token = ApiToken.objects.select_related("user").get(pk=obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("API token created"),
            "token": token,
            "raw_token": obj._raw_token,
        }
        response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user, request=request)
            count += 1
        self.message_user(
            request,
            ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", count) % {"n": count},
            messages.SUCCESS,
        )

    @admin.display(description=_("token"))
    def prefix_display(self, obj) -> str:
        return f"hd_{obj.prefix}_…"

    @admin.display(description=_("scopes"))
    def scopes_display(self, obj) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=_("queues"))
    def queues_display(self, obj) -> str:
        return ", ".join(q.name for q in obj.queues.all()) or str(_("all of its user's"))

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        if obj.revoked_at:
            return str(_("revoked"))
        if obj.expires_at and obj.expires_at <= timezone.now():
            return str(_("expired"))
        return str(_("active"))
