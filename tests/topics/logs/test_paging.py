"""Pages newest first across partitions by a k-way merge, and cursors that page both ways. No servers: the
records come from an in-memory topic (lists of records per partition) through the same `fetch` the broker
reader serves."""
from __future__ import annotations

import random

import pytest

from topics.logs.paging import NEWER, OLDER, BadCursor, Cursor, newest_first, walk
from topics.logs.records import LogRecord, SearchBudgetSpent


def topic(timestamps_by_partition: dict[int, list[int]]) -> dict[int, list[LogRecord]]:
    return {p: [LogRecord(p, offset, ts, log=f"{p}:{offset}") for offset, ts in enumerate(stamps)]
            for p, stamps in timestamps_by_partition.items()}


def reader(partitions: dict[int, list[LogRecord]]):
    reads = []

    def fetch(partition: int, start: int, end: int) -> list[LogRecord]:
        reads.append((partition, start, end))
        return partitions[partition][start:end]
    return fetch, reads


def whole(partitions):
    return {p: (0, len(records)) for p, records in partitions.items()}


@pytest.fixture
def interleaved():
    rng = random.Random(4)
    stamps = sorted(rng.sample(range(10_000), 300))
    lanes: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for ts in stamps:
        lanes[rng.choice([0, 1, 2])].append(ts)
    return topic(lanes)


def everything(partitions, matches=lambda r: True, limit=17):
    fetch, _ = reader(partitions)
    pages, cursor = [], None
    while True:
        page = walk(whole(partitions), fetch, matches, limit=limit, cursor=cursor)
        pages.append(page)
        if page.older is None:
            return pages
        cursor = page.older


def test_pages_walk_the_whole_topic_newest_first_without_gaps_or_repeats(interleaved):
    pages = everything(interleaved)
    seen = [record.timestamp_ms for page in pages for record in page.records]
    assert seen == sorted((r.timestamp_ms for lane in interleaved.values() for r in lane), reverse=True)
    assert all(len(page.records) == 17 for page in pages[:-1])


def test_a_newer_cursor_gives_back_the_page_before(interleaved):
    pages = everything(interleaved)
    fetch, _ = reader(interleaved)
    for before, page in zip(pages, pages[1:]):
        again = walk(whole(interleaved), fetch, lambda r: True, limit=17, cursor=page.newer)
        assert [r.offset for r in again.records] == [r.offset for r in before.records]
        assert [r.partition for r in again.records] == [r.partition for r in before.records]
        onward = walk(whole(interleaved), fetch, lambda r: True, limit=17, cursor=again.older)
        assert [(r.partition, r.offset) for r in onward.records] == [(r.partition, r.offset) for r in page.records]


def test_the_first_page_reads_only_the_tail_of_each_partition(interleaved):
    fetch, reads = reader(interleaved)
    walk(whole(interleaved), fetch, lambda r: True, limit=10)
    assert all(end == len(interleaved[p]) for p, _, end in reads) and len(reads) == 3


def test_filters_page_the_same_way(interleaved):
    odd = [r.timestamp_ms for page in everything(interleaved, lambda r: r.timestamp_ms % 2 == 1) for r in page.records]
    assert odd == sorted((r.timestamp_ms for lane in interleaved.values() for r in lane if r.timestamp_ms % 2),
                         reverse=True)


def test_a_window_bounds_every_partition():
    partitions = topic({0: [10, 20, 30, 40], 1: [15, 25, 35, 45]})
    fetch, _ = reader(partitions)
    page = walk({0: (1, 3), 1: (0, 2)}, fetch, lambda r: True, limit=10)
    assert [r.timestamp_ms for r in page.records] == [30, 25, 20, 15] and page.older is None


def test_a_spent_budget_stops_with_a_cursor_that_resumes_without_loss():
    partitions = topic({0: list(range(0, 1000, 2)), 1: list(range(1, 1000, 2))})
    fetch, _ = reader(partitions)
    calls = {"n": 0}

    def slow(record):
        calls["n"] += 1
        if calls["n"] == 450:  # after the first chunks of both lanes, while refilling one
            raise SearchBudgetSpent
        return True

    first = walk(whole(partitions), fetch, slow, limit=1000)
    assert first.budget_spent and first.older is not None and 0 < len(first.records) < 1000
    rest = walk(whole(partitions), fetch, lambda r: True, limit=1000, cursor=first.older)
    seen = [r.timestamp_ms for r in first.records + rest.records]
    assert seen == list(range(999, -1, -1))


def test_cursors_round_trip_and_refuse_forgeries():
    cursor = Cursor(OLDER, {0: 12, 3: 99})
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode(Cursor(NEWER, {}).encode()).direction == NEWER
    for token in ["", "!!!", "b2xkZXI6MD0tMQ", Cursor("sideways", {0: 1}).encode()]:
        with pytest.raises(BadCursor):
            Cursor.decode(token)


@pytest.mark.parametrize("seed", range(6))
def test_a_download_s_merge_gives_the_order_of_the_pages(seed):
    """Timestamps that tie across partitions and go back and forth within one (a producer sets them): the merge a
    download reads gives the records in the order the pages give them, whatever its chunk."""
    rng = random.Random(seed)
    partitions = topic({p: [rng.randrange(40) for _ in range(rng.randrange(60))] for p in range(rng.randrange(1, 5))})
    paged = [(r.partition, r.offset) for page in everything(partitions) for r in page.records]
    fetch, _ = reader(partitions)
    windows = {p: (rng.randrange(3), len(records)) for p, records in partitions.items()}
    paged_window = [(r.partition, r.offset) for r in walk(windows, fetch, lambda r: True, limit=10**6).records]
    for chunk in (1, 7, 1000):
        assert [(r.partition, r.offset) for r in newest_first(whole(partitions), fetch, chunk=chunk)] == paged
        assert [(r.partition, r.offset) for r in newest_first(windows, fetch, chunk=chunk)] == paged_window
