"""Access reviews: a campaign asks the reviewers of every grant in its scope to certify, shorten or revoke it
by a deadline; a grant nobody reviewed in time gets the campaign's no-response action (revoke by default).

Each grant in scope at the start is one item, reviewed once (the database allows one item per grant and
campaign; reviewers serialise on the item row). Each reminder is sent once per campaign: the database allows
one row per campaign and number of days before the deadline.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Team
from portal.core.limits import MaxTextLength
from topics.access.models import Grant
from topics.catalogue.models import Namespace


class NoResponseAction(models.TextChoices):
    REVOKE = "revoke", "Revoke the grant"
    KEEP = "keep", "Keep the grant (recorded as not reviewed)"


class CampaignState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReviewCampaign(models.Model):
    """A review of the grants active at its start on the namespaces of its scope: those named, of the
    sensitivity levels named, owned by the teams named (each criterion left empty admits every namespace)."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxTextLength()])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(db_index=True)
    namespaces = models.ManyToManyField(Namespace, blank=True, related_name="+")
    sensitivities = models.JSONField(default=list, blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    no_response_action = models.CharField(max_length=8, choices=NoResponseAction.choices,
                                          default=NoResponseAction.REVOKE)
    state = models.CharField(max_length=8, choices=CampaignState.choices, default=CampaignState.OPEN,
                             db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"access review {self.name} (due {self.deadline:%Y-%m-%d %H:%M})"


class ReviewDecision(models.TextChoices):
    CERTIFY = "certify", "Certified"
    SHORTEN = "shorten", "Shortened"
    REVOKE = "revoke", "Revoked"
    # outcomes nobody decided: the deadline passed, or the grant ended on its own before anyone reviewed it
    MISSED = "missed", "Not reviewed by the deadline"
    ENDED = "ended", "Ended before it was reviewed"


REVIEWER_DECISIONS = (ReviewDecision.CERTIFY, ReviewDecision.SHORTEN, ReviewDecision.REVOKE)
REVIEWER_DECISION_CHOICES = [(decision.value, decision.label) for decision in REVIEWER_DECISIONS]


class ReviewItem(models.Model):
    """One grant of a campaign, and what became of it. `by_fallback`: no owner of its namespace could review it
    when the campaign started (none confirmed, or all can act as its principal), so the fallback reviewers do."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="items")
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="review_items")
    valid_until_at_start = models.DateTimeField()
    by_fallback = models.BooleanField(default=False)
    decision = models.CharField(max_length=8, choices=ReviewDecision.choices, blank=True, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, validators=[MaxTextLength()])
    new_valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "grant"], name="one_review_item_per_grant"),
            # a missed or ended item has no reviewer: nobody may appear to have decided what the deadline did
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | Q(decision__in=REVIEWER_DECISIONS),
                                   name="review_decided_by_only_for_reviewer_decisions"),
        ]
        indexes = [models.Index(fields=["campaign", "decision"])]

    def __str__(self) -> str:
        return f"review of grant #{self.grant_id} in {self.campaign.name}"

    @property
    def pending(self) -> bool:
        return not self.decision


class ReviewReminder(models.Model):
    """A reminder sent for a campaign `days_before` its deadline."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "-days_before"]
        constraints = [models.UniqueConstraint(fields=["campaign", "days_before"], name="one_reminder_per_day")]
