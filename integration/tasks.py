"""Celery tasks of the integration API."""

from __future__ import annotations

from celery import shared_task

from integration.services import integration_purge


@shared_task(name="integration.purge", ignore_result=True)
def integration_purge_task() -> dict[str, int]:
    purged = integration_purge()
    return {"feed_events": purged.feed_events, "idempotency_records": purged.idempotency_records}
