"""Result values as JSON and cells, and the streamed CSV and JSON files. Pure."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from topics.query import formats
from topics.query.services import Column

COLUMNS = [Column("pod_name", "VARCHAR"), Column("at", "TIMESTAMP WITH TIME ZONE"), Column("labels", "MAP")]
AT = datetime(2026, 11, 24, 10, 15, 2, tzinfo=timezone.utc)


def test_values_become_json():
    assert formats.jsonable({"app": "api", 1: [Decimal("1.50"), b"\x01\xff"]}) == {"app": "api", "1": ["1.50", "01ff"]}
    assert formats.jsonable(AT) == "2026-11-24T10:15:02+00:00"
    assert formats.jsonable(date(2026, 11, 24)) == "2026-11-24"
    assert formats.jsonable(float("nan")) == "nan"
    assert formats.jsonable(1.5) == 1.5


def test_cells_are_text():
    assert formats.cell(None) == ""
    assert formats.cell({"app": "api"}) == '{"app": "api"}'
    assert formats.cell(7) == "7"


def test_the_csv_file_has_a_header_and_every_row():
    batches = iter([[("api-1", AT, {"app": "api"})], [], [("api-2", None, {})]])
    text = b"".join(formats.csv_file(COLUMNS, batches)).decode()

    assert list(csv.reader(io.StringIO(text))) == [
        ["pod_name", "at", "labels"], ["api-1", "2026-11-24T10:15:02+00:00", '{"app": "api"}'], ["api-2", "", "{}"]]


def test_the_json_file_is_an_array_of_row_objects():
    batches = iter([[("api-1", AT, {"app": "api"})], [("api-2", None, {})]])
    assert json.loads(b"".join(formats.json_file(COLUMNS, batches))) == [
        {"pod_name": "api-1", "at": "2026-11-24T10:15:02+00:00", "labels": {"app": "api"}},
        {"pod_name": "api-2", "at": None, "labels": {}}]
    assert json.loads(b"".join(formats.json_file(COLUMNS, iter([])))) == []


def test_a_json_file_cut_short_is_not_valid_json():
    chunks = formats.json_file(COLUMNS, iter([[("api-1", AT, {})]]))
    with pytest.raises(json.JSONDecodeError):
        json.loads(next(chunks))
