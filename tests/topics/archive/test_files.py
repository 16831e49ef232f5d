"""The pure parts of archiving: where files are cut, what their rows and manifests hold, and the check's rule."""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topics.archive import check, layout, parquet
from topics.archive.rotation import Limits, Rotation

DAY = int(datetime(2026, 11, 24, 10, tzinfo=UTC).timestamp() * 1000)
BRIEF_RECORD = {"log": "GET /health 200\n", "stream": "stdout", "time": "2026-11-24T10:15:02.123456Z",
                "docker": {"container_id": "5f1c"},
                "kubernetes": {"namespace_name": "payments", "pod_name": "api-7d9f8-x2x9q", "pod_id": "0b7e",
                               "container_name": "api", "host": "node-12",
                               "labels": {"app": "api", "tier": "backend"}}}


@dataclass(frozen=True)
class Rec:
    offset: int
    timestamp_ms: int
    value: bytes | None = b"x"


def cut(records, limits) -> tuple[list[list[int]], list[int]]:
    rotation = Rotation(limits)
    files = rotation.add_all(records)
    return [[r.offset for r in file] for file in files], [r.offset for r in rotation.pending]


def test_files_close_at_the_record_count_and_the_tail_waits():
    files, pending = cut([Rec(o, DAY + o) for o in range(7)], Limits(records=3, bytes=10**9, seconds=3600))
    assert files == [[0, 1, 2], [3, 4, 5]] and pending == [6]


def test_a_record_past_the_size_the_time_span_or_the_day_starts_a_new_file():
    by_size = [Rec(0, DAY, b"a" * 6), Rec(1, DAY, b"b" * 4), Rec(2, DAY, b"c"), Rec(3, DAY, b"d")]
    assert cut(by_size, Limits(10**6, 10, 3600)) == ([[0, 1]], [2, 3])
    by_time = [Rec(0, DAY), Rec(1, DAY + 59_999), Rec(2, DAY + 60_000), Rec(3, DAY + 61_000)]
    assert cut(by_time, Limits(10**6, 10**9, 60)) == ([[0, 1]], [2, 3])
    midnight = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000)
    by_day = [Rec(0, midnight - 1), Rec(1, midnight), Rec(2, midnight + 1)]
    assert cut(by_day, Limits(10**6, 10**9, 86_400)) == ([[0]], [1, 2])


def test_boundaries_do_not_depend_on_how_records_arrive_nor_on_a_restart_from_a_committed_offset():
    records = [Rec(o * 2, DAY + o * 7_000, b"v" * (o % 5)) for o in range(200)]  # sparse offsets (compaction)
    limits = Limits(records=13, bytes=60, seconds=90)
    whole, _ = cut(records, limits)
    # fed in odd batches: the same files
    rotation = Rotation(limits)
    in_batches = [f for start in range(0, 200, 17) for f in rotation.add_all(records[start:start + 17])]
    assert [[r.offset for r in f] for f in in_batches] == whole
    # a restart after the third file's commit cuts the rest identically
    restart = records.index(next(r for r in records if r.offset == whole[2][-1])) + 1
    again, _ = cut(records[restart:], limits)
    assert again == whole[3:]


def test_rows_equal_the_records_and_a_malformed_one_is_kept_raw_and_flagged():
    records = [Rec(5, DAY, json.dumps(BRIEF_RECORD).encode()), Rec(6, DAY + 1, b"not json \xff"),
               Rec(7, DAY + 2, None)]
    rows = pq.read_table(io.BytesIO(parquet.encode(parquet.table_of("logs.pay", 2, records)))).to_pylist()
    assert rows[0] == {"topic": "logs.pay", "partition": 2, "offset": 5,
                       "timestamp": datetime.fromtimestamp(DAY / 1000, UTC), "time": BRIEF_RECORD["time"],
                       "log": "GET /health 200\n", "stream": "stdout", "pod_name": "api-7d9f8-x2x9q", "pod_id": "0b7e",
                       "container_name": "api", "host": "node-12", "labels": [("app", "api"), ("tier", "backend")],
                       "container_id": "5f1c", "malformed": False, "raw": None}
    assert rows[1]["malformed"] and rows[1]["raw"] == "not json \ufffd" and rows[1]["log"] is None
    assert rows[2]["malformed"] and rows[2]["raw"] == ""


def test_the_file_is_zstd_parquet_and_its_manifest_names_offsets_rows_and_digest():
    records = [Rec(10, DAY), Rec(12, DAY + 5)]
    data = parquet.encode(parquet.table_of("logs.pay", 0, records))
    assert pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).compression == "ZSTD"
    assert parquet.encode(parquet.table_of("logs.pay", 0, records)) == data  # a rewrite is byte-identical
    file = parquet.file_for("pay", "logs.pay", 0, records)
    assert file.key == "namespace=pay/date=2026-11-24/logs.pay+0+10-12.parquet"
    manifest = parquet.manifest_of(file, records, data)
    assert {name: manifest[name] for name in ("key", "first_offset", "last_offset", "rows", "bytes", "sha256")} == {
        "key": file.key, "first_offset": 10, "last_offset": 12, "rows": 2, "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest()}
    assert layout.manifest_key(file) == f"_manifests/{file.key}.json"
    assert layout.parse(layout.manifest_key(file)) is None


def files(*ranges, partition=0):
    return [layout.ArchivedFile("pay", date(2026, 11, 24), "logs.pay", partition, a, b) for a, b in ranges]


def manifests_of(archived):
    return {f.key: {"first_offset": f.first_offset, "last_offset": f.last_offset, "rows": 1} for f in archived}


def problems(archived, *, low=0, committed=None, holds=()):
    return [(p.kind, p.first_offset, p.last_offset) for p in check.find_problems(
        archived, manifests_of(archived), low_watermarks={0: low}, committed={0: committed} if committed else {},
        records_between=lambda partition, a, b: any(a <= offset <= b for offset in holds))]


def test_contiguous_files_up_to_the_committed_offset_have_no_problem():
    assert problems(files((0, 9), (10, 19)), committed=20) == []


def test_an_overlap_is_reported_and_a_hole_only_when_the_broker_holds_records_there():
    assert problems(files((0, 9), (5, 19))) == [("overlap", 5, 9)]
    assert problems(files((0, 9), (15, 19)), holds=[12]) == [("gap", 10, 14)]
    # compaction or transaction markers: the broker holds nothing in the hole
    assert problems(files((0, 9), (15, 19)), holds=[]) == []
    # committed past the last file, with records there
    assert problems(files((0, 9)), committed=15, holds=[11]) == [("gap", 10, 14)]


def test_records_the_broker_still_holds_before_the_first_file_are_a_gap():
    assert problems(files((10, 19)), low=0, holds=[3]) == [("gap", 0, 9)]
    assert problems(files((10, 19)), low=10, holds=[3]) == []  # expired before the archive began
    assert problems([], committed=5, holds=[2]) == [("gap", 0, 4)]  # committed, yet no file at all


def test_a_hole_below_the_low_watermark_is_a_gap_that_expired():
    found = check.find_problems(files((0, 9), (30, 39)), manifests_of(files((0, 9), (30, 39))),
                                low_watermarks={0: 20}, committed={}, records_between=lambda *_: False)
    assert [(p.kind, p.first_offset, p.last_offset) for p in found] == [("gap", 10, 19)]
    assert "expired" in found[0].detail


@pytest.mark.parametrize("manifest, detail", [
    (None, "no manifest"),
    ({"first_offset": 0, "last_offset": 8, "rows": 1}, "other offsets"),
    ({"first_offset": 0, "last_offset": 9, "rows": 11}, "row count"),
])
def test_a_missing_or_wrong_manifest_is_reported(manifest, detail):
    archived = files((0, 9))
    found = check.find_problems(archived, {archived[0].key: manifest}, low_watermarks={}, committed={},
                                records_between=lambda *_: False)
    assert [p.kind for p in found] == ["manifest"] and detail in found[0].detail


# --- the columns parsed in C++ (pyarrow's JSON reader) against a model of the rule, record by record ----------

ABSENT = object()


def model_row(value: bytes | None) -> dict:
    """What the rule says a value's content columns are: orjson's reading of it, when it is an object with `log`;
    otherwise a malformed row keeping the value as text."""
    def text(v):
        return v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True)
    try:
        document = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or "log" not in document:
        return {**dict.fromkeys(("time", "log", "stream", "pod_name", "pod_id", "container_name", "host", "labels",
                                 "container_id")), "malformed": True, "raw": (value or b"").decode("utf-8", "replace")}
    kubernetes = document.get("kubernetes") if isinstance(document.get("kubernetes"), dict) else {}
    docker, labels = document.get("docker"), kubernetes.get("labels")
    return {**{name: text(document.get(name)) for name in ("time", "log", "stream")},
            **{name: text(kubernetes.get(name)) for name in ("pod_name", "pod_id", "container_name", "host")},
            "labels": sorted((str(k), text(v)) for k, v in labels.items()) if isinstance(labels, dict) else None,
            "container_id": text(docker.get("container_id")) if isinstance(docker, dict) else None,
            "malformed": False, "raw": None}


strings = st.one_of(st.text(max_size=12), st.just(ABSENT))  # what pyarrow's reader takes
scalars = st.one_of(strings, st.none(), st.integers(-5, 5), st.booleans())


def present(**fields):
    return {name: value for name, value in fields.items() if value is not ABSENT}


def documents(scalars, logs):
    label_sets = st.dictionaries(st.sampled_from(["app", "tier", "a.b/c"]),
                                 scalars.filter(lambda v: v is not ABSENT), max_size=3)
    kubernetes = st.builds(lambda pod, host, labels: present(pod_name=pod, host=host, namespace_name="pay",
                                                             labels=labels),
                           scalars, scalars, st.one_of(st.just(ABSENT), st.none(), st.text(max_size=3), label_sets))
    return st.builds(
        lambda log, stream, time, docker, kubernetes, extra: present(log=log, stream=stream, time=time, docker=docker,
                                                                     kubernetes=kubernetes, **extra),
        logs, scalars, scalars,
        st.one_of(st.just(ABSENT), st.none(), st.text(max_size=3), st.builds(lambda c: present(container_id=c),
                                                                             scalars)),
        st.one_of(st.just(ABSENT), st.none(), st.integers(), kubernetes),
        st.dictionaries(st.sampled_from(["extra", "seq"]), st.one_of(st.integers(), st.text(max_size=3)), max_size=1))


brief = st.builds(lambda n, pod: json.dumps({**BRIEF_RECORD, "log": f"GET /orders/{n} 200\n",
                                             "kubernetes": {**BRIEF_RECORD["kubernetes"], "pod_name": pod}}).encode(),
                  st.integers(0, 10**6), st.text(max_size=8))
values = st.one_of(brief, documents(strings, st.text(max_size=12)).map(lambda d: json.dumps(d).encode()),
                   documents(scalars, scalars).map(lambda d: json.dumps(d).encode()), st.binary(max_size=20),
                   st.none(),
                   st.sampled_from([b"not json {", b"[1]", b'"x"', b"", b'{"log": NaN}',
                                    b'{"log": "a"} {"log": "b"}', b'{"log": "a",\n "stream": "b"}',
                                    b'\xef\xbb\xbf{"log": "a"}', b'{"log": "\xff"}']))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(values, st.integers(1, 150)), max_size=5))
def test_the_columns_parsed_in_runs_are_the_rule_applied_record_by_record(runs):
    """Runs of one value (as a stream's records mostly are) of at least the run pyarrow's reader takes, mixed with
    odd ones: every row is what the rule says, however the runs were split between the reader and Python."""
    record_values = [value for value, times in runs for _ in range(times)]
    records = [Rec(offset, DAY + offset, value) for offset, value in enumerate(record_values)]
    rows = parquet.table_of("logs.pay", 0, records).to_pylist() if records else []
    content = [{**{k: v for k, v in row.items() if k not in ("topic", "partition", "offset", "timestamp")},
                "labels": None if row["labels"] is None else sorted(row["labels"])} for row in rows]
    assert content == [model_row(value) for value in record_values]
