"""Plain table helpers for the web pages (NetBox style, without django-tables2).

A table knows its column headers, the template that renders one row, what to say when there are no rows,
and — for list pages — the page of rows to show. `portal/_table.html` renders any table.
"""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class Table:
    columns: tuple[str, ...] = ()
    row_template = ""
    empty_message = "Nothing here yet."
    per_page = 25

    def __init__(self, rows: QuerySet, *, request=None, empty_message: str | None = None) -> None:
        """With a request the rows are paginated by its `page` parameter; without, all rows are shown."""
        rows = self.prepare(rows)
        self.page: Page | None = None
        if request is not None:
            self.page = Paginator(rows, self.per_page).get_page(request.GET.get("page"))
            rows = self.page.object_list
        self.rows = rows
        if empty_message is not None:
            self.empty_message = empty_message

    def prepare(self, rows: QuerySet) -> QuerySet:
        """Hook for select_related/prefetch_related and annotations the row template needs."""
        return rows
