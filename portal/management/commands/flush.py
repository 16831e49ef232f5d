"""Django's flush, connected as the owner role and emptying the audit trail too, whose triggers refuse it
otherwise: the test suite (between transactional tests) and the benchmarks start afresh with it. Refused when
LOGWARDEN_ENV=production, where the trail is never emptied."""
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from portal.core.database_roles import as_owner, trail_unprotected


class Command(DjangoFlush):
    def handle(self, **options):
        if settings.PRODUCTION:
            raise CommandError("flush: refused when LOGWARDEN_ENV=production (the audit trail is append-only)")
        connection = connections[options["database"]]
        with as_owner(connection), trail_unprotected(connection):
            return super().handle(**options)
