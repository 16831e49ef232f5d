"""Access reviews under real concurrent transactions on PostgreSQL: two reminder checks at one moment send each
reminder once; two reviewers deciding one grant at once make one decision; two deadline passes close a campaign
once and revoke each grant once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Notification
from portal.models import AuditEvent
from tests.helpers import at_once
from tests.topics.reviews.conftest import soon
from topics.models import CampaignState, Grant, GrantState, ReviewCampaign, ReviewReminder
from topics.reviews import services as reviews

pytestmark = pytest.mark.django_db(transaction=True)


def campaign_of(world, held, days: float = 30) -> ReviewCampaign:
    return reviews.start_campaign(world.auditor, name="Q4 review", deadline=soon(days),
                                  namespaces=[held["engineer"].topic.namespace])


def test_two_reminder_checks_at_once_send_the_reminder_once(world, held, second_owner):
    campaign = campaign_of(world, held)
    at = campaign.deadline - timedelta(days=7)

    outcomes = at_once(lambda: reviews.send_due_reminders(now=at), lambda: reviews.send_due_reminders(now=at))

    assert sorted(outcomes, key=len) == [{}, {"Q4 review": [7]}]
    assert ReviewReminder.objects.filter(campaign=campaign).count() == 1
    reminded = Notification.objects.filter(subject__startswith="Reminder").values_list("recipient__username",
                                                                                       flat=True)
    assert sorted(reminded) == ["bob", "olive"]
    assert AuditEvent.objects.filter(action="review.remind").count() == 1


def test_two_reviewers_deciding_one_grant_at_once_make_one_decision(world, held, second_owner):
    item = campaign_of(world, held).items.get(grant=held["engineer"])

    outcomes = at_once(lambda: reviews.decide(world.owner, item, decision="certify", comment="fine"),
                       lambda: reviews.decide(second_owner, item, decision="revoke", comment="not needed"))

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ValidationError), outcomes
    assert AuditEvent.objects.filter(action="review.decide").count() == 1
    item.refresh_from_db()
    revoked = Grant.objects.get(pk=held["engineer"].pk).state == GrantState.REVOKED
    assert revoked is (item.decision == "revoke")


def test_two_deadline_passes_at_once_close_the_campaign_once(world, held):
    campaign = campaign_of(world, held)
    ReviewCampaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(seconds=1))

    outcomes = at_once(reviews.close_due_campaigns, reviews.close_due_campaigns)

    assert sorted(outcomes, key=len) == [{}, {"Q4 review": {"missed": 3, "ended": 0, "revoked": 3}}]
    assert ReviewCampaign.objects.get(pk=campaign.pk).state == CampaignState.CLOSED
    assert AuditEvent.objects.filter(action="grant.revoke").count() == 3
