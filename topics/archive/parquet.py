"""One archive file's bytes and manifest from the records it holds. Pure: no store, no broker.

Rows follow layout.RECORD_SCHEMA: a record of the brief's JSON shape fills the metadata columns; any other record
keeps its bytes (decoded as UTF-8, invalid bytes replaced) in `raw` with `malformed` set: flagged, never dropped.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
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
    count = len(records)
    where = {"topic": pa.array([topic] * count, pa.string()),
             "partition": pa.array([partition] * count, pa.int32()),
             "offset": pa.array([r.offset for r in records], pa.int64()),
             "timestamp": pa.array([r.timestamp_ms for r in records], pa.int64()).cast(RECORD_SCHEMA.field(
                 "timestamp").type)}
    content = _content([record.value for record in records])
    return pa.Table.from_arrays([where[field.name] if field.name in where else content.column(field.name)
                                 for field in RECORD_SCHEMA], schema=RECORD_SCHEMA)


_CONTENT_SCHEMA = pa.schema([field for field in RECORD_SCHEMA if field.name in (
    *_STRING_FIELDS, *_KUBERNETES_FIELDS, "labels", "container_id", "malformed", "raw")])
# What pyarrow's JSON reader is told of a record; the labels (any keys) and any other fields it infers
_READ_SCHEMA = pa.schema([*((name, pa.string()) for name in _STRING_FIELDS),
                          ("docker", pa.struct([("container_id", pa.string())])),
                          ("kubernetes", pa.struct([(name, pa.string()) for name in _KUBERNETES_FIELDS]))])
_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=_READ_SCHEMA, unexpected_field_behavior="infer")
# one thread: the periodic job archives several topics side by side, and on a busy machine threads only contend
_READ_OPTIONS = pa_json.ReadOptions(use_threads=False, block_size=16 << 20)
# Bytes that may make pyarrow's reader and orjson (the Python way) judge a value differently: a JSON null (absent
# and null look alike in Arrow), NaN and Infinity (pyarrow reads them, orjson refuses), a byte-order mark, and
# line breaks (the reader splits the batch into values at them)
_NOT_FOR_ARROW = (b"null", b"NaN", b"Infinity", b"\xef\xbb\xbf", b"\r")
SMALLEST_ARROW_RUN = 64  # below this, a run that pyarrow cannot take is parsed the Python way


class _NotForArrow(Exception):
    """pyarrow's reader would not read these values exactly as the Python way does: they go the Python way."""


def _content(values: Sequence[bytes | None]) -> pa.Table:
    """The content columns (_CONTENT_SCHEMA) of the values. pyarrow's JSON reader (C++) parses runs of values;
    a run holding anything it would read otherwise than the Python way (a malformed record, a field of another
    type, a null) is halved until its parts parse, down to SMALLEST_ARROW_RUN values parsed the Python way."""
    if len(values) < SMALLEST_ARROW_RUN:
        return _content_in_python(values)
    try:
        return _content_by_arrow(values)
    except _NotForArrow:
        half = len(values) // 2
        return pa.concat_tables([_content(values[:half]), _content(values[half:])])


def _content_by_arrow(values: Sequence[bytes | None]) -> pa.Table:
    if not all(values):  # an empty value would be an empty line, which the reader skips
        raise _NotForArrow
    blob = b"\n".join(values)  # type: ignore[arg-type]
    if blob.count(b"\n") != len(values) - 1 or any(marker in blob for marker in _NOT_FOR_ARROW):
        raise _NotForArrow
    try:
        blob.decode()  # the reader does not check UTF-8, orjson refuses what is not
    except UnicodeDecodeError:
        raise _NotForArrow from None
    try:
        read = pa_json.read_json(pa.BufferReader(blob), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS)
    except pa.ArrowInvalid:  # not JSON objects, or a field of another type
        raise _NotForArrow from None
    # two objects on one line would be two rows; a missing `log` is a record not of the brief's shape
    if read.num_rows != len(values) or read.column("log").null_count:
        raise _NotForArrow
    docker, kubernetes = read.column("docker").combine_chunks(), read.column("kubernetes").combine_chunks()
    strings = {name: read.column(name) for name in _STRING_FIELDS}
    strings.update(zip(_KUBERNETES_FIELDS, kubernetes.flatten()))
    labels = _labels(kubernetes)
    columns = {**strings, "labels": labels, "container_id": docker.flatten()[0],
               "malformed": pa.nulls(len(values), pa.bool_()).fill_null(False),
               "raw": pa.nulls(len(values), pa.string())}
    return pa.Table.from_arrays([columns[field.name] for field in _CONTENT_SCHEMA], schema=_CONTENT_SCHEMA)


def _labels(kubernetes: pa.StructArray) -> pa.MapArray:
    """The `kubernetes.labels` objects the reader inferred (a struct with a string field per key seen) as the
    schema's map, each row's labels in the order the keys were first seen in the run."""
    count = len(kubernetes)
    index = kubernetes.type.get_field_index("labels")
    if index < 0:  # no record of the run has labels
        return pa.nulls(count, RECORD_SCHEMA.field("labels").type)
    inferred = kubernetes.flatten()[index]
    if not pa.types.is_struct(inferred.type) or any(field.type != pa.string() for field in inferred.type):
        raise _NotForArrow  # labels that are not an object of strings: the Python way writes them as JSON text
    children = inferred.flatten()
    valid = [child.is_valid() for child in children]
    counts = functools.reduce(pc.add, (v.cast(pa.int32()) for v in valid), pa.array([0] * count, pa.int32()))
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(counts)])
    if not children:  # labels always empty ({})
        keys = values = pa.array([], pa.string())
    else:
        entries = pa.table({"row": pa.concat_arrays([pc.indices_nonzero(v) for v in valid]),
                            "key": pa.concat_arrays([pa.array([field.name] * pc.sum(v).as_py(), pa.string())
                                                     for field, v in zip(inferred.type, valid)]),
                            "value": pa.concat_arrays([child.filter(v) for child, v in zip(children, valid)])})
        entries = entries.take(pc.sort_indices(entries, [("row", "ascending")]))  # stable: keys keep their order
        keys, values = entries.column("key").combine_chunks(), entries.column("value").combine_chunks()
    return pa.MapArray.from_arrays(offsets, keys, values, type=RECORD_SCHEMA.field("labels").type,
                                   mask=inferred.is_null())


def _content_in_python(values: Sequence[bytes | None]) -> pa.Table:
    columns: dict[str, list[Any]] = {field.name: [] for field in _CONTENT_SCHEMA}
    for value in values:
        document = _document(value)
        if document is None:
            for name in (*_STRING_FIELDS, *_KUBERNETES_FIELDS, "labels", "container_id"):
                columns[name].append(None)
            columns["malformed"].append(True)
            columns["raw"].append((value or b"").decode("utf-8", "replace"))
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
    return pa.table({name: pa.array(column, _CONTENT_SCHEMA.field(name).type) for name, column in columns.items()},
                    schema=_CONTENT_SCHEMA)


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
