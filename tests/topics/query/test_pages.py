"""The query page on the real PostgreSQL: the view's columns, a page of results, errors on the form, downloads."""
from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import events, html
from tests.topics.query.archive_files import live_grant, records, write

DAY = date(2026, 11, 24)


@pytest.fixture
def archive(world, store):
    live_grant(world.engineer, world.ns_payments)
    write(store, "payments", DAY, records("payments", DAY, count=60))


def test_the_page_shows_the_view_and_the_readable_namespaces(world, archive, client):
    client.force_login(world.engineer)
    page = html(client.get("/query/"))
    assert "<code>container_name</code>" in page and 'value="payments"' in page and 'value="checkout"' not in page


def test_a_query_shows_a_page_of_results_with_the_next_one(world, archive, client):
    client.force_login(world.engineer)
    response = client.post("/query/", {"sql": "SELECT \"offset\", log FROM logs ORDER BY \"offset\"", "page": "2"})

    page = html(response)
    assert response.status_code == 200
    assert "<td>50</td>" in page and "<td>59</td>" in page and "<td>49</td>" not in page
    assert "Previous" in page and ">Next<" not in page
    assert len(events("query.run")) == 1


def test_refused_sql_is_shown_on_the_form_and_kept(world, archive, client):
    client.force_login(world.engineer)
    response = client.post("/query/", {"sql": "SELECT * FROM read_csv('/etc/passwd')"})

    assert response.status_code == 400
    assert "disabled by configuration" in html(response) and "read_csv(&#x27;/etc/passwd&#x27;)" in html(response)


def test_a_namespace_not_readable_is_refused_on_the_form(world, archive, client):
    client.force_login(world.outsider)
    response = client.post("/query/", {"sql": "SELECT 1", "namespaces": ["payments"]})
    assert response.status_code == 400 and events("query.run") == []


def test_the_download_is_a_csv_file(world, archive, client):
    client.force_login(world.engineer)
    response = client.post("/query/download/csv/", {"sql": "SELECT count(*) AS n FROM logs"})

    assert response["Content-Disposition"] == 'attachment; filename="logs-query.csv"'
    assert b"".join(response.streaming_content) == b"n\r\n60\r\n"
    assert client.post("/query/download/xml/", {"sql": "SELECT 1"}).status_code == 404
