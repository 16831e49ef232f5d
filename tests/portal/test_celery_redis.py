"""A Celery task runs through the real Redis broker, in a real worker."""
from __future__ import annotations

import pytest

from portal.celery import app
from portal.tasks import check_components
from tests.helpers import real_worker

pytestmark = pytest.mark.redis


@pytest.mark.django_db(transaction=True)
def test_task_round_trips_through_redis_to_a_worker(redis_url, settings):
    assert app.conf.broker_url == redis_url and not app.conf.task_always_eager
    with real_worker(shutdown_timeout=10):
        result = check_components.delay()
        statuses = {s["component"]: s for s in result.get(timeout=30)}

    assert result.successful()
    # the worker saw the same Redis it was fed through
    assert statuses["redis"]["state"] == "ok"
    assert statuses["database"]["state"] == "ok"
