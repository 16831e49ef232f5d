"""The break-glass tests read the real broker through the access-review tests' namespace fixture."""
from tests.topics.reviews.conftest import on_broker  # noqa: F401 - the fixture, shared
