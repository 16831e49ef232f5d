import sys

from django.core.management.base import BaseCommand, CommandError

from topics.kafka.errors import KafkaAdapterError
from topics.models import KafkaCluster
from topics.provisioning.planner import render
from topics.provisioning.reconciler import reconcile


class Command(BaseCommand):
    help = "Reconciles Kafka clusters with the database: prints the plan (--plan) or applies it."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", help="only this cluster (by name); default: all")
        parser.add_argument("--plan", action="store_true", help="print what would change, change nothing")

    def handle(self, *args, cluster=None, plan=False, **options):
        clusters = KafkaCluster.objects.all()
        if cluster:
            clusters = clusters.filter(name=cluster)
            if not clusters:
                known = ", ".join(KafkaCluster.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"--cluster: no cluster named {cluster!r} (known: {known})")
        failed = []
        for each in clusters:
            try:
                outcome = reconcile(each, trigger="manual", dry_run=plan, progress=self._progress)
            except KafkaAdapterError as exc:
                self.stderr.write(self.style.ERROR(f"cluster {each.name}: {exc}"))
                failed.append(each.name)
                continue
            self._clear_progress()
            if plan:
                self.stdout.write(render(outcome.plan, each.name))
            else:
                counts = outcome.plan.summary()
                self.stdout.write(self.style.SUCCESS(
                    f"cluster {each.name}: {outcome.plan.writes} broker write(s) in {outcome.seconds:.2f}s "
                    f"({', '.join(f'{k} {v}' for k, v in counts.items())}); topics: "
                    f"{len(outcome.topics.created)} created, {len(outcome.topics.reconfigured)} reconfigured"))
        if failed:
            raise CommandError(f"could not reconcile: {', '.join(failed)}")

    def _progress(self, step: str, done: int, total: int) -> None:
        if total < 2000 or not sys.stderr.isatty():
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r  {step:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    def _clear_progress(self) -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\r" + " " * 70 + "\r")
