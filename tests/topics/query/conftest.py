"""A temporary archive store for every query test, in place of LOGWARDEN_ARCHIVE_STORE."""
from __future__ import annotations

import pytest

from tests.topics.query.archive_files import temporary_store


@pytest.fixture
def store(settings, tmp_path):
    with temporary_store(settings, tmp_path / "archive") as archive:
        yield archive
