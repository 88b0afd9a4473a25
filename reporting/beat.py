"""Celery beat entries for reporting (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

from celery.schedules import crontab

SCHEDULE: dict[str, dict[str, object]] = {
    # The national and provincial pages are at most this old (plus the run).
    "reporting-rollup": {"task": "reporting.rollup_all", "schedule": 600.0},
    # 01:30 WIB: every day of every Pemda again, for changes without a timestamp.
    "reporting-rollup-full": {
        "task": "reporting.rollup_all",
        "schedule": crontab(minute=30, hour=18),
        "kwargs": {"full": True},
    },
    # The 1st, 02:00 UTC (09:00 WIB, 11:00 WIT): last month's Bupati reports.
    "reporting-monthly-reports": {
        "task": "reporting.monthly_reports_all",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
}
