from datetime import date

import pytest

from topics.archive import layout


def test_a_key_names_its_file_and_parses_back():
    archived = layout.ArchivedFile("pay", date(2026, 12, 1), "logs.pay", 3, 10, 99)

    assert archived.key == "namespace=pay/date=2026-12-01/logs.pay+3+10-99.parquet"
    assert layout.parse(archived.key) == archived


@pytest.mark.parametrize("key", [
    "namespace=pay/date=2026-13-01/logs.pay+3+10-99.parquet",  # no such day
    "namespace=pay/date=2026-12-01/logs.pay+3+10-99.parquet.manifest.json",
    "namespace=pay/date=2026-12-01/nested/logs.pay+3+10-99.parquet",
    "namespace=pay/logs.pay+3+10-99.parquet",
])
def test_anything_else_in_the_store_is_not_an_archived_file(key):
    assert layout.parse(key) is None
