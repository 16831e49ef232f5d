"""Log records as the portal shows them, and the filters a reader asks for. Pure: no broker, no database.

A record on a namespace topic is the shipper's JSON (see the brief): the log line, its stream and time, and the
Kubernetes metadata. Anything else on the topic (not JSON, not an object, no `log`) is kept as it is, flagged
malformed: shown raw, never dropped.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import regex

from topics.kafka.types import ConsumedRecord

STREAMS = ("stdout", "stderr")
MAX_FILTER_LENGTH = 500  # pods, containers, text and patterns are short: longer is a mistake or an attack
MAX_LABELS = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LogRecord:
    partition: int
    offset: int
    timestamp_ms: int  # the broker's record time, which seeks and time ranges use
    log: str = ""
    stream: str = ""
    time: str = ""  # the shipper's own time field, as written
    malformed: bool = False
    namespace: str = ""
    pod: str = ""
    pod_id: str = ""
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    container: str = ""
    container_id: str = ""
    host: str = ""
    raw: str = ""  # the value as it came, for a malformed record

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def as_json(self) -> dict[str, Any]:
        """The record's fields for the API and NDJSON: the brief's shape, with where it is on the topic (and, for a
        malformed record, its raw value with empty fields)."""
        return {"partition": self.partition, "offset": self.offset, "timestamp": isoformat_ms(self.timestamp_ms),
                "malformed": self.malformed, "raw": self.raw, "log": self.log, "stream": self.stream,
                "time": self.time, "docker": {"container_id": self.container_id},
                "kubernetes": {"namespace_name": self.namespace, "pod_name": self.pod, "pod_id": self.pod_id,
                               "container_name": self.container, "host": self.host, "labels": self.labels}}

    @property
    def text(self) -> str:
        """What text and pattern filters search: the log line, or the raw value of a malformed record."""
        return self.raw if self.malformed else self.log


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()[:-6]  # without the "+00:00"


def isoformat_ms(ms: int) -> str:
    """`datetime.isoformat()` of a time in ms since the epoch, in UTC, as `LogRecord.timestamp` gives it: made once
    per second (a download formats every record's time)."""
    seconds, millis = divmod(ms, 1000)
    return f"{_second(seconds)}.{millis:03d}000+00:00" if millis else f"{_second(seconds)}+00:00"


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # json also reads what orjson refuses (NaN, integers past 64 bits)
        return json.loads(text)


def parse(consumed: ConsumedRecord) -> LogRecord:
    where = {"partition": consumed.partition, "offset": consumed.offset, "timestamp_ms": consumed.timestamp_ms}
    raw = consumed.value.decode("utf-8", errors="replace")
    try:
        value = _loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("log"), str):
        return LogRecord(**where, raw=raw, malformed=True)
    kubernetes = value.get("kubernetes") if isinstance(value.get("kubernetes"), dict) else {}
    docker = value.get("docker") if isinstance(value.get("docker"), dict) else {}
    labels = kubernetes.get("labels") if isinstance(kubernetes.get("labels"), dict) else {}
    return LogRecord(**where, log=value["log"], stream=_text(value.get("stream")), time=_text(value.get("time")),
                     namespace=_text(kubernetes.get("namespace_name")), pod=_text(kubernetes.get("pod_name")),
                     pod_id=_text(kubernetes.get("pod_id")), container=_text(kubernetes.get("container_name")),
                     container_id=_text(docker.get("container_id")), host=_text(kubernetes.get("host")),
                     labels={str(k): str(v) for k, v in labels.items()})


_PLACED = frozenset(("partition", "offset", "timestamp", "malformed", "raw"))  # the fields a line puts first
_PASSED_THROUGH = b'{"partition":%d,"offset":%d,"timestamp":"%s","malformed":false,"raw":"",'


def as_line(consumed: ConsumedRecord) -> bytes:
    """The record as one line of JSON (a download's NDJSON, a follow's event): where it is on the topic, then, for
    a record of the brief's shape, its own fields as the shipper wrote them, passed through as they came (orjson
    only checks them); any other record as `parse(...).as_json()` gives it (a malformed one raw and flagged)."""
    value = consumed.value
    if value[:1] == b"{" and b"\n" not in value and b"\r" not in value:
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:  # not JSON, or not UTF-8
            document = None
        if type(document) is dict and type(document.get("log")) is str and _PLACED.isdisjoint(document):
            return _PASSED_THROUGH % (consumed.partition, consumed.offset,
                                      isoformat_ms(consumed.timestamp_ms).encode()) + value[1:]
    return orjson.dumps(parse(consumed).as_json())


def from_archived(row: dict[str, Any]) -> LogRecord:
    """A row of the archive's Parquet (topics.archive.layout.RECORD_SCHEMA, as pyarrow gives it) as the same record
    a live read gives: the archiver stored the parsed fields, or the raw value of a malformed record."""
    def text(name: str) -> str:
        return row.get(name) or ""

    return LogRecord(partition=row["partition"], offset=row["offset"],
                     timestamp_ms=(row["timestamp"] - EPOCH) // timedelta(milliseconds=1), log=text("log"),
                     stream=text("stream"), time=text("time"), malformed=row["malformed"],
                     namespace=text("namespace"), pod=text("pod_name"), pod_id=text("pod_id"),
                     labels=dict(row.get("labels") or ()), container=text("container_name"),
                     container_id=text("container_id"), host=text("host"), raw=text("raw"))


class SearchBudgetSpent(Exception):
    """The request's time budget for searching ran out (a slow pattern, or a long scan)."""


@dataclass
class Budget:
    """A time budget: a monotonic deadline, which a long read (a download) renews step by step."""

    deadline: float = float("inf")

    @classmethod
    def of(cls, seconds: float) -> Budget:
        return cls(time.monotonic() + seconds)

    def renew(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> bool:
        return self.left() <= 0


def parse_labels(text: str) -> dict[str, str]:
    """`k=v,k2=v2` (commas or spaces between) as a dict; ValueError naming what is wrong."""
    labels: dict[str, str] = {}
    for part in text.replace(",", " ").split():
        key, equals, value = part.partition("=")
        if not equals or not key:
            raise ValueError(f"labels are key=value pairs, not {part!r}")
        labels[key] = value
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    return labels


def compile_pattern(pattern: str) -> regex.Pattern:
    """The `regex` module's pattern (it can stop a search at a timeout, unlike `re`); ValueError if invalid."""
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class LogFilter:
    """Which records a reader asks for. Times are inclusive `since`, exclusive `until`, in ms since the epoch."""

    labels: dict[str, str] = field(default_factory=dict, hash=False)
    pod: str = ""
    container: str = ""
    stream: str = ""
    text: str = ""
    pattern: str = ""
    since_ms: int | None = None
    until_ms: int | None = None

    def with_lower_bound(self, bound_ms: int | None) -> LogFilter:
        """The same filter, reading nothing before `bound_ms` (how far back a grant may read)."""
        if bound_ms is None or (self.since_ms is not None and self.since_ms >= bound_ms):
            return self
        return replace(self, since_ms=bound_ms)

    def described(self) -> dict[str, Any]:
        """The filter as the audit trail and the API echo it (only what is set)."""
        fields = {"pod": self.pod, "container": self.container, "stream": self.stream, "labels": self.labels,
                  "text": self.text, "regex": self.pattern}
        return {name: value for name, value in fields.items() if value}

    @property
    def reads_content(self) -> bool:
        """Whether a record must be parsed to tell if it matches (anything asked beyond the time range)."""
        return bool(self.pod or self.container or self.stream or self.labels or self.text or self.pattern)

    def consumed_matcher(self, budget: Budget) -> Callable[[ConsumedRecord], bool]:
        """A predicate on records as read from the topic: the time range alone on the broker's record time, or,
        when the filter reads content, `matcher` on each record's parse."""
        if self.reads_content:
            matches = self.matcher(budget)
            return lambda consumed: matches(parse(consumed))
        since = -float("inf") if self.since_ms is None else self.since_ms
        until = float("inf") if self.until_ms is None else self.until_ms
        return lambda consumed: since <= consumed.timestamp_ms < until

    def matcher(self, budget: Budget):
        """A predicate on LogRecords. A pattern search gets what is left of the budget and raises
        SearchBudgetSpent when it runs out, so a catastrophic pattern cannot hold a worker."""
        pattern = compile_pattern(self.pattern) if self.pattern else None

        def matches(record: LogRecord) -> bool:
            if self.since_ms is not None and record.timestamp_ms < self.since_ms:
                return False
            if self.until_ms is not None and record.timestamp_ms >= self.until_ms:
                return False
            if record.malformed and (self.pod or self.container or self.stream or self.labels):
                return False  # it has no metadata to match
            if (self.pod and self.pod not in record.pod) or (self.container and record.container != self.container):
                return False
            if self.stream and record.stream != self.stream:
                return False
            if any(record.labels.get(key) != value for key, value in self.labels.items()):
                return False
            if self.text and self.text.lower() not in record.text.lower():
                return False
            if pattern is not None:
                left = budget.left()
                if left <= 0:
                    raise SearchBudgetSpent
                try:
                    return pattern.search(record.text, timeout=left) is not None
                except TimeoutError:
                    raise SearchBudgetSpent from None
            return True

        return matches
