import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from topics.catalogue.clusters import default_cluster
from topics.kafka.errors import KafkaAdapterError
from topics.logs import demo, reader
from topics.provisioning.system_principals import SystemCredentialUnavailable


class Command(BaseCommand):
    help = ("Development only: writes a few log records of the brief's shape to the demo namespaces' topics every "
            "few seconds, as the system principal shipper.demo (and ensures the portal's log reader).")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between batches")
        parser.add_argument("--once", action="store_true", help="one batch, then stop")

    def handle(self, *args, interval: float, once: bool, **options):
        if settings.ENVIRONMENT == "production":
            raise CommandError("demo_logs is for development only (LOGWARDEN_ENV=production)")
        cluster = default_cluster()
        if cluster is None:
            raise CommandError("demo_logs needs a Kafka cluster: set KAFKA_BOOTSTRAP")
        demo.ensure(cluster)
        reader.ensure(cluster)
        rng, waiting = random.Random(), True
        while True:
            try:
                written = demo.produce_batch(cluster, rng)
            except (SystemCredentialUnavailable, KafkaAdapterError) as exc:
                # the reconciler makes the principal's user and ACLs shortly after start-up
                if once:
                    raise CommandError(f"demo_logs: {exc}") from None
                if waiting:
                    self.stderr.write(f"demo_logs: waiting for the broker ({exc})")
                    waiting = False
            else:
                if once:
                    self.stdout.write(f"demo_logs: {written} records")
                    return
                waiting = True
            time.sleep(interval)
