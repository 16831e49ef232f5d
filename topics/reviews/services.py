"""Access reviews: campaigns over the grants of a scope, their reviewers' decisions, reminders and deadlines.

- An auditor (or admin) starts a campaign over a scope (namespaces, sensitivity levels, owning teams) with a
  deadline and a no-response action; every grant active then (break-glass grants have their own post-review)
  becomes an item, and its reviewers are told. Reviewers are the namespace's owners; when none may review a
  grant (no confirmed owner, or all can act as its principal) the fallback reviewers of
  LOGWARDEN_REVIEW_FALLBACK_REVIEWERS do (topics.policy.reviewers_of_grants). Nobody reviews their own access.
- A reviewer certifies, shortens (a new end, earlier only) or revokes each item, with a comment. A revocation
  goes the way of every revocation (topics.access.services: the grant ends, the outbox's reconcile takes its
  ACLs off the broker); a shortened grant's ACLs leave at its new end.
- Reminders go to the reviewers of the items still pending, at each of LOGWARDEN_REVIEW_REMINDER_DAYS before
  the deadline, once each (topics.reviews.rules.due_reminders; one ReviewReminder row per campaign and day).
- At the deadline each pending item gets the no-response action: revoke (the default) or keep, both recorded as
  missed; an item whose grant ended meanwhile is recorded as ended. The campaign closes.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.notifications import notify
from portal.core import audit, exports
from topics import policy
from topics.access import services as access
from topics.models import (CampaignState, Grant, GrantSource, GrantState, Lifecycle, Namespace, NoResponseAction,
                           ReviewCampaign, ReviewDecision, ReviewItem, ReviewReminder, Sensitivity)
from topics.reviews import rules

NAME_LENGTH = 200


def in_scope(*, namespaces: Sequence[Namespace], sensitivities: Sequence[str], teams: Sequence[Team]) -> QuerySet:
    """The grants a campaign of this scope reviews: active and not yet ended, not break-glass, on a namespace
    that is not retired and matches every criterion given (one left empty admits every namespace)."""
    grants = (Grant.objects.filter(state=GrantState.ACTIVE, valid_until__gt=timezone.now())
              .exclude(source=GrantSource.BREAK_GLASS).exclude(topic__namespace__lifecycle=Lifecycle.RETIRED))
    if namespaces:
        grants = grants.filter(topic__namespace__in=namespaces)
    if sensitivities:
        grants = grants.filter(topic__namespace__sensitivity__in=sensitivities)
    if teams:
        grants = grants.filter(topic__namespace__owner_team__in=teams)
    return grants


def start_campaign(actor, *, name: str, deadline: datetime, namespaces: Sequence[Namespace] = (),
                   sensitivities: Sequence[str] = (), teams: Sequence[Team] = (),
                   no_response_action: str = NoResponseAction.REVOKE, description: str = "") -> ReviewCampaign:
    if not policy.may_run_reviews(actor):
        raise PermissionDenied("Only auditors and platform admins start access reviews.")
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name the campaign."]
    elif len(name.strip()) > NAME_LENGTH:
        errors["name"] = [f"At most {NAME_LENGTH} characters."]
    if deadline <= timezone.now():
        errors["deadline"] = ["A moment still to come."]
    unknown = sorted(set(sensitivities) - set(Sensitivity.values))
    if unknown:
        errors["sensitivities"] = [f"Unknown levels: {', '.join(unknown)} (choose from "
                                   f"{', '.join(Sensitivity.values)})."]
    if no_response_action not in NoResponseAction.values:
        errors["no_response_action"] = [f"One of: {', '.join(NoResponseAction.values)}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # items are made in the order the pages list them (by namespace, then principal), so a page of a large
        # campaign reads its rows by primary key instead of sorting every item's joined names
        grants = list(in_scope(namespaces=namespaces, sensitivities=sensitivities, teams=teams)
                      .select_related("principal", "topic__namespace__owner_team")
                      .order_by("topic__namespace__name", "principal__name", "pk"))
        if not grants:
            raise ValidationError({"namespaces": ["No active grants in this scope: nothing to review."]})
        campaign = ReviewCampaign.objects.create(name=name.strip(), description=description.strip(),
                                                 created_by=actor, deadline=deadline,
                                                 sensitivities=sorted(set(sensitivities)),
                                                 no_response_action=no_response_action)
        campaign.namespaces.set(namespaces)
        campaign.teams.set(teams)
        reviewers_of = policy.reviewers_of_grants(grants)
        ReviewItem.objects.bulk_create([
            ReviewItem(campaign=campaign, grant=grant, valid_until_at_start=grant.valid_until,
                       by_fallback=reviewers_of[grant.pk][1]) for grant in grants])
        asked = _people(person for chosen, _ in reviewers_of.values() for person in chosen)
        audit.record(actor, "review.campaign.start", campaign, deadline=deadline.isoformat(), items=len(grants),
                     namespaces=sorted(n.name for n in namespaces), sensitivities=sorted(set(sensitivities)),
                     teams=sorted(t.slug for t in teams), no_response_action=no_response_action,
                     reviewers=sorted(person.username for person in asked),
                     unreviewable=sum(1 for chosen, _ in reviewers_of.values() if not chosen))
        notify(asked, f"Access review: {campaign.name}",
               f"{actor.get_username()} asks you to review who may read the logs of your namespaces, by "
               f"{deadline:%Y-%m-%d %H:%M} UTC: certify, shorten or revoke each grant. Grants not reviewed by "
               f"then are {_outcome(campaign)}.", link=reverse("reviews-queue"))
    return campaign


def _people(people) -> list:
    return list({person.pk: person for person in people}.values())


def _outcome(campaign: ReviewCampaign) -> str:
    return "revoked" if campaign.no_response_action == NoResponseAction.REVOKE else "kept, and reported as missed"


def decide(reviewer, item: ReviewItem, *, decision: str, comment: str,
           valid_until: datetime | None = None) -> ReviewItem:
    """One reviewer's decision on one grant: certify, shorten (to `valid_until`) or revoke, with a comment."""
    choices = (ReviewDecision.CERTIFY, ReviewDecision.SHORTEN, ReviewDecision.REVOKE)
    if decision not in choices:
        raise ValidationError({"decision": [f"One of: {', '.join(choices)}."]})
    if not comment.strip():
        raise ValidationError({"comment": ["Every review decision needs a comment."]})
    with transaction.atomic():
        item = (ReviewItem.objects.select_for_update(of=("self",))
                .select_related("campaign", "grant__principal", "grant__topic__namespace").get(pk=item.pk))
        if not item.pending:
            raise ValidationError({"decision": [f"Already decided: {item.get_decision_display().lower()}."]})
        if not policy.may_review(reviewer, item):
            raise PermissionDenied("You may not review this grant (the campaign is closed, it is your own access "
                                   "or a principal you can act as, or you are not one of its reviewers).")
        grant, now = item.grant, timezone.now()
        if item.campaign.deadline <= now:  # the no-response action is due, and a late decision must not undo it
            raise ValidationError({"decision": ["The review's deadline has passed: its no-response action applies."]})
        if grant.state != GrantState.ACTIVE or grant.valid_until <= now:
            raise ValidationError({"decision": ["The grant has ended meanwhile: nothing left to review."]})
        trail = {"campaign": item.campaign_id, "review_item": item.pk}
        if decision == ReviewDecision.SHORTEN:
            why = rules.why_not_shortened(valid_until=grant.valid_until, new_valid_until=valid_until, now=now)
            if why:
                raise ValidationError({"valid_until": [why]})
            access.shorten_grant(reviewer, grant, valid_until=valid_until, reason=comment.strip(), **trail)
        elif decision == ReviewDecision.REVOKE:
            access.revoke_reviewed(reviewer, [grant], reason=comment.strip(), details={grant.pk: trail})
        item.decision, item.decided_by, item.decided_at = decision, reviewer, now
        item.comment = comment.strip()
        item.new_valid_until = valid_until if decision == ReviewDecision.SHORTEN else None
        item.save(update_fields=["decision", "decided_by", "decided_at", "comment", "new_valid_until"])
        audit.record(reviewer, "review.decide", item, decision=decision, comment=item.comment,
                     grant=grant.pk, principal=grant.principal.name, namespace=grant.topic.namespace.name,
                     **({"valid_until": valid_until.isoformat()} if item.new_valid_until else {}), **trail)
    return item


# --- the scheduled work: reminders and deadlines --------------------------------------------------------------

def send_due_reminders(now: datetime | None = None) -> dict[str, list[int]]:
    """The reminders due now for every open campaign, each once: by campaign name, the days sent."""
    now = now or timezone.now()
    sent: dict[str, list[int]] = {}
    for campaign in ReviewCampaign.objects.filter(state=CampaignState.OPEN, deadline__gt=now):
        days = _remind(campaign, now)
        if days:
            sent[campaign.name] = days
    return sent


def _remind(campaign: ReviewCampaign, now: datetime) -> list[int]:
    already = set(campaign.reminders.values_list("days_before", flat=True))
    due = rules.due_reminders(started_at=campaign.created_at, deadline=campaign.deadline, now=now,
                              days_before=settings.LOGWARDEN_REVIEW_REMINDER_DAYS, sent=already)
    if not due:
        return []
    pending = list(campaign.items.filter(decision="").select_related("grant__principal",
                                                                     "grant__topic__namespace__owner_team"))
    people = _people(person for chosen, _ in policy.reviewers_of_grants([i.grant for i in pending]).values()
                     for person in chosen)
    try:
        with transaction.atomic():
            # the unique (campaign, days_before) rows claim the reminders: a concurrent check sends nothing
            ReviewReminder.objects.bulk_create([ReviewReminder(campaign=campaign, days_before=days, sent_at=now,
                                                               recipients=len(people)) for days in due])
            left = campaign.deadline - now
            notify(people, f"Reminder: access review {campaign.name}",
                   f"{len(pending)} grant(s) still wait for a review, due {campaign.deadline:%Y-%m-%d %H:%M} UTC "
                   f"(in {_duration(left)}). Grants not reviewed by then are {_outcome(campaign)}.",
                   link=reverse("reviews-queue"))
            audit.record(audit.SYSTEM, "review.remind", campaign, days_before=due, pending=len(pending),
                         recipients=sorted(person.username for person in people))
    except IntegrityError:
        return []
    return due


def _duration(left) -> str:
    days, hours = left.days, left.seconds // 3600
    return f"{days} day(s) {hours} hour(s)" if days else f"{hours} hour(s)"


def close_due_campaigns(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Every open campaign past its deadline gets its no-response action on each pending item, then closes: by
    campaign name, how many items were missed and how many had ended."""
    now = now or timezone.now()
    closed = {}
    for pk in ReviewCampaign.objects.filter(state=CampaignState.OPEN, deadline__lte=now).values_list("pk", flat=True):
        outcome = _close(pk, now)
        if outcome is not None:
            closed[outcome[0]] = outcome[1]
    return closed


def _close(pk: int, now: datetime) -> tuple[str, dict[str, int]] | None:
    """Gives the campaign's pending items their outcome and closes it, in one transaction: the revocations of a
    missed review go in one batch through the revoke path (topics.access.services.revoke_reviewed)."""
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().filter(pk=pk, state=CampaignState.OPEN).first()
        if campaign is None:  # closed meanwhile by another check
            return None
        pending = list(campaign.items.select_for_update(of=("self",)).filter(decision="").select_related("grant"))
        live = [item for item in pending if item.grant.state == GrantState.ACTIVE and item.grant.valid_until > now]
        revoked = []
        if live and campaign.no_response_action == NoResponseAction.REVOKE:
            revoked = access.revoke_reviewed(
                audit.SYSTEM, [item.grant for item in live],
                reason=f"Not reviewed by the deadline of the access review {campaign.name}.",
                details={item.grant_id: {"campaign": campaign.pk, "review_item": item.pk} for item in live})
        missed = {item.pk for item in live}
        ReviewItem.objects.filter(pk__in=missed).update(decision=ReviewDecision.MISSED, decided_at=now)
        ReviewItem.objects.filter(pk__in=[i.pk for i in pending if i.pk not in missed]).update(
            decision=ReviewDecision.ENDED, decided_at=now)
        counts = {"missed": len(missed), "ended": len(pending) - len(missed), "revoked": len(revoked)}
        campaign.state, campaign.closed_at = CampaignState.CLOSED, now
        campaign.save(update_fields=["state", "closed_at"])
        audit.record(audit.SYSTEM, "review.campaign.close", campaign, no_response_action=campaign.no_response_action,
                     **counts)
    return campaign.name, counts


# --- progress and the report --------------------------------------------------------------------------------

def with_progress(campaigns: QuerySet[ReviewCampaign]) -> QuerySet[ReviewCampaign]:
    """Campaigns annotated with `total` items and how many are `pending`, `certified`, `shortened`, `revoked`
    (by a reviewer), `missed` and `ended`."""
    def counted(decision: str) -> Count:
        return Count("items", filter=Q(items__decision=decision))
    # ordered again: Meta.ordering does not apply to a GROUP BY query
    return campaigns.annotate(total=Count("items"), pending=counted(""), certified=counted(ReviewDecision.CERTIFY),
                              shortened=counted(ReviewDecision.SHORTEN), revoked=counted(ReviewDecision.REVOKE),
                              missed=counted(ReviewDecision.MISSED), ended=counted(ReviewDecision.ENDED)
                              ).order_by("-created_at", "-pk")


REPORT_COLUMNS = ("item", "namespace", "topic", "principal", "grant", "source", "valid_until_at_start", "reviewers",
                  "decision", "decided_by", "decided_at", "new_valid_until", "comment")


def report(campaign: ReviewCampaign) -> exports.Table:
    """Who decided what and when, one row per grant reviewed: the campaign report, for CSV, JSON and PDF (read as
    plain values: a campaign may hold every grant of the portal)."""
    decisions = dict(ReviewDecision.choices)
    items = (campaign.items.order_by("grant__topic__namespace__name", "grant__principal__name", "pk")
             .values_list("pk", "grant__topic__namespace__name", "grant__topic__name", "grant__principal__name",
                          "grant_id", "grant__source", "valid_until_at_start", "by_fallback", "decision",
                          "decided_by__username", "decided_at", "new_valid_until", "comment"))
    rows = [(pk, namespace, topic, principal, grant, source, until, "fallback" if by_fallback else "namespace owners",
             decisions[decision] if decision else "pending", decided_by or ("system" if decision else ""),
             decided_at, new_until, comment)
            for (pk, namespace, topic, principal, grant, source, until, by_fallback, decision, decided_by,
                 decided_at, new_until, comment) in items.iterator(chunk_size=5000)]
    return exports.Table(title=f"Access review: {campaign.name}", columns=REPORT_COLUMNS, rows=rows, parameters={
        "campaign": campaign.pk, "started": campaign.created_at, "started_by": campaign.created_by.username,
        "deadline": campaign.deadline, "state": campaign.get_state_display(),
        "no_response_action": campaign.get_no_response_action_display(),
        "scope": scope_text(campaign)})


def scope_text(campaign: ReviewCampaign) -> str:
    parts = [f"namespaces {', '.join(n.name for n in campaign.namespaces.all())}" if campaign.namespaces.exists()
             else "", f"sensitivity {', '.join(campaign.sensitivities)}" if campaign.sensitivities else "",
             f"teams {', '.join(t.slug for t in campaign.teams.all())}" if campaign.teams.exists() else ""]
    return "; ".join(part for part in parts if part) or "every namespace"


PROGRESS_COLUMNS = ("campaign", "name", "started", "started_by", "deadline", "state", "no_response_action",
                    "total", "pending", "certified", "shortened", "revoked", "missed", "ended")


def progress_report(campaigns: QuerySet[ReviewCampaign]) -> exports.Table:
    """Review campaigns' progress, one row per campaign: the report for CSV and JSON."""
    rows = [(c.pk, c.name, c.created_at, c.created_by.username, c.deadline, c.state, c.no_response_action,
             c.total, c.pending, c.certified, c.shortened, c.revoked, c.missed, c.ended)
            for c in with_progress(campaigns.select_related("created_by"))]
    return exports.Table(title="Access review campaigns' progress", columns=PROGRESS_COLUMNS, rows=rows)
