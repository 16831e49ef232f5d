import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_asgi_application()

from portal.core.scheduler import start_in_process  # noqa: E402  (needs the apps loaded)

start_in_process()  # without REDIS_URL, the periodic work runs in this process
