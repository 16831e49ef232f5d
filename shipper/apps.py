from django.apps import AppConfig


class ShipperConfig(AppConfig):
    name = "shipper"

    def ready(self) -> None:
        """The Kubernetes health check, the Celery tasks registered for enqueuing by name, and the receivers of
        catalogue changes that refresh the fleets' routing."""
        from portal.core import health
        from shipper import tasks  # noqa: F401  (registers the tasks)
        from shipper.fleet import receivers  # noqa: F401  (connects the receivers)
        from shipper.kube.health import check_kubernetes

        health.register(check_kubernetes)
