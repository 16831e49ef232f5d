"""The archive in a real browser: alice, who holds a live grant on a namespace, opens the archive from the
navigation, picks the namespace and a day, and downloads one of its Parquet files."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect

from accounts.models import GroupMapping, Team
from portal.core.audit import SYSTEM
from tests.browser.support import ALICE, sign_in
from tests.factories import default_policies, person
from tests.helpers import require_env
from topics.access.services import grant_directly
from topics.archive import layout, parquet
from topics.archive.store import default_store
from topics.catalogue.services import register_namespace
from topics.kafka.adapter import ArchivedRecord
from topics.models import RetentionClass
from topics.provisioning.principals import principal_for

pytestmark = [pytest.mark.ldap, pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(settings, tmp_path, unique):
    """alice's grant on a namespace whose archive holds one file on 2026-11-24 (rows and files written before the
    browser starts, see tests/browser/conftest.py)."""
    require_env("LDAP_URI", "KAFKA_BOOTSTRAP")
    settings.LOGWARDEN_ARCHIVE_STORE = str(tmp_path / "archive")
    default_store.cache_clear()
    default_policies()
    payments = Team.objects.create(slug="payments", name="Payments")
    GroupMapping.objects.create(ldap_group="team-payments", team=payments)
    RetentionClass.objects.get_or_create(name="standard", defaults={"retention_ms": 7 * 86_400_000})
    namespace = register_namespace(SYSTEM, name=f"arc-{unique}", owner_team=payments)
    topic = namespace.topics.get()
    start = int(datetime(2026, 11, 24, 10, tzinfo=UTC).timestamp() * 1000)
    records = [ArchivedRecord(0, n, start + n, b'{"log": "GET /health 200"}') for n in range(5)]
    file = parquet.file_for(namespace.name, topic.name, 0, records)
    data = parquet.encode(parquet.table_of(topic.name, 0, records))
    default_store().write(file.key, data)
    default_store().write(layout.manifest_key(file), parquet.manifest_bytes(parquet.manifest_of(file, records, data)))
    grant_directly(person("dave", superuser=True), principal=principal_for(person("alice", "team-payments")),
                   topic=topic, days=7, reason="incident 4711")
    yield namespace.name, file
    default_store.cache_clear()


def test_alice_downloads_a_file_of_an_archived_day(live_server, page, catalogue, tmp_path):
    name, file = catalogue
    page.goto(f"{live_server.url}/archive/")
    sign_in(page, ALICE)

    expect(page.get_by_role("heading", name="Archive")).to_be_visible()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=f"Archive of {name}")).to_be_visible()
    page.get_by_role("link", name="2026-11-24").click()
    file_name = file.key.rpartition("/")[2]
    with page.expect_download() as download:
        page.get_by_role("link", name=file_name).click()
    saved = tmp_path / file_name
    download.value.save_as(saved)
    assert download.value.suggested_filename == file_name
    assert pq.read_table(io.BytesIO(saved.read_bytes())).column("offset").to_pylist() == [0, 1, 2, 3, 4]
