"""API tokens: shown once, stored as a digest, refused when revoked or expired, last use recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import tokens
from portal.core.audit import SYSTEM
from portal.models import AuditEvent


@pytest.mark.django_db
def test_token_authenticates_and_only_its_digest_is_stored(world):
    account = tokens.authenticate(world.token)

    assert account == world.service_account
    stored = ApiToken.objects.get(service_account=account)
    assert world.token not in {stored.digest, stored.prefix, stored.name}
    assert stored.last_used_at is not None
    assert not any(world.token in str(e.data) for e in AuditEvent.objects.all())


@pytest.mark.django_db
@pytest.mark.parametrize("mangle", [lambda t: t + "x", lambda t: t[:-1], lambda t: "lw_nope", lambda t: ""])
def test_wrong_tokens_are_refused(world, mangle):
    with pytest.raises(tokens.TokenRejected):
        tokens.authenticate(mangle(world.token))


@pytest.mark.django_db
def test_revoked_and_expired_tokens_are_refused(world):
    token = ApiToken.objects.get(service_account=world.service_account)
    tokens.revoke(SYSTEM, token)
    with pytest.raises(tokens.TokenRejected, match="revoked"):
        tokens.authenticate(world.token)

    issued = tokens.issue(SYSTEM, world.service_account, name="short", expires_at=timezone.now() + timedelta(hours=1))
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(tokens.TokenRejected, match="expired"):
        tokens.authenticate(issued.secret)


@pytest.mark.django_db
def test_disabled_service_account_cannot_use_its_token(world):
    from accounts.services import service_accounts

    service_accounts.set_active(SYSTEM, world.service_account, False)
    with pytest.raises(tokens.TokenRejected, match="disabled"):
        tokens.authenticate(world.token)


@pytest.mark.django_db
def test_expiry_in_the_past_is_refused(world):
    with pytest.raises(ValueError, match="future"):
        tokens.issue(SYSTEM, world.service_account, name="late", expires_at=timezone.now() - timedelta(days=1))


@pytest.mark.django_db
def test_every_use_updates_last_used(world):
    tokens.authenticate(world.token)
    first = ApiToken.objects.get(service_account=world.service_account).last_used_at
    tokens.authenticate(world.token)
    assert ApiToken.objects.get(service_account=world.service_account).last_used_at > first
