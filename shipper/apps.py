from django.apps import AppConfig


class ShipperConfig(AppConfig):
    name = "shipper"

    def ready(self) -> None:
        """The Kubernetes health check, the Celery tasks registered for enqueuing by name, the receivers of
        catalogue changes that refresh the fleets' routing, and the system roles the fleets' shippers write with
        and their canaries are read with."""
        from portal.core import health
        from shipper import tasks  # noqa: F401  (registers the tasks)
        from shipper.canary import principal as canary_principal
        from shipper.fleet import credentials, receivers  # noqa: F401  (connects the receivers)
        from shipper.kube.health import check_kubernetes
        from topics.provisioning import system_roles

        health.register(check_kubernetes)
        system_roles.register(credentials.ROLE, bindings=credentials.bindings)
        canary_principal.register()
