"""`{% load access %}` — access information on pages rendered by other views: the count of decisions waiting for
the signed-in person (the nav) and a namespace's grants (its page); and display filters of the access pages."""
from __future__ import annotations

from django import template

from topics.filtersets_access import reviews_namespace, waiting_for
from topics.models import Grant, GrantState, Namespace
from topics.tables_access import GrantTable, broker_changes

register = template.Library()
register.filter("broker_changes", broker_changes)

# the badge colour (portal.css) of a request, grant or credential state: waiting, good, bad; others plain
TONES = {"pending": "state-pending", "partially_approved": "state-pending", "retiring": "state-pending",
         "approved": "state-ready", "active": "state-ready", "rejected": "state-error", "revoked": "state-error"}


@register.filter
def tone(state: str) -> str:
    return TONES.get(state, "")


@register.simple_tag
def approvals_waiting(user) -> int:
    return len(waiting_for(user)) if user.is_authenticated else 0


@register.inclusion_tag("topics/access/_namespace_grants.html", takes_context=True)
def namespace_grants(context, namespace: Namespace) -> dict:
    """The namespace's active grants, for its owners, auditors and admins (nothing for anyone else)."""
    user = context["user"]
    if not reviews_namespace(user, namespace):
        return {}
    grants = Grant.objects.filter(topic__namespace=namespace, state=GrantState.ACTIVE)
    return {"namespace": namespace, "grants": GrantTable(grants, user=user, empty_message="Nobody holds access now.")}
