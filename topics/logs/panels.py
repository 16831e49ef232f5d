"""What reading logs adds to the namespace page (registered in TopicsConfig.ready; see portal.web.panels)."""
from __future__ import annotations

from topics import policy


def namespace_logs(request, namespace) -> dict | None:
    """A link to the namespace's logs, for whoever holds a running grant on it (nothing for anyone else)."""
    grant = policy.live_read_grants(request.user, namespace).first()
    if grant is None:
        return None
    return {"template": "topics/logs/_namespace_logs.html", "namespace": namespace, "grant": grant}
