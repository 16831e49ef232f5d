from django.core.management.base import BaseCommand, CommandError

from topics.archive import services as archive
from topics.kafka.errors import KafkaAdapterError
from topics.provisioning.system_principals import SystemCredentialUnavailable


class Command(BaseCommand):
    help = ("The Parquet archive: `run` archives topics (what the periodic job does), `check` reports offset gaps "
            "and overlaps per partition, `retention` deletes the days older than the retention classes keep.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "check", "retention"])
        parser.add_argument("--namespace", help="only this namespace's topics (run, check); default: all")

    def handle(self, *args, action, namespace=None, **options):
        if action == "retention":
            for prefix in archive.apply_retention():
                self.stdout.write(f"deleted {prefix}")
            return
        topics = archive.archivable_topics()
        if namespace:
            topics = topics.filter(namespace__name=namespace)
            if not topics:
                raise CommandError(f"--namespace: no archivable topic of a namespace named {namespace!r}")
        failed = problems = 0
        for topic in topics:
            try:
                if action == "run":
                    # by hand, wait for a run in progress (or one whose killed process the database has not
                    # noticed yet) rather than skip
                    self.stdout.write(str(archive.archive_topic(topic, wait=True)))
                    continue
                found = archive.check_topic(topic)
            except (KafkaAdapterError, SystemCredentialUnavailable) as exc:
                self.stderr.write(self.style.ERROR(f"topic {topic.name}: {exc}"))
                failed += 1
                continue
            problems += len(found)
            for problem in found:
                self.stdout.write(f"{topic.name} partition {problem.partition} offsets {problem.first_offset}-"
                                  f"{problem.last_offset}: {problem.kind}: {problem.detail}")
            if not found:
                self.stdout.write(self.style.SUCCESS(f"{topic.name}: no gap, no overlap"))
        if failed or problems:
            raise CommandError(f"{failed} topic(s) failed, {problems} problem(s) found")
