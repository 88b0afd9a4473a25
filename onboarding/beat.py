"""Celery beat entries for onboarding (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

from celery.schedules import crontab

SCHEDULE: dict[str, dict[str, object]] = {
    # Monday 08:00 WIB, before the ministry's weekly meeting.
    "onboarding-weekly-digest": {
        "task": "onboarding.weekly_digest",
        "schedule": crontab(minute=0, hour=1, day_of_week="mon"),
    },
}
