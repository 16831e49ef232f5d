"""Browsing the archive, on the web pages and the API: the namespaces one holds a live grant on, their days, a
day's files, and downloads (audited). A namespace one cannot see is a 404; one without a live grant a 403, also
once the grant is revoked."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from django.test import Client

from portal.models import AuditEvent
from tests.api_clients import client_as
from tests.factories import topic_of
from topics.access import services as access
from topics.archive import layout, parquet
from topics.archive.store import default_store
from topics.kafka.adapter import ArchivedRecord
from topics.models import Grant, GrantState, ReadFrom, SensitivityPolicy
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 11, 24, 10, tzinfo=UTC)


@pytest.fixture
def archive(world, settings, tmp_path):
    """payments' archive holds two files on 2026-11-24 and one on 2026-11-25; alice holds a live grant on it,
    the service account one on checkout."""
    settings.LOGWARDEN_ARCHIVE_STORE = str(tmp_path / "archive")
    default_store.cache_clear()
    topic = topic_of(world.ns_payments)
    files = []
    for first, day_offset in ((0, 0), (10, 0), (20, 1)):
        ms = int(DAY.timestamp() * 1000) + day_offset * 86_400_000
        records = [ArchivedRecord(0, first + n, ms + n, b'{"log": "hello"}') for n in range(10)]
        file = parquet.file_for("payments", topic.name, 0, records)
        data = parquet.encode(parquet.table_of(topic.name, 0, records))
        default_store().write(file.key, data)
        default_store().write(layout.manifest_key(file), parquet.manifest_bytes(
            parquet.manifest_of(file, records, data)))
        files.append((file, data))
    grant = access.grant_directly(world.admin, principal=principal_for(world.engineer), topic=topic, days=7,
                                  reason="incident 4711")
    access.grant_directly(world.admin, principal=principal_for(world.service_account.user),
                          topic=topic_of(world.ns_checkout), days=7, reason="nightly export")
    yield files, grant
    default_store.cache_clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_granted_person_browses_days_and_files_and_downloads_one_audited(world, archive):
    files, _ = archive
    client = signed_in(world.engineer)
    page = client.get("/archive/").content.decode()
    assert "/archive/payments/" in page and "/archive/checkout/" not in page
    days = client.get("/archive/payments/").content.decode()
    assert days.index("2026-11-25") < days.index("2026-11-24")  # newest first
    listing = client.get("/archive/payments/2026-11-24/").content.decode()
    names = [file.key.rpartition("/")[2] for file, _ in files]
    assert names[0] in listing and names[1] in listing and names[2] not in listing

    response = client.get(f"/archive/payments/2026-11-24/{names[0]}")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body == files[0][1]
    assert response["Content-Disposition"] == f'attachment; filename="{names[0]}"'
    assert pq.read_table(io.BytesIO(body)).num_rows == 10
    event = AuditEvent.objects.get(action="archive.download")
    assert event.actor_label == "alice" and event.data["key"] == files[0][0].key


@pytest.mark.parametrize("url, status", [
    ("/archive/checkout/", 403), ("/archive/checkout/2026-11-24/", 403),
    ("/archive/nowhere/", 404), ("/archive/payments/2026-13-01/", 404),
    ("/archive/payments/2026-11-24/logs.payments+0+99-100.parquet", 404),
    ("/archive/payments/2026-11-24/..%2F..%2Fetc%2Fpasswd", 404),
])
def test_another_namespace_is_refused_and_what_does_not_exist_is_a_404(world, archive, url, status):
    assert signed_in(world.engineer).get(url).status_code == status
    assert not AuditEvent.objects.filter(action="archive.download").exists()


def test_a_revoked_grant_reads_no_more(world, archive):
    _, grant = archive
    access.end_grant(world.admin, grant, how=GrantState.REVOKED, reason="incident closed")
    assert signed_in(world.engineer).get("/archive/payments/").status_code == 403
    assert "/archive/payments/" not in signed_in(world.engineer).get("/archive/").content.decode()


def test_the_api_lists_days_and_files_and_downloads_for_the_granted_only(world, archive):
    files, _ = archive
    api = client_as(world, "engineer")
    assert [n["name"] for n in api.get("/api/archive/").json()["results"]] == ["payments"]
    assert [d["day"] for d in api.get("/api/archive/payments/days/").json()["results"]] == ["2026-11-25",
                                                                                            "2026-11-24"]
    listed = api.get("/api/archive/payments/days/2026-11-24/files/").json()["results"]
    assert [(f["first_offset"], f["last_offset"]) for f in listed] == [(0, 9), (10, 19)]
    response = api.get(f"/api/archive/payments/days/2026-11-24/files/{listed[1]['name']}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == files[1][1]
    assert AuditEvent.objects.filter(action="archive.download", data__key=files[1][0].key).exists()

    service_account = client_as(world, "service_account")
    assert [n["name"] for n in service_account.get("/api/archive/").json()["results"]] == ["checkout"]
    assert service_account.get("/api/archive/payments/days/").status_code == 403
    assert service_account.get("/api/archive/nowhere/days/").status_code == 404
    assert client_as(world, "anonymous").get("/api/archive/payments/days/").status_code in (401, 403)


@pytest.mark.parametrize("starts, listed, downloads", [
    # the grant started before every record of 11-24: all of it may be read
    (datetime(2026, 11, 24, 9, tzinfo=UTC), ["2026-11-25", "2026-11-24"], {0: 200, 1: 200, 2: 200}),
    # within 11-24's records: the day is listed, but its whole files hold earlier records (the query page shows
    # what may be read of them)
    (DAY + timedelta(milliseconds=5), ["2026-11-25", "2026-11-24"], {0: 403, 1: 403, 2: 200}),
    # on 11-25: 11-24 is no day of theirs
    (datetime(2026, 11, 25, 9, tzinfo=UTC), ["2026-11-25"], {0: 404, 1: 404, 2: 200}),
])
def test_a_grant_that_reads_only_from_its_start_browses_and_downloads_nothing_before_it(world, archive, starts,
                                                                                        listed, downloads):
    files, grant = archive
    SensitivityPolicy.objects.filter(level=world.ns_payments.sensitivity).update(read_from=ReadFrom.GRANT_START)
    Grant.objects.filter(pk=grant.pk).update(valid_from=starts)
    client = signed_in(world.engineer)

    days = client_as(world, "engineer").get("/api/archive/payments/days/").json()["results"]
    assert [day["day"] for day in days] == listed
    assert ("logs.payments+0+0-9.parquet" in client.get("/archive/payments/2026-11-24/").content.decode()) == (
        "2026-11-24" in listed)
    statuses = {}
    for index, (file, _) in enumerate(files):
        response = client.get(f"/archive/payments/{file.day.isoformat()}/{file.key.rpartition('/')[2]}")
        statuses[index] = response.status_code
    assert statuses == downloads
    assert AuditEvent.objects.filter(action="archive.download").count() == list(downloads.values()).count(200)
