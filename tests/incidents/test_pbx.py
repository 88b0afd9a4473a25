"""PBX events and AML positions: authentication, idempotency, filling the call,
attaching AML by number and time window, blocked numbers, bad input."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.demo import demo_pbx_key, seed_tenant_demo
from incidents.models import AmlReport, Call, NumberBlock, PbxEvent
from incidents.services import pbx

from .conftest import pbx_post


def _id() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def _counts(tenant):
    with schema_context(tenant.schema_name):
        return Call.objects.count(), PbxEvent.objects.count(), AmlReport.objects.count()


def test_events_need_a_valid_key(tenant_a, client_for):
    c = client_for(tenant_a)
    before = _counts(tenant_a)
    body = {"event": "ringing", "call_id": _id(), "caller": "081260001000"}
    assert pbx_post(c, "/api/pbx/events/", body, key="").status_code == 401
    r = pbx_post(c, "/api/pbx/events/", body, key="pbx_demo112_wrong-secret-0123456789")
    assert r.status_code == 401 and r.json()["field"] == "Authorization"
    with schema_context(tenant_a.schema_name):
        cred, raw = pbx.pbx_credential_create(name="Revoked", actor=None)
        pbx.pbx_credential_revoke(credential_id=cred.pk,
                                       actor=User.objects.get(username="admin"))
    assert pbx_post(c, "/api/pbx/events/", body, key=raw).status_code == 401
    assert _counts(tenant_a) == before


def test_the_key_of_one_pemda_is_refused_by_another(tenant_a, tenant_b, client_for):
    with schema_context(tenant_a.schema_name):
        _cred, raw = pbx.pbx_credential_create(name="Dairi only", actor=None)
    before = _counts(tenant_b)
    r = pbx_post(client_for(tenant_b), "/api/pbx/events/",
                 {"event": "ringing", "call_id": _id(), "caller": "081260001000"}, key=raw)
    assert r.status_code == 401
    assert _counts(tenant_b) == before


def test_each_demo_pemda_has_its_own_pbx_key(tenant_a, tenant_b, client_for, settings):
    dairi, sidoarjo = demo_pbx_key("dairi"), demo_pbx_key("sidoarjo")
    assert dairi != sidoarjo and dairi.split("_")[1] != sidoarjo.split("_")[1]
    body = {"event": "ringing", "call_id": _id(), "caller": "081260001000"}
    before = _counts(tenant_b)
    r = pbx_post(client_for(tenant_b), "/api/pbx/events/", body, key=dairi)
    assert r.status_code == 401 and r.json()["field"] == "Authorization"
    assert pbx_post(client_for(tenant_a), "/api/pbx/aml/", {"sms": "x"}, key=sidoarjo).status_code == 401
    assert _counts(tenant_b) == before
    # Each key works on its own Pemda's host.
    assert pbx_post(client_for(tenant_b), "/api/pbx/events/", body, key=sidoarjo).status_code == 200
    assert pbx_post(client_for(tenant_a), "/api/pbx/events/", dict(body, call_id=_id()),
                    key=dairi).status_code == 200
    # The demo writes every Pemda's own key where `make demo` tells users to look.
    written = json.loads((Path(settings.VAR_DIR) / "demo-credentials.json").read_text())
    assert written["pbx_keys"] == {"dairi": dairi, "sidoarjo": sidoarjo}
    assert "pbx_key" not in written


def test_seeding_revokes_the_retired_shared_demo_key(tenant_b, client_for):
    shared = "pbx_demo112_Siaga112-demo-pbx-key-not-for-production"
    with schema_context(tenant_b.schema_name):
        pbx.pbx_credential_create(name="Old demo PBX", actor=None, raw_key=shared)
    body = {"event": "ringing", "call_id": _id(), "caller": "081260001000"}
    assert pbx_post(client_for(tenant_b), "/api/pbx/events/", body, key=shared).status_code == 200
    with schema_context(tenant_b.schema_name):
        seed_tenant_demo(tenant_b)
    before = _counts(tenant_b)
    r = pbx_post(client_for(tenant_b), "/api/pbx/events/", dict(body, call_id=_id()), key=shared)
    assert r.status_code == 401
    assert _counts(tenant_b) == before


def test_events_fill_the_call_and_repeat_harmlessly(tenant_a, client_for):
    c = client_for(tenant_a)
    call_id = _id()
    t0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    ring = {"event": "ringing", "call_id": call_id, "caller": "+62 812-6000-2001",
            "trunk": "telkomsel-1", "at": t0.isoformat()}
    assert pbx_post(c, "/api/pbx/events/", ring).json()["duplicate"] is False
    assert pbx_post(c, "/api/pbx/events/", ring).json()["duplicate"] is True
    answered = {"event": "answered", "call_id": call_id, "operator": "operator2",
                "at": (t0 + timedelta(seconds=7)).isoformat()}
    assert pbx_post(c, "/api/pbx/events/", answered).json()["state"] == "answered"
    ended = {"event": "ended", "call_id": call_id, "at": (t0 + timedelta(seconds=95)).isoformat()}
    assert pbx_post(c, "/api/pbx/events/", ended).json()["state"] == "ended"
    # A retried "answered" after the end changes nothing.
    late = dict(answered, at=(t0 + timedelta(seconds=200)).isoformat())
    assert pbx_post(c, "/api/pbx/events/", late).json()["duplicate"] is True
    with schema_context(tenant_a.schema_name):
        call = Call.objects.get(external_id=call_id)
        assert (call.caller, call.trunk, call.state) == ("+6281260002001", "telkomsel-1", "ended")
        assert call.ringing_at == t0 and call.answered_at == t0 + timedelta(seconds=7)
        assert call.ended_at == t0 + timedelta(seconds=95)
        assert call.operator.username == "operator2"
        assert sorted(PbxEvent.objects.filter(call=call).values_list("event", flat=True)) == [
            "answered", "ended", "ringing"]


def test_unanswered_call_is_missed(tenant_a, client_for):
    c = client_for(tenant_a)
    call_id = _id()
    pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id, "caller": "081260002002"})
    assert pbx_post(c, "/api/pbx/events/", {"event": "ended", "call_id": call_id}).json()[
        "state"] == "missed"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"event": "ringing", "call_id": "x1", "caller": "0812 CALL ME"}, "caller", 400),
        ({"event": "ringing", "call_id": "x2", "caller": "12"}, "caller", 400),
        ({"event": "ringing", "call_id": "x3"}, "caller", 400),
        ({"event": "rang", "call_id": "x4", "caller": "081260001000"}, "event", 400),
        ({"event": "ringing", "call_id": "", "caller": "081260001000"}, "call_id", 400),
        ({"event": "ringing", "call_id": "x5", "caller": "081260001000", "at": "yesterday"}, "at", 400),
        ({"event": "ringing", "call_id": "x6", "caller": "081260001000", "at": "2026-01-01T10:00:00"}, "at", 400),
        ({"event": "answered", "call_id": "never-rang"}, "call_id", 404),
        ({"event": "answered", "call_id": "x7", "caller": "081260001000", "operator": "nobody"}, "operator", 400),
        ("not json", "body", 400),
        ([1, 2], "body", 400),
    ],
)
def test_bad_events_are_refused_and_nothing_is_saved(tenant_a, client_for, body, field, status):
    before = _counts(tenant_a)
    r = pbx_post(client_for(tenant_a), "/api/pbx/events/", body)
    assert r.status_code == status, r.content
    assert r.json()["field"] == field and r.json()["error"]
    assert _counts(tenant_a) == before


SMS = ('A"ML=1;lt=+2.74410;lg=+98.31250;rd=12;top={top};lc=68;pm=G;'
       "si=510101234567890;ei=356938035643809;mcc=510;mnc=10;ml=124")


def test_aml_sms_attaches_to_the_ringing_call(tenant_a, client_for):
    c = client_for(tenant_a)
    now = datetime.now(UTC).replace(microsecond=0)
    call_id = _id()
    pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                      "caller": "081260003003", "at": now.isoformat()})
    r = pbx_post(c, "/api/pbx/aml/", {"sms": SMS.format(top=f"{now + timedelta(seconds=15):%Y%m%d%H%M%S}"),
                                       "from": "+6281260003003"})
    assert r.status_code == 200 and r.json() == {"ok": True, "attached": True, "call": call_id}
    with schema_context(tenant_a.schema_name):
        call = Call.objects.get(external_id=call_id)
        assert (call.aml_lat, call.aml_lng, call.aml_radius_m, call.aml_source) == (
            2.7441, 98.3125, 12.0, "gnss")


def test_aml_before_the_call_is_kept_and_attached_when_it_rings(tenant_a, client_for):
    c = client_for(tenant_a)
    now = datetime.now(UTC).replace(microsecond=0)
    https = {"v": "3", "device_number": "+6281260004004", "location_latitude": "2.7502",
             "location_longitude": "98.3201", "location_accuracy": "25", "location_source": "wifi",
             "location_time": str(int(now.timestamp() * 1000))}
    r = c.post("/api/pbx/aml/", https, HTTP_AUTHORIZATION=f"Bearer {demo_pbx_key('dairi')}")
    assert r.status_code == 202 and r.json()["attached"] is False
    call_id = _id()
    pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                      "caller": "081260004004", "at": now.isoformat()})
    with schema_context(tenant_a.schema_name):
        call = Call.objects.get(external_id=call_id)
        assert (call.aml_lat, call.aml_source) == (2.7502, "wifi")
        assert AmlReport.objects.get(pk=r.json()["stored"]).call_id == call.pk


def test_aml_of_another_number_or_too_late_is_not_attached(tenant_a, client_for):
    c = client_for(tenant_a)
    now = datetime.now(UTC).replace(microsecond=0)
    call_id = _id()
    pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                      "caller": "081260005005", "at": now.isoformat()})
    other = pbx_post(c, "/api/pbx/aml/", {"sms": SMS.format(top=f"{now:%Y%m%d%H%M%S}"),
                                           "from": "081260005999"})
    late = pbx_post(c, "/api/pbx/aml/", {"sms": SMS.format(top=f"{now + timedelta(hours=2):%Y%m%d%H%M%S}"),
                                          "from": "081260005005"})
    assert other.status_code == 202 and late.status_code == 202
    with schema_context(tenant_a.schema_name):
        assert Call.objects.get(external_id=call_id).aml_lat is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms": 'A"ML=1;lg=+98.3;rd=10;top=20260101100000', "from": "081260001000"}, "lt"),
        ({"sms": 'A"ML=1;lt=+2.7;lg=+98.3;top=20260101100000', "from": "081260001000"}, "rd"),
        ({"sms": 'A"ML=1;lt=+2.7;lg=+98.3;rd=10;top=yesterday', "from": "081260001000"}, "top"),
        ({"sms": "hello", "from": "081260001000"}, "sms"),
        ({"sms": 'A"ML=1;lt=+2.7;lg=+98.3;rd=10;top=20260101100000'}, "from"),
        ({"device_number": "081260001000", "location_latitude": "2.7"}, "location_longitude,location_accuracy,location_time"),
    ],
)
def test_aml_with_missing_fields_is_refused(tenant_a, client_for, body, field):
    before = _counts(tenant_a)
    r = pbx_post(client_for(tenant_a), "/api/pbx/aml/", body)
    assert r.status_code == 400, r.content
    assert r.json()["error"] and r.json().get("field", "") == field
    assert _counts(tenant_a) == before


def test_aml_sms_as_form_fields_with_the_number_in_the_body(tenant_a, client_for):
    now = datetime.now(UTC).replace(microsecond=0)
    r = client_for(tenant_a).post(
        "/api/pbx/aml/", {"sms": SMS.format(top=f"{now:%Y%m%d%H%M%S}"), "from": "081260006006"},
        HTTP_AUTHORIZATION=f"Bearer {demo_pbx_key('dairi')}")
    assert r.status_code == 202, r.content
    with schema_context(tenant_a.schema_name):
        report = AmlReport.objects.get(pk=r.json()["stored"])
        assert (report.caller, report.channel, report.latitude) == ("+6281260006006", "sms", 2.7441)


@pytest.mark.parametrize(
    ("path", "body", "content_type", "field"),
    [
        # The formerly documented form: the number in the URL.
        ("/api/pbx/aml/?from=%2B6281260006006", "{sms}", "text/plain", "from"),
        ("/api/pbx/aml/?from=081260006006", {"sms": "{sms}"}, "application/json", "from"),
        ("/api/pbx/aml/?device_number=081260006006", {"location_latitude": "2.7"},
         "application/json", "device_number"),
        ("/api/pbx/events/?caller=081260006006", {"event": "ringing", "call_id": "q1"},
         "application/json", "caller"),
        # Even with the number in the body, a number in the URL is refused.
        ("/api/pbx/aml/?from=081260006006", {"sms": "{sms}", "from": "081260006006"},
         "application/json", "from"),
        # A bare SMS has no room for the number.
        ("/api/pbx/aml/", "{sms}", "text/plain", "from"),
    ],
)
def test_caller_numbers_in_the_url_are_refused(tenant_a, client_for, path, body, content_type, field):
    now = datetime.now(UTC).replace(microsecond=0)
    sms = SMS.format(top=f"{now:%Y%m%d%H%M%S}")
    if isinstance(body, str):
        body = body.format(sms=sms)
    else:
        body = {k: (v.format(sms=sms) if v == "{sms}" else v) for k, v in body.items()}
    before = _counts(tenant_a)
    r = pbx_post(client_for(tenant_a), path, body, content_type=content_type)
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field and "body" in r.json()["error"]
    assert "6006" not in r.json()["error"]
    assert _counts(tenant_a) == before


def test_blocked_number_ringing_is_answered_blocked_and_counted(tenant_a, client_for, as_user):
    c = client_for(tenant_a)
    now = datetime.now(UTC)
    with schema_context(tenant_a.schema_name):
        block = NumberBlock.objects.create(number="+6281260007007", blocked_from=now - timedelta(minutes=5),
                                           blocked_until=now + timedelta(hours=2), reason="test")
    call_id = _id()
    r = pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id, "caller": "081260007007"})
    assert r.status_code == 200
    assert r.json()["blocked"] is True
    assert datetime.fromisoformat(r.json()["until"]) == block.blocked_until
    with schema_context(tenant_a.schema_name):
        block.refresh_from_db()
        assert block.hits == 1
        assert Call.objects.get(external_id=call_id).blocked is True
    # It does not ring on the consoles.
    assert "+6281260007007" not in as_user(tenant_a, "operator1").get("/console/calls/").content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms": SMS.format(top="00010101000000"), "from": "081260001000"}, "top"),
        ({"sms": SMS.format(top="99991231235959"), "from": "081260001000"}, "top"),
        ({"sms": SMS.format(top="19991231235959"), "from": "081260001000"}, "top"),
        ({"device_number": "081260001000", "location_latitude": "2.7", "location_longitude": "98.3",
          "location_accuracy": "10", "location_time": "99991231235959"}, "location_time"),
        ({"device_number": "081260001000", "location_latitude": "2.7", "location_longitude": "98.3",
          "location_accuracy": "10", "location_time": "00010101000000"}, "location_time"),
        ({"device_number": "081260001000", "location_latitude": "2.7", "location_longitude": "98.3",
          "location_accuracy": "10", "location_time": 9999999999999}, "location_time"),
        ({"device_number": "081260001000", "location_latitude": "2.7", "location_longitude": "98.3",
          "location_accuracy": "10", "location_time": "0"}, "location_time"),
    ],
)
def test_aml_with_an_out_of_range_time_is_a_400_naming_the_field(tenant_a, client_for, body, field):
    before = _counts(tenant_a)
    r = pbx_post(client_for(tenant_a), "/api/pbx/aml/", body)
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field and "2000-2099" in r.json()["error"]
    assert _counts(tenant_a) == before


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+07:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59+00:00",
        "1999-12-31T23:59:59+07:00",
        "2026-02-30T10:00:00+07:00",
        "2026-01-01T25:00:00+07:00",
        "2026-01-01T10:00:00+99:00",
        "2026-01-01T10:00:00+07:00" + "9" * 5000,
    ],
)
def test_pbx_event_with_an_impossible_time_is_a_400_naming_at(tenant_a, client_for, at):
    before = _counts(tenant_a)
    r = pbx_post(client_for(tenant_a), "/api/pbx/events/",
                 {"event": "ringing", "call_id": _id(), "caller": "081260001000", "at": at})
    assert r.status_code == 400, r.content
    assert r.json()["field"] == "at" and len(r.json()["error"]) < 200
    assert _counts(tenant_a) == before


def test_a_later_event_with_an_impossible_time_changes_nothing(tenant_a, client_for):
    c = client_for(tenant_a)
    call_id = _id()
    assert pbx_post(c, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                            "caller": "081260001000"}).status_code == 200
    before = _counts(tenant_a)
    for event in ("answered", "ended"):
        r = pbx_post(c, "/api/pbx/events/",
                     {"event": event, "call_id": call_id, "at": "0001-01-01T00:00:00+07:00"})
        assert r.status_code == 400 and r.json()["field"] == "at"
    assert _counts(tenant_a) == before


def test_the_kept_url_match_does_not_open_the_pbx_path_on_the_ministry_host(
        tenant_a, client_for, public_client):
    """The PBX path keeps its URL match per resolver (siaga112.pbx_path): after an event
    to a Pemda the ministry's host (another URLconf, no PBX API) still answers 404, and
    the Pemda's host still takes events."""
    body = {"event": "ringing", "call_id": _id(), "caller": "081260001000"}
    assert pbx_post(client_for(tenant_a), "/api/pbx/events/", body).status_code == 200
    before = _counts(tenant_a)
    ministry = pbx_post(public_client, "/api/pbx/events/", {**body, "call_id": _id()})
    assert ministry.status_code == 404
    assert _counts(tenant_a) == before
    again = pbx_post(client_for(tenant_a), "/api/pbx/events/", {**body, "call_id": _id()})
    assert again.status_code == 200 and again.json()["duplicate"] is False
