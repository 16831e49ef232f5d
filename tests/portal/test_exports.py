"""Exports: one table as CSV, JSON and PDF with the same rows and the parameters that produced it."""
import csv
import io
import json
from datetime import datetime, timezone

import pytest

from portal.core import exports

TABLE = exports.Table(title="Who could read payments", columns=("principal", "since", "approvers"),
                      rows=[("u.alice", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), ["bob", "carol"]),
                            ("sa.batch", None, [])],
                      parameters={"namespace": "payments", "at": "2026-01-05"},
                      generated_at=datetime(2026, 2, 1, tzinfo=timezone.utc))


def test_csv_has_a_header_and_one_line_per_row():
    rows = list(csv.reader(io.StringIO(exports.render(TABLE, "csv").decode())))
    assert rows == [["principal", "since", "approvers"],
                    ["u.alice", "2026-01-02T03:04:05+00:00", '["bob", "carol"]'], ["sa.batch", "", "[]"]]


def test_json_keeps_parameters_and_values():
    document = json.loads(exports.render(TABLE, "json"))
    assert document["parameters"] == {"namespace": "payments", "at": "2026-01-05"}
    assert document["rows"][0] == {"principal": "u.alice", "since": "2026-01-02T03:04:05+00:00",
                                   "approvers": ["bob", "carol"]}
    assert document["generated_at"] == "2026-02-01T00:00:00+00:00"


def test_pdf_is_a_pdf_and_the_same_table_gives_the_same_bytes():
    first = exports.render(TABLE, "pdf", allowed=("pdf",))
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")
    assert exports.render(TABLE, "pdf", allowed=("pdf",)) == first


def test_a_format_not_offered_is_refused_by_name():
    with pytest.raises(exports.UnknownFormat, match="format: choose one of csv, json"):
        exports.render(TABLE, "pdf")
    response = exports.download(TABLE, "csv", "who-could-read")
    assert response["Content-Disposition"] == 'attachment; filename="who-could-read.csv"'
