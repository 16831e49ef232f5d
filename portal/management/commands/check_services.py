from django.core.management.base import BaseCommand, CommandError

from portal.core import health


class Command(BaseCommand):
    help = "Checks that the database, Redis, Kafka and Kubernetes named by the settings answer."

    def handle(self, *args, **options):
        statuses = health.check_all()
        for status in statuses:
            style = self.style.SUCCESS if status.state == "ok" else (
                self.style.ERROR if status.state == "down" else self.style.WARNING)
            self.stdout.write(f"{status.component:<11} {style(status.state):<16} {status.detail}")
        down = [s.component for s in statuses if not s.ok]
        if down:
            raise CommandError(f"not answering: {', '.join(down)}")
