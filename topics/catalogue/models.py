"""The catalogue: Kafka clusters, retention classes, namespaces and their log topics."""
from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from accounts.models import DNS_LABEL, Team, slug_validator
from portal.core.config import is_host_port
from portal.core.limits import MaxTextLength, excerpt

namespace_name_validator = RegexValidator(
    DNS_LABEL,
    "A Kubernetes namespace name: lowercase letters, digits and hyphens, starting and ending with a letter or "
    "digit, at most 63 characters.")
# Only variables that look like Kafka passwords: the reconciler sends the named variable's value to the cluster's
# bootstrap servers, so a free choice would let an admin ship DJANGO_SECRET_KEY or LDAP_BIND_PASSWORD to a broker
# of their own. \Z, not $: "$" would also accept a trailing newline.
SASL_PASSWORD_REF = r"^env:KAFKA_[A-Z0-9_]*PASSWORD\Z"
secret_ref_validator = RegexValidator(
    SASL_PASSWORD_REF, "A reference to an environment variable holding a Kafka password: env:KAFKA_…PASSWORD, "
                       "such as env:KAFKA_SASL_PASSWORD (the secret itself is never stored).")
topic_template_validator = RegexValidator(
    r"^[A-Za-z0-9._-]*\{namespace\}[A-Za-z0-9._-]*$",
    "Must contain {namespace} once, with only letters, digits, '.', '_' and '-' around it.")


def validate_bootstrap(value: str) -> None:
    """host:port[,host:port…] and nothing else: the value is written into the client configurations the portal
    generates (`bootstrap.servers=…`), where a newline, a control character or a space would add a property."""
    for part in value.split(","):
        if not is_host_port(part):
            raise ValidationError(f"Expected host:port[,host:port…] without spaces (for example kafka-1:9092), "
                                  f"got {excerpt(part)!r}.", code="invalid")


PASSWORD_REF_AGAIN = "Changing bootstrap sends the cluster's password there: give sasl_password_ref again."
principal_lines_validator = RegexValidator(
    r"^(User:[^\s]+\s*)*$", "One principal per line, each written User:<name>.")


def new_ownership_version() -> str:
    return uuid.uuid4().hex


class KafkaCluster(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    bootstrap = models.CharField(max_length=500, validators=[validate_bootstrap],
                                 help_text="host:port[,host:port…] Logwarden administers through")
    client_bootstrap = models.CharField(max_length=500, blank=True, validators=[validate_bootstrap],
                                        help_text="What consumers connect to, when it differs from bootstrap")
    security_protocol = models.CharField(max_length=20, default="SASL_PLAINTEXT", choices=[
        (p, p) for p in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")])
    sasl_mechanism = models.CharField(max_length=20, default="SCRAM-SHA-512",
                                      choices=[(m, m) for m in ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")])
    sasl_username = models.CharField(max_length=200, blank=True)
    sasl_password_ref = models.CharField(max_length=200, blank=True, validators=[secret_ref_validator],
                                         help_text="Where the password is, e.g. env:KAFKA_SASL_PASSWORD")
    topic_name_template = models.CharField(max_length=200, default="logs.{namespace}",
                                           validators=[topic_template_validator])
    replication_factor = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    enforce_acls = models.BooleanField(
        default=True, help_text="Remove other principals' read access to managed topics and consumer groups")
    read_allowlist = models.TextField(
        blank=True, validators=[principal_lines_validator],
        help_text="Principals (User:name, one per line) whose read access to managed topics and groups is "
                  "reported but never removed: platform producers, monitoring")
    ownership_adopted_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the reconciler adopted the users and bindings Logwarden made before it recorded ownership")
    # changes whenever topics.provisioning.ownership changes the cluster's records (the only writer of
    # OwnedAclBinding and OwnedScramUser): a process's copy of them is current while this is what it was
    ownership_version = models.CharField(max_length=32, default=new_ownership_version, editable=False)
    is_default = models.BooleanField(default=False, help_text="New namespaces get a topic here")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(
            fields=["is_default"], condition=models.Q(is_default=True), name="one_default_cluster",
            violation_error_message="Another cluster is already the default: unset it there first.")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.sasl_mechanism == "PLAIN" and self.security_protocol != "SASL_SSL":
            raise ValidationError({"sasl_mechanism": "PLAIN sends the password in clear: it needs the security "
                                                     "protocol SASL_SSL (or use SCRAM-SHA-512)."})

    def moving_needs_password_ref(self, bootstrap: str) -> bool:
        """Moving a cluster's bootstrap sends its password to the new address: whoever moves it names the
        password's reference again in the same change (API, admin site), so a changed address alone never takes
        the password along."""
        return bool(self.pk and self.sasl_password_ref) and bootstrap != self.bootstrap

    @property
    def bootstrap_for_clients(self) -> str:
        return self.client_bootstrap or self.bootstrap

    @property
    def read_allowlisted(self) -> frozenset[str]:
        return frozenset(self.read_allowlist.split())

    def topic_name_for(self, namespace: str) -> str:
        return self.topic_name_template.replace("{namespace}", namespace)


NO_SIZE_LIMIT = -1
SIZE_LIMIT_MESSAGE = "Use -1 for no size limit, or a positive size."  # 0 would delete every log at once


class RetentionClass(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    description = models.TextField(blank=True, validators=[MaxTextLength()])
    retention_ms = models.BigIntegerField(validators=[MinValueValidator(60_000)])
    retention_bytes = models.BigIntegerField(default=-1, help_text="-1: no size limit")
    cleanup_policy = models.CharField(max_length=20, default="delete",
                                      choices=[("delete", "delete"), ("compact", "compact"),
                                               ("compact,delete", "compact,delete")])
    partitions = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    archive_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(36_500)],
        help_text="Days the archive keeps a day of logs (by record date); empty: kept for ever")

    class Meta:
        ordering = ["retention_ms", "name"]
        verbose_name_plural = "retention classes"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.conf import settings

        limit = settings.LOGWARDEN_MAX_RETENTION_MS
        if self.retention_ms is not None and self.retention_ms > limit:
            raise ValidationError({"retention_ms": f"At most {limit} ms ({limit // 86_400_000} days): "
                                                   f"the platform's guardrail LOGWARDEN_MAX_RETENTION_DAYS."})
        if self.retention_bytes is not None and self.retention_bytes != NO_SIZE_LIMIT and self.retention_bytes < 1:
            raise ValidationError({"retention_bytes": SIZE_LIMIT_MESSAGE})

    def topic_configs(self) -> dict[str, str]:
        return self.configs_of(self.retention_ms, self.retention_bytes, self.cleanup_policy)

    @staticmethod
    def configs_of(retention_ms: int, retention_bytes: int, cleanup_policy: str) -> dict[str, str]:
        """The Kafka topic configs a retention class sets (the only ones Logwarden manages)."""
        return {"retention.ms": str(retention_ms), "retention.bytes": str(retention_bytes),
                "cleanup.policy": cleanup_policy}


class Sensitivity(models.TextChoices):
    LOW = "low", "Low"
    STANDARD = "standard", "Standard"
    HIGH = "high", "High"
    RESTRICTED = "restricted", "Restricted"


class Lifecycle(models.TextChoices):
    ACTIVE = "active", "Active"
    ORPHANED = "orphaned", "Orphaned (gone from Kubernetes)"
    RETIRED = "retired", "Retired"


class Namespace(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[namespace_name_validator])
    # a team that owns namespaces cannot be deleted: ownership (and so approvals) must be handed over first
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="namespaces")
    # whoever can label a Kubernetes namespace must not pick its approvers: a label only suggests an owner, which
    # owns (and so decides) nothing until a platform admin confirms it (topics.catalogue.services.confirm_owner)
    suggested_owner_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_namespaces",
        help_text="Suggested by the namespace's Kubernetes label; owns nothing until a platform admin confirms it")
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices, default=Sensitivity.STANDARD)
    retention_class = models.ForeignKey(RetentionClass, on_delete=models.PROTECT, related_name="namespaces")
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    discovered = models.BooleanField(default=False, help_text="Found in Kubernetes rather than registered by hand")
    # a shipper fleet's quarantine: records of namespaces without a topic of their own, so anyone's logs may be
    # in it; only platform admins and auditors may be granted it (topics.policy.may_be_granted)
    quarantine = models.BooleanField(default=False, editable=False,
                                     help_text="Holds the quarantine topic of a shipper fleet, not a namespace's logs")
    labels = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, validators=[MaxTextLength()])
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    orphaned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TopicState(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    ERROR = "error", "Error"


class Topic(models.Model):
    """The log topic of one namespace on one cluster."""

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="topics")
    cluster = models.ForeignKey(KafkaCluster, on_delete=models.PROTECT, related_name="topics")
    name = models.CharField(max_length=249)
    state = models.CharField(max_length=16, choices=TopicState.choices, default=TopicState.PENDING)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["namespace", "cluster"], name="one_topic_per_namespace_and_cluster"),
            models.UniqueConstraint(fields=["cluster", "name"], name="topic_name_unique_in_cluster"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.cluster}"
