"""The canary's lines and what a read makes of them (shipper.canary.lines). Pure: unsaved rows, no server."""
from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from shipper.canary import lines
from shipper.fleet.models import CanaryNode
from shipper.fleet.spec import NODE_ENV

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
START = int(T0.timestamp())


def record(text: str, *, container: str = "canary", namespace: str = "lw-shipper",
           written: datetime = T0) -> dict:
    return {"log": text, "stream": "stdout", "time": written.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "kubernetes": {"namespace_name": namespace, "pod_name": "shipper-x1", "container_name": container,
                           "host": "n1", "labels": {}}}


def canary(seq: int, *, start: int = START, node: str = "n1", delay_ms: int = 250) -> lines.CanaryLine:
    written = T0 + timedelta(seconds=seq)
    return lines.CanaryLine(node, "shipper-x1", start, seq, written, written + timedelta(milliseconds=delay_ms))


def test_the_rendered_command_writes_the_lines_parse_reads():
    """The canary's own shell loop (run by /bin/sh here, busybox sh in the pod) writes what `parse` reads."""
    out = subprocess.run(["timeout", "2.5", *lines.command("eu", 1)], capture_output=True, text=True,
                         env={NODE_ENV: "node-7", "PATH": "/usr/bin:/bin"})
    written = out.stdout.splitlines()
    assert len(written) >= 2
    parsed = [lines.parse(record(text), fleet="eu", namespace="lw-shipper", timestamp_ms=int(T0.timestamp() * 1000))
              for text in written]
    assert [(p.node, p.seq) for p in parsed] == [("node-7", n) for n in range(1, len(written) + 1)]
    assert len({p.start for p in parsed}) == 1


def test_only_this_fleet_s_canary_in_its_namespace_counts():
    text = lines.line("eu", "n1", START, 3)
    arrived = int((T0 + timedelta(milliseconds=1500)).timestamp() * 1000)
    found = lines.parse(record(text), fleet="eu", namespace="lw-shipper", timestamp_ms=arrived)
    assert (found.node, found.start, found.seq, found.pod, found.delay_ms) == ("n1", START, 3, "shipper-x1", 1500)
    for other in (record(text, container="shipper"), record(text, namespace="payments"),
                  record(lines.line("us", "n1", START, 3)), record("logwarden-canary fleet=eu node=n1 seq=x"),
                  {"log": text, "time": "yesterday", "kubernetes": record(text)["kubernetes"]}):
        assert lines.parse(other, fleet="eu", namespace="lw-shipper", timestamp_ms=arrived) is None


def fold_all(found: list[lines.CanaryLine], state: CanaryNode | None = None) -> CanaryNode:
    state = state or CanaryNode(node="n1")
    for line in lines.order(found):
        lines.fold(state, line)
    return state


def test_a_gap_a_late_line_a_duplicate_and_a_restart():
    state = fold_all([canary(1), canary(2), canary(5, delay_ms=900)])
    assert (state.last_seq, state.lines, state.missing, state.missing_seqs) == (5, 3, 2, [3, 4])
    assert (state.last_delay_ms, state.max_delay_ms) == (900, 900)

    fold_all([canary(4), canary(2), canary(6)], state)  # 4 arrives late, 2 again
    assert (state.last_seq, state.missing, state.missing_seqs, state.duplicates) == (6, 1, [3], 1)

    fold_all([canary(3, start=START + 600)], state)  # the container restarted; its first two lines are lost
    assert (state.last_seq, state.missing, state.missing_seqs) == (3, 3, [1, 2])
    assert state.run_started_at == T0 + timedelta(seconds=600)
    fold_all([canary(7)], state)  # a line of the old run, read late
    assert (state.last_seq, state.duplicates) == (3, 2)


def test_the_first_run_seen_counts_nothing_before_its_first_line():
    state = fold_all([canary(40), canary(41)])
    assert (state.lines, state.missing) == (2, 0)


def test_a_node_is_silent_after_three_intervals_without_a_line():
    state = fold_all([canary(1)])
    assert not lines.silent(state, interval_seconds=30, now=state.last_written_at + timedelta(seconds=89))
    assert lines.silent(state, interval_seconds=30, now=state.last_written_at + timedelta(seconds=91))


@settings(max_examples=200, deadline=None)
@given(total=st.integers(1, 60), data=st.data())
def test_lost_lines_are_exactly_the_sequence_numbers_never_read(total, data):
    """Against the model "lost = the run's numbers from the first one read up to the highest, never delivered":
    any delivery (drops, duplicates, reordering within and across reads) counts exactly those."""
    delivered = [*data.draw(st.lists(st.integers(1, total), max_size=3 * total)), total]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(delivered)), max_size=4)))
    reads = [delivered[begin:end] for begin, end in zip([0, *cuts], [*cuts, len(delivered)])]
    state = CanaryNode(node="n1")
    for read in reads:
        fold_all([canary(seq) for seq in read], state)

    watch_from = min(next(read for read in reads if read))  # a read takes its lines in order
    assert state.missing == len(set(range(watch_from, total + 1)) - set(delivered))
    assert state.missing_seqs == sorted(set(range(watch_from, total + 1)) - set(delivered))
    assert state.lines + state.duplicates == len(delivered)
    assert state.last_seq == total
