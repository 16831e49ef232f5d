"""Django's migrate, connected as the owner role (LOGWARDEN_MIGRATE_DATABASE_URL) when one is configured: the
runtime role of DATABASE_URL owns nothing and may not create, alter or drop a table."""
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from portal.core.database_roles import as_owner


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        with as_owner(connections[options["database"]]):
            return super().handle(*args, **options)
