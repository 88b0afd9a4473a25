from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"

    def ready(self) -> None:
        # Registers the Celery tasks in every process: outbox.services schedules
        # "outbox.deliver" by name.
        from outbox import tasks  # noqa: F401
