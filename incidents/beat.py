"""Celery beat entries for 112 operations (merged into settings.CELERY_BEAT_SCHEDULE).
Plain data: this module is imported by the settings, before apps are ready."""

SCHEDULE: dict[str, dict[str, object]] = {
    # Every minute: overdue dispatches (not acknowledged / not arrived within the
    # category's target) are escalated to the supervisor. Fans out per tenant.
    "incidents-escalate-overdue": {
        "task": "incidents.escalate_overdue_all",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every 20 s: calls ringing unanswered past the Pemda's ring timeout (default
    # 120 s) become missed, so a flood of calls nobody ended cannot grow the ringing
    # list. Fans out per tenant.
    "incidents-mark-missed": {
        "task": "incidents.mark_missed_all",
        "schedule": 20.0,
        "options": {"expires": 18},
    },
    # Every minute: available call-takers whose pages stopped polling (no heartbeat
    # for the Pemda's presence timeout) are set away, so new calls are no longer
    # offered to them first. Fans out per tenant.
    "incidents-presence-expire": {
        "task": "incidents.presence_expire_all",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Daily: caller numbers and AML raw data past each Pemda's retention period
    # are pseudonymised (UU 27/2022). Fans out per tenant.
    "incidents-purge-personal-data": {
        "task": "incidents.purge_personal_data_all",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600},
    },
}
