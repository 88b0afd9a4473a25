"""Celery beat entries for the webhooks (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: imported by the settings, before apps are ready."""

SCHEDULE: dict[str, dict[str, object]] = {
    # Deliveries whose after-commit task was lost (broker down) or whose worker died;
    # retries are scheduled at their time by the failure itself.
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 30.0},
}
