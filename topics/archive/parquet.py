"""One archive file's bytes and manifest from the records it holds. Pure: no store, no broker.

Rows follow layout.RECORD_SCHEMA: a record of the brief's JSON shape fills the metadata columns; any other record
keeps its bytes (decoded as UTF-8, invalid bytes replaced) in `raw` with `malformed` set: flagged, never dropped.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from topics.archive.layout import RECORD_SCHEMA, ArchivedFile
from topics.archive.rotation import Record, day_of

MANIFEST_VERSION = 1
_STRING_FIELDS = ("time", "log", "stream")
_KUBERNETES_FIELDS = ("pod_name", "pod_id", "container_name", "host")


def file_for(namespace: str, topic: str, partition: int, records: Sequence[Record]) -> ArchivedFile:
    return ArchivedFile(namespace, day_of(records[0]), topic, partition, records[0].offset, records[-1].offset)


def row_of(topic: str, partition: int, record: Record) -> dict[str, Any]:
    row: dict[str, Any] = {"topic": topic, "partition": partition, "offset": record.offset,
                           "timestamp": datetime.fromtimestamp(record.timestamp_ms / 1000, UTC), "malformed": False}
    document = _document(record.value)
    if document is None:
        return {**row, "malformed": True, "raw": (record.value or b"").decode("utf-8", "replace")}
    kubernetes = document.get("kubernetes") if isinstance(document.get("kubernetes"), dict) else {}
    docker = document.get("docker") if isinstance(document.get("docker"), dict) else {}
    labels = kubernetes.get("labels")
    row.update({name: _text(document.get(name)) for name in _STRING_FIELDS})
    row.update({name: _text(kubernetes.get(name)) for name in _KUBERNETES_FIELDS})
    row["labels"] = ([(str(k), _text(v)) for k, v in labels.items()] if isinstance(labels, dict) else None)
    row["container_id"] = _text(docker.get("container_id"))
    return row


def _document(value: bytes | None) -> dict | None:
    """The record's JSON object, or None when it is not one with a `log` field (not the brief's shape)."""
    try:
        document = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) and "log" in document else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def table_of(topic: str, partition: int, records: Sequence[Record]) -> pa.Table:
    return pa.Table.from_pylist([row_of(topic, partition, record) for record in records], schema=RECORD_SCHEMA)


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
