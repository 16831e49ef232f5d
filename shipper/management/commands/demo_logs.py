import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.devservices.otelcol import otelcol_binary
from shipper.demo import services as demo


class Command(BaseCommand):
    help = ("Development only: demo pods write CRI-format log lines into a demo log directory and the real "
            "OpenTelemetry Collector (built and cached on first use) ships them to the local broker as the local "
            "fleet's shipper. Runs until interrupted.")

    def add_arguments(self, parser):
        parser.add_argument("--state-dir", default=str(Path(settings.BASE_DIR) / ".devservices" / "dev" / "shipper"),
                            help="where the demo log directory, the checkpoints and the collector's log go")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between lines of each pod")

    def handle(self, *args, state_dir: str, interval: float, **options):
        if settings.ENVIRONMENT == "production":
            raise CommandError("demo_logs is for development only (LOGWARDEN_ENV=production)")
        if not 0.01 <= interval <= 3600:
            raise CommandError("--interval is between 0.01 and 3600 seconds")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        try:
            demo.run(Path(state_dir).resolve(), otelcol_binary, stop=stop, interval=interval)
        except InterruptedError:
            pass
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
