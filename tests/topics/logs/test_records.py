"""Records parsed into the brief's shape (malformed ones kept raw and flagged), and the filters. No servers."""
from __future__ import annotations

import json
import time

import pytest

from topics.kafka.types import ConsumedRecord
from topics.logs.records import Budget, LogFilter, SearchBudgetSpent, compile_pattern, parse, parse_labels

BRIEF = {"log": "GET /health 200\n", "stream": "stdout", "time": "2026-11-24T10:15:02.123456Z",
         "docker": {"container_id": "5f1c"},
         "kubernetes": {"namespace_name": "payments", "pod_name": "api-7d9f8-x2x9q", "pod_id": "0b7e",
                        "container_name": "api", "host": "node-12", "labels": {"app": "api", "tier": "backend"}}}


def consumed(value: bytes, *, offset: int = 7, ts: int = 1_764_000_000_000) -> ConsumedRecord:
    return ConsumedRecord(partition=2, offset=offset, timestamp_ms=ts, value=value)


def test_a_shipper_record_keeps_every_field_of_the_brief_s_shape():
    record = parse(consumed(json.dumps(BRIEF).encode()))
    assert not record.malformed
    shown = record.as_json()
    assert {key: shown[key] for key in ("log", "stream", "time", "docker", "kubernetes")} == BRIEF
    assert (shown["partition"], shown["offset"], shown["malformed"]) == (2, 7, False)
    assert shown["timestamp"] == "2025-11-24T16:00:00+00:00"


@pytest.mark.parametrize("value", [b"plain text line", b"[1, 2]", b'{"message": "no log field"}', b"\xff\xfe{",
                                   b'{"log": 5}'])
def test_anything_else_is_kept_raw_and_flagged(value):
    record = parse(consumed(value))
    assert record.malformed and record.raw == value.decode("utf-8", errors="replace")
    assert record.as_json()["malformed"] is True and record.as_json()["raw"] == record.raw


def test_odd_metadata_types_are_read_as_empty_not_crashed_on():
    record = parse(consumed(json.dumps({"log": "x", "kubernetes": {"labels": ["a"], "pod_name": 3},
                                        "docker": "nope"}).encode()))
    assert not record.malformed and record.labels == {} and record.pod == "" and record.container_id == ""


def matches(log_filter: LogFilter, value: dict | bytes, **where) -> bool:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return log_filter.matcher(Budget.of(5))(parse(consumed(raw, **where)))


def test_each_filter_narrows():
    worker = {**BRIEF, "stream": "stderr", "log": "ERROR timeout after 30ms\n",
              "kubernetes": {**BRIEF["kubernetes"], "pod_name": "worker-1", "container_name": "worker",
                             "labels": {"app": "worker"}}}
    cases = [(LogFilter(pod="7d9f8"), True, False), (LogFilter(container="worker"), False, True),
             (LogFilter(stream="stderr"), False, True), (LogFilter(labels={"app": "api", "tier": "backend"}), True,
                                                          False),
             (LogFilter(text="error TIMEOUT"), False, True), (LogFilter(pattern=r"^GET /\w+ 2\d\d$"), True, False)]
    for log_filter, api_matches, worker_matches in cases:
        assert (matches(log_filter, BRIEF), matches(log_filter, worker)) == (api_matches, worker_matches), log_filter


def test_time_bounds_are_inclusive_since_exclusive_until():
    log_filter = LogFilter(since_ms=1000, until_ms=2000)
    assert [matches(log_filter, BRIEF, ts=ts) for ts in (999, 1000, 1999, 2000)] == [False, True, True, False]


def test_malformed_records_match_text_and_time_but_not_metadata_filters():
    assert matches(LogFilter(text="plain"), b"plain text")
    assert not matches(LogFilter(pod="api"), b"plain text")
    assert matches(LogFilter(), b"plain text")


def test_a_lower_bound_only_ever_narrows():
    assert LogFilter(since_ms=5000).with_lower_bound(3000).since_ms == 5000
    assert LogFilter(since_ms=1000, text="x").with_lower_bound(3000) == LogFilter(since_ms=3000, text="x")
    assert LogFilter().with_lower_bound(None) == LogFilter()


def test_a_catastrophic_pattern_stops_at_the_budget():
    evil = {**BRIEF, "log": "a" * 60 + "!"}
    matcher = LogFilter(pattern=r"(a|aa)+$").matcher(Budget.of(0.3))
    began = time.monotonic()
    with pytest.raises(SearchBudgetSpent):
        matcher(parse(consumed(json.dumps(evil).encode())))
    assert time.monotonic() - began < 2


def test_labels_and_patterns_are_checked_with_messages():
    assert parse_labels("app=api, tier=backend") == {"app": "api", "tier": "backend"}
    with pytest.raises(ValueError, match="key=value"):
        parse_labels("app")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        compile_pattern("(unclosed")
