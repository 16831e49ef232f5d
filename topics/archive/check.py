"""The archive check: offset gaps and overlaps per partition, from the files' keys and manifests. Pure: the
broker's answers (low watermarks, committed offsets, which offsets hold records) come in as arguments.

The rule. Within a partition the files, ordered by first offset, must not share an offset (an overlap: records
archived twice). Between two consecutive files, and between the last file and the archiver's committed offset,
missing offsets are a gap unless the broker shows they hold no records: Kafka offsets are not dense (compaction
removes records, transactions leave control markers), so a hole is only a gap when `records_between` finds a
record there. A hole below the partition's low watermark can no longer be looked at: the broker deleted those
records before they were archived, and it is reported as a gap ("expired"). The archiver starts at the low
watermark, so records the broker still holds before a partition's first file are a gap too (a lost first file);
records that expired before the first file are not the archive's to report. Each file needs its manifest, with
the offsets its key names; `rows` never exceeds the offsets the file spans.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from topics.archive.layout import ArchivedFile

# (partition, first offset, last offset) -> whether the broker still holds a record in that range
RecordsBetween = Callable[[int, int, int], bool]


@dataclass(frozen=True, order=True)
class Problem:
    partition: int
    first_offset: int
    last_offset: int
    kind: str  # "gap", "overlap" or "manifest"
    detail: str


def find_problems(files: Iterable[ArchivedFile], manifests: Mapping[str, Mapping[str, Any] | None], *,
                  low_watermarks: Mapping[int, int], committed: Mapping[int, int],
                  records_between: RecordsBetween) -> list[Problem]:
    """The problems of one topic's archive: `manifests` by file key (None when missing), the broker's low
    watermark and the archiver's committed offset (the next offset to archive) per partition."""
    problems: list[Problem] = []
    by_partition: dict[int, list[ArchivedFile]] = {}
    for file in files:
        by_partition.setdefault(file.partition, []).append(file)
        problems += _manifest_problems(file, manifests.get(file.key))
    for partition in sorted(set(by_partition) | set(committed)):
        ordered = sorted(by_partition.get(partition, []), key=lambda f: (f.first_offset, f.last_offset))
        low = low_watermarks.get(partition, 0)
        start = ordered[0].first_offset if ordered else committed[partition]
        if start > low and records_between(partition, low, start - 1):
            problems.append(Problem(partition, low, start - 1, "gap",
                                    "the broker holds records before the partition's first file"))
        for previous, file in zip(ordered, ordered[1:], strict=False):
            if file.first_offset <= previous.last_offset:
                problems.append(Problem(partition, file.first_offset, min(previous.last_offset, file.last_offset),
                                        "overlap", f"{previous.key} and {file.key} both hold these offsets"))
            elif file.first_offset > previous.last_offset + 1:
                problems += _hole(partition, previous.last_offset + 1, file.first_offset - 1, low_watermarks,
                                  records_between, f"between {previous.key} and {file.key}")
        if not ordered:
            continue
        end = max(f.last_offset for f in ordered)
        if committed.get(partition, 0) > end + 1:
            problems += _hole(partition, end + 1, committed[partition] - 1, low_watermarks, records_between,
                              "committed by the archiver but in no file")
    return sorted(problems)


def _hole(partition: int, first: int, last: int, low_watermarks: Mapping[int, int],
          records_between: RecordsBetween, where: str) -> list[Problem]:
    low = low_watermarks.get(partition, 0)
    problems = []
    if first < low:
        problems.append(Problem(partition, first, min(last, low - 1), "gap",
                                f"{where}: expired from the broker before it was archived"))
    if last >= max(first, low) and records_between(partition, max(first, low), last):
        problems.append(Problem(partition, max(first, low), last, "gap", f"{where}: the broker holds records here"))
    return problems


def _manifest_problems(file: ArchivedFile, manifest: Mapping[str, Any] | None) -> list[Problem]:
    def problem(detail: str) -> list[Problem]:
        return [Problem(file.partition, file.first_offset, file.last_offset, "manifest", f"{file.key}: {detail}")]

    if manifest is None:
        return problem("no manifest")
    if (manifest.get("first_offset"), manifest.get("last_offset")) != (file.first_offset, file.last_offset):
        return problem("the manifest names other offsets")
    rows = manifest.get("rows")
    if not isinstance(rows, int) or not 0 < rows <= file.last_offset - file.first_offset + 1:
        return problem(f"the manifest's row count {rows!r} does not fit the offsets")
    return []
