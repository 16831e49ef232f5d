"""PostgreSQL refuses TRUNCATE of the audit trail too (a statement trigger; the row trigger of 0002 never sees
one). Only the table's owner could still switch the triggers off: the runtime role neither owns the table nor
holds TRUNCATE on it (portal/core/database_roles.py). The test suite's flushes empty it as the owner, with the
triggers off inside their own transaction (portal/management/commands/flush.py)."""
from django.db import migrations

FORBID = """
CREATE TRIGGER portal_auditevent_no_truncate BEFORE TRUNCATE ON portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION logwarden_audit_append_only();
"""
ALLOW = "DROP TRIGGER IF EXISTS portal_auditevent_no_truncate ON portal_auditevent;"


def on_postgresql(sql):
    """A RunPython step that runs `sql` on PostgreSQL only (SQLite has no statement triggers)."""
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_audit_append_only")]
    operations = [migrations.RunPython(on_postgresql(FORBID), on_postgresql(ALLOW))]
