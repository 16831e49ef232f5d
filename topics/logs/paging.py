"""Pages of a topic newest first across its partitions, and the cursors that continue them both ways. Pure: the
records come from a `fetch(partition, start, end)` the caller gives (the Kafka reader in production).

Each partition is a lane with an offset window [low, high). A walk reads lanes in chunks from one edge (older:
down from `high`; newer: up from `low`), keeps the matching records it has read but not yet given, and gives the
newest (or oldest) lane head across lanes each time: a k-way merge by record time, so a page is right however
the partitions interleave, and a lane is read only as far as the page needs.

A cursor is where each lane stands (partition → offset) and which way it goes; it is validated, not trusted: its
offsets only narrow the window the server worked out (time range, how far back the grant may read).
"""
from __future__ import annotations

import base64
import binascii
import heapq
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol, TypeVar

from topics.logs.records import Budget, LogRecord, SearchBudgetSpent

OLDER, NEWER = "older", "newer"
CHUNK = 200  # records read from a lane at a time for a page (a download reads larger chunks)
MAX_PARTITIONS = 1000


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    direction: str
    positions: dict[int, int] = field(hash=False)  # older: exclusive upper offsets; newer: inclusive lower

    def encode(self) -> str:
        text = f"{self.direction}:" + ",".join(f"{p}={o}" for p, o in sorted(self.positions.items()))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            direction, _, lanes = text.partition(":")
            positions = {int(p): int(o) for p, o in (lane.split("=") for lane in lanes.split(",") if lane)}
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadCursor("not a cursor this portal gave") from None
        if direction not in (OLDER, NEWER) or len(positions) > MAX_PARTITIONS or any(
                p < 0 or o < 0 for p, o in positions.items()):
            raise BadCursor("not a cursor this portal gave")
        return cls(direction, positions)


@dataclass
class _Lane:
    partition: int
    low: int
    high: int
    frontier: int  # the next offset to read in the walk's direction (older: read below it; newer: from it)
    waiting: deque = field(default_factory=deque)  # matching records read, not given, in walk order
    first_given: int | None = None  # the first offset given (the highest walking older, the lowest newer)

    def drained(self, direction: str) -> bool:
        return self.frontier <= self.low if direction == OLDER else self.frontier >= self.high


@dataclass(frozen=True)
class Page:
    records: list[LogRecord]  # newest first
    older: Cursor | None  # None: nothing older within the window
    newer: Cursor
    scanned: int
    budget_spent: bool  # the walk stopped early: the cursor continues where it stopped

    @property
    def offsets(self) -> dict[int, list[int]]:
        """partition → [first, last] offset given on this page (the audit trail's offsets range)."""
        spans: dict[int, list[int]] = {}
        for record in self.records:
            span = spans.setdefault(record.partition, [record.offset, record.offset])
            span[0], span[1] = min(span[0], record.offset), max(span[1], record.offset)
        return spans


Fetch = Callable[[int, int, int], list[LogRecord]]


class Walk:
    """A walk in progress: `next()` gives the next matching record in the walk's order (None at the end of the
    windows) and raises SearchBudgetSpent when the budget or `max_scanned` is reached; `page(given)` says where
    it stands. A download keeps one walk for all its records; a page takes `limit` of one."""

    def __init__(self, windows: Mapping[int, tuple[int, int]], fetch: Fetch, matches: Callable[[LogRecord], bool],
                 *, cursor: Cursor | None = None, budget: Budget | None = None, max_scanned: int = 1_000_000,
                 chunk: int = CHUNK):
        self.direction = cursor.direction if cursor else OLDER
        self.fetch, self.matches, self.chunk = fetch, matches, chunk
        self.budget, self.max_scanned, self.scanned = budget or Budget(), max_scanned, 0
        self.lanes = []
        for partition, (low, high) in sorted(windows.items()):
            if cursor is not None and partition in cursor.positions:
                at = cursor.positions[partition]
                low, high = (low, min(high, at)) if self.direction == OLDER else (max(low, at), high)
            high = max(low, high)
            self.lanes.append(_Lane(partition, low, high, high if self.direction == OLDER else low))

    def _fill(self, lane: _Lane) -> None:
        older = self.direction == OLDER
        while not lane.waiting and not lane.drained(self.direction):
            if self.budget.spent() or self.scanned >= self.max_scanned:
                raise SearchBudgetSpent
            if older:
                start, end = max(lane.low, lane.frontier - self.chunk), lane.frontier
            else:
                start, end = lane.frontier, min(lane.high, lane.frontier + self.chunk)
            read = self.fetch(lane.partition, start, end)
            self.scanned += len(read)
            lane.waiting.extend(record for record in (reversed(read) if older else read) if self.matches(record))
            lane.frontier = start if older else end

    def next(self) -> LogRecord | None:
        for lane in self.lanes:
            self._fill(lane)
        ready = [lane for lane in self.lanes if lane.waiting]
        if not ready:
            return None
        if self.direction == OLDER:
            lane = max(ready, key=lambda lane: (lane.waiting[0].timestamp_ms, -lane.partition))
        else:
            # ties in the order an older walk gives them, so a newer page read back is the same page
            lane = min(ready, key=lambda lane: (lane.waiting[0].timestamp_ms, -lane.partition))
        record = lane.waiting.popleft()
        if lane.first_given is None:
            lane.first_given = record.offset
        return record

    def more(self) -> bool:
        return any(lane.waiting or not lane.drained(self.direction) for lane in self.lanes)

    def page(self, given: list[LogRecord], spent: bool) -> Page:
        """The page of `given` (in walk order), with the cursors on from here and back to before it. Onward: each
        lane's next waiting or unread offset; back: just past its first given (or where it started)."""
        older = self.direction == OLDER
        onward = {lane.partition: (lane.waiting[0].offset + (1 if older else 0)) if lane.waiting else lane.frontier
                  for lane in self.lanes}
        back = {lane.partition: (lane.first_given + (1 if older else 0)) if lane.first_given is not None
                else (lane.high if older else lane.low) for lane in self.lanes}
        more = spent or self.more()
        if older:
            return Page(given, Cursor(OLDER, onward) if more else None, Cursor(NEWER, back), self.scanned, spent)
        return Page(list(reversed(given)), Cursor(OLDER, back), Cursor(NEWER, onward), self.scanned, spent)


def walk(windows: Mapping[int, tuple[int, int]], fetch: Fetch, matches: Callable[[LogRecord], bool], *,
         limit: int, cursor: Cursor | None = None, budget: Budget | None = None, max_scanned: int = 1_000_000,
         chunk: int = CHUNK) -> Page:
    """One page of at most `limit` matching records, within `windows` (partition → [low, high) offsets), from
    the newest (no cursor) or where `cursor` stands. Stops early, flagged, when the budget or `max_scanned`
    is reached, or a pattern search spends the budget."""
    running = Walk(windows, fetch, matches, cursor=cursor, budget=budget, max_scanned=max_scanned, chunk=chunk)
    given: list[LogRecord] = []
    try:
        while len(given) < limit and (record := running.next()) is not None:
            given.append(record)
    except SearchBudgetSpent:
        return running.page(given, True)
    return running.page(given, False)


class Placed(Protocol):
    partition: int
    offset: int
    timestamp_ms: int


R = TypeVar("R", bound=Placed)


def newest_first(windows: Mapping[int, tuple[int, int]], read: Callable[[int, int, int], Sequence[R]], *,
                 chunk: int) -> Iterator[R]:
    """Every record `read(partition, start, end)` gives (in offset order) of the windows, newest first across
    partitions: the order a walk without a cursor gives, ties to the lower partition. For a download, which needs
    no cursor: one merge (heapq's, in C) of the partitions each read backwards `chunk` offsets at a time, instead
    of a walk's choice in Python per record."""
    def backwards(partition: int, low: int, high: int) -> Iterator[R]:
        while high > low:
            start = max(low, high - chunk)
            yield from reversed(read(partition, start, high))
            high = start

    # heapq.merge gives equal keys in the order of its inputs: these are in partition order
    return heapq.merge(*(backwards(p, low, high) for p, (low, high) in sorted(windows.items())),
                       key=attrgetter("timestamp_ms"), reverse=True)
