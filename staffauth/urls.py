from django.urls import path

from staffauth.views import login, security

app_name = "staffauth"

urlpatterns = [
    # Comes before admin.site.urls: the admin's own login address, in two steps.
    path("admin/login/", login.PasswordStepView.as_view(), name="login"),
    path("admin/login/verify/", login.verify_step, name="verify"),
    path("account/security/", security.security, name="security"),
    path("account/security/totp/", security.totp_enrol, name="totp_enrol"),
    path("account/security/recovery-codes/", security.recovery_codes, name="recovery_codes"),
    path("account/security/remove/", security.factor_remove_view, name="factor_remove"),
    path("account/security/sessions/", security.sessions_revoke_view, name="sessions_revoke"),
]
