from celery import shared_task

from portal.core import health


@shared_task(name="portal.check_components")
def check_components() -> list[dict[str, object]]:
    """Runs the health checks inside a worker: proves the worker is alive and sees the same services."""
    return [status.as_dict() for status in health.check_all()]
