"""Subscriber webhooks with a real Celery worker and a real receiver on 127.0.0.1:
a Pemda admin subscribes (secret shown once), incident events arrive signed over
"timestamp.body", a failing receiver is retried with backoff and then gets the
event exactly once, a replay delivers again (audited), another Pemda's admin can
neither see nor replay, province subscribers hear that province's live Pemda only,
and production refuses http and private hosts."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from incidents.models import Incident
from incidents.services.incidents import IncidentInput, incident_create
from incidents.services.status import incident_status_set
from tests.cleanup import purging
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = [pytest.mark.worker]


def _incident(tenant, key: str, **extra) -> Incident:
    with schema_context(tenant.schema_name):
        from accounts.models import User

        # Kota Malang has no demo staff: a system-made incident (a PBX, a sensor).
        actor = User.objects.filter(username="operator1").first()
        return incident_create(
            data=IncidentInput(category="fire", description="Kebakaran gudang",
                               latitude=extra.get("lat", -7.45), longitude=extra.get("lng", 112.72),
                               address="Jl. Raya", idempotency_key=key),
            actor=actor, is_test=False, force=True).incident


def _login(tenant, username=None):
    """A browser on the tenant's host (None: the national host), signed in as
    `username`. No `db` fixture: the worker thread must see committed rows."""
    from django.test import Client

    from accounts.models import User

    host = tenant.domains.get(is_primary=True).domain if tenant is not None else "localhost"
    client = Client(HTTP_HOST=host)
    if username:
        schema = tenant.schema_name if tenant is not None else "public"
        with schema_context(schema):
            client.force_login(User.objects.get(username=username),
                               backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def world(committed):
    from tenants.models import Tenant

    tenants = {name: Tenant.objects.select_related("region__parent").get(region__code=code)
               for name, code in (("dairi", "12.11"), ("sidoarjo", "35.15"),
                                  ("malang", "35.73"))}
    made: dict[str, list[int]] = {}
    subscriptions: list[int] = []
    yield tenants, made, subscriptions
    connection.set_schema_to_public()
    WebhookDelivery.objects.filter(subscription_id__in=subscriptions).delete()
    WebhookSubscription.objects.filter(pk__in=subscriptions).delete()
    for schema, ids in made.items():
        with schema_context(schema), purging():
            Incident.objects.filter(pk__in=ids).delete()


def test_pemda_subscriber_gets_signed_events_retries_and_replay(
        world, webhook, celery_worker, wait_until, settings):
    tenants, made, subscriptions = world
    tenant_b = tenants["sidoarjo"]
    settings.OUTBOX = {"BACKOFF_BASE_SECONDS": 1.0, "BACKOFF_FACTOR": 2.0}
    webhook.timestamped = True
    admin = _login(tenant_b, "admin")
    page = admin.post("/manage/webhooks/", {"name": "Posko BPBD", "url": webhook.url,
                                            "event_types": ["incident.created",
                                                            "incident.closed"]})
    assert page.status_code == 201
    subscription = WebhookSubscription.objects.get(tenant=tenant_b, name="Posko BPBD")
    subscriptions.append(subscription.pk)
    secret = subscription.secret
    assert secret in page.content.decode()
    # Shown once: the log page never shows it again.
    assert secret not in admin.get("/manage/webhooks/").content.decode()
    webhook.secret = secret
    # The audit trail of the Pemda records who added it, not the secret.
    with schema_context(tenant_b.schema_name):
        entry = AuditEntry.objects.filter(action="webhook.created").order_by("-id").first()
        assert entry is not None and secret not in json.dumps(entry.after)

    # First attempt fails with 500, the retry (1 s later, scheduled by the failure)
    # succeeds: the event arrives exactly once, correctly signed.
    webhook.answers[:] = [500]
    incident = _incident(tenant_b, "wh-1")
    made.setdefault(tenant_b.schema_name, []).append(incident.pk)
    [hit] = webhook.wait_for(1, seconds=20)
    body = json.loads(hit.body)
    assert body["event"] == "incident.created" and body["pemda"] == tenant_b.schema_name
    assert body["data"]["incident"]["reference"] == incident.reference
    assert "caller" not in json.dumps(body["data"])
    assert [h.headers["x-answer"] for h in webhook.hits] == ["500", "200"]
    delivery = WebhookDelivery.objects.get(subscription=subscription, event="incident.created")
    assert wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "sent")
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code, delivery.last_error) == (2, 200, "")
    # A tampered body or a stale timestamp would not verify.
    from outbox.signing import verify_timestamped

    ts = hit.headers["x-siaga112-timestamp"]
    sig = hit.headers["x-siaga112-signature"]
    assert verify_timestamped(hit.body, secret, sig, ts, now=time.time())
    assert not verify_timestamped(hit.body + b" ", secret, sig, ts, now=time.time())
    assert not verify_timestamped(hit.body, secret, sig, ts, now=time.time() + 3600)

    # The log shows status, attempts and the response code; JSON for programs.
    log = admin.get("/manage/webhooks/", HTTP_ACCEPT="application/json").json()["deliveries"]
    assert {"id": delivery.pk, "status": "sent", "attempts": 2, "response_code": 200}.items() \
        <= log[0].items()

    # Another Pemda's admin: not in its log, replay is 404 and sends nothing.
    other = _login(tenants["dairi"], "admin")
    assert str(delivery.pk) not in json.dumps(
        other.get("/manage/webhooks/", HTTP_ACCEPT="application/json").json())
    assert other.post(f"/manage/webhooks/deliveries/{delivery.pk}/replay/").status_code == 404
    assert other.post(f"/manage/webhooks/{subscription.pk}/revoke/").status_code == 404
    # Not an admin: 403.
    assert _login(tenant_b, "supervisor").post(
        f"/manage/webhooks/deliveries/{delivery.pk}/replay/").status_code == 403
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 0
    time.sleep(0.5)
    assert len(webhook.deliveries()) == 1

    # Replay: delivered again, same event id, its own delivery key; audited.
    r = admin.post(f"/manage/webhooks/deliveries/{delivery.pk}/replay/",
                   HTTP_ACCEPT="application/json")
    assert r.status_code == 200, r.content
    hits = webhook.wait_for(2, seconds=15)
    assert len(hits) == 2
    assert json.loads(hits[1].body)["id"] == body["id"]
    assert hits[1].headers["x-siaga112-delivery"] != hits[0].headers["x-siaga112-delivery"]
    with schema_context(tenant_b.schema_name):
        assert AuditEntry.objects.filter(action="webhook.replayed").exists()

    # Events it did not subscribe to are not sent; "closed" is.
    with schema_context(tenant_b.schema_name), transaction.atomic():
        incident_status_set(Incident.objects.get(pk=incident.pk), "closed", None)
    hits = webhook.wait_for(3, seconds=15)
    assert [json.loads(h.body)["event"] for h in hits] == [
        "incident.created", "incident.created", "incident.closed"]

    # Revoked: nothing more.
    assert admin.post(f"/manage/webhooks/{subscription.pk}/revoke/").status_code == 302
    more = _incident(tenant_b, "wh-2")
    made[tenant_b.schema_name].append(more.pk)
    assert not WebhookDelivery.objects.filter(subscription=subscription,
                                              payload__incident__id=more.pk).exists()


def test_province_subscriber_hears_its_live_pemda_only(world, webhook, celery_worker):
    tenants, made, subscriptions = world
    tenant_a, tenant_b, tenant_c = tenants["dairi"], tenants["sidoarjo"], tenants["malang"]
    webhook.timestamped = True
    national = _login(None, "nasional")
    # Anonymous and a provincial officer: no page; nothing created.
    assert _login(None).get("/webhooks/").status_code == 302
    before = WebhookSubscription.objects.count()
    provincial = _login(None, "prov.jatim")
    assert provincial.get("/webhooks/").status_code == 403
    assert provincial.post("/webhooks/", {"name": "x", "url": webhook.url, "province": "35",
                                          "event_types": ["incident.created"]}).status_code == 403
    assert WebhookSubscription.objects.count() == before
    jatim = tenant_b.region.parent
    r = national.post("/webhooks/", {"name": "Command center Jatim", "url": webhook.url,
                                     "province": jatim.code,
                                     "event_types": ["incident.created"]},
                      HTTP_ACCEPT="application/json")
    assert r.status_code == 201, r.content
    subscription = WebhookSubscription.objects.get(pk=r.json()["id"])
    subscriptions.append(subscription.pk)
    webhook.secret = r.json()["secret"]
    # Sumatera Utara's subscriber: Dairi is in trial, not live, so it hears nothing.
    r2 = national.post("/webhooks/", {"name": "Sumut", "url": webhook.url,
                                      "province": tenant_a.region.parent.code,
                                      "event_types": ["incident.created"]},
                       HTTP_ACCEPT="application/json")
    subscriptions.append(r2.json()["id"])
    assert tenant_a.status != "live" and tenant_b.status == "live" and tenant_c.status == "live"

    sda = _incident(tenant_b, "wh-prov-1")
    mlg = _incident(tenant_c, "wh-prov-2", lat=-7.98, lng=112.63)
    dairi = _incident(tenant_a, "wh-prov-3", lat=2.75, lng=98.31)
    made.setdefault(tenant_b.schema_name, []).append(sda.pk)
    made.setdefault(tenant_c.schema_name, []).append(mlg.pk)
    made.setdefault(tenant_a.schema_name, []).append(dairi.pk)
    hits = webhook.wait_for(2, seconds=20)
    assert sorted(json.loads(h.body)["pemda"] for h in hits) == sorted(
        [tenant_b.schema_name, tenant_c.schema_name])
    time.sleep(1)
    assert len(webhook.deliveries()) == 2
    assert not WebhookDelivery.objects.filter(tenant_schema=tenant_a.schema_name,
                                              subscription_id__in=subscriptions).exists()
    log = national.get("/webhooks/", HTTP_ACCEPT="application/json").json()["deliveries"]
    assert {d["pemda"] for d in log if d["subscription"] == subscription.pk} == {
        tenant_b.schema_name, tenant_c.schema_name}
    # A Pemda admin does not see the province's deliveries, nor replay them.
    delivery_id = log[0]["id"]
    admin = _login(tenant_b, "admin")
    assert str(delivery_id) not in json.dumps(
        admin.get("/manage/webhooks/", HTTP_ACCEPT="application/json").json())
    assert admin.post(f"/manage/webhooks/deliveries/{delivery_id}/replay/").status_code == 404


@pytest.mark.parametrize(("url", "reason"), [
    ("http://example.org/hook", "https"),
    ("https://127.0.0.1/hook", "private"),
    ("https://10.1.2.3/hook", "private"),
    ("https://[::1]/hook", "private"),
    ("https://user:pw@example.org/hook", "credentials"),
    ("ftp://example.org/hook", "valid"),
])
def test_production_refuses_http_and_private_hosts(tenant_b, settings, url, reason):
    settings.WEBHOOKS = {"ALLOW_PRIVATE_ADDRESSES": False, "ALLOW_HTTP_LOCALHOST": False}
    admin = _login(tenant_b, "admin")
    before = WebhookSubscription.objects.count()
    r = admin.post("/manage/webhooks/", {"name": "x", "url": url,
                                         "event_types": ["incident.created"]},
                   HTTP_ACCEPT="application/json")
    assert r.status_code == 400, r.content
    # The message is the person's language (Indonesian first): check the field and
    # that it says something, not the wording.
    assert r.json()["field"] == "url" and r.json()["error"], reason
    assert WebhookSubscription.objects.count() == before
