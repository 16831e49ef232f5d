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
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from topics.logs.records import LogRecord, SearchBudgetSpent

OLDER, NEWER = "older", "newer"
CHUNK = 200  # records read from a lane at a time
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
    given: list[int] = field(default_factory=list)

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


def walk(windows: Mapping[int, tuple[int, int]], fetch: Fetch, matches: Callable[[LogRecord], bool], *,
         limit: int, cursor: Cursor | None = None, deadline: float = float("inf"),
         max_scanned: int = 1_000_000) -> Page:
    """One page of at most `limit` matching records, within `windows` (partition → [low, high) offsets), from
    the newest (no cursor) or where `cursor` stands. Stops early, flagged, when the deadline or `max_scanned`
    is reached, or a pattern search spends the budget."""
    direction = cursor.direction if cursor else OLDER
    lanes = []
    for partition, (low, high) in sorted(windows.items()):
        if cursor is not None and partition in cursor.positions:
            at = cursor.positions[partition]
            low, high = (low, min(high, at)) if direction == OLDER else (max(low, at), high)
        high = max(low, high)
        lanes.append(_Lane(partition, low, high, high if direction == OLDER else low))
    given: list[LogRecord] = []
    scanned, spent = 0, False
    try:
        while len(given) < limit:
            for lane in lanes:
                while not lane.waiting and not lane.drained(direction):
                    if time.monotonic() > deadline or scanned >= max_scanned:
                        raise SearchBudgetSpent
                    if direction == OLDER:
                        start, end = max(lane.low, lane.frontier - CHUNK), lane.frontier
                    else:
                        start, end = lane.frontier, min(lane.high, lane.frontier + CHUNK)
                    chunk = fetch(lane.partition, start, end)
                    scanned += len(chunk)
                    ordered = reversed(chunk) if direction == OLDER else chunk
                    lane.waiting.extend(record for record in ordered if matches(record))
                    lane.frontier = start if direction == OLDER else end
            ready = [lane for lane in lanes if lane.waiting]
            if not ready:
                break
            if direction == OLDER:
                lane = max(ready, key=lambda lane: (lane.waiting[0].timestamp_ms, -lane.partition))
            else:
                lane = min(ready, key=lambda lane: (lane.waiting[0].timestamp_ms, lane.partition))
            record = lane.waiting.popleft()
            lane.given.append(record.offset)
            given.append(record)
    except SearchBudgetSpent:
        spent = True
    return _page(direction, lanes, given, scanned, spent)


def _page(direction: str, lanes: list[_Lane], given: list[LogRecord], scanned: int, spent: bool) -> Page:
    # onward: the next unread-or-waiting offset of each lane in the walk's direction; back: just past what was
    # given (or where the lane started, if it gave nothing)
    onward = {lane.partition: (lane.waiting[0].offset + (1 if direction == OLDER else 0)) if lane.waiting
              else lane.frontier for lane in lanes}
    back = {lane.partition: ((max(lane.given) + 1) if direction == OLDER else min(lane.given)) if lane.given
            else (lane.high if direction == OLDER else lane.low) for lane in lanes}
    more = spent or any(lane.waiting or not lane.drained(direction) for lane in lanes)
    if direction == OLDER:
        return Page(given, Cursor(OLDER, onward) if more else None, Cursor(NEWER, back), scanned, spent)
    return Page(list(reversed(given)), Cursor(OLDER, back), Cursor(NEWER, onward), scanned, spent)
