"""Benchmark of the audit trail on PostgreSQL, in sections, each printed against a baseline of the same run:

- append: events/s of `record` (one event per transaction: the chain lock, the head lookup, the HMAC) ÷ plain
  one-row INSERT transactions of the same rows; and of `record_many` in batches ÷ a plain COPY of the same rows.
- verify: events/s of `verify_chain` over --events events (target ≥ 200,000/s), in worker processes and in one,
  ÷ the raw COPY read of the same rows alone (the floor), and × the ORM loop verify_chain was before (measured on
  a part of the trail).

    python -m portal.devservices run postgres --profile <yours> -- .venv/bin/python bench/audit.py

It writes into the database DATABASE_URL names, so it runs only under `devservices run` (a fresh database per
run), never on a development or production one. More sections (point in time, report pages) register in SECTIONS.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def _row(label: str, value: float, baseline: float, unit: str = "events/s") -> None:
    print(f"  {label:<52} {value:>12,.0f} {unit}   ratio {value / baseline:6.2f}")


def _payload(i: int) -> dict:
    return {"namespace": f"ns-{i % 500}", "principal": f"u.user{i % 3000}", "acl": ["READ", "DESCRIBE"], "n": i}


def bench_append(args) -> None:
    from django.db import connection, transaction

    from portal.core import audit

    n, batch = args.single, args.batch
    print(f"append ({n} single events, {args.batched} batched in batches of {batch})")
    began = time.perf_counter()
    for i in range(n):
        audit.record(audit.SYSTEM, "bench.single", target_type="t", target_id=str(i), **_payload(i))
    single = _rate(n, time.perf_counter() - began)

    columns = ("occurred_at", "actor_label", "action", "target_type", "target_id", "target_label", "data",
               "previous_hash", "hash")
    began = time.perf_counter()
    for i in range(n):  # the baseline: the same row, inserted with no chain, no lock, no hash
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO portal_auditevent ({', '.join(columns)}) VALUES "
                           f"(now(), 'system', 'bench.plain', 't', %s, '', %s, %s, %s)",
                           [str(i), json.dumps(_payload(i)), audit.GENESIS, f"a{i:063d}"])
    plain_single = _rate(n, time.perf_counter() - began)
    _row("record (one event per transaction)", single, plain_single)
    print(f"  {'baseline: plain one-row INSERT transactions':<52} {plain_single:>12,.0f} events/s")

    entries = [audit.Entry("bench.batch", "t", str(i), "", _payload(i)) for i in range(args.batched)]
    began = time.perf_counter()
    for start in range(0, len(entries), batch):
        audit.record_many(audit.SYSTEM, entries[start:start + batch])
    batched = _rate(len(entries), time.perf_counter() - began)
    began = time.perf_counter()
    for start in range(0, len(entries), batch):
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY portal_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(start, min(start + batch, len(entries))):
                copy.write_row(("2026-12-01T00:00:00Z", "system", "bench.plain", "t", str(i), "",
                                json.dumps(_payload(i)), audit.GENESIS, f"b{i:063d}"))
    plain_batched = _rate(len(entries), time.perf_counter() - began)
    _row(f"record_many (batches of {batch})", batched, plain_batched)
    print(f"  {'baseline: plain COPY of the same rows':<52} {plain_batched:>12,.0f} events/s")
    _clear_trail()


def _clear_trail() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def _fill(events: int) -> None:
    from portal.core import audit

    batch = 20_000
    began = time.perf_counter()
    for start in range(0, events, batch):
        audit.record_many(audit.SYSTEM, [audit.Entry("bench.fill", "t", str(i), f"target {i}", _payload(i))
                                         for i in range(start, min(start + batch, events))])
    print(f"  (trail of {events:,} events written in {time.perf_counter() - began:.1f} s)")


def _orm_verify(limit: int) -> int:
    """verify_chain as it was: ORM objects in sequence order, each hashed over its canonical fields."""
    from portal.core import audit
    from portal.models import AuditEvent

    key, previous, checked = audit._chain_key(), audit.GENESIS, 0
    for event in AuditEvent.objects.order_by("sequence")[:limit].iterator(chunk_size=2000):
        if event.previous_hash != previous or event.hash != audit._event_hash(previous, audit._hashed_fields(event),
                                                                            key):
            raise SystemExit(f"the ORM loop found a break at {event.sequence}")
        previous, checked = event.hash, checked + 1
    return checked


def bench_verify(args) -> None:
    from django.db import connection

    from portal.core import audit

    print(f"verify ({args.events:,} events; target ≥ 200,000 events/s)")
    _fill(args.events)
    with connection.cursor() as cursor:
        began = time.perf_counter()
        with cursor.cursor.copy(f"COPY ({audit._RANGE_ROWS}) TO STDOUT", (0, 2**62)) as copy:
            copy.set_types(["int8"] + ["text"] * 9)
            read = sum(1 for _ in copy.rows())
        raw = _rate(read, time.perf_counter() - began)
    orm_events = min(args.events, 100_000)
    began = time.perf_counter()
    orm = _rate(_orm_verify(orm_events), time.perf_counter() - began)
    for label, workers in ((f"verify_chain, {min(os.cpu_count() or 1, 4)} worker processes", None),
                           ("verify_chain, one process", 1)):
        began = time.perf_counter()
        report = audit.verify_chain(workers=workers if workers else min(os.cpu_count() or 1, 4))
        rate = _rate(report.checked, time.perf_counter() - began)
        assert report.intact and report.checked == args.events, report
        _row(label, rate, raw)
        print(f"  {'':<52} {'':>12}            × the ORM loop: {rate / orm:5.2f}")
    print(f"  {'baseline: raw COPY read of the rows (no hashing)':<52} {raw:>12,.0f} events/s")
    print(f"  {f'before: the ORM loop ({orm_events:,} events)':<52} {orm:>12,.0f} events/s")
    _clear_trail()


SECTIONS: dict[str, Callable] = {"append": bench_append, "verify": bench_verify}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"of {', '.join(SECTIONS)}")
    parser.add_argument("--single", type=int, default=2_000, help="events appended one per transaction")
    parser.add_argument("--batched", type=int, default=100_000, help="events appended in batches")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="the trail verified")
    args = parser.parse_args()
    if not os.environ.get("LOGWARDEN_DEVSERVICES_PROFILE"):
        raise SystemExit("bench/audit.py writes into its database: run it under "
                         "`python -m portal.devservices run postgres --profile <yours> -- …`")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/audit.py runs on PostgreSQL (DATABASE_URL)")
    call_command("migrate", verbosity=0)
    print(f"audit trail benchmark: {os.cpu_count()} cores, PostgreSQL as the runtime role "
          f"{connection.settings_dict['USER']}")
    for name in args.sections.split(","):
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
