"""The actions recorded in the audit log, with the labels the admin shows.

Action names are dotted strings; an app may record one not listed here (it is shown
as written), but add it here so the admin's filter offers it.
"""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "auth.login": _("signed in"),
    "auth.login_failed": _("sign-in failed"),
    "auth.lockout": _("locked out"),
    "auth.logout_everywhere": _("signed out everywhere"),
    "auth.permissions_changed": _("permissions changed"),
    "auth.groups_changed": _("groups changed"),
    "mfa.enrolled": _("second factor enrolled"),
    "mfa.removed": _("second factor removed"),
    "mfa.reset": _("second factors reset"),
    "mfa.renamed": _("second factor renamed"),
    "personal_data.viewed": _("personal data viewed"),
    "export.csv": _("CSV export"),
    "ticket.merged": _("tickets merged"),
    "ticket.anonymised": _("personal data anonymised"),
    "api.token_created": _("API token created"),
    "webhook.subscription_created": _("webhook subscription created"),
    "webhook.subscription_changed": _("webhook subscription changed"),
    "webhook.subscription_deleted": _("webhook subscription deleted"),
    "webhook.subscription_disabled": _("webhook subscription disabled after failures"),
    "webhook.secret_rotated": _("webhook secret replaced"),
    "webhook.delivery_resent": _("webhook delivery re-sent"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
