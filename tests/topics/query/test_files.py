"""Which files a query reads: only the namespaces' archived files, and only the days asked. Pure, plus a store
in a temporary directory."""
from __future__ import annotations

from datetime import date, datetime, timezone

from tests.topics.query.archive_files import records, write
from topics.archive.store import store_for
from topics.archive import dataset

DAY = date(2026, 11, 24)


def test_a_short_range_is_listed_day_by_day():
    assert dataset.listing_prefixes("pay", date(2026, 11, 30), date(2026, 12, 1)) == [
        "namespace=pay/date=2026-11-30/", "namespace=pay/date=2026-12-01/"]


def test_an_open_or_long_range_lists_the_namespace_once():
    assert dataset.listing_prefixes("pay", None, DAY) == ["namespace=pay/"]
    assert dataset.listing_prefixes("pay", date(2026, 1, 1), date(2026, 12, 31)) == ["namespace=pay/"]


def test_only_archived_files_of_the_namespace_and_its_days_are_in_scope():
    key = "namespace=pay/date=2026-11-24/logs.pay+0+0-9.parquet"
    assert dataset.in_scope(key, "pay", None, None)
    assert dataset.in_scope(key, "pay", DAY, DAY)
    assert not dataset.in_scope(key, "pay", date(2026, 11, 25), None)
    assert not dataset.in_scope(key, "pay", None, date(2026, 11, 23))
    assert not dataset.in_scope(key, "payments", None, None)
    assert not dataset.in_scope(key + ".manifest.json", "pay", None, None)


def test_the_store_is_listed_for_the_scope_only(tmp_path):
    store = store_for(str(tmp_path))
    for namespace, day in (("pay", DAY), ("pay", date(2026, 11, 25)), ("pay-archive", DAY), ("chk", DAY)):
        write(store, namespace, day, records(namespace, day))
    (tmp_path / "namespace=pay" / "date=2026-11-24" / "logs.pay+0+0-2.parquet.manifest.json").write_text("{}")

    assert dataset.archived_keys(store, dataset.Scope(("pay",))) == [
        "namespace=pay/date=2026-11-24/logs.pay+0+0-2.parquet", "namespace=pay/date=2026-11-25/logs.pay+0+0-2.parquet"]
    assert dataset.archived_keys(store, dataset.Scope(("pay", "chk"), DAY, DAY)) == [
        "namespace=pay/date=2026-11-24/logs.pay+0+0-2.parquet", "namespace=chk/date=2026-11-24/logs.chk+0+0-2.parquet"]


def test_the_dataset_adds_namespace_and_date_from_the_keys(tmp_path):
    store = store_for(str(tmp_path))
    write(store, "pay", DAY, records("pay", DAY, count=2))
    table = dataset.logs_dataset(store, dataset.archived_keys(store, dataset.Scope(("pay",)))).to_table()

    assert table.column("namespace").to_pylist() == ["pay", "pay"]
    assert table.column("date").to_pylist() == [DAY, DAY]
    assert table.schema == dataset.LOGS_SCHEMA
    assert dataset.logs_dataset(store, []).to_table().num_rows == 0


def test_a_namespace_read_from_a_time_on_shows_nothing_before_it(tmp_path):
    store = store_for(str(tmp_path))
    for namespace, day in (("pay", date(2026, 11, 23)), ("pay", DAY), ("chk", date(2026, 11, 23))):
        write(store, namespace, day, records(namespace, day, count=4))  # 10:00:00 … 10:00:03 UTC
    since = datetime(2026, 11, 24, 10, 0, 2, tzinfo=timezone.utc)
    scope = dataset.Scope(("pay", "chk"), since=(("pay", since),))

    keys = dataset.archived_keys(store, scope)
    assert keys == ["namespace=pay/date=2026-11-24/logs.pay+0+0-3.parquet",
                    "namespace=chk/date=2026-11-23/logs.chk+0+0-3.parquet"]  # pay's earlier day is not even listed
    rows = dataset.logs_dataset(store, keys, scope.since).to_table().to_pylist()
    assert sorted((row["namespace"], row["offset"]) for row in rows) == [
        ("chk", 0), ("chk", 1), ("chk", 2), ("chk", 3), ("pay", 2), ("pay", 3)]
