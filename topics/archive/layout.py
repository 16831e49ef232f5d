"""Where archived records live and what their Parquet files hold: the Hive layout

    namespace=<ns>/date=<YYYY-MM-DD>/<topic>+<partition>+<first-offset>-<last-offset>.parquet

so that Trino, Spark or Athena read the archive as one table partitioned by namespace and date, and a re-run
after a crash writes the same key for the same offsets (nothing duplicated). Pure: no store, no broker.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

# One row per Kafka record. A record that is not the brief's JSON shape keeps its bytes (as text) in `raw`, with
# `malformed` set and the metadata columns null: flagged, never dropped.
RECORD_SCHEMA = pa.schema([
    pa.field("topic", pa.string(), nullable=False),
    pa.field("partition", pa.int32(), nullable=False),
    pa.field("offset", pa.int64(), nullable=False),
    pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),  # the Kafka record's timestamp
    pa.field("time", pa.string()),  # the record's own `time` field, as the shipper wrote it
    pa.field("log", pa.string()),
    pa.field("stream", pa.string()),
    pa.field("pod_name", pa.string()),
    pa.field("pod_id", pa.string()),
    pa.field("container_name", pa.string()),
    pa.field("host", pa.string()),
    pa.field("labels", pa.map_(pa.string(), pa.string())),
    pa.field("container_id", pa.string()),
    pa.field("malformed", pa.bool_(), nullable=False),
    pa.field("raw", pa.string()),
])

_KEY = re.compile(r"namespace=(?P<namespace>[^/]+)/date=(?P<day>\d{4}-\d{2}-\d{2})/"
                  r"(?P<topic>[^/+]+)\+(?P<partition>\d+)\+(?P<first>\d+)-(?P<last>\d+)\.parquet\Z")


@dataclass(frozen=True, order=True)
class ArchivedFile:
    namespace: str
    day: date
    topic: str
    partition: int
    first_offset: int
    last_offset: int

    @property
    def key(self) -> str:
        return (f"{day_prefix(self.namespace, self.day)}"
                f"{self.topic}+{self.partition}+{self.first_offset}-{self.last_offset}.parquet")


# Each file's manifest (offset range, rows, sha256) is the object `_manifests/<file's key>.json`: beside the data in
# the same store (a copy of the archive carries its own proof, and the check needs nothing else), yet outside every
# `namespace=` directory, and Hive, Trino, Spark and Athena skip paths starting with `_`.
MANIFEST_PREFIX = "_manifests/"


def manifest_key(file: ArchivedFile) -> str:
    return f"{MANIFEST_PREFIX}{file.key}.json"


def namespace_prefix(namespace: str) -> str:
    return f"namespace={namespace}/"


def day_prefix(namespace: str, day: date) -> str:
    return f"{namespace_prefix(namespace)}date={day.isoformat()}/"


def parse(key: str) -> ArchivedFile | None:
    """The file a store key names, or None for anything else in the store (manifests, partial uploads)."""
    match = _KEY.match(key)
    if match is None:
        return None
    try:
        day = date.fromisoformat(match["day"])
    except ValueError:
        return None
    return ArchivedFile(match["namespace"], day, match["topic"], int(match["partition"]), int(match["first"]),
                        int(match["last"]))
