"""Celery tasks of the outbox: thin, they take ids and call a service.
They run in the schema of whoever enqueued them (tenant-schemas-celery)."""

from __future__ import annotations

from celery import shared_task

from outbox.services import outbox_message_deliver, outbox_purge_all, outbox_sweep_all


@shared_task(name="outbox.deliver", ignore_result=True)
def outbox_deliver(message_id: int) -> str:
    return outbox_message_deliver(message_id=message_id)


@shared_task(name="outbox.sweep", ignore_result=True)
def outbox_sweep() -> dict[str, int]:
    return outbox_sweep_all()


@shared_task(name="outbox.purge", ignore_result=True)
def outbox_purge() -> int:
    return outbox_purge_all()
