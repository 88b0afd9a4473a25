"""The intake path keeps a host's tenant and a PBX key in the process
(core.localcache): a revoked key and a removed domain still stop working, at once
in the process that made the change, within LOCAL_CACHE_SECONDS in the others.
And a ringing event stays one SQL statement."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from incidents.models import Call, PbxCredential, PbxEvent
from incidents.services import pbx
from tenants.models import Domain

from .conftest import pbx_post


def _ring(client: Client, key: str):
    body = {"event": "ringing", "call_id": f"c-{uuid.uuid4().hex[:10]}", "caller": "081260002000"}
    return pbx_post(client, "/api/pbx/events/", body, key=key)


@pytest.fixture
def short_ttl(settings):
    settings.SIAGA112 = {**settings.SIAGA112, "LOCAL_CACHE_SECONDS": 0.5}


@pytest.fixture
def key(tenant_a):
    with schema_context(tenant_a.schema_name):
        cred, raw = pbx.pbx_credential_create(name="cache test", actor=None)
    return cred, raw


def test_a_revoked_key_is_refused_at_once_despite_the_cache(tenant_a, client_for, key):
    cred, raw = key
    c = client_for(tenant_a)
    assert _ring(c, raw).status_code == 200
    assert _ring(c, raw).status_code == 200  # now served from the cache
    with schema_context(tenant_a.schema_name):
        pbx.pbx_credential_revoke(credential_id=cred.pk, actor=None)
        calls = Call.objects.count()
    assert _ring(c, raw).status_code == 401
    with schema_context(tenant_a.schema_name):
        assert Call.objects.count() == calls


def test_a_key_revoked_by_another_process_is_refused_within_the_ttl(
    tenant_a, client_for, key, short_ttl
):
    cred, raw = key
    c = client_for(tenant_a)
    assert _ring(c, raw).status_code == 200
    # Another server process revokes it: this process gets no signal.
    with schema_context(tenant_a.schema_name):
        PbxCredential.objects.filter(pk=cred.pk).update(revoked_at=cred.created_at)
    time.sleep(0.6)
    assert _ring(c, raw).status_code == 401


def test_a_deleted_key_is_refused_at_once(tenant_a, client_for, key):
    cred, raw = key
    c = client_for(tenant_a)
    assert _ring(c, raw).status_code == 200
    with schema_context(tenant_a.schema_name):
        PbxCredential.objects.get(pk=cred.pk).delete()
    assert _ring(c, raw).status_code == 401


def test_a_removed_domain_stops_answering_despite_the_cache(tenant_a, client_for, key,
                                                           short_ttl):
    _cred, raw = key
    c = client_for(tenant_a)
    assert _ring(c, raw).status_code == 200
    domain = Domain.objects.get(tenant=tenant_a, is_primary=True)
    # Removed in this process: forgotten at once.
    Domain.objects.filter(pk=domain.pk).delete()
    assert _ring(c, raw).status_code == 404
    Domain.objects.create(domain=domain.domain, tenant=tenant_a, is_primary=True)
    assert _ring(c, raw).status_code == 200
    # Removed by another process (no signal here): within the TTL.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_domain WHERE domain = %s", [domain.domain])
    time.sleep(0.6)
    assert _ring(c, raw).status_code == 404


def test_a_new_ringing_call_is_one_statement(tenant_a, client_for):
    c = client_for(tenant_a)
    assert pbx_post(c, "/api/pbx/events/",
                    {"event": "ringing", "call_id": "warm-1", "caller": "081260003000"}
                    ).status_code == 200
    call_id = f"one-{uuid.uuid4().hex[:8]}"
    with CaptureQueriesContext(connection) as ctx:
        r = pbx_post(c, "/api/pbx/events/",
                     {"event": "ringing", "call_id": call_id, "caller": "081260003001"})
    assert r.status_code == 200 and r.json()["duplicate"] is False
    work = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    assert len(work) == 1, work
    # Was 16 statements, 7 of them SET search_path: at most one now (a new connection).
    assert len(ctx.captured_queries) <= 2
    with schema_context(tenant_a.schema_name):
        call = Call.objects.get(external_id=call_id)
        assert call.caller == "+6281260003001" and call.state == "ringing"
        assert list(PbxEvent.objects.filter(call=call).values_list("event", flat=True)) == [
            "ringing"]
    # The retry is answered as a duplicate and writes nothing.
    again = pbx_post(c, "/api/pbx/events/",
                     {"event": "ringing", "call_id": call_id, "caller": "081260003001"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    with schema_context(tenant_a.schema_name):
        assert PbxEvent.objects.filter(call__external_id=call_id).count() == 1


def test_a_pbx_answer_skips_the_browser_middlewares_and_keeps_the_api_headers(tenant_a,
                                                                            client_for):
    c = client_for(tenant_a)
    r = pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": f"h-{uuid.uuid4().hex}",
                                         "caller": "081260004000"})
    assert r.status_code == 200, r.content
    assert r["X-Content-Type-Options"] == "nosniff" and r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert int(r["Content-Length"]) == len(r.content)
    # No session, no CSRF cookie, no language negotiation ran for it.
    assert not r.cookies and "Cookie" not in r.get("Vary", "")
    assert not r.has_header("Content-Language")
    # A refusal is still the one JSON shape.
    bad = pbx_post(c, "/api/pbx/events/", {"event": "rang", "call_id": "h-1"})
    assert bad.status_code == 400
    assert bad.json() == {"error": bad.json()["error"], "code": "invalid", "status": 400,
                          "field": "event"}
    # A browser's request still goes through the whole chain.
    assert c.get("/accounts/login/").has_header("Content-Language")


def test_an_incident_over_the_api_is_one_insert_and_idempotent(tenant_a, as_user):
    from incidents.models import Incident, TimelineEntry

    from .conftest import post_json

    c = as_user(tenant_a, "operator1")
    key = f"api-{uuid.uuid4().hex[:8]}"
    body = {"category": "fire", "description": "one statement", "latitude": -7.45,
            "longitude": 112.7, "idempotency_key": key, "force": "1"}
    post_json(c, "/incidents/", {**body, "idempotency_key": key + "-warm"})
    with CaptureQueriesContext(connection) as ctx:
        r = post_json(c, "/incidents/", body)
    assert r.status_code == 201, r.content
    work = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    # session, user, BEGIN, idempotency key, the one INSERT, the province feed row,
    # COMMIT (the duplicate check is skipped with force). Was 13 with SAVEPOINTs and an
    # UPDATE, then 11: the category, the Pemda's settings and whether the Pemda (or its
    # province) has webhook subscribers now come from the process cache, the Pemda's
    # status and province from the request's tenant.
    assert len(work) <= 7, "\n".join(q[:150] for q in work)
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.get(idempotency_key=key)
        assert incident.reference == f"INC-{incident.created_at:%y%m%d}-{incident.pk:05d}"
        assert r.json()["reference"] == incident.reference and r.json()["id"] == incident.pk
        created = TimelineEntry.objects.get(incident=incident, kind="created")
        assert created.actor.username == "operator1"
        assert created.data == {"category": "fire", "priority": incident.priority,
                                "outside_area": incident.outside_area}
    again = post_json(c, "/incidents/", body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["id"] == incident.pk
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.filter(idempotency_key=key).count() == 1
        assert TimelineEntry.objects.filter(incident=incident).count() == 1


def test_the_key_and_the_duplicate_check_are_one_query(tenant_a, as_user):
    """Without force the duplicate check runs too, in the idempotency key's statement:
    still 7, a retry with the key answers its incident (not a duplicate offer of
    itself), and a second report of the same place is offered the first."""
    from incidents.models import Incident

    from .conftest import post_json

    c = as_user(tenant_a, "operator1")
    post_json(c, "/incidents/", {"category": "fire", "description": "warm", "latitude": -7.3,
                                 "longitude": 112.2, "idempotency_key": uuid.uuid4().hex,
                                 "force": "1"})
    key = f"dup-{uuid.uuid4().hex[:8]}"
    # A place no other test uses, so no open incident there yet.
    body = {"category": "fire", "description": "first report", "latitude": -8.0013,
            "longitude": 113.0017, "idempotency_key": key}
    with CaptureQueriesContext(connection) as ctx:
        r = post_json(c, "/incidents/", body)
    assert r.status_code == 201, r.content
    work = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    assert len(work) <= 7, "\n".join(q[:150] for q in work)
    first = r.json()["id"]
    again = post_json(c, "/incidents/", body)
    assert again.status_code == 200 and again.json()["id"] == first, again.content
    other = post_json(c, "/incidents/", {**body, "idempotency_key": key + "-2",
                                         "latitude": -8.0015, "description": "second"})
    assert other.status_code == 409 and other.json()["duplicate"] is True, other.content
    assert [d["id"] for d in other.json()["candidates"]] == [first], other.content
    with schema_context(tenant_a.schema_name):
        assert not Incident.objects.filter(idempotency_key=key + "-2").exists()
        assert Incident.objects.filter(idempotency_key=key).count() == 1


def _incident_body(tag: str, **extra: Any) -> dict[str, Any]:
    return {"category": "fire", "description": "cache test", "latitude": -7.45,
            "longitude": 112.7, "idempotency_key": f"{tag}-{uuid.uuid4().hex[:8]}",
            "force": "1", **extra}


def _subscription(tenant, *, signals: bool):
    from webhooks.models import WebhookSubscription

    sub = WebhookSubscription(scope="tenant", tenant=tenant, name="cache test",
                              url="https://example.org/hook", secret="s" * 40,
                              event_types=["incident.created"])
    if signals:
        sub.save()
    else:  # as another server process would: no signal reaches this one
        WebhookSubscription.objects.bulk_create([sub])
        sub = WebhookSubscription.objects.get(name="cache test", tenant=tenant)
    return sub


def _deliveries(sub) -> int:
    from webhooks.models import WebhookDelivery

    return WebhookDelivery.objects.filter(subscription=sub).count()


def test_a_pemdas_first_subscriber_hears_the_next_incident_despite_the_cache(tenant_a,
                                                                             as_user):
    from .conftest import post_json

    c = as_user(tenant_a, "operator1")
    # Nobody subscribed: remembered, and the next incident asks nobody.
    assert post_json(c, "/incidents/", _incident_body("nosub")).status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        assert post_json(c, "/incidents/", _incident_body("nosub")).status_code == 201
    assert not [q for q in ctx.captured_queries if "webhooks_webhooksubscription" in q["sql"]]
    sub = _subscription(tenant_a, signals=True)
    assert post_json(c, "/incidents/", _incident_body("sub")).status_code == 201
    assert _deliveries(sub) == 1
    # Revoked: heard no more, at once.
    sub.revoked_at = sub.created_at
    sub.save()
    assert post_json(c, "/incidents/", _incident_body("revoked")).status_code == 201
    assert _deliveries(sub) == 1


def test_a_subscriber_added_by_another_process_hears_within_the_ttl(tenant_a, as_user,
                                                                    short_ttl):
    from .conftest import post_json

    c = as_user(tenant_a, "operator1")
    assert post_json(c, "/incidents/", _incident_body("nosub")).status_code == 201
    sub = _subscription(tenant_a, signals=False)
    time.sleep(0.6)
    assert post_json(c, "/incidents/", _incident_body("later")).status_code == 201
    assert _deliveries(sub) == 1


def test_a_category_or_setting_changed_here_counts_at_once_despite_the_cache(tenant_a,
                                                                             as_user):
    from incidents.models import Category, Incident, IncidentSettings

    from .conftest import post_json

    c = as_user(tenant_a, "operator1")
    assert post_json(c, "/incidents/", _incident_body("warm")).status_code == 201
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
        fire.active = False
        fire.save()
        before = Incident.objects.count()
    refused = post_json(c, "/incidents/", _incident_body("inactive"))
    assert refused.status_code == 400 and refused.json()["field"] == "category"
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.count() == before
        fire.active = True
        fire.save()
        cfg = IncidentSettings.load()
        cfg.area_min_lat, cfg.area_max_lat, cfg.area_min_lng, cfg.area_max_lng = 0, 1, 100, 101
        cfg.save()
    r = post_json(c, "/incidents/", _incident_body("area"))
    assert r.status_code == 201, r.content
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.get(pk=r.json()["id"]).outside_area is True
