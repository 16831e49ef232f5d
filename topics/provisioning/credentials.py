"""Kafka credentials: shown once, rotated without downtime, described as client configuration.

Kafka keeps one SCRAM credential per user and mechanism, so rotating a password in place would cut off
every running consumer. Each principal therefore has two broker users, `<principal>.a` and `<principal>.b`:
a rotation creates the other slot's user with a new password and the same ACLs, keeps the old one valid for
an overlap window the holder chooses, and lets the reconciler remove the old user and its ACLs afterwards.
Consumers keep their consumer group across a rotation: the group prefix belongs to the principal, not the slot.
"""
from __future__ import annotations

import logging
import shlex
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.core import audit
from topics import policy, queue
from topics.models import CredentialState, KafkaCluster, KafkaCredential, KafkaPrincipal, SensitivityPolicy
from topics.provisioning import handoff
from topics.provisioning.desired import live_grants

log = logging.getLogger(__name__)
PASSWORD_PLACEHOLDER = "<the password shown once>"
# The client each form of client_config is for, with the oldest version known to work against the Kafka 4
# brokers Logwarden administers: librdkafka before 2.6.1 fails SCRAM there (Debian 12's kcat links 2.0.2); the
# Java clients are those of the broker the tests run (tests/topics/provisioning/test_client_configs.py runs
# every form with its real client).
CLIENT_REQUIREMENTS = {
    "librdkafka.properties": "librdkafka >= 2.6.1 (kcat -F, confluent-kafka and other librdkafka clients)",
    "java.properties": "Kafka Java clients >= 4.1.2 (kafka-console-consumer --consumer.config)",
    "kcat.sh": "kcat linked against librdkafka >= 2.6.1 (kcat -V shows it; Debian 12's kcat has 2.0.2)",
    "consumer.py": "Python confluent-kafka >= 2.6.1",
}
CLIENT_CONFIG_FILES = tuple(CLIENT_REQUIREMENTS)  # the keys of client_config, in this order


def show_password(actor, credential: KafkaCredential) -> str:
    """The credential's new password, exactly once. Raises handoff.HandoffUnavailable afterwards."""
    if not policy.may_see_password(actor, credential.principal):
        raise PermissionDenied("Only who can act as the principal sees its password (an admin may force a "
                               "rotation, never read another's password).")
    password = handoff.claim(credential)
    audit.record(actor, "credential.display", credential, username=credential.username)
    return password


def rotate(actor, principal: KafkaPrincipal, cluster: KafkaCluster, *, overlap: timedelta,
           trigger: str = "holder") -> KafkaCredential:
    """Starts a rotation: a new credential in the other slot now, the current one retires after `overlap`.

    `trigger` says who asks: "holder" (whoever may manage the principal), "forced" (platform admins),
    "policy" (the system only, actor audit.SYSTEM: rotate_due) or "system" (the only way a system principal
    rotates: topics.provisioning.system_principals.rotate)."""
    if principal.is_system != (trigger == "system"):
        raise PermissionDenied("A system principal rotates only through system_principals.rotate, and only a "
                               "system principal rotates so.")
    if trigger in ("policy", "system"):
        if not (isinstance(actor, audit.Actor) and actor.user is None):
            raise PermissionDenied("Only the system rotates by policy or rotates a system principal.")
    elif trigger == "holder":
        if not policy.may_manage_credentials(actor, principal):
            raise PermissionDenied("You may not rotate this principal's credential.")
    elif trigger == "forced":
        if not policy.may_force_rotation(actor):
            raise PermissionDenied("Only platform admins force a rotation.")
    else:
        raise ValueError(f"trigger must be one of 'holder', 'forced', 'policy', 'system', not {trigger!r}")
    longest = timedelta(hours=settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS)
    if not timedelta(0) <= overlap <= longest:
        raise ValidationError({"overlap": [f"Between 0 and {settings.LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS} hours "
                                           f"(LOGWARDEN_MAX_ROTATION_OVERLAP_HOURS)."]})
    if not principal.is_system and not live_grants(cluster, timezone.now()).filter(principal=principal).exists():
        raise ValidationError({"principal": [f"{principal.name} holds no grant on cluster {cluster.name}: "
                                             f"there is no credential to rotate."]})
    with transaction.atomic():
        live = {c.state: c for c in KafkaCredential.objects.select_for_update().filter(
            principal=principal, cluster=cluster).exclude(state=CredentialState.REMOVED)}
        retiring = live.get(CredentialState.RETIRING)
        if retiring is not None:
            until = f" until {retiring.retire_at:%Y-%m-%d %H:%M} UTC" if retiring.retire_at else ""
            raise ValidationError({"principal": [f"A rotation of {principal.name} is already under way{until}."]})
        if CredentialState.PENDING in live:
            raise ValidationError({"principal": [f"The credential of {principal.name} on {cluster.name} is still "
                                                 f"being created on the broker, retry shortly."]})
        current = live.get(CredentialState.ACTIVE)
        if current is None:
            raise ValidationError({"principal": [f"{principal.name} has no active credential on {cluster.name}."]})
        now = timezone.now()
        current.state, current.retire_at = CredentialState.RETIRING, now + overlap
        current.save(update_fields=["state", "retire_at"])
        new = KafkaCredential.objects.create(principal=principal, cluster=cluster,
                                             slot="b" if current.slot == "a" else "a")
        audit.record(actor, "credential.rotate", new, principal=principal.name, cluster=cluster.name,
                     retiring=current.username, new=new.username, overlap_seconds=int(overlap.total_seconds()),
                     trigger=trigger)
        queue.reconcile([cluster.pk])
        queue.reconcile_at(cluster.pk, current.retire_at)  # the retiring user leaves when its overlap ends
    return new


def rotate_due(now=None) -> list[KafkaCredential]:
    """Rotates the credentials older than their policy allows: the strictest maximum age among the
    sensitivity levels of the namespaces the principal can read on that cluster.

    A principal whose rotation is under way (a retiring or pending credential on that cluster) waits for the
    next pass; a credential that cannot be rotated is logged and skipped, never stopping the others."""
    now = now or timezone.now()
    busy = set(KafkaCredential.objects.filter(state__in=[CredentialState.RETIRING, CredentialState.PENDING])
               .values_list("principal_id", "cluster_id"))
    rotated = []
    for credential in KafkaCredential.objects.filter(state=CredentialState.ACTIVE, activated_at__isnull=False) \
            .select_related("principal", "cluster"):
        if (credential.principal_id, credential.cluster_id) in busy:
            continue
        levels = set(live_grants(credential.cluster, now).filter(principal=credential.principal)
                     .values_list("topic__namespace__sensitivity", flat=True))
        limits = [SensitivityPolicy.for_level(level).max_credential_age_days for level in levels]
        if limits and credential.activated_at + timedelta(days=min(limits)) <= now:
            try:
                rotated.append(rotate(audit.SYSTEM, credential.principal, credential.cluster, trigger="policy",
                                      overlap=timedelta(hours=settings.LOGWARDEN_ROTATION_OVERLAP_HOURS)))
            except ValidationError as exc:
                log.warning("policy rotation of %s skipped: %s", credential.username, "; ".join(exc.messages))
    return rotated


def readable_topics(credential: KafkaCredential) -> list[str]:
    return sorted(set(live_grants(credential.cluster, timezone.now()).filter(principal=credential.principal)
                      .values_list("topic__name", flat=True)))


def client_config(credential: KafkaCredential, *, password: str | None = None) -> dict[str, str]:
    """Ready-to-use client settings in four forms, each headed by the client it needs. Without `password` they
    carry a placeholder (properties) or read the KAFKA_PASSWORD environment variable (kcat, Python): the
    password exists only in its display."""
    cluster, principal = credential.cluster, credential.principal
    group = f"{principal.group_prefix}reader"
    topics = readable_topics(credential) or ["<topic>"]
    secret = password or PASSWORD_PLACEHOLDER
    heading = f"Kafka client settings of {credential.username} on {cluster.name} (Logwarden)"

    def header(file_name: str, *usage: str) -> list[str]:
        return [f"# {line}" for line in (heading, f"Needs {CLIENT_REQUIREMENTS[file_name]}.", *usage)]

    common = [f"bootstrap.servers={cluster.bootstrap_for_clients}", f"security.protocol={cluster.security_protocol}"]
    librdkafka = "\n".join([*header("librdkafka.properties", f"kcat -F librdkafka.properties -G {group} {topics[0]}"),
                            *common, f"sasl.mechanisms={cluster.sasl_mechanism}",
                            f"sasl.username={credential.username}", f"sasl.password={secret}",
                            f"group.id={group}", "auto.offset.reset=earliest", ""])
    jaas = (f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{credential.username}" '
            f'password="{secret}";')
    java = "\n".join([*header("java.properties", f"kafka-console-consumer --bootstrap-server "
                                                 f"{cluster.bootstrap_for_clients} --consumer.config java.properties "
                                                 f"--topic {topics[0]}"),
                      *common, f"sasl.mechanism={cluster.sasl_mechanism}", f"sasl.jaas.config={jaas}",
                      f"group.id={group}", "auto.offset.reset=earliest", ""])
    kcat_password = shlex.quote(password) if password else '"${KAFKA_PASSWORD:?the password shown once}"'
    kcat = "\n".join([
        "#!/bin/sh", *header("kcat.sh", "Extra kcat options go first: sh kcat.sh -c 10 (ten records, then exit)."),
        f"exec kcat -C -b {shlex.quote(cluster.bootstrap_for_clients)} "
        f"-X security.protocol={cluster.security_protocol} "
        f"-X sasl.mechanisms={cluster.sasl_mechanism} -X sasl.username={credential.username} "
        f"-X sasl.password={kcat_password} -X auto.offset.reset=earliest "
        f"\"$@\" -G {group} {' '.join(shlex.quote(t) for t in topics)}", ""])
    python_password = repr(password) if password else 'os.environ["KAFKA_PASSWORD"]'
    python = "\n".join([
        *header("consumer.py", "Prints each record's value; Ctrl-C leaves the consumer group."),
        "import os", "import sys", "", "from confluent_kafka import Consumer", "",
        "consumer = Consumer({",
        f'    "bootstrap.servers": {cluster.bootstrap_for_clients!r},',
        f'    "security.protocol": {cluster.security_protocol!r},',
        f'    "sasl.mechanism": {cluster.sasl_mechanism!r},',
        f'    "sasl.username": {credential.username!r},',
        f'    "sasl.password": {python_password},',
        f'    "group.id": {group!r},  # your consumer groups must start with {principal.group_prefix!r}',
        '    "auto.offset.reset": "earliest",',
        "})",
        f"consumer.subscribe({topics!r})",
        "try:",
        "    while True:",
        "        message = consumer.poll(1.0)",
        "        if message is None:",
        "            continue",
        "        if message.error():",
        "            print(message.error(), file=sys.stderr, flush=True)",
        "        else:  # flushed at once: a pipe would otherwise hold the records back",
        '            print(message.value().decode(errors="replace"), flush=True)',
        "except KeyboardInterrupt:",
        "    pass",
        "finally:",
        "    consumer.close()",
        ""])
    return {"librdkafka.properties": librdkafka, "java.properties": java, "kcat.sh": kcat, "consumer.py": python}
