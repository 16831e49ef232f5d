from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_runtime_privileges(using: str, **kwargs) -> None:
    from django.db import connections

    from portal.core.database_roles import grant_runtime_privileges

    grant_runtime_privileges(connections[using])


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Logwarden portal"

    def ready(self) -> None:
        """After every migrate (run as the owner role), the runtime role's privileges: portal is listed before
        the apps whose tables it grants on, but post_migrate follows the whole migration run."""
        post_migrate.connect(_grant_runtime_privileges, sender=self)
