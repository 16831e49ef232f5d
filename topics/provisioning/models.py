"""Provisioning state: Kafka principals, their SCRAM credentials, and the record of reconcile runs."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class KafkaPrincipal(models.Model):
    """The broker identity of a person, a service account, or one of Logwarden's own components (a system
    principal: no user, a `system_role` registered in topics.provisioning.system_roles). Consumer groups under
    `<name>.` are its own."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kafka_principal",
                                null=True, blank=True)
    # "u.<username>", "sa.<service account>", or a system principal's "portal.<x>" / "shipper.<x>"
    name = models.CharField(max_length=200, unique=True)
    system_role = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, system_role="")
                           | (models.Q(user__isnull=True) & ~models.Q(system_role=""))),
                name="principal_of_a_user_or_a_system_role"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def group_prefix(self) -> str:
        return f"{self.name}."

    @property
    def is_system(self) -> bool:
        return self.user_id is None


class CredentialState(models.TextChoices):
    PENDING = "pending", "Pending (to be created on the broker)"
    ACTIVE = "active", "Active"
    RETIRING = "retiring", "Retiring (overlap window)"
    REMOVED = "removed", "Removed"


class KafkaCredential(models.Model):
    """A SCRAM-SHA-512 user of a principal on one cluster, in slot a or b (rotation flips slots).

    Nothing that can recover the password is stored; the reconciler generates it when it creates the user on
    the broker and leaves it, encrypted, in a single-read CredentialHandoff.
    """

    principal = models.ForeignKey(KafkaPrincipal, on_delete=models.CASCADE, related_name="credentials")
    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="credentials")
    slot = models.CharField(max_length=1, choices=[("a", "a"), ("b", "b")])
    state = models.CharField(max_length=16, choices=CredentialState.choices, default=CredentialState.PENDING,
                             db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retire_at = models.DateTimeField(null=True, blank=True)  # end of the overlap window when retiring
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["principal__name", "slot"]
        constraints = [
            # one live credential per slot: a new one in a slot only after the old one there is removed
            models.UniqueConstraint(fields=["principal", "cluster", "slot"],
                                    condition=~models.Q(state=CredentialState.REMOVED),
                                    name="one_live_credential_per_slot"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def username(self) -> str:
        return f"{self.principal.name}.{self.slot}"


class CredentialHandoff(models.Model):
    """The freshly generated password of a credential, encrypted, readable once, for a short time."""

    credential = models.OneToOneField(KafkaCredential, on_delete=models.CASCADE, related_name="handoff")
    ciphertext = models.BinaryField()
    expires_at = models.DateTimeField()


class SystemCredentialSecret(models.Model):
    """The password of a system principal's credential, encrypted with LOGWARDEN_SYSTEM_CREDENTIAL_KEY and kept
    (unlike a hand-off), because Logwarden's own components connect with it: topics.provisioning.system_principals
    is the only reader."""

    credential = models.OneToOneField(KafkaCredential, on_delete=models.CASCADE, related_name="system_secret")
    ciphertext = models.BinaryField()


class OwnedScramUser(models.Model):
    """A SCRAM user Logwarden created on a cluster, recorded once the broker confirmed it: only these are ever
    deleted (another installation sharing the broker may have users under the same prefixes)."""

    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="owned_scram_users")
    username = models.CharField(max_length=210)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "username"], name="one_owned_scram_user")]

    def __str__(self) -> str:
        return f"{self.cluster}: {self.username}"


class OwnedAclBinding(models.Model):
    """An ACL binding Logwarden created on a cluster, recorded once the broker confirmed it."""

    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="owned_acl_bindings")
    principal = models.CharField(max_length=220)
    resource_type = models.CharField(max_length=20)
    resource_name = models.CharField(max_length=255)
    pattern_type = models.CharField(max_length=10)
    operation = models.CharField(max_length=20)
    permission = models.CharField(max_length=5)
    host = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["cluster", "principal", "resource_type", "resource_name", "pattern_type", "operation",
                    "permission", "host"], name="one_owned_acl_binding")]

    def __str__(self) -> str:
        return f"{self.cluster}: {self.principal} {self.operation} {self.resource_type}:{self.resource_name}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial (some items failed; retried next run)"
    # nothing was refused this time: everything due reached the broker, and what the broker refused before waits
    # for its retry time (topics.provisioning.backoff)
    WAITING = "waiting", "Waiting (refused items wait for their retry time; the rest applied)"
    FAILED = "failed", "Failed"


class ReconcileRun(models.Model):
    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="reconcile_runs")
    trigger = models.CharField(max_length=20)  # "change", "periodic", "manual"
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(null=True)  # True only when every planned change reached the broker
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    counts = models.JSONField(default=dict)  # what was changed on the broker
    drift = models.JSONField(default=dict)  # what was found changed out of band
    # [{"action", "item", "error"}] of the changes the broker refused, with "attempts" and "retry_at" (backoff),
    # and "held": true for those this run left alone until their retry time
    failures = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"reconcile {self.cluster} {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ReconcileRetry(models.Model):
    """A broker change the broker refused (a binding, a user) and when a run tries it again: the wait doubles with
    each refusal, from LOGWARDEN_RECONCILE_RETRY_SECONDS up to LOGWARDEN_RECONCILE_RETRY_MAX_SECONDS. Until then
    runs hold the item back and apply everything else (topics.provisioning.backoff). The row goes once the item
    reaches the broker or is no longer planned."""

    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=50)  # the audit action of the change: acl.create, scram_user.delete, …
    item = models.CharField(max_length=1000)  # the item as runs name it (planner.describe_acl, a username)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    first_failed_at = models.DateTimeField(default=timezone.now)
    retry_at = models.DateTimeField()

    class Meta:
        ordering = ["retry_at"]
        constraints = [models.UniqueConstraint(fields=["cluster", "action", "item"], name="one_retry_per_item")]

    def __str__(self) -> str:
        return f"{self.action} {self.item} on {self.cluster}: retry at {self.retry_at:%Y-%m-%d %H:%M:%S}"


class BrokerChange(models.Model):
    """The outbox: a change the broker has yet to show, written in the change's own transaction.

    A reconcile run of the cluster claims the rows due when it starts (before it reads the desired state) and
    marks them done only when it succeeds (or when all it could not do waits for a retry: a row of trigger "retry"
    is then due at that time), so a lost task, a crashed worker or an unreachable Redis or broker leaves them
    pending until a later run (the drain, the periodic pass) gets them through. A row due later (a grant's end, a
    rotation's retire time) schedules the run that takes access away at that moment.
    """

    cluster = models.ForeignKey("topics.KafkaCluster", on_delete=models.CASCADE, related_name="broker_changes")
    trigger = models.CharField(max_length=20)  # "change", "manual", "expiry", "retry"
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(ReconcileRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["cluster", "done_at", "due_at"], name="broker_change_pending")]

    def __str__(self) -> str:
        return f"{self.trigger} on {self.cluster} due {self.due_at:%Y-%m-%d %H:%M:%S}"


class QueuedReconcile(models.Model):
    """A reconcile of the cluster sent to the workers and not started yet: at most one per cluster (coalescing),
    so N changes make at most one queued and one running run. The run deletes it when it starts."""

    cluster = models.OneToOneField("topics.KafkaCluster", on_delete=models.CASCADE, primary_key=True,
                                   related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reconcile of {self.cluster} queued at {self.queued_at:%Y-%m-%d %H:%M:%S}"
