"""Tables of the fleet pages."""
from __future__ import annotations

from django.db.models import QuerySet

from portal.web.tables import Table


class FleetTable(Table):
    columns = ("Fleet", "Flavour", "Kafka cluster", "Kubernetes namespace", "Live revision", "Drift")
    row_template = "shipper/_fleet_row.html"
    empty_message = "No shipper fleet yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("kafka_cluster", "live_revision")


class FleetRevisionTable(Table):
    columns = ("Revision", "Hash", "Author", "Reason", "Made", "Applied")
    row_template = "shipper/_revision_row.html"
    empty_message = "No revision yet."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("fleet")


class CanaryNodeTable(Table):
    columns = ("Node", "Pod", "Last line", "Written", "Delay (last / max)", "Lost lines", "Duplicates")
    row_template = "shipper/_canary_row.html"
    empty_message = "No canary line read yet: the fleet's canaries write one per node every interval."

    def prepare(self, rows: QuerySet) -> QuerySet:
        return rows.select_related("fleet")
