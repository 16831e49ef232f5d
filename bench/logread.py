"""Benchmark of reading logs over HTTP against the real broker, in ratios to kcat measured in the same run.

    python -m portal.devservices run kafka --profile <yours> -- .venv/bin/python bench/logread.py [--records N]

It keeps its rows in a throwaway SQLite file of its own (never the database DATABASE_URL names), and its archive in
a throwaway directory, and serves the portal with uvicorn, as `make run` does (it archives the topic first, so that
the in-process scheduler's archive pass at the server's start has nothing to do while the download is measured).
On a fresh topic of --records brief-shaped records over three partitions it prints:

- NDJSON download of every record through the HTTP API (a service account's token, the portal reading as
  portal.reader) in records/s, ÷ kcat (librdkafka ≥ 2.6.1) consuming the same topic as the admin (target ≥ 0.5);
- a time-seek page of 100 records (random `since`/`until` windows): p50 and p95 (target p95 ≤ 0.5 s);
- the memory of one follow session: the server's resident set before it opens and after it has passed
  --follow-records records on (VmRSS, so a bound, not an exact figure).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="logwarden-logread-"))
sys.path.insert(0, str(ROOT))
os.environ.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": f"sqlite:///{WORK / 'bench.sqlite3'}",
                   "LOGWARDEN_ARCHIVE_STORE": str(WORK / "archive")})
os.environ.pop("REDIS_URL", None)  # the reconciles run in this process, at once

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from accounts.models import Team  # noqa: E402
from accounts.services import service_accounts, tokens  # noqa: E402
from portal.core.audit import SYSTEM  # noqa: E402
from portal.devservices.base import free_port  # noqa: E402
from portal.devservices.kcat import kcat_binary  # noqa: E402
from topics.access import services as access  # noqa: E402
from topics.archive import principal as archiver  # noqa: E402
from topics.archive import services as archive  # noqa: E402
from topics.catalogue import services as catalogue  # noqa: E402
from topics.kafka.adapter import KafkaConnection, LogReader, produce  # noqa: E402
from topics.kafka.errors import KafkaAdapterError  # noqa: E402
from topics.kafka.types import OutgoingRecord  # noqa: E402
from topics.logs import reader  # noqa: E402
from topics.models import RetentionClass  # noqa: E402
from topics.provisioning.principals import principal_for  # noqa: E402
from topics.provisioning.reconciler import reconcile  # noqa: E402

PARTITIONS = 3


def record(namespace: str, i: int, ts: int) -> OutgoingRecord:
    value = {"log": f"GET /v1/payments/{i} 200 {i % 900}ms\n", "stream": "stdout" if i % 7 else "stderr",
             "time": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ts / 1000)),
             "docker": {"container_id": f"{i:064x}"[:64]},
             "kubernetes": {"namespace_name": namespace, "pod_name": f"api-7d9f8-{i % 5}", "pod_id": f"{i:032x}",
                            "container_name": "api", "host": f"node-{i % 12}",
                            "labels": {"app": "api", "tier": "backend"}}}
    return OutgoingRecord(json.dumps(value).encode(), partition=i % PARTITIONS, timestamp_ms=ts)


def setup(records: int):
    call_command("migrate", verbosity=0)
    team = Team.objects.create(slug="bench", name="Bench")
    three, _ = RetentionClass.objects.get_or_create(name="bench", defaults={"retention_ms": 7 * 86_400_000,
                                                                            "partitions": PARTITIONS})
    namespace = catalogue.register_namespace(SYSTEM, name=f"bench-{os.getpid()}", owner_team=team,
                                             retention_class=three)
    topic = namespace.topics.get()
    account = service_accounts.create(SYSTEM, name="bench-reader", team=team)
    token = tokens.issue(SYSTEM, account, name="bench", expires_at=None).secret
    admin = type(account.user).objects.create_superuser("bench-admin", "admin@bench.test", None)
    reader.ensure(topic.cluster)
    access.grant_directly(admin, principal=principal_for(account.user), topic=topic, days=1, reason="bench")
    deadline = time.monotonic() + 60
    while True:  # the reconcile ran in this process; the broker applies the ACLs a moment later
        try:
            with LogReader(reader.connection(topic.cluster), topic.name) as kafka:
                kafka.partitions()
            break
        except (KafkaAdapterError, reader.ReaderNotReady):
            assert time.monotonic() < deadline, "the reader's ACLs within 60 s"
            time.sleep(0.5)
    base = int(time.time() * 1000) - records  # one record per millisecond, ending now
    admin_connection = KafkaConnection.from_env(os.environ)
    began = time.monotonic()
    produce(admin_connection, topic.name, (record(namespace.name, i, base + i) for i in range(records)),
            timeout=120)
    print(f"produced {records:,} records in {time.monotonic() - began:.1f} s", flush=True)
    # the portal's in-process scheduler archives every topic when it starts: archived here first, its pass finds
    # nothing left, instead of archiving in the server process while the download is measured
    archiver.ensure(topic.cluster)
    reconcile(topic.cluster, trigger="manual")
    began, deadline = time.monotonic(), time.monotonic() + 120
    while True:  # its ACLs and, on a fresh broker, the group coordinator come a moment later; a re-run resumes
        try:
            archived = archive.archive_topic(topic)
            break
        except KafkaAdapterError:
            assert time.monotonic() < deadline, "the archive run within 120 s"
            time.sleep(1)
    print(f"archived {archived['records']:,} records first in {time.monotonic() - began:.1f} s", flush=True)
    return namespace, topic, token, base, admin_connection


def kcat_rate(topic: str, connection: KafkaConnection, records: int) -> float:
    command = [str(kcat_binary()), "-C", "-b", connection.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-X", f"security.protocol={connection.security_protocol}",
               "-X", f"sasl.mechanisms={connection.sasl_mechanism}", "-X", f"sasl.username={connection.username}",
               "-X", f"sasl.password={connection.password}"]
    began = time.monotonic()
    out = subprocess.run(command, capture_output=True, check=True).stdout
    seconds = time.monotonic() - began
    read = out.count(b"\n")
    assert read >= records, f"kcat read {read} of {records}"
    return records / seconds


class Portal:
    def __init__(self, records: int):
        self.port = free_port()
        env = {**os.environ, "LOGWARDEN_LOGS_MAX_DOWNLOAD": str(records), "LOGWARDEN_API_RATE": "100000/min"}
        self.process = subprocess.Popen([sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host",
                                         "127.0.0.1", "--port", str(self.port), "--no-access-log"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert time.monotonic() < deadline and self.process.poll() is None, "uvicorn did not start"
                time.sleep(0.2)

    def get(self, path: str, token: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        assert response.status == 200, (response.status, response.read()[:300])
        return response

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:  # a stream still open holds uvicorn's graceful shutdown
            self.process.kill()
            self.process.wait(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=40, help="time-seek pages measured")
    parser.add_argument("--follow-records", type=int, default=20_000)
    args = parser.parse_args()
    namespace, topic, token, base, admin_connection = setup(args.records)
    kcat = kcat_rate(topic.name, admin_connection, args.records)
    portal = Portal(args.records)
    try:
        began = time.monotonic()
        response = portal.get(f"/api/namespaces/{namespace.name}/logs/download/?limit={args.records}", token)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: response.read(1 << 20), b""))
        api = lines / (time.monotonic() - began)
        assert lines == args.records, f"the download gave {lines} of {args.records}"
        print(f"NDJSON download: {api:,.0f} records/s; kcat: {kcat:,.0f} records/s; ratio {api / kcat:.2f} "
              f"(target ≥ 0.5)", flush=True)

        rng, latencies = random.Random(7), []
        for _ in range(args.pages):
            since = base + rng.randrange(args.records - 1000)
            began = time.monotonic()
            response = portal.get(f"/api/namespaces/{namespace.name}/logs/?page_size=100&since="
                                  f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(since // 1000))}."
                                  f"{since % 1000:03d}Z", token)
            assert len(json.loads(response.read())["records"]) == 100
            latencies.append(time.monotonic() - began)
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(f"time-seek page of 100: p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
              f"(target p95 ≤ 500 ms)", flush=True)

        before = portal.rss_kib()
        follow = portal.get(f"/api/namespaces/{namespace.name}/logs/follow/", token)
        received = []

        def listen() -> None:
            try:
                received.extend(iter(follow.fp.readline, b""))
            except (AttributeError, OSError, ValueError):  # the bench closed the stream
                pass
        threading.Thread(target=listen, daemon=True).start()
        time.sleep(1)
        now = int(time.time() * 1000)
        produce(admin_connection, topic.name, (record(namespace.name, i, now) for i in range(args.follow_records)),
                timeout=120)
        deadline = time.monotonic() + 120
        while sum(line.startswith(b"event: record") for line in list(received)) < args.follow_records:
            assert time.monotonic() < deadline, "the follow stream passed every record on within 120 s"
            time.sleep(0.2)
        after = portal.rss_kib()
        print(f"one follow session: server RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after "
              f"{args.follow_records:,} records ({(after - before) / 1024:+.1f} MiB)", flush=True)
        follow.close()
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
