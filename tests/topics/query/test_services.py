"""SQL over the archive on the real PostgreSQL (the audit trail, the grants) and DuckDB: a granted namespace's
archived files are queryable, nothing else is, every escape from the sandbox is refused with a clear message, the
budgets hold, and every query is one audit event."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tests.helpers import events
from tests.topics.query.archive_files import live_grant, records, temporary_store, write
from topics.models import Grant, ReadFrom, SensitivityPolicy
from topics.query import formats, services

DAY, NEXT_DAY = date(2026, 11, 24), date(2026, 11, 25)


@pytest.fixture
def archive(world, store):
    """alice may read payments (two days, two partitions archived); checkout is archived too, granted to erin."""
    live_grant(world.engineer, world.ns_payments)
    live_grant(world.outsider, world.ns_checkout)
    written = {"payments": [records("payments", DAY, partition=0, count=4),
                            records("payments", DAY, partition=1, first=100, count=3),
                            records("payments", NEXT_DAY, partition=0, first=4, count=2)],
               "checkout": [records("checkout", DAY, count=5)]}
    paths = {namespace: [write(store, namespace, day, table) for table, day in zip(tables, (DAY, DAY, NEXT_DAY))]
             for namespace, tables in written.items()}
    return written, paths


def run(user, sql, *names, date_from=None, date_to=None, **paging):
    return services.run(user, sql, services.scope_for(user, list(names), date_from, date_to), **paging)


def test_a_granted_namespaces_archive_is_queryable_row_for_row(world, archive):
    written, _ = archive
    page = run(world.engineer, "SELECT * FROM logs ORDER BY partition, \"offset\"", "payments", page_size=100)

    expected = sorted((row for table in written["payments"] for row in table.to_pylist()),
                      key=lambda row: (row["partition"], row["offset"]))
    names = [column.name for column in page.columns]
    got = [dict(zip(names, row)) for row in page.rows]
    assert [{key: row[key] for key in expected[0]} | {"labels": dict(row["labels"])} for row in got] == [
        row | {"labels": dict(row["labels"])} for row in expected]
    assert {(row["namespace"], row["date"]) for row in got} == {("payments", DAY), ("payments", NEXT_DAY)}
    assert page.files == 3 and not page.has_next


def test_no_namespace_named_means_every_readable_one_and_nothing_else(world, archive):
    page = run(world.engineer, "SELECT namespace, count(*) FROM logs GROUP BY namespace")
    assert page.rows == [("payments", 9)]


def test_a_grant_that_reads_only_from_its_start_sees_no_archived_record_before_it(world, archive):
    SensitivityPolicy.objects.filter(level=world.ns_payments.sensitivity).update(read_from=ReadFrom.GRANT_START)
    Grant.objects.filter(principal__user=world.engineer).update(
        valid_from=datetime(2026, 11, 24, 10, 0, 2, tzinfo=timezone.utc))  # records are 10:00:00 + n s

    page = run(world.engineer, "SELECT partition, \"offset\" FROM logs ORDER BY ALL", "payments")
    assert page.rows == [(0, 2), (0, 3), (0, 4), (0, 5), (1, 102)]
    everything = run(world.engineer, "SELECT count(*) FROM logs a JOIN logs b USING (partition, \"offset\")")
    assert everything.rows == [(5,)]


def test_another_namespaces_files_are_not_readable_by_their_path(world, archive):
    _, paths = archive
    with pytest.raises(services.QueryRefused, match="disabled by configuration"):
        run(world.engineer, f"SELECT * FROM read_parquet('{paths['checkout'][0]}')", "payments")
    with pytest.raises(services.QueryRefused, match="disabled by configuration"):
        run(world.engineer, f"SELECT * FROM read_parquet('{paths['payments'][0].rsplit('/', 3)[0]}/**/*.parquet')")


def test_a_date_range_reads_only_its_days(world, archive):
    page = run(world.engineer, "SELECT DISTINCT date FROM logs", "payments", date_from=NEXT_DAY, date_to=NEXT_DAY)
    assert page.rows == [(NEXT_DAY,)] and page.files == 1


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM read_text('/etc/hostname')", "disabled by configuration"),
    ("SELECT * FROM glob('/etc/*')", "disabled by configuration"),
    ("ATTACH '/tmp/other.duckdb' AS other", "Only a read-only query runs here"),
    ("COPY (SELECT * FROM logs) TO '/tmp/out.csv'", "Only a read-only query runs here"),
    ("INSTALL httpfs", "Only a read-only query runs here"),
    ("LOAD httpfs", "Only a read-only query runs here"),
    ("SET memory_limit = '64GB'", "Only a read-only query runs here"),
    ("PRAGMA threads = 64", "Only a read-only query runs here"),
    ("SELECT 1; SELECT 2", "One statement at a time: this text has 2"),
    ("  -- only a comment\n", "No statement"),
    ("SELECT * FROM logs WHERE", "Parser Error"),
    ("SELECT * FROM secrets", "Table with name secrets does not exist"),
])
def test_each_escape_is_refused_clearly_and_audited(world, archive, sql, message):
    with pytest.raises(services.QueryRefused, match=message):
        run(world.engineer, sql, "payments")

    (event,) = events("query.run")
    assert event.data["sql"] == sql and message.split(":")[0] in event.data["refused"]
    assert event.actor == world.engineer and event.data["rows"] == 0


def test_the_sandbox_itself_refuses_what_the_statement_check_lets_through(world, archive):
    """Defence in depth: the same escapes inside a connection of the sandbox, past the statement check."""
    with services.Execution(world.engineer, "SELECT 1", services.Scope(("payments",)), "query.run") as execution:
        for statement, message in [
                ("ATTACH '/tmp/other.duckdb' AS other", "disabled by configuration"),
                ("COPY (SELECT 1) TO '/tmp/out.csv'", "disabled by configuration"),
                ("INSTALL httpfs", "disabled by configuration"),
                ("LOAD httpfs", "disabled through configuration"),
                ("SET memory_limit = '64GB'", "the configuration has been locked"),
                ("SET enable_external_access = true", "the configuration has been locked"),
                ("PRAGMA threads = 64", "the configuration has been locked")]:
            with pytest.raises(Exception, match=message):
                execution.connection.execute(statement)
        assert execution.connection.sql("SELECT current_setting('threads')").fetchall() == [(2,)]


def test_the_time_budget_interrupts_a_slow_query(world, archive, settings):
    settings.LOGWARDEN_QUERY_TIMEOUT_SECONDS = 1
    started = time.monotonic()
    with pytest.raises(services.QueryRefused, match="Stopped after its time budget of 1 s"):
        run(world.engineer, "SELECT count(*) FROM logs CROSS JOIN range(1000000000000) a "
                            "WHERE a.range + logs.\"offset\" = -1", "payments")
    assert time.monotonic() - started < 5
    (event,) = events("query.run")
    assert "time budget" in event.data["refused"]


def test_the_memory_budget_stops_a_query_that_outgrows_it(world, archive, settings):
    settings.LOGWARDEN_QUERY_MEMORY_LIMIT = "32MiB"
    with pytest.raises(services.QueryRefused, match="memory budget of 32MiB"):
        run(world.engineer, "SELECT count(DISTINCT range::VARCHAR || repeat('x', 40)) FROM range(20000000)",
            "payments")


def test_a_query_longer_than_the_limit_is_refused(world, archive, settings):
    settings.LOGWARDEN_QUERY_MAX_SQL_LENGTH = 20
    with pytest.raises(services.QueryRefused, match="At most 20 characters of SQL"):
        run(world.engineer, "SELECT * FROM logs WHERE log LIKE '%x%'", "payments")


def test_results_are_paged(world, archive):
    sql = "SELECT \"offset\" FROM logs WHERE partition = 0 ORDER BY \"offset\""
    first = run(world.engineer, sql, "payments", page_size=4)
    second = run(world.engineer, sql, "payments", page=2, page_size=4)

    assert first.rows == [(0,), (1,), (2,), (3,)] and first.has_next
    assert second.rows == [(4,), (5,)] and not second.has_next


def test_a_successful_query_is_audited_with_its_text_rows_and_namespaces(world, archive):
    run(world.engineer, "SELECT * FROM logs", "payments", date_from=DAY, date_to=NEXT_DAY)

    (event,) = events("query.run")
    assert event.actor == world.engineer
    assert {key: event.data[key] for key in ("sql", "namespaces", "rows", "files", "date_from", "date_to")} == {
        "sql": "SELECT * FROM logs", "namespaces": ["payments"], "rows": 9, "files": 3, "date_from": "2026-11-24",
        "date_to": "2026-11-25"}
    assert event.data["duration_ms"] >= 0 and "refused" not in event.data


def test_a_namespace_without_a_live_grant_is_a_403_and_an_unknown_one_a_404(world, archive):
    with pytest.raises(PermissionDenied, match="checkout"):
        services.scope_for(world.engineer, ["checkout"])
    with pytest.raises(Http404):
        services.scope_for(world.engineer, ["nowhere"])
    assert services.scope_for(world.owner, None).namespaces == ()  # owning a namespace reads nothing by itself


def test_an_ended_grant_reads_nothing(world, store):
    live_grant(world.engineer, world.ns_payments, ended=True)
    write(store, "payments", DAY, records("payments", DAY))
    with pytest.raises(PermissionDenied):
        services.scope_for(world.engineer, ["payments"])
    assert run(world.engineer, "SELECT count(*) FROM logs").rows == [(0,)]


def test_a_service_account_reads_with_its_own_grant(world, archive):
    live_grant(world.service_account.user, world.ns_checkout)
    assert run(world.service_account.user, "SELECT count(*) FROM logs").rows == [(5,)]


def test_a_download_streams_every_row_up_to_the_bound(world, archive, settings):
    settings.LOGWARDEN_QUERY_DOWNLOAD_ROWS = 7
    scope = services.scope_for(world.engineer, ["payments"])
    download = services.Download(world.engineer, "SELECT \"offset\", labels FROM logs ORDER BY partition, \"offset\"",
                                 scope, format_="json", encode=formats.json_file)
    rows = json.loads(b"".join(download))

    assert [row["offset"] for row in rows] == [0, 1, 2, 3, 4, 5, 100]
    assert rows[0]["labels"] == {"app": "api", "tier": "backend"}
    (event,) = events("query.download")
    assert event.data["rows"] == 7 and event.data["format"] == "json" and event.data["truncated"]


def test_a_download_within_the_bound_is_whole(world, archive, settings):
    settings.LOGWARDEN_QUERY_DOWNLOAD_ROWS = 9
    scope = services.scope_for(world.engineer, ["payments"])
    text = b"".join(services.Download(world.engineer, "SELECT \"offset\" FROM logs", scope, format_="csv",
                                      encode=formats.csv_file)).decode()
    assert len(text.splitlines()) == 10
    (event,) = events("query.download")
    assert event.data["rows"] == 9 and "truncated" not in event.data


def test_a_download_that_runs_out_of_time_breaks_off(world, archive, settings):
    settings.LOGWARDEN_QUERY_TIMEOUT_SECONDS = 1
    scope = services.scope_for(world.engineer, ["payments"])
    download = services.Download(world.engineer, "SELECT a.range FROM logs CROSS JOIN range(1000000000000) a "
                                                 "WHERE a.range + logs.\"offset\" = -1", scope, format_="csv",
                                 encode=formats.csv_file)
    with pytest.raises(services.QueryRefused, match="time budget"):
        b"".join(download)
    (event,) = events("query.download")
    assert "time budget" in event.data["refused"]


def test_a_download_closed_unread_is_still_audited(world, archive):
    scope = services.scope_for(world.engineer, ["payments"])
    services.Download(world.engineer, "SELECT 1", scope, format_="csv", encode=formats.csv_file).close()
    (event,) = events("query.download")
    assert event.data["rows"] == 0


def test_queries_past_the_concurrency_bound_are_refused_until_one_ends(world, archive, settings):
    settings.LOGWARDEN_QUERY_CONCURRENCY = 1
    with services.Execution(world.engineer, "SELECT 1", services.Scope(("payments",)), "query.run"):
        with pytest.raises(services.QueryBusy, match="retry shortly"):
            run(world.engineer, "SELECT 2", "payments")
    assert run(world.engineer, "SELECT 3", "payments").rows == [(3,)]
    assert services.admission.running == 0


def test_an_archive_that_cannot_be_listed_is_unavailable_not_a_crash(world, settings):
    """A bucket on an S3 endpoint nothing listens on."""
    live_grant(world.engineer, world.ns_payments)
    settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT, settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY = "http://127.0.0.1:9", "key"
    settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY = "secret-of-the-test"
    with temporary_store(settings, "s3://archive"):
        with pytest.raises(services.ArchiveUnavailable, match="cannot be listed") as refused:
            run(world.engineer, "SELECT 1", "payments")
    assert "secret-of-the-test" not in str(refused.value)
    assert services.admission.running == 0
