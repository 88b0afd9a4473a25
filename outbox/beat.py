"""Celery beat entries for the outbox (to be merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

SCHEDULE: dict[str, dict[str, object]] = {
    # Retries, rows written while Redis was down, rows of a crashed worker.
    "outbox-sweep": {"task": "outbox.sweep", "schedule": 20.0},
    # Retention of sent and dead messages (settings.OUTBOX["RETENTION_DAYS"]).
    "outbox-purge": {"task": "outbox.purge", "schedule": 24 * 3600.0},
}
