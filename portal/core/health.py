"""Health of the components the portal depends on: database and Redis here; the apps register theirs.

Each check answers with a status naming the setting that points at the component, so a misconfiguration
reads as "KAFKA_BOOTSTRAP=…: no broker answered", never as a stack trace.
"""
from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.db import DatabaseError, connection


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    state: str  # "ok", "degraded" (working, but late: shown, still a 200), "down" or "not configured"
    detail: str

    @property
    def ok(self) -> bool:
        return self.state != "down"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check_database() -> ComponentStatus:
    vendor = connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return ComponentStatus("database", "down", f"DATABASE_URL ({vendor}): {exc}".strip())
    return ComponentStatus("database", "ok", vendor)


def check_redis() -> ComponentStatus:
    if not settings.REDIS_URL:
        return ComponentStatus("redis", "not configured", "REDIS_URL is not set: Celery tasks run in-process")
    url = urlparse(settings.REDIS_URL)
    where = f"REDIS_URL={url.scheme}://{url.hostname}:{url.port or 6379}"
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=2) as sock:
            if url.password:
                sock.sendall(f"AUTH {url.password}\r\n".encode())
                sock.recv(64)
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
    except OSError as exc:
        return ComponentStatus("redis", "down", f"{where}: {exc.strerror or exc}")
    if not answer.startswith(b"+PONG"):
        return ComponentStatus("redis", "down", f"{where}: unexpected answer {answer[:40]!r}")
    return ComponentStatus("redis", "ok", where)


def check_audit_trail() -> ComponentStatus:
    """The last verification of the audit trail against its checkpoints (topics.audit): degraded when it failed,
    or when none ran for two checkpoint intervals. Degraded, not down: the portal works, the auditors are told."""
    from django.utils import timezone

    from portal.models import AuditVerification

    interval = settings.LOGWARDEN_CHECKPOINT_INTERVAL_SECONDS
    try:
        last = AuditVerification.objects.order_by("-started_at").first()
    except DatabaseError:
        return ComponentStatus("audit trail", "down", "the database cannot be read")
    if last is None:
        return ComponentStatus("audit trail", "degraded", f"not verified yet (every {interval} s)")
    age = (timezone.now() - last.started_at).total_seconds()
    if not last.intact:
        return ComponentStatus("audit trail", "degraded",
                               f"verification FAILED {age:.0f} s ago: {len(last.broken_links)} broken link(s), "
                               f"{len(last.checkpoint_problems)} checkpoint mismatch(es)")
    if age > 2 * interval:
        return ComponentStatus("audit trail", "degraded", f"last verified {age:.0f} s ago, late: expected every "
                                                         f"{interval} s")
    return ComponentStatus("audit trail", "ok", f"intact: {last.events_checked} events, "
                                                f"{last.checkpoints_checked} checkpoints, verified {age:.0f} s ago")


# The apps add the checks of what they talk to (Kafka, Kubernetes) in their AppConfig.ready.
CHECKS: list[Callable[[], ComponentStatus]] = [check_database, check_redis, check_audit_trail]


def register(check: Callable[[], ComponentStatus]) -> None:
    if check not in CHECKS:
        CHECKS.append(check)


def check_all() -> list[ComponentStatus]:
    return [check() for check in CHECKS]
