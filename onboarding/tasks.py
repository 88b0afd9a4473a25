from celery import shared_task

from onboarding.services import weekly_digest_send


@shared_task(name="onboarding.weekly_digest")
def weekly_digest_task() -> int:
    """Beat: Monday 01:00 UTC (08:00 WIB). Returns the number of recipients."""
    return weekly_digest_send().recipients
