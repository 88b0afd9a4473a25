"""Tasks reach a real worker over the real Redis broker, run in the schema of
the tenant that enqueued them, and are only sent once the transaction commits."""

import json
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django_tenants.utils import schema_context
from siaga112.celery import app
from siaga112.tasks import redis_client, worker_ping


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            yield


def _wait_for(token, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        raw = redis_client().get(f"siaga112:ping:{token}")
        if raw:
            return json.loads(raw)
        time.sleep(0.05)
    return None


def _tenant(slug):
    from tenants.models import Tenant

    return Tenant.objects.get(region__slug=slug)


@pytest.mark.worker
def test_task_runs_in_the_schema_that_enqueued_it(celery_worker, committed):
    tenant_a = _tenant("dairi")
    token = uuid.uuid4().hex
    with schema_context(tenant_a.schema_name):
        worker_ping.delay(token)
    result = _wait_for(token)
    assert result is not None, "worker did not run the task"
    assert result["schema"] == tenant_a.schema_name

    public_token = uuid.uuid4().hex
    worker_ping.delay(public_token)
    assert _wait_for(public_token)["schema"] == "public"


@pytest.mark.worker
def test_task_is_enqueued_only_after_commit(celery_worker, committed):
    tenant_b = _tenant("sidoarjo")
    committed, rolled_back = uuid.uuid4().hex, uuid.uuid4().hex
    with schema_context(tenant_b.schema_name):
        with transaction.atomic():
            worker_ping.delay_on_commit(committed)
            time.sleep(0.5)
            assert redis_client().get(f"siaga112:ping:{committed}") is None
        try:
            with transaction.atomic():
                worker_ping.delay_on_commit(rolled_back)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert _wait_for(committed)["schema"] == tenant_b.schema_name
    assert _wait_for(rolled_back, seconds=1.5) is None
    connection.set_schema_to_public()


def test_every_beat_entry_names_a_registered_task():
    from django.conf import settings

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"outbox.sweep", "incidents.escalate_overdue_all", "onboarding.weekly_digest"} <= names
    assert names <= set(app.tasks), names - set(app.tasks)
