"""API tokens of service accounts: issued once, stored as a digest, expiring and revocable.

Tokens are 256-bit random strings, so a fast SHA-256 digest cannot be brute-forced; a slow password hash
(argon2) is for guessable human passwords and would cost every API call tens of milliseconds.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, ServiceAccount
from portal.core import audit

TOKEN_PREFIX = "lw_"


class TokenRejected(Exception):
    """The token is unknown, malformed, revoked or expired (the message says which, never the token)."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown exactly once, never stored


PREFIX_BYTES = 4
PREFIX_PATTERN = f"[0-9a-f]{{{2 * PREFIX_BYTES}}}"  # the public prefix: hexadecimal, as issue() makes it

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(actor, service_account: ServiceAccount, *, name: str, expires_at: datetime | None) -> IssuedToken:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("expires_at must be in the future")
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(service_account=service_account, name=name, prefix=prefix,
                                        digest=_digest(secret), created_by=audit.Actor.of(actor).user,
                                        expires_at=expires_at)
        audit.record(actor, "token.issue", token, service_account=service_account.name, name=name,
                     expires_at=expires_at.isoformat() if expires_at else None)
    return IssuedToken(token, secret)


def revoke(actor, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "token.revoke", token, service_account=token.service_account.name)


def authenticate(secret: str) -> ServiceAccount:
    """The service account a presented token belongs to; raises TokenRejected."""
    parts = secret[len(TOKEN_PREFIX):].split("_", 1) if secret.startswith(TOKEN_PREFIX) else []
    if len(parts) != 2:
        raise TokenRejected("malformed token")
    token = ApiToken.objects.select_related("service_account__user").filter(prefix=parts[0]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        raise TokenRejected("unknown token")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected("token revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("token expired")
    if not token.service_account.is_active:
        raise TokenRejected("service account disabled")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.service_account
