"""The table of break-glass uses: the report page and a namespace's uses."""
from __future__ import annotations

from django.db.models import QuerySet

from portal.web.tables import Table


class BreakGlassUseTable(Table):
    columns = ("Use", "Responder", "Namespace", "Access", "Reason", "Finding")
    row_template = "topics/breakglass/_use_row.html"
    empty_message = "No break-glass uses match."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("user", "namespace", "reviewed_by")
