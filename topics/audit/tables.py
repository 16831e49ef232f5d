"""Tables of the audit pages."""
from portal.web.tables import Table


class AuditEventTable(Table):
    columns = ("#", "When (UTC)", "Actor", "Action", "Target", "Hash")
    row_template = "topics/audit/_event_row.html"
    empty_message = "No event matches."
    per_page = 50


class CheckpointTable(Table):
    columns = ("Signed at (UTC)", "Sequence", "Events", "Head hash", "Key", "Signature")
    row_template = "topics/audit/_checkpoint_row.html"
    empty_message = "No checkpoint yet: the first is written within one interval."

    def prepare(self, rows):
        return rows
