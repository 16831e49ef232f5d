"""The canary's lines and what Logwarden makes of them: pure.

The canary container of a fleet's DaemonSet (shipper.fleet.manifests) writes, every N seconds on each node,

    logwarden-canary fleet=<fleet> node=<node> start=<epoch seconds its loop began> seq=<1, 2, …>

to its stdout, so the node's runtime writes it into the node's logs like any container's. The fleet's own shippers
then route it, like every record of the fleet's namespace, to that namespace's topic: the canary watches the very
path every namespace's logs take. Reading those records, Logwarden keeps per node the last line, its delay from
being written on the node (the record's `time`, which the runtime stamps) to reaching the broker (the record's
Kafka timestamp, which the shipper's producer stamps), and the sequence numbers that never arrived.

`start` tells runs apart: a container restart begins at seq 1 again, which is a new run, not duplicates. A line
that arrives after a later one (records of one node may lie in different partitions) fills its hole.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shipper.fleet.spec import NODE_ENV

PREFIX = "logwarden-canary"
CONTAINER = "canary"
LINE = re.compile(rf"^{PREFIX} fleet=(?P<fleet>[a-z0-9-]+) node=(?P<node>[A-Za-z0-9._-]+) start=(?P<start>\d{{1,12}}) "
                  r"seq=(?P<seq>\d{1,15})\s*$")
MAX_REMEMBERED_HOLES = 200  # the latest missing sequence numbers kept, so a late line can still fill its hole


def command(fleet: str, interval_seconds: int) -> list[str]:
    """The canary container's command (busybox sh)."""
    return ["sh", "-c", f"start=$(date +%s); i=0; while true; do i=$((i+1)); "
                        f'echo "{PREFIX} fleet={fleet} node=${NODE_ENV} start=$start seq=$i"; '
                        f"sleep {interval_seconds}; done"]


def line(fleet: str, node: str, start: int, seq: int) -> str:
    """A line as the canary writes it."""
    return f"{PREFIX} fleet={fleet} node={node} start={start} seq={seq}"


@dataclass(frozen=True)
class CanaryLine:
    node: str
    pod: str
    start: int
    seq: int
    written_at: datetime
    arrived_at: datetime

    @property
    def delay_ms(self) -> int:
        return max(0, round((self.arrived_at - self.written_at).total_seconds() * 1000))


def parse(record: dict[str, Any], *, fleet: str, namespace: str, timestamp_ms: int) -> CanaryLine | None:
    """The canary line a shipped record (the brief's shape) carries, if it is one of this fleet's canary in its
    namespace; None for any other record (the shipper's own logs, another fleet's canary)."""
    kubernetes = record.get("kubernetes") or {}
    if kubernetes.get("namespace_name") != namespace or kubernetes.get("container_name") != CONTAINER:
        return None
    found = LINE.match(str(record.get("log", "")))
    if found is None or found["fleet"] != fleet:
        return None
    try:
        written_at = datetime.fromisoformat(str(record.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    if written_at.tzinfo is None:
        return None
    return CanaryLine(node=found["node"], pod=str(kubernetes.get("pod_name", "")), start=int(found["start"]),
                      seq=int(found["seq"]), written_at=written_at,
                      arrived_at=datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc))


def fold(state, line: CanaryLine):
    """`state` (a shipper.fleet.models.CanaryNode, or None for a node not seen before) after reading `line`; lines
    must come in order of (start, seq) within one read. The first run seen of a node counts no hole before its
    first line (Logwarden was not watching then); a later run's first line counts the lines before it as missing."""
    run_started = datetime.fromtimestamp(line.start, tz=timezone.utc)
    if state.lines == 0:
        _begin(state, line, run_started, count_leading=False)
    elif run_started > state.run_started_at:
        _begin(state, line, run_started, count_leading=True)
    elif run_started < state.run_started_at:
        state.duplicates += 1  # an older run's line, read late: nothing to learn from it
        return state
    elif line.seq > state.last_seq:
        holes = list(range(state.last_seq + 1, line.seq))
        state.missing += len(holes)
        state.missing_seqs = (list(state.missing_seqs) + holes)[-MAX_REMEMBERED_HOLES:]
        _take(state, line)
    elif line.seq in state.missing_seqs:
        state.missing_seqs = [seq for seq in state.missing_seqs if seq != line.seq]
        state.missing -= 1
        state.lines += 1
        _delay(state, line)
    else:
        state.duplicates += 1
    return state


def _begin(state, line: CanaryLine, run_started: datetime, *, count_leading: bool) -> None:
    holes = list(range(1, line.seq)) if count_leading else []
    state.run_started_at = run_started
    state.missing += len(holes)
    state.missing_seqs = holes[-MAX_REMEMBERED_HOLES:]
    _take(state, line)


def _take(state, line: CanaryLine) -> None:
    state.pod, state.last_seq = line.pod, line.seq
    state.last_written_at, state.last_arrived_at = line.written_at, line.arrived_at
    state.last_delay_ms = line.delay_ms
    state.lines += 1
    _delay(state, line)


def _delay(state, line: CanaryLine) -> None:
    state.max_delay_ms = max(state.max_delay_ms or 0, line.delay_ms)


def order(lines: list[CanaryLine]) -> list[CanaryLine]:
    """The lines of one read in the order `fold` takes them: per node, by run and sequence number."""
    return sorted(lines, key=lambda canary: (canary.node, canary.start, canary.seq))


def silent(state, *, interval_seconds: int, now: datetime, missed_lines: int = 3) -> bool:
    """Whether the node's canary has not been heard from for `missed_lines` intervals (its last line written that
    long ago): the node, its canary or its shipper is down, or its records are stuck."""
    return (now - state.last_written_at).total_seconds() > missed_lines * interval_seconds
