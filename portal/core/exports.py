"""Reports and audit queries as files to download: the same table as CSV, JSON or PDF.

A report builds one `Table` (a title, the parameters that produced it, column names, rows of plain values) and
hands it to `download`; every export of Logwarden goes through here, so all carry the same header facts (what
was asked, when it was generated) whatever the format.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json", "pdf": "application/pdf"}


class UnknownFormat(ValueError):
    pass


@dataclass(frozen=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    # what the report was asked (namespace, date, window...): printed above the rows, kept in the JSON
    parameters: Mapping[str, Any] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=timezone.now)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def as_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode()


def as_json(table: Table) -> bytes:
    document = {"title": table.title, "generated_at": table.generated_at.isoformat(),
                "parameters": _plain(dict(table.parameters)),
                "rows": [dict(zip(table.columns, map(_plain, row))) for row in table.rows]}
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def as_pdf(table: Table) -> bytes:
    # imported here: reportlab is only needed by the few pages that offer PDF
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from xml.sax.saxutils import escape

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=table.title, author="Logwarden",
                                 leftMargin=28, rightMargin=28, topMargin=28, bottomMargin=28,
                                 invariant=True)  # no random document id: the same table gives the same bytes
    story = [Paragraph(escape(table.title), styles["Title"]),
             Paragraph(escape(f"Generated {table.generated_at:%Y-%m-%d %H:%M:%S %Z}"), styles["Normal"])]
    story += [Paragraph(escape(f"{name}: {_cell(value)}"), styles["Normal"])
              for name, value in table.parameters.items()]
    story.append(Spacer(1, 10))
    cells = [[Paragraph(f"<b>{escape(str(c))}</b>", small) for c in table.columns]]
    cells += [[Paragraph(escape(_cell(v)), small) for v in row] for row in table.rows]
    if not table.rows:
        cells.append([Paragraph("No rows.", small)] + [""] * (len(table.columns) - 1))
    width = (landscape(A4)[0] - 56) / max(len(table.columns), 1)
    grid = LongTable(cells, colWidths=[width] * len(table.columns), repeatRows=1)
    grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                              ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf1")),
                              ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(grid)
    document.build(story)
    return buffer.getvalue()


_RENDERERS = {"csv": as_csv, "json": as_json, "pdf": as_pdf}


def render(table: Table, fmt: str, *, allowed: Sequence[str] = ("csv", "json")) -> bytes:
    """The table as a file of format `fmt`, one of `allowed` (PDF only where a report offers it)."""
    if fmt not in allowed:
        raise UnknownFormat(f"format: choose one of {', '.join(allowed)}, not {fmt[:20]!r}.")
    return _RENDERERS[fmt](table)


def download(table: Table, fmt: str, filename: str, *, allowed: Sequence[str] = ("csv", "json")) -> HttpResponse:
    """An attachment response `<filename>.<fmt>`; raises UnknownFormat (the caller answers 400) for other
    formats."""
    response = HttpResponse(render(table, fmt, allowed=allowed), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
