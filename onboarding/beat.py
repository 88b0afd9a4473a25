"""Celery beat entries for onboarding (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

SCHEDULE: dict[str, dict[str, object]] = {}
