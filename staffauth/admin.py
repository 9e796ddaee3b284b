"""Superusers' tools on the user list: reset a colleague's second factors, unlock sign-in.

The user admin registered before this app (Django's, or a project one) is extended,
not replaced. Locked addresses are in axes' own "Access attempts" list.
"""

from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from staffauth.services import factors_reset

User = get_user_model()
_BaseUserAdmin = type(admin.site._registry[User])


class StaffAuthUserAdmin(_BaseUserAdmin):
    actions = [*(_BaseUserAdmin.actions or []), "reset_second_factors", "unlock_sign_in"]

    def has_security_reset_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Reset second factors"), permissions=["security_reset"])
    def reset_second_factors(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            factors_reset(user=user, actor=request.user, request=request)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "Second factors reset for %(count)d user: they enrol again at the next sign-in.",
                "Second factors reset for %(count)d users: they enrol again at the next sign-in.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Unlock sign-in"), permissions=["security_reset"])
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet) -> None:
        attempts = sum(axes_reset(username=user.get_username()) for user in queryset)
        self.message_user(
            request,
            _("Sign-in unlocked; %(count)d failed attempts cleared.") % {"count": attempts},
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, StaffAuthUserAdmin)


class FactorAdmin(admin.ModelAdmin):
    """Superusers see who has which second factor; nobody edits one here, and no secret
    (TOTP key, recovery code) is shown. A lost factor is removed by its owner (with the
    password) or by a superuser's "Reset second factors"."""

    list_select_related = ["user"]
    search_fields = ["user__username", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return list(self.fields or [])

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebAuthnCredential)
class SecurityKeyAdmin(FactorAdmin):
    list_display = ["user", "name", "created_at", "last_used_at", "sign_count"]
    fields = ["user", "name", "created_at", "last_used_at", "sign_count", "transports"]


# django-otp's own admins let a superuser read a colleague's TOTP key and recovery codes
# (enough to pass their second factor) and edit them: replaced by read-only lists.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(TOTPDevice)
class AuthenticatorAppAdmin(FactorAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]


@admin.register(StaticDevice)
class RecoveryCodesAdmin(FactorAdmin):
    list_display = ["user", "name", "confirmed", "codes_left"]
    fields = ["user", "name", "confirmed", "codes_left"]

    @admin.display(description=_("Recovery codes left"))
    def codes_left(self, obj: StaticDevice) -> int:
        return obj.recovery_codes.count()
