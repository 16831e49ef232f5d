"""The answer to a database connection lost where no view catches it (a middleware's query: the session, the
user): Django's 500 handler gives the same 503 as portal.core.middleware.DatabaseUnavailable, and any other
error still gets the plain 500 page. The request-level behaviour, with a real terminated backend, is in
tests/topics/provisioning/test_faults.py."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, OperationalError

from portal.web.views import server_error


def _answer_while_handling(error: Exception, request):
    try:
        raise error
    except Exception:  # noqa: BLE001 - Django calls its handler inside its own `except`
        return server_error(request)


@pytest.mark.parametrize("path", ["/api/grants/", "/access/grants/"])
def test_a_lost_database_connection_raised_in_a_middleware_is_a_503(rf, path):
    response = _answer_while_handling(OperationalError("terminating connection due to administrator command"),
                                      rf.get(path))

    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.content.decode()
    assert "connection was lost" in body and "administrator command" not in body
    if path.startswith("/api/"):
        assert response["Content-Type"] == "application/json"
    else:
        assert response["Content-Type"].startswith("text/html") and "Traceback" not in body


def test_any_other_error_keeps_the_plain_500_page(rf):
    response = _answer_while_handling(IntegrityError("duplicate key"), rf.get("/access/grants/"))

    assert response.status_code == 500 and "Something went wrong" in response.content.decode()
