"""Access: requests for read access, their approvals, and the time-bound grants they produce.

The database enforces what must never happen twice: one approval per person per item, one grant per approved
item and topic; deciders serialise on the item row (select_for_update) so the N-approvers rule holds under
concurrency.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from portal.core.limits import MaxTextLength
from topics.catalogue.models import Namespace, Sensitivity, Topic


MAX_APPROVALS = 5


class ReadFrom(models.TextChoices):
    """How far back a grant lets its holder read a topic through the portal."""

    TOPIC_START = "topic_start", "From the topic's start (all it keeps)"
    GRANT_START = "grant_start", "Only from the grant's start"


class SensitivityPolicy(models.Model):
    """Per sensitivity level: how many distinct approvers, and the longest grant and credential life."""

    level = models.CharField(max_length=16, choices=Sensitivity.choices, unique=True)
    approvals_required = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1),
                                                                                MaxValueValidator(MAX_APPROVALS)])
    max_grant_days = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(1)])
    max_credential_age_days = models.PositiveSmallIntegerField(default=90, validators=[MinValueValidator(1)])
    read_from = models.CharField(max_length=16, choices=ReadFrom.choices, default=ReadFrom.TOPIC_START,
                                 help_text="How far back a grant reads logs through the portal")

    class Meta:
        ordering = ["level"]
        verbose_name_plural = "sensitivity policies"

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.approvals_required} approver(s), ≤ {self.max_grant_days} days"

    @classmethod
    def for_level(cls, level: str) -> SensitivityPolicy:
        """The level's policy; a level without a row fails closed: it takes the strictest value of every rule
        among the configured levels (or the strictest the fields allow when none is configured), never a
        lenient default."""
        configured = list(cls.objects.all())
        for policy in configured:
            if policy.level == level:
                return policy
        if not configured:
            return cls(level=level, approvals_required=MAX_APPROVALS, max_grant_days=1, max_credential_age_days=1,
                       read_from=ReadFrom.GRANT_START)
        return cls(level=level, approvals_required=max(p.approvals_required for p in configured),
                   max_grant_days=min(p.max_grant_days for p in configured),
                   max_credential_age_days=min(p.max_credential_age_days for p in configured),
                   read_from=(ReadFrom.GRANT_START if any(p.read_from == ReadFrom.GRANT_START for p in configured)
                              else ReadFrom.TOPIC_START))


class RequestState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired unanswered"


class AccessRequest(models.Model):
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests")
    principal = models.ForeignKey("topics.KafkaPrincipal", on_delete=models.PROTECT, related_name="requests")
    reason = models.TextField(validators=[MaxTextLength()])
    duration_days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    state = models.CharField(max_length=20, choices=RequestState.choices, default=RequestState.PENDING,
                             db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"request #{self.pk} for {self.principal}"


class RequestItem(models.Model):
    """One namespace of a request: decided on its own by that namespace's owners."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="items")
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="request_items")
    approvals_required = models.PositiveSmallIntegerField()  # fixed when requested, from the policy then
    state = models.CharField(max_length=20, choices=RequestState.choices, default=RequestState.PENDING,
                             db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["namespace__name"]
        constraints = [models.UniqueConstraint(fields=["request", "namespace"], name="one_item_per_namespace")]

    def __str__(self) -> str:
        return f"{self.request} / {self.namespace}"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Approval(models.Model):
    item = models.ForeignKey(RequestItem, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(validators=[MaxTextLength()])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["item", "approver"], name="one_decision_per_approver")]


class GrantSource(models.TextChoices):
    REQUEST = "request", "Approved request"
    ADMIN = "admin", "Granted by an admin"
    BREAK_GLASS = "break_glass", "Break-glass"


class GrantState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    RELEASED = "released", "Released by the holder"


class Grant(models.Model):
    """Read access of one principal to one topic, from `valid_from` until `valid_until`."""

    principal = models.ForeignKey("topics.KafkaPrincipal", on_delete=models.PROTECT, related_name="grants")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="grants")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=16, choices=GrantSource.choices)
    request_item = models.ForeignKey(RequestItem, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="grants")
    state = models.CharField(max_length=16, choices=GrantState.choices, default=GrantState.ACTIVE, db_index=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reason = models.TextField(blank=True, validators=[MaxTextLength()])
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    end_reason = models.TextField(blank=True, validators=[MaxTextLength()])

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["request_item", "topic"], condition=Q(request_item__isnull=False),
                                    name="one_grant_per_item_and_topic"),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="grant_ends_after_start"),
        ]
        indexes = [models.Index(fields=["principal", "state"]), models.Index(fields=["topic", "state"])]

    def __str__(self) -> str:
        return f"{self.principal} → {self.topic.name} until {self.valid_until:%Y-%m-%d %H:%M}"
