"""SQL over the archive: a caller's SQL, run by DuckDB over the archived Parquet of the namespaces they may read
(topics.policy.readable_namespaces) and nothing else.

The server picks the files: it lists the store under the namespaces (and only the days) asked and hands DuckDB
one pyarrow dataset of them, read through the store's own filesystem (a bucket works as a directory does), as the
view `logs`: the record columns of topics.archive.layout plus `namespace` and `date`. The SQL then runs in a
connection that reaches nothing else: external access off (read_parquet of any path, read_csv, ATTACH,
COPY … TO, INSTALL all fail), extensions never loaded, Python variables never scanned, and the configuration
locked once the budgets are set, so SET or PRAGMA cannot raise them. A timer interrupts it after its time budget.
One read-only statement runs (SELECT, WITH, FROM …, DESCRIBE); every query is audited, refused ones too.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache

import duckdb
import pyarrow.dataset as ds
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from portal.core import audit
from portal.core.limits import excerpt
from topics import policy
from topics.archive.dataset import LOGS_SCHEMA, Scope, archived_keys, logs_dataset
from topics.archive.store import default_store
from topics.models import Namespace

VIEW = "logs"
MESSAGE_LENGTH = 500
BATCH_ROWS = 1000


class QueryRefused(Exception):
    """The SQL cannot run or failed while running (a parse or bind error, a refused escape, a budget): its message
    says why and is safe to show to the caller."""


class QueryBusy(QueryRefused):
    """As many queries as settings.LOGWARDEN_QUERY_CONCURRENCY allows are running in this process: retry shortly."""


class ArchiveUnavailable(QueryRefused):
    """The archive's store could not be listed (a bucket unreachable): nothing is wrong with the query."""


class _Admission:
    """Counts the queries running in this process, so their memory budgets together stay bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0

    def enter(self) -> None:
        with self._lock:
            if self.running >= settings.LOGWARDEN_QUERY_CONCURRENCY:
                raise QueryBusy(f"{self.running} queries are running already, the most at once: retry shortly.")
            self.running += 1

    def leave(self) -> None:
        with self._lock:
            self.running -= 1


admission = _Admission()


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class Page:
    columns: list[Column]
    rows: list[tuple]
    page: int
    page_size: int
    has_next: bool
    duration_ms: int
    files: int


def scope_for(actor, names: list[str] | None = None, date_from: date | None = None,
              date_to: date | None = None) -> Scope:
    """The namespaces named (all the caller may read when none are), each checked with topics.policy: a name
    that is no namespace is a 404, a namespace without a live grant of the caller's a 403."""
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": ["Must not be before date_from."]})
    readable = policy.readable_namespaces(actor)
    if not names:
        return _scope(actor, readable.order_by("name"), date_from, date_to)
    wanted = sorted(set(names))
    unknown = sorted(set(wanted) - set(Namespace.objects.filter(name__in=wanted).values_list("name", flat=True)))
    if unknown:
        raise Http404(f"No namespace {excerpt(unknown[0])!r}.")
    granted = readable.filter(name__in=wanted).order_by("name")
    ungranted = sorted(set(wanted) - {namespace.name for namespace in granted})
    if ungranted:
        raise PermissionDenied(f"No live grant of yours on {', '.join(ungranted)}: request access to read its logs.")
    return _scope(actor, granted, date_from, date_to)


def _scope(actor, namespaces, date_from: date | None, date_to: date | None) -> Scope:
    since = []
    for namespace in namespaces:
        bound = policy.logs_readable_since(namespace, list(policy.live_read_grants(actor, namespace)))
        if bound is not None:
            since.append((namespace.name, bound))
    return Scope(tuple(namespace.name for namespace in namespaces), date_from, date_to, tuple(since))


@cache
def logs_columns() -> list[Column]:
    """The `logs` view's columns with their DuckDB types, as a query sees them."""
    with duckdb.connect(":memory:", config=_sandbox(None)) as connection:
        connection.register(VIEW, ds.dataset(LOGS_SCHEMA.empty_table()))
        relation = connection.sql(f"SELECT * FROM {VIEW}")
        return [Column(name, str(type_)) for name, type_ in zip(relation.columns, relation.types)]


# --- running ---------------------------------------------------------------------------------------------------

def _sandbox(temp_directory: str | None) -> dict:
    return {
        "enable_external_access": False, "autoload_known_extensions": False, "autoinstall_known_extensions": False,
        "allow_community_extensions": False, "python_enable_replacements": False,
        "memory_limit": settings.LOGWARDEN_QUERY_MEMORY_LIMIT, "threads": settings.LOGWARDEN_QUERY_THREADS,
        "temp_directory": temp_directory or "", "max_temp_directory_size": settings.LOGWARDEN_QUERY_TEMP_LIMIT,
    }


def read_only_statement(connection: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The one read-only statement the text holds, or QueryRefused saying why not."""
    limit = settings.LOGWARDEN_QUERY_MAX_SQL_LENGTH
    if len(sql) > limit:
        raise QueryRefused(f"At most {limit} characters of SQL (this has {len(sql)}).")
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(_message(exc)) from None
    if not statements:
        raise QueryRefused("No statement: write one query, e.g. SELECT * FROM logs LIMIT 10.")
    if len(statements) != 1:
        raise QueryRefused(f"One statement at a time: this text has {len(statements)}.")
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        raise QueryRefused(f"Only a read-only query runs here (SELECT, WITH, FROM …, DESCRIBE), "
                           f"not {statement.type.name}.")
    return statement.query


def _message(exc: duckdb.Error) -> str:
    if isinstance(exc, duckdb.InterruptException):
        return (f"Stopped after its time budget of {settings.LOGWARDEN_QUERY_TIMEOUT_SECONDS} s: narrow it "
                f"(fewer namespaces or days, a LIMIT).")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return (f"Needed more than its memory budget of {settings.LOGWARDEN_QUERY_MEMORY_LIMIT}: narrow it "
                f"(fewer namespaces or days, fewer columns, a LIMIT).")
    # DuckDB's own first paragraph names what failed; its tuning hints speak of settings nobody here can change
    return excerpt(str(exc).split("\n\n")[0].strip(), MESSAGE_LENGTH)


class Execution:
    """One query from parsing to its audit event. Entering it opens the sandboxed connection with `logs` over the
    scope's files and binds the SQL (`relation`); leaving it stops the timer, closes the connection, removes the
    query's spill directory and records the event, with `rows` and, if something ended it, the refusal. DuckDB's
    errors leave it as QueryRefused."""

    def __init__(self, actor, sql: str, scope: Scope, action: str, **details) -> None:
        self.actor, self.sql, self.scope, self.action, self.details = actor, sql, scope, action, details
        self.rows = self.files = 0
        self.relation: duckdb.DuckDBPyRelation | None = None

    def __enter__(self) -> Execution:
        self.started = time.monotonic()
        self.admitted = False
        self.temp_directory = (tempfile.mkdtemp(prefix="query-", dir=settings.LOGWARDEN_QUERY_TEMP_DIRECTORY)
                               if settings.LOGWARDEN_QUERY_TEMP_DIRECTORY else None)
        self.connection = duckdb.connect(":memory:", config=_sandbox(self.temp_directory))
        self.timer = threading.Timer(settings.LOGWARDEN_QUERY_TIMEOUT_SECONDS, self.connection.interrupt)
        try:
            statement = read_only_statement(self.connection, self.sql)
            admission.enter()
            self.admitted = True
            try:
                store = default_store()
                keys = archived_keys(store, self.scope)
            except OSError as exc:
                raise ArchiveUnavailable(f"The archive cannot be listed right now ({excerpt(exc, 200)}): "
                                         f"retry later.") from None
            self.files = len(keys)
            self.connection.register(VIEW, logs_dataset(store, keys, self.scope.since))
            self.connection.execute("SET lock_configuration = true")
            self.timer.start()
            self.relation = self.connection.sql(statement)
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)  # a DuckDB error leaves as QueryRefused
            raise
        return self

    @property
    def duration_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)

    def columns(self) -> list[Column]:
        return [Column(name, str(type_)) for name, type_ in zip(self.relation.columns, self.relation.types)]

    def __exit__(self, exc_type, exc, traceback) -> bool:
        self.timer.cancel()
        self.connection.close()
        if self.admitted:
            admission.leave()
            self.admitted = False
        if self.temp_directory:
            shutil.rmtree(self.temp_directory, ignore_errors=True)
        outcome = {}
        if exc is not None:
            outcome = {"refused": _message(exc) if isinstance(exc, duckdb.Error) else str(exc) or exc_type.__name__}
        audit.record(self.actor, self.action, target_type="query", target_label=", ".join(self.scope.namespaces),
                     sql=self.sql[:settings.LOGWARDEN_QUERY_MAX_SQL_LENGTH], namespaces=list(self.scope.namespaces),
                     date_from=_iso(self.scope.date_from), date_to=_iso(self.scope.date_to), files=self.files,
                     rows=self.rows, duration_ms=self.duration_ms, **self.details, **outcome)
        if isinstance(exc, duckdb.Error):
            raise QueryRefused(outcome["refused"]) from None
        return False


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def run(actor, sql: str, scope: Scope, *, page: int = 1, page_size: int = 50) -> Page:
    """One page of the query's rows (pages from 1), and whether another follows."""
    with Execution(actor, sql, scope, "query.run", page=page, page_size=page_size) as execution:
        rows = execution.relation.limit(page_size + 1, offset=(page - 1) * page_size).fetchall()
        execution.rows = min(len(rows), page_size)
        columns = execution.columns()
    return Page(columns, rows[:page_size], page, page_size, len(rows) > page_size, execution.duration_ms,
                execution.files)


class Download:
    """The query's result as a file, its first settings.LOGWARDEN_QUERY_DOWNLOAD_ROWS rows: an iterator of its bytes,
    which `encode(columns, batches of rows)` makes (topics.query.formats), for a streamed response. Parse and bind
    errors are raised when it is made, before any byte; a failure mid-way (the time budget) raises while
    iterating, so the transfer breaks off instead of ending as if complete. Closing it, which the response does
    even when nothing was read, ends the query and records its audit event with the rows sent."""

    def __init__(self, actor, sql: str, scope: Scope, *, format_: str,
                 encode: Callable[[list[Column], Iterator[list[tuple]]], Iterator[bytes]]) -> None:
        self.execution = Execution(actor, sql, scope, "query.download", format=format_).__enter__()
        self.columns = self.execution.columns()
        self._chunks = encode(self.columns, self._batches())
        self._closed = False

    def _batches(self) -> Iterator[list[tuple]]:
        bound = settings.LOGWARDEN_QUERY_DOWNLOAD_ROWS
        # one row past the bound tells a result cut short (audited as truncated) from one that fits exactly
        for batch in self.execution.relation.limit(bound + 1).to_arrow_reader(BATCH_ROWS):
            # maps as dicts, as DuckDB's own rows give them
            rows = list(zip(*(column.to_pylist(maps_as_pydicts="lossy") for column in batch.columns)))
            if self.execution.rows + len(rows) > bound:
                rows = rows[:bound - self.execution.rows]
                self.execution.details["truncated"] = True
            self.execution.rows += len(rows)
            yield rows

    def __iter__(self) -> Download:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except BaseException as exc:
            self.close(exc)
            raise

    def close(self, exc: BaseException | None = None) -> None:
        if not self._closed:
            self._closed = True
            self.execution.__exit__(type(exc) if exc else None, exc, None)
