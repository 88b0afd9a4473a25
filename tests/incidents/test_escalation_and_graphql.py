"""Overdue dispatches are escalated by the beat task (per tenant, via a real
worker) and shown red; GraphQL reads go through the same policies."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import Agency, Dispatch, Incident, TimelineEntry
from incidents.services import dispatching
from incidents.services import incidents as incident_services


def _dispatched(tenant, key, minutes_ago, category="fire", agency="damkar"):
    with schema_context(tenant.schema_name):
        op = User.objects.get(username="operator1")
        inc = incident_services.incident_create(
            data=incident_services.IncidentInput(category=category, description="esc", latitude=2.66,
                                        longitude=98.66, address="e", idempotency_key=key),
            actor=op, is_test=True, force=True).incident
        (d,) = dispatching.dispatch_create(incident_id=inc.pk,
                                        agency_ids=[Agency.objects.get(code=agency).pk], actor=op)
        Dispatch.objects.filter(pk=d.pk).update(dispatched_at=timezone.now() - timedelta(minutes=minutes_ago))
        return inc, Dispatch.objects.get(pk=d.pk)


def test_escalation_marks_overdue_once_per_reason(tenant_a, as_user):
    late_inc, late = _dispatched(tenant_a, "esc-1", minutes_ago=4)   # fire: ack within 3
    fresh_inc, fresh = _dispatched(tenant_a, "esc-2", minutes_ago=1)
    with schema_context(tenant_a.schema_name):
        assert dispatching.dispatches_escalate() >= 1
        late.refresh_from_db()
        fresh.refresh_from_db()
        assert late.escalation_reason == "ack" and late.escalated_at is not None
        assert fresh.escalated_at is None
        assert dispatching.dispatches_escalate() == 0  # nothing new
        assert TimelineEntry.objects.filter(dispatch=late, kind="escalated").count() == 1
    # Red on the lists that show it.
    board = as_user(tenant_a, "supervisor").get("/supervisor/board/").content.decode()
    assert f'class="overdue" data-incident="{late_inc.reference}"' in board
    assert f'class="" data-incident="{fresh_inc.reference}"' in board
    console = as_user(tenant_a, "operator1").get("/console/incidents/").content.decode()
    assert f'class="overdue" data-incident="{late_inc.reference}"' in console
    listing = as_user(tenant_a, "bupati").get("/incidents/").content.decode()
    assert f'class="overdue" data-incident="{late_inc.reference}"' in listing
    assert f'class="" data-incident="{fresh_inc.reference}"' in listing
    opd = as_user(tenant_a, "damkar").get("/opd/dispatches/").content.decode()
    assert "dispatch-card overdue" in opd
    # Acknowledged but not arrived within 15 minutes: a second escalation.
    with schema_context(tenant_a.schema_name):
        Dispatch.objects.filter(pk=late.pk).update(
            status="acknowledged", acknowledged_at=timezone.now(),
            dispatched_at=timezone.now() - timedelta(minutes=16))
        assert dispatching.dispatches_escalate() >= 1
        late.refresh_from_db()
        assert late.escalation_reason == "arrive"


@pytest.mark.worker
def test_beat_task_fans_out_to_tenants_on_a_real_worker(committed, django_db_blocker):
    from siaga112.celery import app

    from incidents.tasks import escalate_overdue_all
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    inc, dispatch = _dispatched(tenant, "esc-worker", minutes_ago=30)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            escalate_overdue_all.delay()
            deadline = time.monotonic() + 15
            escalated = None
            while time.monotonic() < deadline:
                with schema_context(tenant.schema_name):
                    escalated = Dispatch.objects.get(pk=dispatch.pk).escalated_at
                if escalated:
                    break
                time.sleep(0.2)
        assert escalated is not None
    finally:
        # Timeline entries are append-only in PostgreSQL: only a transaction
        # with the retention purge's setting may remove them.
        with schema_context(tenant.schema_name), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute("SET LOCAL siaga112.purge = 'on'")
            TimelineEntry.objects.filter(incident=inc).delete()
            Incident.objects.filter(pk=inc.pk).delete()


QUERY = """query($id: ID!) { incident(id: $id) { reference caller status
  dispatches { agencyCode status } timeline { kind actor } }
  openDispatches { incidentReference agencyCode } incidents(status: "open") { reference } }"""


def _gql(client, variables):
    r = client.post("/graphql/", data=json.dumps({"query": QUERY, "variables": variables}),
                    content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()["data"]


def test_graphql_through_policies(tenant_a, client_for, tenant_user):
    inc, _d = _dispatched(tenant_a, "gql-1", minutes_ago=0)
    other, _o = _dispatched(tenant_a, "gql-2", minutes_ago=0, category="crime", agency="polres")
    with schema_context(tenant_a.schema_name):
        Incident.objects.filter(pk=inc.pk).update(caller="+6281260013013")
    op = _gql(client_for(tenant_a, tenant_user(tenant_a, "operator1")), {"id": inc.pk})
    assert op["incident"]["caller"] == "+6281260013013"
    assert [e["kind"] for e in op["incident"]["timeline"]] == ["created", "dispatched", "status"]
    assert {d["incidentReference"] for d in op["openDispatches"]} >= {inc.reference, other.reference}
    damkar = _gql(client_for(tenant_a, tenant_user(tenant_a, "damkar")), {"id": inc.pk})
    assert damkar["incident"]["caller"] == "+62812*****013"
    assert {d["agencyCode"] for d in damkar["openDispatches"]} == {"damkar"}
    assert other.reference not in {i["reference"] for i in damkar["incidents"]}
    assert _gql(client_for(tenant_a, tenant_user(tenant_a, "damkar")), {"id": other.pk})["incident"] is None
    anon = _gql(client_for(tenant_a), {"id": inc.pk})
    assert anon["incident"] is None and anon["incidents"] == [] and anon["openDispatches"] == []
    admin = _gql(client_for(tenant_a, tenant_user(tenant_a, "admin")), {"id": inc.pk})
    assert admin["incident"] is None and admin["openDispatches"] == []
