"""The audit app's settings, with their defaults in one place (it imports nothing of ours)."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Rows older than this are pruned by the daily job; 0 keeps everything.
    "AUDIT_RETENTION_DAYS": 1095,
    # Dotted path of `callable(request) -> str` giving the client address of a request
    # (the project points it at its trusted-proxy resolver); empty: REMOTE_ADDR.
    "AUDIT_CLIENT_ADDRESS": "",
}


def audit_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
