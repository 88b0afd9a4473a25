"""Redis down at the moment of the dispatch: the request still commits without
an error, the message waits as a pending row, and once Redis is back the sweep
has it delivered exactly once. Uses a private redis-server that the test stops
and starts, and points the Celery app at it for the test's duration."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django_tenants.utils import schema_context
from siaga112.celery import app

from outbox.models import OutboxMessage
from outbox.services import outbox_due_ids, outbox_enqueue
from outbox.tasks import outbox_sweep
from tenants.models import Tenant

from .conftest import SECRET, added, due_counts, point_broker_at

pytestmark = pytest.mark.worker


def test_delivery_survives_a_redis_outage(
    committed, own_redis, webhook, settings, wait_until, caplog
):
    caplog.set_level(logging.WARNING, logger="outbox.services")
    settings.OUTBOX = {"SWEEP_GRACE_SECONDS": 0}
    schema = Tenant.objects.get(region__slug="dairi").schema_name
    key = f"dispatch:{uuid.uuid4().hex}"
    baseline = due_counts()
    own_redis.start()
    point_broker_at(own_redis.url)
    try:
        own_redis.stop()
        started = time.monotonic()
        with schema_context(schema):
            with transaction.atomic():
                message = outbox_enqueue(channel="webhook", receiver=webhook.url,
                                         subject="incident.dispatched", payload={"incident": 9},
                                         dedupe_key=key, secret=SECRET)
            # Committed; the after-commit publish failed quietly and quickly.
            elapsed = time.monotonic() - started
            message.refresh_from_db()
            assert message.status == "pending" and message.attempts == 0
        assert elapsed < 5, f"enqueue blocked {elapsed:.1f}s on the dead broker"
        assert [r.getMessage() for r in caplog.records] == ["outbox.schedule_failed"]

        own_redis.start()
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            found = outbox_sweep()
            assert added(found, baseline) == {schema: 1}

            def sent() -> bool:
                with schema_context(schema):
                    return OutboxMessage.objects.get(pk=message.pk).status == "sent"

            assert wait_until(sent)
            # Nothing of ours is due any more, and a second sweep sends nothing more.
            with schema_context(schema):
                assert message.pk not in outbox_due_ids()
            outbox_sweep()
            time.sleep(1.0)
        assert len(webhook.hits) == 1
        assert webhook.hits[0].headers["x-siaga112-delivery"] == key
        assert len(webhook.deliveries()) == 1
    finally:
        with schema_context(schema):
            OutboxMessage.objects.filter(dedupe_key=key).delete()
