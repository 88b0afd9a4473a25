"""Celery tasks of the webhooks: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from webhooks.services import webhook_delivery_deliver, webhook_sweep


@shared_task(name="webhooks.deliver", ignore_result=True)
def webhooks_deliver(delivery_id: int) -> str:
    return webhook_delivery_deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def webhooks_sweep() -> int:
    return webhook_sweep()
