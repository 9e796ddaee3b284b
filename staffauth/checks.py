"""System checks of the staff sign-in settings."""

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def check_webauthn_relying_party(app_configs, **kwargs) -> list[CheckMessage]:
    """In production the relying party ID must be chosen, not derived.

    Security keys are bound to it for good: one enrolled under a derived ID (SITE_URL's
    host, say an internal name) stops working when the site moves to its real domain.
    """
    if settings.DEBUG or settings.WEBAUTHN_RP_ID:
        return []
    return [
        Warning(
            f"WEBAUTHN_RP_ID is not set: security keys are bound to "
            f"{settings.OTP_WEBAUTHN_RP_ID!r}, SITE_URL's host.",
            hint="Set WEBAUTHN_RP_ID to the domain staff open the admin at (example.org) "
            "and WEBAUTHN_ALLOWED_ORIGINS to its https:// origin before anyone enrols a key.",
            id="staffauth.W001",
        )
    ]
