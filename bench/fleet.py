"""Benchmark of the shipper's data path through the real OpenTelemetry Collector and the real broker.

    make bench-fleet [BENCH_ARGS="--lines 3000 --kills 3"]
    (or: python -m portal.devservices run postgres redis kafka kube --profile bench -- \\
         .venv/bin/python bench/fleet.py [options, see --help])

A fleet of its own (name and topics with a fresh suffix, so a bench database may be reused) writes one namespace's
pod lines, as a kubelet would, into a temporary log directory; the collector runs as a local process on the
fleet's rendered config (k8s_attributes against the API server when LOGWARDEN_KUBECONFIG is set, else left out)
and writes as the fleet's shipper principal; the portal's own connection consumes the namespace's topic.

- write → consumable delay: --lines lines at --rate lines/s, each carrying the time it was written; the delay is
  from that time to the consumer receiving the record (one machine, one clock): p50, p99, max.
- SIGKILL: --lines lines written steadily while the collector is killed (SIGKILL) and restarted --kills times
  once records flow; lost and duplicated lines (targets: 0 lost, ≤ 1% duplicates).
- render + no-op apply for --namespaces routed namespaces (needs the API server, LOGWARDEN_KUBECONFIG): rendering
  the fleet (routing from the catalogue, config, manifests, content hash) and applying its applied revision again
  (reading its objects back from the API server and planning: nothing to write), each the median of --repeat runs,
  against the same with the routing the catalogue has before the namespaces are added (the baseline, measured in
  this process first): the ratio is what the routing's size costs.
The topics it made are deleted at the end (the routing part's namespaces are catalogue rows only: no topic is made).

    --only routing    runs the last part alone (no collector, no broker traffic)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from celery import current_app  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from portal.core.audit import SYSTEM  # noqa: E402
from portal.devservices.otelcol import otelcol_binary  # noqa: E402
from shipper.demo.collector import LocalCollector  # noqa: E402
from shipper.demo.cri import ContainerLog, LogDirectory  # noqa: E402
from shipper.demo.pods import simulate_pod  # noqa: E402
from shipper.fleet import services  # noqa: E402
from shipper.kube.client import KubeCluster  # noqa: E402
from topics.catalogue import services as catalogue  # noqa: E402
from topics.catalogue.clusters import admin_for, connection_for, default_cluster  # noqa: E402
from topics.kafka.adapter import TopicReader  # noqa: E402
from topics.models import Namespace, Topic, TopicState  # noqa: E402
from topics.provisioning import system_principals  # noqa: E402

NODE = "bench-node"
TARGETS = {"lost": 0, "duplicates": 0.01}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def setup(suffix: str, workdir: Path):
    """The namespace, its topic, the fleet and its principal (reconciled inline), the pod and the collector."""
    current_app.conf.task_always_eager = True  # the topic sync and the reconcile run in this process
    cluster = default_cluster()
    team_namespace = catalogue.register_namespace(SYSTEM, name=f"bench-{suffix}", description="bench/fleet.py")
    fleet = services.create_fleet(SYSTEM, name=f"bench-{suffix}", kafka_cluster=cluster, batch_timeout_ms=10,
                                  quarantine_topic=f"logs.quarantine-bench-{suffix}", reason="bench/fleet.py")
    if settings.KUBECONFIG:
        with KubeCluster.from_kubeconfig(settings.KUBECONFIG) as kube:
            pod = simulate_pod(kube, team_namespace.name, "api-0", node=NODE, labels={"app": "bench"})
    else:
        pod = ContainerLog(team_namespace.name, "api-0", str(uuid.uuid4()), "api", uuid.uuid4().hex * 2)
    logs = LogDirectory(workdir / "log")
    logs.add(pod)
    shipper = system_principals.client_settings(fleet.principal_name, cluster)
    config = services.local_config(fleet, log_root=str(logs.root), checkpoint_path=str(workdir / "checkpoints"),
                                   kube=bool(settings.KUBECONFIG))
    collector = LocalCollector(otelcol_binary(), config, workdir / "collector", username=shipper["sasl.username"],
                               password=shipper["sasl.password"], node=NODE,
                               kubeconfig=settings.KUBECONFIG or None)
    return fleet, team_namespace.topics.get().name, pod, logs, collector


def write_at(logs: LogDirectory, pod: ContainerLog, prefix: str, count: int, rate: float) -> threading.Thread:
    """A writer thread: `count` lines at `rate` per second, each `<prefix> <seq> <time written, ns>`."""
    def write() -> None:
        began = time.perf_counter()
        for seq in range(count):
            logs.write(pod, [f"{prefix} {seq:07d} {time.time_ns()}"])
            pause = began + (seq + 1) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def delay(args, topic: str, pod: ContainerLog, logs: LogDirectory, collector: LocalCollector) -> list[float]:
    arrived: dict[str, float] = {}
    collector.start()
    try:
        with TopicReader(connection_for(default_cluster()), topic, group=f"bench.{uuid.uuid4().hex}") as reader:
            # one line through first: the consumer has joined its group and the collector is running
            logs.write(pod, [f"warmup 0 {time.time_ns()}"])
            deadline = time.monotonic() + 120
            while not reader.poll(0.2) and time.monotonic() < deadline:
                pass
            writer = write_at(logs, pod, "delay", args.lines, args.rate)
            deadline = time.monotonic() + args.lines / args.rate + 120
            while len(arrived) < args.lines and time.monotonic() < deadline:
                for record in reader.poll(0.05):
                    received = time.time_ns()
                    prefix, seq, written = json.loads(record)["log"].split(" ")
                    if prefix == "delay":
                        arrived.setdefault(seq, (received - int(written)) / 1e9)
            writer.join()
    finally:
        collector.stop()
    return list(arrived.values())


def kills(args, topic: str, pod: ContainerLog, logs: LogDirectory, collector: LocalCollector) -> Counter:
    counts: Counter = Counter()
    collector.start()
    try:
        with TopicReader(connection_for(default_cluster()), topic, group=f"bench.{uuid.uuid4().hex}") as reader:
            def take(seconds: float) -> None:
                for record in reader.poll(seconds):
                    prefix, seq, _ = json.loads(record)["log"].split(" ")
                    if prefix == "kill":
                        counts[seq] += 1

            writer = write_at(logs, pod, "kill", args.lines, args.rate)
            for kill in range(args.kills):
                wanted = args.lines * (kill + 1) // (args.kills + 1)
                while sum(counts.values()) < wanted and writer.is_alive():
                    take(0.05)
                collector.kill()
                collector.start()
            writer.join()
            deadline = time.monotonic() + 120
            while len(counts) < args.lines and time.monotonic() < deadline:
                take(0.5)
            take(3)
    finally:
        collector.stop()
    return counts


def timed(call, repeat: int) -> float:
    """The median of `repeat` runs of `call`, in seconds."""
    durations = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        durations.append(time.perf_counter() - began)
    return statistics.median(durations)


def render_and_noop_apply(fleet, repeat: int) -> tuple[int, float, float]:
    """(routes, render seconds, no-op apply seconds) of the fleet's routing now: its latest revision applied first,
    so the timed applies find every object as the revision has it and write nothing."""
    revision = services.refresh_routing(fleet) or services.latest_revision(fleet)
    services.apply(SYSTEM, fleet, revision=revision)
    routes = len(revision.routes)
    render = timed(lambda: services.desired(fleet), repeat)

    def noop_apply() -> None:
        result = services.apply(SYSTEM, fleet, revision=revision)
        assert result.plan.empty and not result.outcomes, f"the apply was not a no-op: {result.outcomes}"

    return routes, render, timed(noop_apply, repeat)


def routing(args, suffix: str) -> None:
    """Render and no-op apply with --namespaces more routed namespaces, against the baseline without them."""
    current_app.conf.task_always_eager = True
    fleet = services.create_fleet(SYSTEM, name=f"bench-routing-{suffix}", kafka_cluster=default_cluster(),
                                  kube_namespace=f"bench-routing-{suffix}", unrouted="drop", reason="bench/fleet.py")
    base_routes, base_render, base_apply = render_and_noop_apply(fleet, args.repeat)
    retention = catalogue.default_retention_class()
    # catalogue rows only, without signals (bulk_create), as if their topics were on the broker
    namespaces = Namespace.objects.bulk_create(
        Namespace(name=f"br-{suffix}-{n:05d}", retention_class=retention, description="bench/fleet.py")
        for n in range(args.namespaces))
    Topic.objects.bulk_create(Topic(namespace=namespace, cluster=fleet.kafka_cluster, name=f"logs.{namespace.name}",
                                    state=TopicState.READY) for namespace in namespaces)
    try:
        routes, render, noop_apply = render_and_noop_apply(fleet, args.repeat)
        config_kib = len(services.latest_revision(fleet).config.encode()) / 1024
    finally:  # without signals too: each deleted topic would refresh every fleet's routing
        Topic.objects.filter(namespace__in=namespaces)._raw_delete(Topic.objects.db)
        Namespace.objects.filter(name__startswith=f"br-{suffix}-")._raw_delete(Namespace.objects.db)
    print(f"\nrender + no-op apply (median of {args.repeat}; the config {config_kib:.0f} KiB):")
    print(f"  baseline, {base_routes} routes: render {base_render * 1000:.0f} ms, no-op apply "
          f"{base_apply * 1000:.0f} ms")
    print(f"  {routes} routes: render {render * 1000:.0f} ms ({render / base_render:.1f}× the baseline), no-op "
          f"apply {noop_apply * 1000:.0f} ms ({noop_apply / base_apply:.1f}×), together "
          f"{(render + noop_apply) * 1000:.0f} ms ({(render + noop_apply) / (base_render + base_apply):.1f}×)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=3000, help="lines of each part")
    parser.add_argument("--rate", type=float, default=300.0, help="lines per second the pod writes")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of the collector in the SIGKILL part")
    parser.add_argument("--namespaces", type=int, default=2000, help="routed namespaces of the routing part")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timing in the routing part")
    parser.add_argument("--only", choices=["routing"], help="run only this part")
    args = parser.parse_args()
    if settings.ENVIRONMENT == "production":
        print("bench/fleet.py is for a local bench setup, not production (LOGWARDEN_ENV)", file=sys.stderr)
        return 2
    if not settings.KAFKA["bootstrap"]:
        print("no Kafka cluster (KAFKA_BOOTSTRAP): run it through `make bench-fleet`", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    suffix = uuid.uuid4().hex[:8]
    if args.only == "routing":
        if not settings.KUBECONFIG:
            print("the routing part applies to the API server: no LOGWARDEN_KUBECONFIG", file=sys.stderr)
            return 2
        print(f"os.cpu_count() = {os.cpu_count()}; API server {settings.KUBECONFIG}")
        routing(args, suffix)
        return 0
    print(f"os.cpu_count() = {os.cpu_count()}; broker {settings.KAFKA['bootstrap']}; collector "
          f"{otelcol_binary()}; k8s_attributes {'on the API server' if settings.KUBECONFIG else 'left out'}")
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch:
        fleet, topic, pod, logs, collector = setup(suffix, Path(scratch))
        try:
            delays = delay(args, topic, pod, logs, collector)
            print(f"\nwrite → consumable, {args.lines} lines at {args.rate:g}/s: {len(delays)} arrived; "
                  f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
                  f"max {max(delays) * 1000:.0f} ms")
            counts = kills(args, topic, pod, logs, collector)
            lost = args.lines - len(counts)
            duplicates = sum(counts.values()) - len(counts)
            ratio = duplicates / args.lines
            print(f"SIGKILL ×{args.kills} mid-stream, {args.lines} lines at {args.rate:g}/s: lost {lost} "
                  f"(target 0), duplicates {duplicates} = {ratio:.2%} (target ≤ {TARGETS['duplicates']:.0%})")
            if lost > TARGETS["lost"]:
                missed.append("lost")
            if ratio > TARGETS["duplicates"]:
                missed.append("duplicates")
        finally:
            collector.kill()
            admin_for(default_cluster()).delete_topics([topic, fleet.quarantine_topic])
    if settings.KUBECONFIG:
        routing(args, suffix)
    else:
        print("\nrender + no-op apply: skipped (no API server: LOGWARDEN_KUBECONFIG)")
    print("\nall targets met" if not missed else f"\nTARGETS MISSED: {', '.join(missed)}")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
