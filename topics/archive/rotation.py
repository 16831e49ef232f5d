"""Where one partition's records are cut into archive files. Pure: the boundaries are a function of the records
alone (offsets, record timestamps, value sizes) and of the limits, never of the wall clock or of how the records
arrived in batches, so a run restarted from the last committed offset cuts exactly the same files again.

A file closes when it holds `records` records; or, when a record arrives that would take its value bytes past
`bytes`, that is `seconds` or more (record time) after the file's first record, or that falls on another UTC day
(the file's `date=` partition is its first record's day, so every row of a file has that day). The records after
the last closed file wait, unwritten and uncommitted, until a later record closes their file.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol


class Record(Protocol):
    offset: int
    timestamp_ms: int
    value: bytes | None


@dataclass(frozen=True)
class Limits:
    records: int
    bytes: int
    seconds: int

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(settings.LOGWARDEN_ARCHIVE_FILE_RECORDS, settings.LOGWARDEN_ARCHIVE_FILE_BYTES,
                   settings.LOGWARDEN_ARCHIVE_FILE_SECONDS)


def day_of(record: Record) -> date:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC).date()


class Rotation:
    """Feed one partition's records in offset order; `add` returns the files each record closes."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pending: list[Record] = []  # the open file: written once a later record (or the count) closes it
        self._bytes = 0

    def add(self, record: Record) -> list[list[Record]]:
        closed = []
        if self.pending and self._starts_new_file(record):
            closed.append(self._close())
        self.pending.append(record)
        self._bytes += len(record.value or b"")
        if len(self.pending) >= self.limits.records:
            closed.append(self._close())
        return closed

    def add_all(self, records: Iterable[Record]) -> list[list[Record]]:
        return [file for record in records for file in self.add(record)]

    def _starts_new_file(self, record: Record) -> bool:
        first = self.pending[0]
        return (self._bytes + len(record.value or b"") > self.limits.bytes
                or record.timestamp_ms - first.timestamp_ms >= self.limits.seconds * 1000
                or day_of(record) != day_of(first))

    def _close(self) -> list[Record]:
        file, self.pending, self._bytes = self.pending, [], 0
        return file
