"""Celery beat entries for the integration API (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: imported by the settings, before apps are ready."""

SCHEDULE: dict[str, dict[str, object]] = {
    # Daily: province feed rows past SIAGA112_PROVINCE_FEED_RETENTION_DAYS and stored
    # Idempotency-Key answers past SIAGA112_IDEMPOTENCY_RETENTION_HOURS. Public tables:
    # one run, no fan-out per Pemda.
    "integration-purge": {
        "task": "integration.purge",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600},
    },
}
