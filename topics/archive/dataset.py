"""The archived Parquet a reader may see, as one pyarrow dataset: which files the store holds for some
namespaces and days (listed by the server, never named by the caller), and the dataset over them with the
namespace and date keys of the Hive layout as columns, already cut at how far back each namespace's grants read.
Both the SQL query (topics.query) and the logs view's archive search (topics.logs.archive) read through it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.dataset as ds

from topics.archive import layout
from topics.archive.store import ArchiveStore

LOGS_SCHEMA = (layout.RECORD_SCHEMA.append(pa.field("namespace", pa.string(), nullable=False))
               .append(pa.field("date", pa.date32(), nullable=False)))
# the Hive keys' directories become the view's namespace and date columns
PARTITIONING = ds.partitioning(pa.schema([LOGS_SCHEMA.field("namespace"), LOGS_SCHEMA.field("date")]), flavor="hive")
# a shorter date range is listed day by day; a longer one (or an open one) lists the namespace once and keeps the
# keys of its days, so the number of listings stays small either way
DAY_LISTINGS = 31

@dataclass(frozen=True)
class Scope:
    """The namespaces (each one the caller may read) and the days a query reads; open ends read every day."""

    namespaces: tuple[str, ...]
    date_from: date | None = None
    date_to: date | None = None
    # (namespace, the earliest record time its grants let the caller read): the sensitivity policy's read_from,
    # for namespaces that read only from the grant's start (topics.policy.logs_readable_since)
    since: tuple[tuple[str, datetime], ...] = ()

    def first_day(self, namespace: str) -> date | None:
        bound = dict(self.since).get(namespace)
        if bound is None:
            return self.date_from
        return max(self.date_from, bound.date()) if self.date_from else bound.date()

def listing_prefixes(namespace: str, date_from: date | None, date_to: date | None) -> list[str]:
    """The store prefixes to list for a namespace's days: each day of a short closed range, else the namespace."""
    if date_from and date_to and (date_to - date_from).days < DAY_LISTINGS:
        return [layout.day_prefix(namespace, date_from + timedelta(days=offset))
                for offset in range((date_to - date_from).days + 1)]
    return [layout.namespace_prefix(namespace)]

def in_scope(key: str, namespace: str, date_from: date | None, date_to: date | None) -> bool:
    """Whether a listed key is an archived file of the namespace within the days (manifests and anything else in
    the store are not)."""
    archived = layout.parse(key)
    return (archived is not None and archived.namespace == namespace
            and (date_from is None or archived.day >= date_from) and (date_to is None or archived.day <= date_to))

def archived_keys(store: ArchiveStore, scope: Scope) -> list[str]:
    keys = []
    for namespace in scope.namespaces:
        first_day = scope.first_day(namespace)
        keys += [stored.key for prefix in listing_prefixes(namespace, first_day, scope.date_to)
                 for stored in store.list(prefix) if in_scope(stored.key, namespace, first_day, scope.date_to)]
    return keys

def logs_dataset(store: ArchiveStore, keys: list[str], since: tuple[tuple[str, datetime], ...] = ()) -> ds.Dataset:
    """The files as one dataset of LOGS_SCHEMA, read lazily through the store's filesystem (DuckDB pushes its
    column choice and filters down into the scan); no files: an empty one, so `logs` still exists. A namespace
    read only from a time on (`since`) shows no record from before it: the dataset itself is filtered, so no SQL
    can see past the bound."""
    if not keys:
        return ds.dataset(LOGS_SCHEMA.empty_table())
    dataset = ds.dataset([store.path(key) for key in keys], schema=LOGS_SCHEMA, format="parquet",
                         filesystem=store.filesystem, partitioning=PARTITIONING, partition_base_dir=store.root)
    if not since:
        return dataset
    namespace, timestamp = ds.field("namespace"), ds.field("timestamp")
    readable = ~namespace.isin([name for name, _ in since])
    for name, bound in since:
        readable = readable | ((namespace == name) & (timestamp >= pa.scalar(
            bound.astimezone(timezone.utc), type=LOGS_SCHEMA.field("timestamp").type)))
    return dataset.filter(readable)

