"""What the history adds to the namespace page (registered in TopicsConfig.ready; see portal.web.panels)."""
from __future__ import annotations

from topics import policy


def namespace_history(request, namespace) -> dict | None:
    """Links to who could read the namespace when, its timeline and grants over time, for whoever may see its
    history (auditors, admins, its owners)."""
    if not policy.history_namespaces_visible_to(request.user).filter(pk=namespace.pk).exists():
        return None
    return {"template": "topics/history/_namespace_history.html", "namespace": namespace}
