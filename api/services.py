"""API tokens: issue, revoke, check. The raw token exists only in `api_token_create`'s
return value; the database keeps its prefix and the SHA-256 of its secret."""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken, Scope
from audit.services import audit_record

TOKEN_PREFIX = "hd"
# last_used_at/last_used_ip are written at most this often per token (and at once when
# the address changes): a busy integration must not turn every read into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits: a plain hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope and scope.strip()})
    unknown = [scope for scope in cleaned if scope not in Scope.values]
    if unknown:
        raise ValidationError(
            _("Unknown scope: %(scopes)s. Known: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(Scope.values)},
            code="unknown_scope",
        )
    if not cleaned:
        raise ValidationError(_("Give the token at least one scope."), code="no_scope")
    return cleaned


@transaction.atomic
def api_token_create(
    *,
    user,
    name: str,
    scopes: Iterable[str],
    queues: Iterable = (),
    expires_at: datetime | None = None,
    created_by=None,
    request=None,
) -> tuple[ApiToken, str]:
    """Issue a token acting as `user`; returns the row and the raw token (shown once)."""
    scopes = scopes_clean(scopes)
    if not (user.is_active and user.is_staff):
        raise ValidationError(
            _("API tokens act as an active staff account."), code="user_not_staff"
        )
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=(name or "").strip()[:100] or prefix,
        user=user,
        prefix=prefix,
        secret_hash=secret_hash(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=created_by,
    )
    queues = list(queues)
    if queues:
        token.queues.set(queues)
    audit_record(
        "api_token.created",
        actor=created_by,
        request=request,
        obj=token,
        object_label=str(token),
        details={
            "user": user.get_username(),
            "scopes": scopes,
            "queues": sorted(queue.slug for queue in queues),
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor=None, request=None) -> ApiToken:
    """Revoke at once (idempotent: a revoked token keeps its first revocation time)."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        "api_token.revoked", actor=actor, request=request, obj=token, object_label=str(token)
    )
    return token


def token_split(raw: str) -> tuple[str, str] | None:
    """`hd_<prefix>_<secret>` → (prefix, secret), or None when it is not one of ours."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    if len(parts[1]) > 16 or len(parts[2]) > 128:
        return None
    return parts[1], parts[2]


def api_token_authenticate(*, raw: str, address: str) -> ApiToken | None:
    """The active token behind `raw`, its user loaded, or None (unknown, wrong secret,
    revoked, expired: one answer, so a caller learns nothing about which)."""
    parts = token_split(raw)
    if parts is None:
        return None
    prefix, secret = parts
    # Whether it is limited to queues comes with it: most tokens are not, and asking
    # separately cost every request a query (api.access.token_queue_ids).
    restricted = ApiToken.queues.through.objects.filter(apitoken_id=OuterRef("pk"))
    token = (
        ApiToken.objects.select_related("user")
        .annotate(has_queues=Exists(restricted))
        .filter(prefix=prefix)
        .first()
    )
    # A miss hashes too, so an unknown prefix costs what a wrong secret does.
    expected = token.secret_hash if token is not None else "0" * 64
    if not hmac.compare_digest(expected, secret_hash(secret)) or token is None:
        return None
    now = timezone.now()
    if not token.is_active_at(now):
        return None
    api_token_touch(token=token, address=address, now=now)
    return token


def api_token_touch(*, token: ApiToken, address: str, now: datetime) -> None:
    """Record when and from where the token was last used (throttled, see TOUCH_INTERVAL)."""
    address = (address or "")[:64]
    stale = token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL
    if not stale and token.last_used_ip == address:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    token.last_used_at, token.last_used_ip = now, address
