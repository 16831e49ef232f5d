"""Access requests, approvals and grants: the rules of who may read which namespace's logs.

- A requester asks for themself or for a service account of one of their teams, for one or more namespaces,
  with a reason and a duration bounded by the strictest namespace's policy.
- Each namespace (request item) is decided by its owners: members of the owning team with the namespace-owner
  role. Nobody decides on their own request or on a request for a principal they can act as (their own; a
  service account whose tokens they may issue or whose password they may see), and no admin grants directly to
  their own principal: two people are always involved. A request nobody could approve (no confirmed owner, or
  fewer possible approvers than its policy needs) is refused when it is made, never left pending. An item needs
  as many distinct approvals as the stricter of its policy when requested and the current policy requires (a
  level without a policy row fails closed: SensitivityPolicy.for_level); one rejection rejects it. A grant lasts
  no longer than the current policy allows; items of a retired namespace can no longer be decided.
- A request closes when no item is pending: approved (all), partially approved (some), or else rejected,
  withdrawn or expired, by how its last items closed.
- Deciders serialise on the request row, then the item row (SELECT … FOR UPDATE), and the database allows one
  decision per approver and one grant per item and topic, so concurrent approvals never make two grants, skip
  the N rule or leave a request pending with all its items decided.
- Grants end by expiry (the reconciler), revocation (owners, admins; or an access review, topics.reviews: its
  reviewer's decision or a missed deadline), or release (the holder); an access review may also shorten them.
  Break-glass (topics.breakglass) is the one grant to oneself, made without approval and reviewed afterwards.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.core import audit
from topics import policy, queue
from topics.models import (AccessRequest, Approval, Decision, Grant, GrantSource, GrantState, KafkaPrincipal,
                           Lifecycle, Namespace, RequestItem, RequestState, SensitivityPolicy, Topic)
from topics.provisioning.principals import ensure_credential, requestable_principals


def create_request(requester, *, principal: KafkaPrincipal, namespaces: Sequence[Namespace], reason: str,
                   duration_days: int) -> AccessRequest:
    namespaces = list({n.pk: n for n in namespaces}.values())  # the same namespace twice counts once
    errors: dict[str, list[str]] = {}
    if principal.pk not in {p.pk for p in requestable_principals(requester)}:
        errors["principal"] = ["You may request access for yourself or your teams' service accounts only."]
    if not namespaces:
        errors["namespaces"] = ["Choose at least one namespace."]
    inactive = [n.name for n in namespaces if n.lifecycle != Lifecycle.ACTIVE]
    if inactive:
        errors["namespaces"] = [f"Not open to requests (not active): {', '.join(inactive)}."]
    elif "principal" not in errors and namespaces:
        why = [policy.why_not_granted(principal, n) or _why_undecidable(n, requester, principal) for n in namespaces]
        if any(why):
            errors["namespaces"] = [reason for reason in why if reason]
    if not reason.strip():
        errors["reason"] = ["Say why access is needed."]
    limits = {n.name: SensitivityPolicy.for_level(n.sensitivity).max_grant_days for n in namespaces}
    longest = min(limits.values(), default=0)
    if duration_days < 1 or (limits and duration_days > longest):
        strictest = min(limits, key=limits.get) if limits else ""
        errors["duration_days"] = [f"Between 1 and {longest} days (the maximum for {strictest})." if limits
                                   else "At least 1 day."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = AccessRequest.objects.create(requester=requester, principal=principal, reason=reason.strip(),
                                               duration_days=duration_days)
        for namespace in namespaces:
            RequestItem.objects.create(request=request, namespace=namespace,
                                       approvals_required=SensitivityPolicy.for_level(namespace.sensitivity).approvals_required)
        audit.record(requester, "request.create", request, principal=principal.name,
                     namespaces=[n.name for n in namespaces], duration_days=duration_days, reason=reason.strip())
    return request


def _why_undecidable(namespace: Namespace, requester, principal: KafkaPrincipal) -> str:
    """Why nobody could ever approve a request for `principal` on the namespace ('' when enough people could):
    it would otherwise stay pending until it expires."""
    if namespace.owner_team_id is None:
        suggested = (f" (its Kubernetes label suggests {namespace.suggested_owner_team.name})"
                     if namespace.suggested_owner_team_id else "")
        return (f"{namespace.name} has no confirmed owner team yet{suggested}, so nobody may approve requests for "
                f"it: a platform admin must confirm its owner first.")
    required = SensitivityPolicy.for_level(namespace.sensitivity).approvals_required
    deciders = policy.possible_deciders(namespace, requester=requester, principal=principal)
    if len(deciders) >= required:
        return ""
    who = f"only {', '.join(person.username for person in deciders)} may" if deciders else "nobody may"
    return (f"{namespace.name} needs {required} approver(s) from the owners of {namespace.owner_team.name}, "
            f"other than the requester and anyone who can act as {principal.name}: {who} approve it.")


def decide(approver, item: RequestItem, decision: str, comment: str) -> RequestItem:
    """Records one approver's decision on one namespace of a request; grants when enough have approved."""
    if decision not in Decision.values:
        raise ValidationError({"decision": [f"One of: {', '.join(Decision.values)}."]})
    if not comment.strip():
        raise ValidationError({"comment": ["Every decision needs a comment."]})
    with transaction.atomic():
        # the request row first: deciders of its other items wait, so whoever decides last sees every item's
        # final state and closes the request (locking only the item let two last deciders each see the other's
        # item still pending)
        AccessRequest.objects.select_for_update().filter(pk=item.request_id).first()
        item = RequestItem.objects.select_for_update().select_related(
            "request__principal", "namespace").get(pk=item.pk)
        if not policy.decides_by_role(approver, item):
            raise PermissionDenied("You may not decide on this request (it is yours, for a principal you can act "
                                   "as, or for a namespace you do not own).")
        if item.state != RequestState.PENDING:
            raise ValidationError({"decision": [f"No longer open to decisions: {item.get_state_display().lower()}."]})
        if item.namespace.lifecycle == Lifecycle.RETIRED:
            raise ValidationError({"decision": [f"No longer open to decisions: namespace retired "
                                                f"({item.namespace.name})."]})
        current = SensitivityPolicy.for_level(item.namespace.sensitivity)
        required = max(item.approvals_required, current.approvals_required)
        if required != item.approvals_required:  # the policy got stricter since the request: it applies now
            item.approvals_required = required
            item.save(update_fields=["approvals_required"])
        if Approval.objects.filter(item=item, approver=approver).exists():
            raise ValidationError({"decision": ["You have already decided on this request."]})
        Approval.objects.create(item=item, approver=approver, decision=decision, comment=comment.strip())
        audit.record(approver, f"request.{decision}", item.request, namespace=item.namespace.name,
                     comment=comment.strip())
        approvals = item.approvals.filter(decision=Decision.APPROVE).count()
        if decision == Decision.REJECT:
            _close_item(item, RequestState.REJECTED)
        elif approvals >= required:
            _close_item(item, RequestState.APPROVED)
            _grant_item(item, approver)
        _settle_request(item.request)
    return item


def _close_item(item: RequestItem, state: str) -> None:
    item.state, item.decided_at = state, timezone.now()
    item.save(update_fields=["state", "decided_at"])


def _grant_item(item: RequestItem, approver) -> list[Grant]:
    """Grants the item's topics for the requested duration, capped at what the current policy allows."""
    now = timezone.now()
    request = item.request
    days = min(request.duration_days, SensitivityPolicy.for_level(item.namespace.sensitivity).max_grant_days)
    topics = list(item.namespace.topics.select_related("cluster"))
    grants = [Grant.objects.create(principal=request.principal, topic=topic, valid_from=now,
                                   valid_until=now + timedelta(days=days),
                                   source=GrantSource.REQUEST, request_item=item, granted_by=approver,
                                   reason=request.reason) for topic in topics]
    capped = {"capped_to_days": days} if days < request.duration_days else {}
    after_grants(grants, audit.Actor.of(approver), "grant.create", request=request.pk, **capped)
    return grants


def after_grants(grants: Sequence[Grant], actor, action: str, **data) -> None:
    """What follows every new grant, in its transaction: the principal's credential, the audit event, a reconcile
    now and one at the grant's end (bench/reconcile.py also calls it for grants that end within seconds, which
    no request or form can ask for, to time expiry through this path)."""
    for grant in grants:
        ensure_credential(grant.principal, grant.topic.cluster)
        # the grant's whole interval, namespace and reason: enough for topics.history.replay to answer who could
        # read what at any instant from the trail alone
        audit.record(actor, action, grant, principal=grant.principal.name, topic=grant.topic.name,
                     namespace=grant.topic.namespace.name, cluster=grant.topic.cluster.name,
                     valid_from=grant.valid_from.isoformat(), valid_until=grant.valid_until.isoformat(),
                     source=grant.source, reason=grant.reason, **data)
    queue.reconcile(g.topic.cluster_id for g in grants)
    for grant in grants:  # the ACLs leave the broker when the grant ends, not at the next periodic pass
        queue.reconcile_at(grant.topic.cluster_id, grant.valid_until)


def _settle_request(request: AccessRequest, *, otherwise: str = RequestState.REJECTED) -> None:
    """Closes the request once none of its items is pending: approved when all were approved, partially
    approved when some were, `otherwise` (rejected, withdrawn, expired: how the last items closed) when none."""
    states = set(request.items.values_list("state", flat=True))
    if RequestState.PENDING in states:
        return
    if states == {RequestState.APPROVED}:
        final = RequestState.APPROVED
    elif RequestState.APPROVED in states:
        final = RequestState.PARTIALLY_APPROVED
    else:
        final = otherwise
    request.state, request.closed_at = final, timezone.now()
    request.save(update_fields=["state", "closed_at"])
    audit.record(audit.SYSTEM, "request.close", request, state=final)


def _close_pending_items(request: AccessRequest, state: str) -> None:
    """Closes the request's still pending items as `state`, then settles the request."""
    request.items.filter(state=RequestState.PENDING).update(state=state, decided_at=timezone.now())
    _settle_request(request, otherwise=state)


def withdraw(requester, request: AccessRequest) -> None:
    """The requester withdraws what is still pending; namespaces already approved keep their grants."""
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        if request.requester_id != requester.pk:
            raise PermissionDenied("Only the requester may withdraw a request.")
        if request.state != RequestState.PENDING:
            raise ValidationError({"state": ["Only a pending request can be withdrawn."]})
        audit.record(requester, "request.withdraw", request)
        _close_pending_items(request, RequestState.WITHDRAWN)


def expire_unanswered(max_age: timedelta) -> int:
    """Closes the pending items of requests nobody answered in time."""
    cutoff = timezone.now() - max_age
    expired = 0
    candidates = AccessRequest.objects.filter(state=RequestState.PENDING, created_at__lte=cutoff)
    for pk in list(candidates.values_list("pk", flat=True)):
        with transaction.atomic():
            request = AccessRequest.objects.select_for_update().filter(
                pk=pk, state=RequestState.PENDING).first()
            if request is None:  # decided or withdrawn meanwhile
                continue
            audit.record(audit.SYSTEM, "request.expire", request, age_days=max_age.days)
            _close_pending_items(request, RequestState.EXPIRED)
        expired += 1
    return expired


def grant_directly(admin, *, principal: KafkaPrincipal, topic: Topic, days: int, reason: str) -> Grant:
    """A platform admin grants without a request (audited with the reason)."""
    if not policy.may_grant_directly(admin):
        raise PermissionDenied("Only platform admins grant access directly.")
    if not policy.may_be_granted(principal, topic.namespace):
        raise ValidationError({"principal": [policy.why_not_granted(principal, topic.namespace)]})
    if principal.user_id == admin.pk:
        raise PermissionDenied(f"You may not grant access to your own principal {principal.name}: ask for it "
                               f"with a request that another person approves.")
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why access is granted."]
    longest = SensitivityPolicy.for_level(topic.namespace.sensitivity).max_grant_days
    if not 1 <= days <= longest:
        errors["days"] = [f"Between 1 and {longest} days (the maximum for {topic.namespace.sensitivity} namespaces)."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        grant = Grant.objects.create(principal=principal, topic=topic, valid_from=now,
                                     valid_until=now + timedelta(days=days), source=GrantSource.ADMIN,
                                     granted_by=admin, reason=reason.strip())
        after_grants([grant], admin, "grant.create")
    return grant


def end_grant(actor, grant: Grant, *, how: str, reason: str = "") -> Grant:
    """Revokes (owners, admins; with a reason) or releases (the holder) a grant; its ACLs leave at once."""
    allowed = {GrantState.REVOKED: policy.may_revoke, GrantState.RELEASED: policy.may_release}
    if how not in allowed:
        raise ValueError(f"how must be one of {sorted(allowed)}")
    if not allowed[how](actor, grant):
        raise PermissionDenied("You may not end this grant.")
    if how == GrantState.REVOKED and not reason.strip():
        raise ValidationError({"reason": ["Say why the grant is revoked."]})
    return _end(actor, grant, how=how, reason=reason.strip())


def revoke_reviewed(actor, grants: Sequence[Grant], *, reason: str,
                    details: Mapping[int, Mapping[str, object]] | None = None) -> list[Grant]:
    """Revocations an access review decided: its reviewer's (topics.policy.may_review allowed it, which is not
    may_revoke: a fallback reviewer owns no namespace), or the system's for every grant a missed review leaves, in
    one batch. The same path as every revocation (_end_all): the grants end, each audited (with its `details`, by
    grant id), and the outbox's reconcile takes their ACLs off the broker. Grants no longer active are left as
    they are; returns those revoked."""
    return _end_all(actor, [grant.pk for grant in grants], how=GrantState.REVOKED, reason=reason,
                    details=details or {})


def _end(actor, grant: Grant, *, how: str, reason: str) -> Grant:
    ended = _end_all(actor, [grant.pk], how=how, reason=reason, details={})
    if not ended:
        state = Grant.objects.get(pk=grant.pk).get_state_display().lower()
        raise ValidationError({"state": [f"The grant is already {state}."]})
    return ended[0]


def _end_all(actor, grant_ids: Sequence[int], *, how: str, reason: str,
             details: Mapping[int, Mapping[str, object]]) -> list[Grant]:
    """Ends the still active grants of `grant_ids` (locked first) in one transaction: one UPDATE, one audit event
    each, one reconcile per cluster."""
    with transaction.atomic():
        grants = list(Grant.objects.select_for_update(of=("self",)).select_related("topic", "principal")
                      .filter(pk__in=grant_ids, state=GrantState.ACTIVE).order_by("pk"))
        if not grants:
            return []
        now, by = timezone.now(), audit.Actor.of(actor).user
        Grant.objects.filter(pk__in=[grant.pk for grant in grants]).update(state=how, ended_at=now, ended_by=by,
                                                                          end_reason=reason)
        action = "grant.revoke" if how == GrantState.REVOKED else "grant.release"
        audit.record_many(actor, [audit.Entry(action, "topics.grant", str(grant.pk), str(grant),
                                              {"principal": grant.principal.name, "topic": grant.topic.name,
                                               "reason": reason, "ended_at": now.isoformat(),
                                               **details.get(grant.pk, {})})
                                  for grant in grants])
        for grant in grants:
            grant.state, grant.ended_at, grant.ended_by, grant.end_reason = how, now, by, reason
        queue.reconcile(grant.topic.cluster_id for grant in grants)
    return grants


def shorten_grant(actor, grant: Grant, *, valid_until, reason: str, **data) -> Grant:
    """Moves an active grant's end earlier (an access review's decision, checked by its caller with
    topics.reviews.rules); its ACLs leave the broker at the new end, by the reconcile scheduled for then."""
    with transaction.atomic():
        grant = Grant.objects.select_for_update().select_related("topic", "principal").get(pk=grant.pk)
        if grant.state != GrantState.ACTIVE:
            raise ValidationError({"state": [f"The grant is already {grant.get_state_display().lower()}."]})
        before, grant.valid_until = grant.valid_until, valid_until
        grant.save(update_fields=["valid_until"])
        audit.record(actor, "grant.shorten", grant, principal=grant.principal.name, topic=grant.topic.name,
                     valid_until_before=before.isoformat(), valid_until=valid_until.isoformat(), reason=reason,
                     **data)
        queue.reconcile_at(grant.topic.cluster_id, valid_until)
    return grant
