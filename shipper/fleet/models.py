"""The shipper fleet: one DaemonSet of log shippers on one Kubernetes cluster writing to one Kafka cluster, and
the revisions of what Logwarden renders for it (config file and manifests), each applied through server-side
apply."""
from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from accounts.models import DNS_LABEL, slug_validator
from portal.core.limits import MaxTextLength
from shipper.canary import lines as canary_lines

# The quantities Kubernetes itself prints back (so what we apply compares equal to what the server stores)
CPU_QUANTITY = r"^([1-9][0-9]*m|[1-9][0-9]*)$"
MEMORY_QUANTITY = r"^[1-9][0-9]*(Ki|Mi|Gi)$"
IMAGE = r"^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$"
TOPIC_NAME = r"^[A-Za-z0-9._-]{1,249}$"
LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
TOLERATION_KEYS = {"key", "operator", "value", "effect", "tolerationSeconds"}
TOLERATION_OPERATORS = {"Exists", "Equal"}
TOLERATION_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}


class Flavour(models.TextChoices):
    OTEL = "otel", "OpenTelemetry Collector"
    FLUENT_BIT = "fluent-bit", "Fluent Bit (rendered, not run here)"
    FLUENTD = "fluentd", "Fluentd (rendered, not run here)"


class Unrouted(models.TextChoices):
    """What happens to the records of a namespace without an active topic."""

    QUARANTINE = "quarantine", "Write them to the quarantine topic"
    DROP = "drop", "Drop them (their files are never read)"


class LogAccess(models.TextChoices):
    """How a non-root shipper reads the root-owned pod logs of the node."""

    CAPABILITY = "capability", "Add the DAC_READ_SEARCH capability"
    GROUP = "group", "A supplemental group that may read the log files"


DEFAULT_IMAGES = {
    Flavour.OTEL: "otel/opentelemetry-collector-contrib:0.155.0",
    Flavour.FLUENT_BIT: "fluent/fluent-bit:4.0.3",
    Flavour.FLUENTD: "fluent/fluentd-kubernetes-daemonset:v1.18-debian-kafka2-1",
}


def validate_tolerations(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("A list of tolerations, e.g. [{\"key\": \"dedicated\", \"operator\": \"Exists\"}].")
    for index, toleration in enumerate(value):
        where = f"Toleration {index + 1}"
        if not isinstance(toleration, dict):
            raise ValidationError(f"{where}: an object with key, operator, value, effect.")
        unknown = set(toleration) - TOLERATION_KEYS
        if unknown:
            raise ValidationError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; allowed: "
                                  f"{', '.join(sorted(TOLERATION_KEYS))}.")
        if toleration.get("operator", "Equal") not in TOLERATION_OPERATORS:
            raise ValidationError(f"{where}: operator is Exists or Equal.")
        if toleration.get("effect", "") not in TOLERATION_EFFECTS:
            raise ValidationError(f"{where}: effect is NoSchedule, PreferNoSchedule or NoExecute.")
        for key in ("key", "value", "effect", "operator"):
            if key in toleration and not isinstance(toleration[key], str):
                raise ValidationError(f"{where}: {key} is text.")
        if "key" in toleration and not re.match(LABEL_KEY, toleration["key"]):
            raise ValidationError(f"{where}: key is not a valid label key.")
        if "tolerationSeconds" in toleration and not isinstance(toleration["tolerationSeconds"], int):
            raise ValidationError(f"{where}: tolerationSeconds is a whole number.")


def validate_node_selector(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("An object of node labels, e.g. {\"kubernetes.io/os\": \"linux\"}.")
    for key, label in value.items():
        if not re.match(LABEL_KEY, key):
            raise ValidationError(f"{key[:63]!r} is not a valid label key.")
        if not isinstance(label, str) or not re.match(LABEL_VALUE, label):
            raise ValidationError(f"The value of {key} is not a valid label value (text of at most 63 characters).")


class Fleet(models.Model):
    name = models.CharField(max_length=40, unique=True, validators=[slug_validator],
                            help_text="Names the DaemonSet and the shipper's Kafka principal shipper.<name>")
    flavour = models.CharField(max_length=16, choices=Flavour.choices, default=Flavour.OTEL)
    kafka_cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.PROTECT, related_name="fleets")
    kube_namespace = models.CharField(max_length=63, default="logwarden-shipper",
                                      validators=[RegexValidator(DNS_LABEL, "A Kubernetes namespace name.")],
                                      help_text="Where the shipper's objects live; fixed once the fleet exists")
    image = models.CharField(max_length=300, blank=True, validators=[RegexValidator(IMAGE, "An image reference.")],
                             help_text="Empty: the flavour's default image")
    unrouted = models.CharField(max_length=16, choices=Unrouted.choices, default=Unrouted.QUARANTINE)
    quarantine_topic = models.CharField(max_length=249, default="logs.quarantine",
                                        validators=[RegexValidator(TOPIC_NAME, "A Kafka topic name.")])
    buffer_mib = models.PositiveIntegerField(
        "buffer (MiB)", default=64, validators=[MinValueValidator(1), MaxValueValidator(16384)],
        help_text="Memory the shipper buffers records in before back-pressure (MiB)")
    batch_size = models.PositiveIntegerField(default=1000, validators=[MinValueValidator(1),
                                                                       MaxValueValidator(100_000)])
    batch_timeout_ms = models.PositiveIntegerField(
        "batch timeout (ms)", default=1000, validators=[MinValueValidator(10), MaxValueValidator(60_000)])
    docker_runtime = models.BooleanField(default=False,
                                         help_text="Also mount /var/lib/docker/containers (nodes on docker)")
    log_access = models.CharField(max_length=16, choices=LogAccess.choices, default=LogAccess.CAPABILITY)
    log_group_id = models.PositiveIntegerField(null=True, blank=True,
                                               help_text="The group that may read the logs (log access: group)")
    tolerations = models.JSONField(default=list, blank=True, validators=[validate_tolerations])
    node_selector = models.JSONField(default=dict, blank=True, validators=[validate_node_selector])
    priority_class = models.CharField(max_length=253, blank=True, validators=[
        RegexValidator(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "A priority class name.")])
    cpu_request = models.CharField(max_length=20, default="100m", validators=[
        RegexValidator(CPU_QUANTITY, "CPU as 250m or 1.")])
    cpu_limit = models.CharField(max_length=20, default="1", validators=[
        RegexValidator(CPU_QUANTITY, "CPU as 500m or 2.")])
    memory_request = models.CharField(max_length=20, default="128Mi", validators=[
        RegexValidator(MEMORY_QUANTITY, "Memory as 128Mi or 1Gi.")])
    memory_limit = models.CharField(max_length=20, default="512Mi", validators=[
        RegexValidator(MEMORY_QUANTITY, "Memory as 512Mi or 2Gi.")])
    checkpoint_path = models.CharField(max_length=200, default="/var/lib/logwarden-shipper", validators=[
        RegexValidator(r"^/[A-Za-z0-9._/-]+$", "An absolute path on the node.")],
        help_text="The only writable host directory: read positions and the persistent send queue")
    canary_interval_seconds = models.PositiveIntegerField(
        "canary interval (seconds)", default=30, validators=[MinValueValidator(1), MaxValueValidator(3600)])
    enforce = models.BooleanField(default=False, help_text="Re-apply the live revision when a hand edit is found")
    live_revision = models.ForeignKey("FleetRevision", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", editable=False)
    drift = models.JSONField(default=list, blank=True, editable=False,
                             help_text="Objects the last check found changed by hand")
    drift_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.log_access == LogAccess.GROUP and self.log_group_id is None:
            errors["log_group_id"] = "Give the group that may read the node's log files (log access: group)."
        if self.memory_limit and self.buffer_mib and _mib(self.memory_limit) <= self.buffer_mib:
            errors["buffer_mib"] = (f"The buffer ({self.buffer_mib} MiB) must fit below the memory limit "
                                    f"({self.memory_limit}).")
        for request, limit, pattern, parse in (("cpu_request", "cpu_limit", CPU_QUANTITY, _millicores),
                                               ("memory_request", "memory_limit", MEMORY_QUANTITY, _mib)):
            low, high = getattr(self, request) or "", getattr(self, limit) or ""
            if re.match(pattern, low) and re.match(pattern, high) and parse(low) > parse(high):
                errors[request] = f"The request ({low}) is above the limit ({high})."
        if errors:
            raise ValidationError(errors)

    @property
    def principal_name(self) -> str:
        return f"shipper.{self.name}"

    @property
    def image_or_default(self) -> str:
        return self.image or DEFAULT_IMAGES[Flavour(self.flavour)]


def _millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(quantity) * 1000


def _mib(quantity: str) -> float:
    if not re.match(MEMORY_QUANTITY, quantity):
        return float("inf")
    number, unit = int(quantity[:-2]), quantity[-2:]
    return number * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}[unit]


class FleetRevision(models.Model):
    """What Logwarden rendered for a fleet at one point: the config file, the manifests (the Secret without
    its password, which is added only when applying), the routing it encodes and why it was made."""

    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    config_name = models.CharField(max_length=100)
    config = models.TextField()
    manifests = models.JSONField()
    routes = models.JSONField(default=dict, blank=True, help_text="namespace → topic")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_label = models.CharField(max_length=150)
    reason = models.TextField(validators=[MaxTextLength()])
    rollback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["fleet", "-number"]
        constraints = [models.UniqueConstraint(fields=["fleet", "number"], name="one_revision_number_per_fleet")]

    def __str__(self) -> str:
        return f"{self.fleet} #{self.number}"

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


class CanaryNode(models.Model):
    """What Logwarden last read of one node's canary (shipper.canary): the line, when it was written on the node and
    when it reached the broker, and the lines that never arrived. One row per fleet and node, updated by each read
    of the fleet's canary topic."""

    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="canary_nodes")
    node = models.CharField(max_length=253)
    pod = models.CharField(max_length=253, help_text="The pod whose canary wrote the last line")
    run_started_at = models.DateTimeField(help_text="When the canary writing the last line started (seq 1)")
    last_seq = models.PositiveBigIntegerField()
    last_written_at = models.DateTimeField(help_text="When the last line was written on the node")
    last_arrived_at = models.DateTimeField(help_text="When the last line reached the broker")
    last_delay_ms = models.PositiveIntegerField(help_text="Written → on the broker, of the last line (ms)")
    max_delay_ms = models.PositiveIntegerField(help_text="The longest written → on the broker seen (ms)")
    lines = models.PositiveBigIntegerField(default=0, help_text="Lines read")
    missing = models.PositiveBigIntegerField(default=0, help_text="Sequence numbers never read")
    missing_seqs = models.JSONField(default=list, blank=True,
                                    help_text="The latest missing sequence numbers of the current run")
    duplicates = models.PositiveBigIntegerField(default=0, help_text="Lines read more than once")
    read_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["fleet", "node"]
        constraints = [models.UniqueConstraint(fields=["fleet", "node"], name="one_canary_row_per_fleet_node")]

    def __str__(self) -> str:
        return f"{self.fleet} canary on {self.node}"

    @property
    def silent(self) -> bool:
        """No line written on the node for three canary intervals (see shipper.canary.lines.silent)."""
        return canary_lines.silent(self, interval_seconds=self.fleet.canary_interval_seconds, now=timezone.now())
