"""Result rows as JSON values, as table cells and as CSV or JSON files, streamed batch by batch. Pure."""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from topics.query.services import Column


def jsonable(value):
    """A DuckDB value as JSON: times and dates in ISO 8601, decimals, intervals and UUIDs as text, blobs as hex,
    a float that JSON cannot hold (NaN, infinities) as text, maps as objects, lists and structs as they are."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID, timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return str(value)


def cell(value) -> str:
    """A value as one table or CSV cell: empty for NULL, JSON for maps, lists and structs."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_file(columns: list[Column], batches: Iterator[list[tuple]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.name for column in columns])
    yield _drain(buffer)
    for rows in batches:
        writer.writerows([cell(value) for value in row] for row in rows)
        yield _drain(buffer)


def json_file(columns: list[Column], batches: Iterator[list[tuple]]) -> Iterator[bytes]:
    """A JSON array with one object per row (by column name); the closing bracket comes only after the last row,
    so a download cut short is not valid JSON."""
    names = [column.name for column in columns]
    separator = "[\n"
    for rows in batches:
        if rows:
            yield (separator + ",\n".join(json.dumps(dict(zip(names, map(jsonable, row))), ensure_ascii=False)
                                          for row in rows)).encode()
            separator = ",\n"
    yield ("[]\n" if separator == "[\n" else "\n]\n").encode()


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode()


FILES = {"csv": (csv_file, "text/csv; charset=utf-8"), "json": (json_file, "application/json")}
