"""One archive file's bytes and manifest from the records it holds. Pure: no store, no broker.

Rows follow layout.RECORD_SCHEMA: a record of the brief's JSON shape fills the metadata columns; any other record
keeps its bytes (decoded as UTF-8, invalid bytes replaced) in `raw` with `malformed` set: flagged, never dropped.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from topics.archive.layout import RECORD_SCHEMA, ArchivedFile
from topics.archive.rotation import Record, day_of

MANIFEST_VERSION = 1
_STRING_FIELDS = ("time", "log", "stream")
_KUBERNETES_FIELDS = ("pod_name", "pod_id", "container_name", "host")


def file_for(namespace: str, topic: str, partition: int, records: Sequence[Record]) -> ArchivedFile:
    return ArchivedFile(namespace, day_of(records[0]), topic, partition, records[0].offset, records[-1].offset)


def table_of(topic: str, partition: int, records: Sequence[Record]) -> pa.Table:
    """The records as rows of layout.RECORD_SCHEMA, built column by column (no Python object per row)."""
    columns: dict[str, list[Any]] = {name: [] for name in (*_STRING_FIELDS, *_KUBERNETES_FIELDS, "labels",
                                                            "container_id", "malformed", "raw")}
    for record in records:
        document = _document(record.value)
        if document is None:
            for name in (*_STRING_FIELDS, *_KUBERNETES_FIELDS, "labels", "container_id"):
                columns[name].append(None)
            columns["malformed"].append(True)
            columns["raw"].append((record.value or b"").decode("utf-8", "replace"))
            continue
        kubernetes = document.get("kubernetes")
        kubernetes = kubernetes if isinstance(kubernetes, dict) else {}
        docker = document.get("docker")
        labels = kubernetes.get("labels")
        for name in _STRING_FIELDS:
            columns[name].append(_text(document.get(name)))
        for name in _KUBERNETES_FIELDS:
            columns[name].append(_text(kubernetes.get(name)))
        columns["labels"].append([(str(k), _text(v)) for k, v in labels.items()] if isinstance(labels, dict)
                                 else None)
        columns["container_id"].append(_text(docker.get("container_id")) if isinstance(docker, dict) else None)
        columns["malformed"].append(False)
        columns["raw"].append(None)
    count = len(records)
    arrays = {"topic": pa.array([topic] * count, pa.string()),
              "partition": pa.array([partition] * count, pa.int32()),
              "offset": pa.array([r.offset for r in records], pa.int64()),
              "timestamp": pa.array([r.timestamp_ms for r in records], pa.int64()).cast(RECORD_SCHEMA.field(
                  "timestamp").type),
              **{name: pa.array(values, RECORD_SCHEMA.field(name).type) for name, values in columns.items()}}
    return pa.Table.from_arrays([arrays[field.name] for field in RECORD_SCHEMA], schema=RECORD_SCHEMA)


def _document(value: bytes | None) -> dict | None:
    """The record's JSON object, or None when it is not one with a `log` field (not the brief's shape)."""
    try:
        document = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) and "log" in document else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def encode(table: pa.Table) -> bytes:
    """The zstd-compressed Parquet bytes of the table (the same table always gives the same bytes)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def manifest_of(file: ArchivedFile, records: Sequence[Record], data: bytes) -> dict[str, Any]:
    return {"version": MANIFEST_VERSION, "key": file.key, "topic": file.topic, "partition": file.partition,
            "first_offset": file.first_offset, "last_offset": file.last_offset, "rows": len(records),
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "first_timestamp_ms": min(r.timestamp_ms for r in records),
            "last_timestamp_ms": max(r.timestamp_ms for r in records)}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, indent=1).encode()


def starts_at_or_after(stream: pa.NativeFile, since: datetime) -> bool:
    """Whether every record of the Parquet file (a seekable stream, left at its start) has a Kafka timestamp at or
    after `since`, from the row groups' statistics in its footer (no rows read); unknown statistics: False."""
    metadata = pq.ParquetFile(stream).metadata
    column = RECORD_SCHEMA.get_field_index("timestamp")
    stream.seek(0)
    for index in range(metadata.num_row_groups):
        statistics = metadata.row_group(index).column(column).statistics
        if statistics is None or not statistics.has_min_max:
            return False
        earliest = statistics.min
        if earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=timezone.utc)
        if earliest < since:
            return False
    return True
