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


DAY_MS = 86_400_000


def day_of(record: Record) -> date:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC).date()


class Rotation:
    """Feed one partition's records in offset order; `add` returns the files each record closes."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pending: list[Record] = []  # the open file: written once a later record (or the count) closes it
        self._bytes = 0
        self._first_ms = self._first_day = 0  # the open file's first record's time, and its UTC day (days since 1970)

    def add(self, record: Record) -> list[list[Record]]:
        return self.add_all((record,))

    def add_all(self, records: Iterable[Record]) -> list[list[Record]]:
        """The files these records close, in order. One loop over plain integers: the archiver feeds every record
        it reads through here."""
        closed = []
        most_records, most_bytes, span_ms = self.limits.records, self.limits.bytes, self.limits.seconds * 1000
        pending, size, first_ms, first_day = self.pending, self._bytes, self._first_ms, self._first_day
        for record in records:
            length = len(record.value or b"")
            at = record.timestamp_ms
            if pending and (size + length > most_bytes or at - first_ms >= span_ms or at // DAY_MS != first_day):
                closed.append(pending)
                pending, size = [], 0
            if not pending:
                first_ms, first_day = at, at // DAY_MS
            pending.append(record)
            size += length
            if len(pending) >= most_records:
                closed.append(pending)
                pending, size = [], 0
        self.pending, self._bytes, self._first_ms, self._first_day = pending, size, first_ms, first_day
        return closed
