"""What a fleet's renderers and manifests are made from: plain frozen values, so rendering is a pure function
of them (golden-tested) and two equal specs always render the same bytes."""
from __future__ import annotations

from dataclasses import dataclass

# Where every flavour finds its config file, checkpoints and credential inside the container
CONFIG_DIR = "/etc/logwarden-shipper"
USERNAME_ENV = "LOGWARDEN_SHIPPER_USERNAME"
PASSWORD_ENV = "LOGWARDEN_SHIPPER_PASSWORD"
NODE_ENV = "K8S_NODE_NAME"
TOPIC_ATTRIBUTE = "logwarden.topic"


@dataclass(frozen=True)
class KafkaTarget:
    bootstrap: str
    security_protocol: str = "SASL_PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"

    @property
    def brokers(self) -> list[str]:
        return self.bootstrap.split(",")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


@dataclass(frozen=True, order=True)
class Route:
    namespace: str
    topic: str


@dataclass(frozen=True)
class FleetSpec:
    name: str
    flavour: str
    kube_namespace: str
    image: str
    kafka: KafkaTarget
    routes: tuple[Route, ...]
    unrouted: str = "quarantine"
    quarantine_topic: str = "logs.quarantine"
    buffer_mib: int = 64
    batch_size: int = 1000
    batch_timeout_ms: int = 1000
    docker_runtime: bool = False
    log_access: str = "capability"
    log_group_id: int | None = None
    tolerations: tuple = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    priority_class: str = ""
    cpu_request: str = "100m"
    cpu_limit: str = "1"
    memory_request: str = "128Mi"
    memory_limit: str = "512Mi"
    checkpoint_path: str = "/var/lib/logwarden-shipper"
    canary_interval_seconds: int = 30
    # where the node's logs are: /var/log on a node; a test directory when the collector runs in a test
    log_root: str = "/var/log"
    # how k8s_attributes reaches the API server: the pod's service account, or a kubeconfig (a shipper run as a
    # local process: the tests, the demo); "" for none (the demo without a cluster: no pod labels, node or id)
    kube_auth: str = "serviceAccount"

    @property
    def pods_dir(self) -> str:
        return f"{self.log_root}/pods"

    @property
    def containers_dir(self) -> str:
        return f"{self.log_root}/containers"

    @property
    def quarantines(self) -> bool:
        return self.unrouted == "quarantine"

    @property
    def routed_namespaces(self) -> list[str]:
        return [route.namespace for route in self.routes]
