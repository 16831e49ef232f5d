from django.apps import AppConfig


class ShipperConfig(AppConfig):
    name = "shipper"

    def ready(self) -> None:
        """The Kubernetes health check, and the Celery tasks registered for enqueuing by name."""
        from portal.core import health
        from shipper import tasks  # noqa: F401  (registers the tasks)
        from shipper.kube.health import check_kubernetes

        health.register(check_kubernetes)
