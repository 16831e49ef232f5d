"""Break-glass: a responder grants themself short access to a namespace at once, without approval, with a
reason; the namespace's owners and the auditors are told, the grants expire on their own, and the use stays an
open finding until someone other than the responder reviews it."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.core.limits import MaxTextLength
from topics.access.models import Grant
from topics.catalogue.models import Namespace


class Verdict(models.TextChoices):
    JUSTIFIED = "justified", "Justified"
    UNJUSTIFIED = "unjustified", "Not justified"


class BreakGlassUse(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    principal = models.ForeignKey("topics.KafkaPrincipal", on_delete=models.PROTECT, related_name="+")
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="break_glass_uses")
    reason = models.TextField(validators=[MaxTextLength()])
    started_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    grants = models.ManyToManyField(Grant, related_name="break_glass_uses")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    review_comment = models.TextField(blank=True, validators=[MaxTextLength()])

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # the responder never closes their own finding (topics.policy.may_review_break_glass has the rule)
            models.CheckConstraint(condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=F("user")),
                                   name="break_glass_reviewed_by_someone_else"),
        ]

    def __str__(self) -> str:
        return f"break-glass #{self.pk} by {self.user} on {self.namespace}"

    @property
    def open_finding(self) -> bool:
        return self.reviewed_at is None
