"""Celery beat entries for billing (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

from celery.schedules import crontab

SCHEDULE: dict[str, dict[str, object]] = {
    # The 1st at 01:00 UTC (08:00 WIB, 10:00 WIT): every zone has finished the month.
    "billing-issue-month": {
        "task": "billing.issue_month",
        "schedule": crontab(minute=0, hour=1, day_of_month=1),
    },
    # Again on the 2nd: a month missed by a down worker is issued then; one already
    # issued is left as it is (one invoice per Pemda and month).
    "billing-issue-month-retry": {
        "task": "billing.issue_month",
        "schedule": crontab(minute=0, hour=1, day_of_month=2),
    },
}
