"""Tables and display helpers of the catalogue pages."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from portal.web.tables import Table
from topics.models import RetentionClass, Topic

DAY_MS, HOUR_MS = 86_400_000, 3_600_000


def human_duration(ms: int) -> str:
    """7 days, 1.5 days, 12 hours: in days from one day up, in hours below."""
    count, unit = (ms / DAY_MS, "day") if ms >= DAY_MS else (ms / HOUR_MS, "hour")
    count = round(count, 1)
    return f"{count:g} {unit}{'' if count == 1 else 's'}"


def retention_label(retention_class: RetentionClass) -> str:
    return f"{retention_class.name} · {human_duration(retention_class.retention_ms)}"


class NamespaceTable(Table):
    columns = ("Namespace", "Owner team", "Sensitivity", "Retention", "Lifecycle", "Topics")
    row_template = "topics/_namespace_row.html"
    empty_message = "No namespaces match."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("owner_team", "retention_class").prefetch_related(
            Prefetch("topics", queryset=Topic.objects.select_related("cluster").order_by("cluster__name")))


class TopicTable(Table):
    columns = ("Cluster", "Topic", "State", "Last error", "Synced at")
    row_template = "topics/_topic_row.html"
    empty_message = "No log topic yet: one is made on the default Kafka cluster when the namespace is registered."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("cluster").order_by("cluster__name")
