"""The embedded default's log flow (`make run`): the demo namespaces' pods write CRI lines into a demo log
directory, and the real collector, on the local fleet's config, ships them with the shipper's own principal to
the local broker. A namespace the catalogue does not know (`sandbox`) shows the quarantine, and the fleet's canary
writes its numbered line every canary interval, which the periodic pass reads back (the fleet page's Canary panel).

With a local API server (`make run K8S=local`) the pods are Pod objects there, so records carry their labels,
node and container id; without one the records carry what the log path says."""
from __future__ import annotations

import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from portal.core.audit import SYSTEM
from shipper.demo.collector import LocalCollector
from shipper.demo.cri import ContainerLog, LogDirectory
from shipper.canary import lines as canary_lines
from shipper.demo.pods import simulate_pod
from shipper.fleet import credentials, services
from shipper.fleet.manifests import object_name
from shipper.fleet.models import Fleet
from shipper.kube.client import KubeCluster
from topics.catalogue.clusters import default_cluster
from topics.models import Lifecycle, Namespace

log = logging.getLogger(__name__)

FLEET = "local"
NODE = "demo-node"
UNKNOWN_NAMESPACE = "sandbox"
LINES = ["GET /health 200 1ms", "GET /api/orders 200 23ms", "POST /api/orders 201 48ms", "GET /api/orders/7 404 3ms",
         "cache miss key=user:42", "payment authorised amount=12.50 EUR", "slow query 812ms on orders_by_day"]
CHECK_SECONDS = 30


def demo_fleet() -> Fleet:
    """The local fleet, created once (its principal and quarantine topic with it)."""
    fleet = Fleet.objects.filter(name=FLEET).first()
    if fleet is None:
        cluster = default_cluster()
        if cluster is None:
            raise RuntimeError("no Kafka cluster is configured (KAFKA_BOOTSTRAP): nothing to ship to")
        fleet = services.create_fleet(SYSTEM, name=FLEET, kafka_cluster=cluster, batch_timeout_ms=100,
                                      reason="the embedded default's local shipper")
    return fleet


def wait_for_credential(fleet: Fleet, stop: threading.Event, seconds: float = 300) -> credentials.ShipperCredential:
    """The shipper's credential once the reconciler (the Celery worker) made it."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        credential = credentials.current_credential(fleet)
        if credential.password is not None:
            return credential
        if time.monotonic() > deadline:
            raise RuntimeError(f"the reconciler did not provision {fleet.principal_name} within {seconds:g}s")
        stop.wait(2)
    raise InterruptedError


def demo_pods(fleet: Fleet) -> tuple[list[ContainerLog], ContainerLog]:
    """One pod per active demo namespace, and one in a namespace without a topic; and the fleet's canary, as a
    pod of its DaemonSet on the node would run it."""
    names = list(Namespace.objects.filter(lifecycle=Lifecycle.ACTIVE, quarantine=False)
                 .exclude(name=fleet.kube_namespace).values_list("name", flat=True)) + [UNKNOWN_NAMESPACE]
    canary = (fleet.kube_namespace, f"{object_name(fleet.name)}-demo", canary_lines.CONTAINER, {"app": "shipper"})
    wanted = [(name, f"{name}-api-0", "api", {"app": "api", "demo": "true"}) for name in names] + [canary]
    if not settings.KUBECONFIG:
        made = [ContainerLog(namespace, pod, str(uuid.uuid5(uuid.NAMESPACE_DNS, pod)), container,
                             uuid.uuid5(uuid.NAMESPACE_URL, pod).hex * 2) for namespace, pod, container, _ in wanted]
    else:
        with KubeCluster.from_kubeconfig(settings.KUBECONFIG) as cluster:
            made = [simulate_pod(cluster, namespace, pod, node=NODE, labels=labels, container=container)
                    for namespace, pod, container, labels in wanted]
    return made[:-1], made[-1]


def run(state_dir: Path, binary: Callable[[], Path], *, stop: threading.Event, interval: float = 1.0) -> None:
    """Writes lines and runs the collector until `stop` is set; follows routing and credential changes."""
    fleet = demo_fleet()
    logs = LogDirectory(state_dir / "log")
    pods, canary = demo_pods(fleet)
    for pod in [*pods, canary]:
        logs.add(pod)
    canary_start, canary_seq, canary_written = int(time.time()), 0, 0.0
    credential = wait_for_credential(fleet, stop)

    def config() -> str:
        return services.local_config(fleet, log_root=str(logs.root), checkpoint_path=str(state_dir / "checkpoints"),
                                     kube=bool(settings.KUBECONFIG))

    current = config()
    collector = LocalCollector(binary(), current, state_dir / "collector", username=credential.username,
                               password=credential.password, node=NODE, kubeconfig=settings.KUBECONFIG or None)
    collector.start()
    print(f"demo logs: {len(pods)} pods on {NODE} write to {logs.root}; the collector ships them as "
          f"{credential.username} (its log: {collector.log_file})", flush=True)
    checked = time.monotonic()
    try:
        for tick in itertools.count():
            if stop.wait(interval):
                return
            stream = "stderr" if tick % 10 == 9 else "stdout"
            for pod in pods:
                logs.write(pod, [f"{random.choice(LINES)} seq={tick}"], stream=stream)
            if time.monotonic() - canary_written >= fleet.canary_interval_seconds:
                canary_seq, canary_written = canary_seq + 1, time.monotonic()
                logs.write(canary, [canary_lines.line(fleet.name, NODE, canary_start, canary_seq)])
            if time.monotonic() - checked >= CHECK_SECONDS:
                checked = time.monotonic()
                latest, credential_now = config(), credentials.current_credential(fleet)
                if latest != current or credential_now.username != credential.username or not collector.running():
                    current, credential = latest, credential_now
                    collector.configure(current, username=credential.username, password=credential.password)
                    collector.restart()  # what the rolling restart onto a new revision does to a pod
                    log.info("demo shipper restarted as %s", credential.username)
    finally:
        collector.stop()
