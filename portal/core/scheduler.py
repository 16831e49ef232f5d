"""The in-process scheduler of the embedded default. Without REDIS_URL there is no Celery worker or beat: tasks
run in-process, and nothing would ever run the periodic work — grants would never expire, the outbox never
drain. So the web process (portal/wsgi.py, portal/asgi.py: `runserver` too) runs CELERY_BEAT_SCHEDULE itself in
one daemon thread, each task exactly as a worker would (eagerly). With REDIS_URL, Celery beat does it instead.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
THREAD_NAME = "logwarden-scheduler"


class InProcessScheduler(threading.Thread):
    """Sends each entry's task when its interval has passed (all of them at start), until `stop()`."""

    def __init__(self, schedule: Mapping[str, Mapping], *, tick: float = 1.0) -> None:
        super().__init__(name=THREAD_NAME, daemon=True)
        self.schedule = {name: (entry["task"], float(entry["schedule"])) for name, entry in schedule.items()}
        self.tick = tick
        self._stopped = threading.Event()

    def run(self) -> None:
        due = dict.fromkeys(self.schedule, time.monotonic())
        while not self._stopped.is_set():
            for name, (task, interval) in self.schedule.items():
                if time.monotonic() >= due[name]:
                    self._run(name, task)
                    due[name] = time.monotonic() + interval
            close_old_connections()  # this thread's connection, as a request's would be
            self._stopped.wait(self.tick)

    def stop(self) -> None:
        self._stopped.set()

    @staticmethod
    def _run(name: str, task: str) -> None:
        try:
            current_app.signature(task).delay()
        except Exception:  # noqa: BLE001 - one failing entry must not stop the schedule
            log.exception("scheduled task %s (%s) failed", name, task)


def start_in_process() -> InProcessScheduler | None:
    """Starts the scheduler when tasks run in-process (no REDIS_URL), once per process."""
    if not current_app.conf.task_always_eager:
        return None
    if any(thread.name == THREAD_NAME for thread in threading.enumerate()):
        return None
    scheduler = InProcessScheduler(settings.CELERY_BEAT_SCHEDULE)
    scheduler.start()
    return scheduler
