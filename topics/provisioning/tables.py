"""Tables of the provisioning pages: Kafka credentials (of users and of system principals), reconcile runs and
each cluster's reconcile status."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now

from portal.web.tables import Table
from topics.models import CredentialHandoff, KafkaCluster, ReconcileRetry, ReconcileRun

RETRIES_SHOWN = 20

CHANGES = {"create_users": ("SCRAM user", "created"), "delete_users": ("SCRAM user", "deleted"),
           "create_acls": ("ACL", "created"), "delete_acls": ("ACL", "deleted"),
           "topics_created": ("topic", "created"), "topics_reconfigured": ("topic", "reconfigured")}


def broker_changes(run: ReconcileRun) -> list[str]:
    """What a run changed on the broker, e.g. ['1 SCRAM user created', '3 ACLs created']; empty for nothing."""
    counts = [(run.counts.get(key), noun, verb) for key, (noun, verb) in CHANGES.items()]
    return [f"{count} {noun}{'' if count == 1 else 's'} {verb}" for count, noun, verb in counts if count]


class CredentialTable(Table):
    columns = ("Username", "Cluster", "State", "Activated", "Password", "Client configuration", "")
    row_template = "topics/provisioning/_credential_row.html"
    empty_message = "No credentials yet: the first is made on the broker once a grant of this principal is active."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("principal", "cluster").annotate(password_waiting=Exists(
            CredentialHandoff.objects.filter(credential=OuterRef("pk"), expires_at__gt=Now())))


class SystemCredentialTable(Table):
    """The credentials of Logwarden's own principals with their state; their passwords are never shown."""

    columns = ("Principal", "Role", "Username", "Cluster", "State", "Activated")
    row_template = "topics/provisioning/_system_credential_row.html"
    empty_message = "No system principal has a credential yet."


class ReconcileRunTable(Table):
    columns = ("Cluster", "Trigger", "Started", "Duration", "Result", "Broker changes", "Drift", "Error")
    row_template = "topics/provisioning/_run_row.html"
    empty_message = "No reconcile has run yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("cluster")


@dataclass(frozen=True)
class ClusterStatus:
    """A cluster on the reconcile page: its last run, the last run that found drift, and the items the broker
    refused that wait for their retry (topics.provisioning.backoff), the soonest first."""

    cluster: KafkaCluster
    last_run: ReconcileRun | None
    last_drift: ReconcileRun | None
    retries: list[ReconcileRetry]

    @classmethod
    def of(cls, cluster: KafkaCluster) -> ClusterStatus:
        runs = cluster.reconcile_runs.all()
        drift = Q(counts__drift_acls__gt=0) | Q(counts__missing_users__gt=0)
        retries = list(ReconcileRetry.objects.filter(cluster=cluster)[:RETRIES_SHOWN])
        return cls(cluster, runs.first(), runs.filter(drift).first(), retries)
