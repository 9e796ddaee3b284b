"""System checks of the e-mail doors (registered in TicketsConfig.ready)."""

from django.conf import settings
from django.core import checks

from tickets.intake.webhooks import inbound_esp, webhook_secrets


@checks.register(checks.Tags.security)
def check_inbound_webhook_secret(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An ESP without a webhook secret: its inbound webhook is not mounted, say why.

    A Warning while developing (DEBUG), an Error in production. No ESP at all (SMTP,
    IMAP, the MTA pipe) is nothing to warn about.
    """
    esp = inbound_esp()
    if not esp:
        return []
    level, kind = (checks.Warning, "W") if settings.DEBUG else (checks.Error, "E")
    secrets = webhook_secrets()
    if not secrets:
        return [
            level(
                f"ANYMAIL_ESP={esp} is set but ANYMAIL_WEBHOOK_SECRET is not: the inbound "
                "e-mail webhook is not mounted, since without basic auth anyone could post "
                "a forged message onto any ticket.",
                hint="Set ANYMAIL_WEBHOOK_SECRET=user:long-random-password and put the same "
                "credentials in the ESP's inbound URL (https://user:password@host/anymail/"
                f"{esp}/inbound/). If the ESP only sends mail, silence tickets.{kind}101.",
                id=f"tickets.{kind}101",
            )
        ]
    if any(":" not in secret for secret in secrets):
        return [
            level(
                "ANYMAIL_WEBHOOK_SECRET must be user:password (HTTP basic auth); a value "
                "without a colon never matches, so every inbound post is refused.",
                id=f"tickets.{kind}102",
            )
        ]
    return []
