from django.core.management.base import BaseCommand, CommandError

from topics.provisioning.topic_sync import sync_topics


class Command(BaseCommand):
    help = "Ensures every catalogued topic on its broker with its retention class's configs (idempotent)."

    def handle(self, *args, **options):
        report = sync_topics()
        self.stdout.write(f"topics: {len(report.created)} created, {len(report.reconfigured)} reconfigured, "
                          f"{len(report.unchanged)} unchanged")
        for cluster, error in report.errors.items():
            self.stderr.write(self.style.ERROR(f"cluster {cluster}: {error}"))
        for topic, error in report.failed.items():
            self.stderr.write(self.style.ERROR(f"topic {topic}: {error}"))
        if report.errors or report.failed:
            raise CommandError(f"{len(report.errors)} cluster(s) could not be synced, "
                               f"{len(report.failed)} topic(s) were refused")
