"""What the catalogue adds to accounts' pages (registered in TopicsConfig.ready; see portal.web.panels)."""
from __future__ import annotations

from topics.catalogue.tables import NamespaceTable


def team_namespaces(request, team) -> dict:
    return {"template": "topics/_team_namespaces.html",
            "table": NamespaceTable(team.namespaces.all(), empty_message="This team owns no namespace.")}
