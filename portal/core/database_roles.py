"""The two PostgreSQL roles of an installation: the owner, which runs migrations, and the runtime role, which the
application connects as.

The owner (LOGWARDEN_MIGRATE_DATABASE_URL) owns every table. The runtime role (DATABASE_URL) may SELECT,
INSERT, UPDATE and DELETE elsewhere, but only INSERT and SELECT on the audit trail: it cannot change, delete or
truncate an event, and, not owning the table, cannot disable its triggers or drop them. The grants are made by
the owner after each `migrate` (`grant_runtime_privileges`, a post_migrate receiver), for the tables there are
and, as default privileges, for those later migrations create.

Without LOGWARDEN_MIGRATE_DATABASE_URL (SQLite, or one PostgreSQL role for everything) migrations run as the
DATABASE_URL role and nothing is granted.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

# only appended to and read by the runtime role: the trail, and the record of applied migrations
APPEND_ONLY_TABLES = ("portal_auditevent",)
READ_ONLY_TABLES = ("django_migrations",)


def owner_credentials() -> dict[str, str] | None:
    """USER and PASSWORD of the owner role, or None when migrations run as the DATABASE_URL role."""
    return settings.LOGWARDEN_DATABASE_ROLES and dict(settings.LOGWARDEN_DATABASE_ROLES["owner"])


def runtime_credentials() -> dict[str, str] | None:
    """USER and PASSWORD of the role the application connects as, when it is not the owner."""
    return settings.LOGWARDEN_DATABASE_ROLES and dict(settings.LOGWARDEN_DATABASE_ROLES["runtime"])


def runtime_role() -> str | None:
    runtime = runtime_credentials()
    return runtime["USER"] if runtime else None


@contextmanager
def as_owner(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Connects `connection` as the owner role for the block (the same database), then as before."""
    owner = owner_credentials()
    if owner is None or connection.vendor != "postgresql":
        yield
        return
    previous = {key: connection.settings_dict[key] for key in owner}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(previous)


@contextmanager
def trail_unprotected(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The block's transaction may empty the audit trail: its triggers are off until the transaction ends, in
    which the owner's ALTER TABLE holds the table's exclusive lock, so nobody else writes or sees it meanwhile.
    Only the test suite's and the benchmarks' flushes use it (see portal/management/commands/flush.py)."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        if connection.vendor == "postgresql":
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def grant_runtime_privileges(connection: BaseDatabaseWrapper) -> None:
    """Run as the owner: the runtime role's privileges on the schema's tables and sequences, now and for tables
    created later. Idempotent (each migrate repeats it), so a runtime role configured after the tables were made
    gets its grants at the next migrate."""
    role = runtime_role()
    if role is None or connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    grantee = quote(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {grantee}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {grantee}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
                       f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {grantee}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {grantee}")
        existing = set(connection.introspection.table_names(cursor))
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                cursor.execute(f"REVOKE ALL ON {quote(table)} FROM {grantee}")
                cursor.execute(f"GRANT SELECT, INSERT ON {quote(table)} TO {grantee}")
        for table in READ_ONLY_TABLES:
            if table in existing:
                cursor.execute(f"REVOKE ALL ON {quote(table)} FROM {grantee}")
                cursor.execute(f"GRANT SELECT ON {quote(table)} TO {grantee}")
