"""A real Apache Kafka broker in KRaft mode with SASL/SCRAM-SHA-512 and the StandardAuthorizer.

The broker's jars come from Maven Central (deploy/kafka/pom.xml, the same jars as the distribution's libs/),
or from $KAFKA_HOME/libs when a distribution is installed. One combined broker+controller node.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

from .base import (CACHE_DIR, PROJECT_ROOT, Service, ServiceError, free_port, generate_password, port_is_free,
                   run_checked)

POM = PROJECT_ROOT / "deploy" / "kafka" / "pom.xml"
ADMIN_USER = "admin"

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def kafka_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if not match:
        raise ServiceError(f"{POM}: no <kafka.version> property")
    return match.group(1)


def kafka_libs() -> Path:
    """The directory of broker and tool jars: $KAFKA_HOME/libs, or the Maven-resolved cache. The cache's name
    carries a digest of the pom, so jars resolved for an earlier list of artifacts are never reused."""
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not libs.is_dir():
            raise ServiceError(f"KAFKA_HOME={home}: no libs/ directory there")
        return libs
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return CACHE_DIR / f"kafka-{kafka_version()}-{digest}" / "libs"


class KafkaService(Service):
    name = "kafka"
    ready_timeout = 90.0

    def install(self) -> None:
        libs = kafka_libs()
        if any(libs.glob("kafka_2.13-*.jar")):
            return
        if not shutil.which("java") or not shutil.which("mvn"):
            raise ServiceError("kafka: needs `java` (17+) and `mvn` on PATH (scripts/install-system-deps.sh)")
        partial = libs.with_name("libs.partial")
        shutil.rmtree(partial, ignore_errors=True)
        run_checked(["mvn", "-q", "-f", str(POM), "dependency:copy-dependencies",
                     f"-DoutputDirectory={partial}"], "resolving the Kafka broker from Maven Central")
        partial.rename(libs)

    def launch(self) -> dict[str, str]:
        # throwaway data goes to tmpfs, sparing the fsync each new partition's files cost; a development profile's
        # stays on disk, with the identity it was formatted with, so a restart keeps its users, topics and logs
        data = self.data_dir("kafka", tmpfs=True)
        identity = self._identity(data)
        port, controller_port = identity["port"], identity["controller_port"]
        properties = self.dir / "server.properties"
        properties.write_text(self._server_properties(port, controller_port, identity["password"], data))
        (self.dir / "log4j2.properties").write_text(LOG4J2)
        if not (data / "meta.properties").exists():
            # one argument, "--cluster-id=…": an id starting with "-" (1 in 32 of them) would read as an option
            run_checked(self._java("kafka.tools.StorageTool", "format", f"--cluster-id={identity['cluster_id']}",
                                   "-c", str(properties), "--add-scram",
                                   f"SCRAM-SHA-512=[name={ADMIN_USER},password={identity['password']}]"),
                        "formatting the Kafka log directory")
        # the bench's 100,000 grants (10,000 topics, 210,000 ACLs) need more than the tests' 512 MB
        heap = os.environ.get("LOGWARDEN_KAFKA_HEAP", "512m")
        if not re.fullmatch(r"[0-9]+[mMgG]", heap):
            raise ServiceError(f"kafka: LOGWARDEN_KAFKA_HEAP={heap!r} is not a heap size such as 512m or 2g")
        self.spawn("broker", self._java("kafka.Kafka", str(properties), heap=f"-Xmx{heap}"))
        return {
            "KAFKA_BOOTSTRAP": f"127.0.0.1:{port}",
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": ADMIN_USER,
            "KAFKA_SASL_PASSWORD": identity["password"],
            # lets outage tests pause the broker (SIGSTOP/SIGCONT) without knowing the harness's layout
            "LOGWARDEN_KAFKA_PID_FILE": str(self.dir / "broker.pid"),
        }

    def _identity(self, data: Path) -> dict:
        """Cluster id, admin password and ports: new for fresh data; for kept data (a persistent service) the ones
        it was formatted with, since the admin's SCRAM credential lives in the broker's metadata. Kept ports are
        reused while free, so clients configured earlier still find the broker."""
        kept = self.dir / "identity.json"
        if self.persistent and kept.exists() and (data / "meta.properties").exists():
            identity = json.loads(kept.read_text())
            for key in ("port", "controller_port"):
                if not port_is_free(identity[key]):
                    identity[key] = free_port()
        else:
            identity = {"cluster_id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
                        "password": generate_password(), "port": free_port(), "controller_port": free_port()}
        if self.persistent:
            kept.write_text(json.dumps(identity))
            kept.chmod(0o600)
        return identity

    def is_ready(self, env: Mapping[str, str]) -> bool:
        from topics.kafka.adapter import KafkaAdmin, KafkaConnection, librdkafka_log

        # "connection refused" is the expected answer while the JVM starts: not worth a line each poll
        librdkafka_log.disabled = True

        return KafkaAdmin(KafkaConnection.from_env(env), timeout=3).ping()

    def _java(self, main_class: str, *args: str, heap: str = "-Xmx256m") -> list[str]:
        return ["java", heap, f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.dir}", "-cp", f"{kafka_libs()}/*", main_class, *args]

    @staticmethod
    def _server_properties(port: int, controller_port: int, password: str, data: Path) -> str:
        jaas = (f'org.apache.kafka.common.security.scram.ScramLoginModule required '
                f'username="{ADMIN_USER}" password="{password}";')
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
            "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=SASL_PLAINTEXT",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            f"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={jaas}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # The controller listener is PLAINTEXT on loopback only (KRaft controllers cannot authenticate
            # with SCRAM, whose credentials live in the metadata they serve); its principal is ANONYMOUS and
            # must be a super user for broker registration to pass the authorizer.
            f"super.users=User:{ADMIN_USER};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found=false",
            f"log.dirs={data}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "log.segment.bytes=16777216",
            "",
        ])
