"""Break-glass: immediate, short access to a namespace without approval, reviewed afterwards.

- Only the break-glass role (an LDAP group mapped to it, topics.policy.may_break_glass) breaks the glass, for
  its own person's principal, with a reason, for at most LOGWARDEN_BREAK_GLASS_MAX_HOURS.
- The grants (one per topic of the namespace, source break-glass) are provisioned at once: the outbox gets a
  reconcile in the same transaction, as for every grant (topics.access.services.after_grants), and another at
  their end, when the reconciler expires them (topics.provisioning.reconciler.expire_due).
- The namespace's owners and the auditors are notified; the use is an open finding until someone other than the
  responder (an auditor, an admin, an owner of the namespace) reviews it.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.notifications import notify
from accounts.services.identity import people_with_role
from portal.core import audit, exports
from topics import policy
from topics.access import services as access
from topics.models import BreakGlassUse, Grant, GrantSource, GrantState, Lifecycle, Namespace, Verdict
from topics.provisioning.principals import principal_for


def break_glass(user, *, namespace: Namespace, reason: str, hours: int) -> BreakGlassUse:
    if not policy.may_break_glass(user):
        raise PermissionDenied("Only the break-glass role grants itself emergency access.")
    longest = settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why you need emergency access: the owners and the auditors read it."]
    if not 1 <= hours <= longest:
        errors["hours"] = [f"Between 1 and {longest} hours."]
    if namespace.lifecycle != Lifecycle.ACTIVE:
        errors["namespace"] = [f"{namespace.name} is not active."]
    elif not namespace.topics.exists():
        errors["namespace"] = [f"{namespace.name} has no topic yet: there is nothing to read."]
    if errors:
        raise ValidationError(errors)
    principal = principal_for(user)
    if not policy.may_be_granted(principal, namespace):
        raise ValidationError({"namespace": [policy.why_not_granted(principal, namespace)]})
    now = timezone.now()
    with transaction.atomic():
        if BreakGlassUse.objects.filter(user=user, namespace=namespace, valid_until__gt=now,
                                        grants__state=GrantState.ACTIVE).exists():
            raise ValidationError({"namespace": [f"You already hold break-glass access to {namespace.name}."]})
        until = now + timedelta(hours=hours)
        grants = [Grant.objects.create(principal=principal, topic=topic, valid_from=now, valid_until=until,
                                       source=GrantSource.BREAK_GLASS, granted_by=user, reason=reason.strip())
                  for topic in namespace.topics.select_related("cluster")]
        use = BreakGlassUse.objects.create(user=user, principal=principal, namespace=namespace, reason=reason.strip(),
                                           started_at=now, valid_until=until)
        use.grants.set(grants)
        access.after_grants(grants, user, "grant.create", break_glass=use.pk)
        told = policy.namespace_owners(namespace) + list(people_with_role(Role.AUDITOR))
        told = [person for person in {p.pk: p for p in told}.values() if person.pk != user.pk]
        notify(told, f"Break-glass on {namespace.name} by {user.get_username()}",
               f"{user.get_username()} granted themself emergency read access to {namespace.name} until "
               f"{until:%Y-%m-%d %H:%M} UTC, without approval. Reason: {reason.strip()}\n"
               f"The use stays an open finding until someone other than them reviews it.",
               link=reverse("breakglass-detail", args=[use.pk]))
        audit.record(user, "breakglass.open", use, namespace=namespace.name, principal=principal.name, hours=hours,
                     valid_until=until.isoformat(), reason=reason.strip(), grants=[g.pk for g in grants],
                     notified=sorted(person.username for person in told))
    return use


def review(reviewer, use: BreakGlassUse, *, verdict: str, comment: str) -> BreakGlassUse:
    """Closes the finding with a verdict and a comment: anyone who may (may_review_break_glass), never the
    responder."""
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": [f"One of: {', '.join(Verdict.values)}."]})
    if not comment.strip():
        raise ValidationError({"comment": ["Say what the review found."]})
    with transaction.atomic():
        use = BreakGlassUse.objects.select_for_update(of=("self",)).select_related("namespace").get(pk=use.pk)
        if not use.open_finding:
            raise ValidationError({"verdict": [f"Already reviewed by {use.reviewed_by.get_username()}."]})
        if not policy.may_review_break_glass(reviewer, use):
            raise PermissionDenied("You may not review this break-glass use (it is your own, or not on a namespace "
                                   "you own).")
        use.reviewed_by, use.reviewed_at, use.verdict = reviewer, timezone.now(), verdict
        use.review_comment = comment.strip()
        use.save(update_fields=["reviewed_by", "reviewed_at", "verdict", "review_comment"])
        audit.record(reviewer, "breakglass.review", use, verdict=verdict, comment=use.review_comment,
                     responder=use.user.get_username(), namespace=use.namespace.name)
    return use


REPORT_COLUMNS = ("use", "responder", "principal", "namespace", "started_at", "valid_until", "reason", "grants",
                  "finding", "reviewed_by", "reviewed_at", "verdict", "review_comment")


def report(uses: QuerySet[BreakGlassUse], parameters: dict | None = None) -> exports.Table:
    """Break-glass uses and their reviews (an open finding until reviewed), one row per use."""
    rows = [(use.pk, use.user.username, use.principal.name, use.namespace.name, use.started_at, use.valid_until,
             use.reason, [f"{g.topic.name}: {g.state}" for g in use.grants.all()],
             "open" if use.open_finding else "closed", use.reviewed_by.username if use.reviewed_by else "",
             use.reviewed_at, use.verdict, use.review_comment)
            for use in uses.select_related("user", "principal", "namespace", "reviewed_by")
            .prefetch_related("grants__topic")]
    return exports.Table(title="Break-glass uses and their reviews", columns=REPORT_COLUMNS, rows=rows,
                         parameters=parameters or {})
