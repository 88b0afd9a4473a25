"""Delivery through the real broker and a real worker: after commit only, once
per (receiver, dedupe key), and the sweep fanning out over Pemda schemas.
Rows are committed (the worker thread must see them) and deleted afterwards."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from outbox.models import OutboxMessage
from outbox.services import outbox_enqueue
from outbox.tasks import outbox_deliver, outbox_sweep
from tenants.models import Tenant

from .conftest import SECRET, added, due_counts

pytestmark = pytest.mark.worker


@pytest.fixture
def schemas(committed) -> Iterator[dict[str, str]]:
    found = {
        slug: Tenant.objects.get(region__slug=slug).schema_name for slug in ("dairi", "sidoarjo")
    }
    yield found
    for schema in found.values():
        with schema_context(schema):
            OutboxMessage.objects.all().delete()


def _status(schema: str, pk: int) -> str:
    with schema_context(schema):
        return OutboxMessage.objects.get(pk=pk).status


def test_rolled_back_enqueue_leaves_nothing_and_sends_nothing(
    celery_worker, schemas, webhook
) -> None:
    key = f"dispatch:{uuid.uuid4().hex}"
    with schema_context(schemas["dairi"]):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                outbox_enqueue(channel="webhook", receiver=webhook.url, subject="s",
                               payload={"n": 1}, dedupe_key=key, secret=SECRET)
                outbox_enqueue(channel="email", receiver="damkar@dairikab.go.id", subject="s",
                               payload={"n": 1}, dedupe_key=key)
                raise RuntimeError("the dispatch failed")
        assert not OutboxMessage.objects.filter(dedupe_key=key).exists()
    time.sleep(1.0)
    assert webhook.hits == [] and mail.outbox == []


def test_committed_enqueue_is_delivered_once_after_commit(
    celery_worker, schemas, webhook, wait_until
) -> None:
    key = f"dispatch:{uuid.uuid4().hex}"
    schema = schemas["dairi"]
    with schema_context(schema):
        with transaction.atomic():
            hook = outbox_enqueue(channel="webhook", receiver=webhook.url,
                                  subject="incident.dispatched", payload={"incident": 5},
                                  dedupe_key=key, secret=SECRET)
            email = outbox_enqueue(channel="email", receiver="damkar@dairikab.go.id",
                                   subject="Dispatch Damkar", payload={"text": "Kebakaran"},
                                   dedupe_key=key)
            time.sleep(0.5)
            # Not before commit.
            assert webhook.hits == [] and mail.outbox == []
    assert wait_until(lambda: _status(schema, hook.pk) == "sent" == _status(schema, email.pk))
    time.sleep(0.5)
    assert len(webhook.hits) == 1 and len(webhook.deliveries()) == 1
    assert webhook.hits[0].headers["x-siaga112-delivery"] == key
    assert [m.subject for m in mail.outbox] == ["Dispatch Damkar"]
    with schema_context(schema):
        assert OutboxMessage.objects.get(pk=hook.pk).attempts == 1


def test_same_key_twice_and_a_duplicate_task_deliver_once(
    celery_worker, schemas, webhook, wait_until
) -> None:
    key = f"dispatch:{uuid.uuid4().hex}"
    schema = schemas["sidoarjo"]
    with schema_context(schema):
        ids = []
        for _ in range(2):
            with transaction.atomic():
                ids.append(outbox_enqueue(channel="webhook", receiver=webhook.url, subject="s",
                                          payload={}, dedupe_key=key, secret=SECRET).pk)
        assert ids[0] == ids[1]
        assert OutboxMessage.objects.filter(dedupe_key=key).count() == 1
    assert wait_until(lambda: _status(schema, ids[0]) == "sent")
    # A duplicate task, as after a worker crash before the ack.
    with schema_context(schema):
        outbox_deliver.delay(ids[0])
        outbox_deliver.delay(ids[0])
    time.sleep(1.5)
    assert len(webhook.hits) == 1


def test_sweep_fans_out_over_every_pemda_schema(
    celery_worker, schemas, webhook, wait_until
) -> None:
    """Rows no task was ever sent for (as if Redis had been down): the periodic
    sweep finds them in each tenant's schema and the worker delivers them there."""
    baseline = due_counts()
    past = timezone.now() - timedelta(minutes=1)
    created = {}
    for slug, schema in schemas.items():
        with schema_context(schema):
            created[schema] = OutboxMessage.objects.create(
                channel="webhook", receiver=webhook.url, subject=f"from {slug}",
                payload={"pemda": slug}, dedupe_key=f"sweep:{uuid.uuid4().hex}",
                secret=SECRET, next_attempt_at=past,
            ).pk
    # Not due yet (grace for fresh rows): a row written a second ago is left alone.
    with schema_context(schemas["dairi"]):
        fresh = OutboxMessage.objects.create(channel="webhook", receiver=webhook.url,
                                             subject="fresh", payload={}, dedupe_key="fresh",
                                             secret=SECRET)
    found = outbox_sweep()
    assert added(found, baseline) == {schema: 1 for schema in schemas.values()}
    assert wait_until(lambda: all(_status(s, pk) == "sent" for s, pk in created.items()))
    assert sorted(h.headers["x-siaga112-delivery"].split(":")[0] for h in webhook.hits) == [
        "sweep", "sweep"
    ]
    assert _status(schemas["dairi"], fresh.pk) == "pending"


def test_a_failed_delivery_is_retried_by_the_sweep_after_its_backoff(
    celery_worker, schemas, webhook, settings, wait_until
) -> None:
    settings.OUTBOX = {"BACKOFF_BASE_SECONDS": 0.3, "SWEEP_GRACE_SECONDS": 0}
    webhook.answers[:] = [502]
    schema = schemas["sidoarjo"]
    baseline = due_counts()
    with schema_context(schema):
        with transaction.atomic():
            message = outbox_enqueue(channel="webhook", receiver=webhook.url, subject="s",
                                     payload={"n": 2}, dedupe_key=f"retry:{uuid.uuid4().hex}",
                                     secret=SECRET)
    assert wait_until(lambda: _status(schema, message.pk) == "failed")
    with schema_context(schema):
        failed = OutboxMessage.objects.get(pk=message.pk)
    assert (failed.attempts, failed.last_error) == (1, "HTTP 502")
    time.sleep(0.4)
    assert added(outbox_sweep(), baseline) == {schema: 1}
    assert wait_until(lambda: _status(schema, message.pk) == "sent")
    assert [h.headers["x-answer"] for h in webhook.hits] == ["502", "200"]
