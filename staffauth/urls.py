from django.urls import path
from django.views.i18n import JavaScriptCatalog

from staffauth.views import login, security, webauthn

app_name = "staffauth"

urlpatterns = [
    # Comes before admin.site.urls: the admin's own login address, in two steps.
    path("admin/login/", login.PasswordStepView.as_view(), name="login"),
    path("admin/login/verify/", login.verify_step, name="verify"),
    path("admin/login/key/begin/", webauthn.sign_in_begin, name="key_sign_in_begin"),
    path("admin/login/key/complete/", webauthn.sign_in_finish, name="key_sign_in_complete"),
    path("account/security/", security.security, name="security"),
    path("account/security/totp/", security.totp_enrol, name="totp_enrol"),
    path("account/security/keys/begin/", webauthn.register_begin, name="key_register_begin"),
    path("account/security/keys/complete/", webauthn.register_finish, name="key_register_complete"),
    path("account/security/keys/name/", webauthn.key_name, name="key_name"),
    # The strings of static/staffauth/webauthn.js (locale/<lang>/staffauth-js.po).
    path(
        "account/security/jsi18n/",
        JavaScriptCatalog.as_view(packages=["staffauth"]),
        name="jsi18n",
    ),
    path("account/security/recovery-codes/", security.recovery_codes, name="recovery_codes"),
    path("account/security/remove/", security.factor_remove_view, name="factor_remove"),
    path("account/security/sessions/", security.sessions_revoke_view, name="sessions_revoke"),
]
