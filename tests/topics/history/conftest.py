from tests.logs_helpers import logs  # noqa: F401  (the fixture)
