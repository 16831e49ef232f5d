"""Tables of the history pages: the point-in-time answer, a namespace's timeline and the reports' rows."""
from __future__ import annotations

from portal.web.tables import Table


class AccessTable(Table):
    columns = ("Principal", "Namespace", "Grant", "Why", "Broker held the ACL", "Portal reads")
    row_template = "topics/history/_access_row.html"
    empty_message = "Nobody could read it then."


class MomentTable(Table):
    columns = ("When", "What", "Principal", "Topic", "Detail")
    row_template = "topics/history/_moment_row.html"
    empty_message = "Nothing happened on this namespace yet."
    per_page = 50


class ExpiringTable(Table):
    columns = ("Principal", "Namespace", "Source", "Granted", "Ends")
    row_template = "topics/history/_expiring_row.html"
    empty_message = "No access ends in that time."


class StaleTable(Table):
    columns = ("Principal", "Namespace", "Source", "Granted", "Last portal read", "Last consumer-group read")
    row_template = "topics/history/_stale_row.html"
    empty_message = "No stale access: every grant held that long was used."


class DriftTable(Table):
    columns = ("Run", "Cluster", "Found", "What was done", "Status")
    row_template = "topics/history/_drift_row.html"
    empty_message = "No reconcile run found drift."


class GrantsPerDayTable(Table):
    columns = ("Day", "Grants", "Principals")
    row_template = "topics/history/_day_row.html"
    per_page = 31
