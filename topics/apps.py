from django.apps import AppConfig


class TopicsConfig(AppConfig):
    name = "topics"

    def ready(self) -> None:
        """Hooks into the layers below, which never import topics: the health checks (Kafka, the scheduler, the
        queue), the panels on accounts' and the catalogue's pages, the receivers of accounts' signals, the system
        roles of the portal's log reader and archiver; and the Celery tasks, so topics.queue can enqueue them by
        name (in-process too, without a broker)."""
        from portal.core import health
        from portal.web import panels
        from topics import tasks  # noqa: F401  (registers the tasks)
        from topics.access import panels as access_panels
        from topics.access import receivers  # noqa: F401  (connects the receivers)
        from topics.archive import principal as archiver
        from topics.catalogue import panels as catalogue_panels
        from topics.history import panels as history_panels
        from topics.kafka.health import check_kafka
        from topics.logs import reader
        from topics.logs import panels as logs_panels
        from topics.provisioning.health import check_queue, check_scheduler

        for check in (check_kafka, check_scheduler, check_queue):
            health.register(check)
        panels.register("team-detail", catalogue_panels.team_namespaces)
        panels.register("namespace-detail", access_panels.namespace_grants)
        panels.register("namespace-detail", logs_panels.namespace_logs)
        panels.register("namespace-detail", history_panels.namespace_history)
        reader.register()
        archiver.register()
