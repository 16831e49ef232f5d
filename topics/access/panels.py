"""What access adds to the catalogue's pages (registered in TopicsConfig.ready; see portal.web.panels)."""
from __future__ import annotations

from topics import policy
from topics.access.tables import GrantTable
from topics.models import Grant, GrantState


def namespace_grants(request, namespace) -> dict | None:
    """The namespace's active grants, for its owners, auditors and admins (nothing for anyone else)."""
    if not policy.reviews_namespace(request.user, namespace):
        return None
    grants = Grant.objects.filter(topic__namespace=namespace, state=GrantState.ACTIVE)
    return {"template": "topics/access/_namespace_grants.html", "namespace": namespace,
            "grants": GrantTable(grants, user=request.user, empty_message="Nobody holds access now.")}
