"""Retention of the public integration tables: the daily job deletes province feed
rows past the retention period and stored Idempotency-Key answers past 24 h, in
batches, and keeps everything newer. Real PostgreSQL; the rows are marked so rows
of other tests or the demo never matter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from integration.models import IdempotencyRecord, ProvinceIncidentEvent
from integration.services import integration_purge
from integration.tasks import integration_purge_task

MARK = "pemda_retention_test"


def _event(label: str, age: timedelta) -> ProvinceIncidentEvent:
    return ProvinceIncidentEvent.objects.create(
        schema_name=MARK, province_code="35", tenant_name="Retention", incident_id=1,
        reference=label, kind="created", at=timezone.now() - age, category="fire",
        priority=1, status="open")


def _answer(label: str, age: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        schema_name=MARK, key=label, request_hash="0" * 64, response={"label": label},
        created_at=timezone.now() - age)


def _left() -> tuple[list[str], list[str]]:
    return (sorted(ProvinceIncidentEvent.objects.filter(schema_name=MARK)
                   .values_list("reference", flat=True)),
            sorted(IdempotencyRecord.objects.filter(schema_name=MARK)
                   .values_list("key", flat=True)))


@pytest.mark.django_db
def test_old_feed_rows_and_answers_go_recent_ones_stay():
    day = timedelta(days=1)
    for n in range(5):  # more than one batch below
        _event(f"old-{n}", 31 * day + n * timedelta(minutes=1))
    _event("edge-kept", 30 * day - timedelta(minutes=5))
    _event("new", timedelta(minutes=1))
    for n in range(3):
        _answer(f"old-{n}", 25 * timedelta(hours=1))
    _answer("edge-kept", 23 * timedelta(hours=1))
    _answer("new", timedelta(seconds=5))

    purged = integration_purge(batch_size=2)

    # At least ours: rows of other tests and the demo may be old enough too.
    assert purged.feed_events >= 5 and purged.idempotency_records >= 3
    assert _left() == (["edge-kept", "new"], ["edge-kept", "new"])
    again = integration_purge(batch_size=2)
    assert (again.feed_events, again.idempotency_records) == (0, 0)


@pytest.mark.django_db
def test_the_retention_periods_are_settings():
    _event("ten-days", timedelta(days=10))
    _answer("two-hours", timedelta(hours=2))
    assert _left() == (["ten-days"], ["two-hours"])
    with override_settings(SIAGA112={**settings.SIAGA112, "PROVINCE_FEED_RETENTION_DAYS": 7,
                                     "IDEMPOTENCY_RETENTION_HOURS": 1}):
        integration_purge()
    assert _left() == ([], [])


@pytest.mark.django_db
def test_the_daily_beat_job_runs_the_purge():
    entry = settings.CELERY_BEAT_SCHEDULE["integration-purge"]
    assert entry["task"] == integration_purge_task.name == "integration.purge"
    assert entry["schedule"] == 24 * 3600.0
    assert settings.SIAGA112["PROVINCE_FEED_RETENTION_DAYS"] == 30
    assert settings.SIAGA112["IDEMPOTENCY_RETENTION_HOURS"] == 24
    _event("old", timedelta(days=40))
    _answer("old", timedelta(days=2))
    _event("new", timedelta(hours=1))
    counts = integration_purge_task.apply().get()
    assert counts["feed_events"] >= 1 and counts["idempotency_records"] >= 1
    assert _left() == (["new"], [])
