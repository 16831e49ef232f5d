"""The Celery application: Redis is the broker (REDIS_URL); without it tasks run in-process."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("logwarden")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
