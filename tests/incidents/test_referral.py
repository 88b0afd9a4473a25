"""Cross-Pemda referral: Dairi refers an incident to Sidoarjo, Sidoarjo accepts it
into its own queue, and each side sees the other's status updates."""

from __future__ import annotations

from django_tenants.utils import schema_context

from incidents.models import Agency, Incident, TimelineEntry
from referrals.models import Referral

from .conftest import post_json


def test_refer_accept_and_follow_updates(tenant_a, tenant_b, as_user):
    dairi_op, sda_op = as_user(tenant_a, "operator1"), as_user(tenant_b, "operator1")
    created = post_json(dairi_op, "/incidents/", {
        "category": "natural_disaster", "latitude": "2.9501", "longitude": "98.6001",
        "address": "Perbatasan", "description": "Longsor di perbatasan", "idempotency_key": "ref-1"})
    incident_id = created.json()["id"]
    page = dairi_op.get(f"/incidents/{incident_id}/").content.decode()
    assert tenant_b.schema_name in page  # offered as a neighbour

    # A viewer may not refer; nothing is sent.
    assert as_user(tenant_a, "bupati").post(f"/incidents/{incident_id}/refer/",
                                            {"to_schema": tenant_b.schema_name}).status_code == 403
    assert not Referral.objects.filter(from_schema=tenant_a.schema_name,
                                       source_incident_id=incident_id).exists()
    # Not a neighbour on the platform: refused with the field named.
    bad = post_json(dairi_op, f"/incidents/{incident_id}/refer/", {"to_schema": "pemda_99_99"})
    assert bad.status_code == 400 and bad.json()["field"] == "to_schema"

    r = dairi_op.post(f"/incidents/{incident_id}/refer/", {"to_schema": tenant_b.schema_name})
    assert r.status_code == 302, r.content.decode()[-1500:]
    referral = Referral.objects.get(from_schema=tenant_a.schema_name, source_incident_id=incident_id)
    assert referral.to_schema == tenant_b.schema_name
    assert referral.payload["category"] == "natural_disaster" and referral.payload["lat"] == 2.9501
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.get(pk=incident_id).referral_out_id == referral.pk
        assert TimelineEntry.objects.filter(incident_id=incident_id, kind="referred").exists()

    # Sidoarjo's queue shows it; Dairi cannot accept its own referral.
    assert "Perbatasan" in sda_op.get("/referrals/").content.decode()
    assert dairi_op.post(f"/referrals/{referral.pk}/accept/").status_code == 404
    r = sda_op.post(f"/referrals/{referral.pk}/accept/")
    assert r.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.target_incident_id is not None
    with schema_context(tenant_b.schema_name):
        local = Incident.objects.get(pk=referral.target_incident_id)
        assert local.category.code == "natural_disaster" and local.referral_in_id == referral.pk
        entry = TimelineEntry.objects.get(incident=local, kind="referral_received")
        assert entry.data["from"] == tenant_a.schema_name
        bpbd = Agency.objects.get(code="bpbd").pk
    again = sda_op.post(f"/referrals/{referral.pk}/accept/", HTTP_ACCEPT="application/json")
    assert again.status_code == 409

    # Sidoarjo dispatches: Dairi's incident page shows Sidoarjo's update.
    assert sda_op.post(f"/incidents/{local.pk}/dispatch/", {"agency": bpbd}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == "in_progress"
    assert referral.updates.filter(from_schema=tenant_b.schema_name).exists()
    update = referral.updates.get(from_schema=tenant_b.schema_name, status="in_progress")
    page = dairi_op.get(f"/incidents/{incident_id}/").content.decode()
    assert 'id="referral-updates"' in page and update.note in page and update.note


def test_receiving_pemda_declines_with_a_reason(tenant_a, tenant_b, as_user):
    dairi_op, sda_op = as_user(tenant_a, "operator1"), as_user(tenant_b, "operator1")
    incident_id = post_json(dairi_op, "/incidents/", {
        "category": "fire", "latitude": "2.9601", "longitude": "98.6101", "address": "Batas",
        "description": "Asap di perbatasan", "idempotency_key": "ref-2"}).json()["id"]
    assert dairi_op.post(f"/incidents/{incident_id}/refer/",
                         {"to_schema": tenant_b.schema_name}).status_code == 302
    referral = Referral.objects.get(from_schema=tenant_a.schema_name, source_incident_id=incident_id)
    # A viewer of Sidoarjo may not decline; Dairi may not decline its own referral.
    assert as_user(tenant_b, "bupati").post(f"/referrals/{referral.pk}/decline/",
                                            {"reason": "x"}).status_code == 403
    assert dairi_op.post(f"/referrals/{referral.pk}/decline/", {"reason": "x"}).status_code == 404
    referral.refresh_from_db()
    assert referral.status == "sent"
    r = sda_op.post(f"/referrals/{referral.pk}/decline/", {"reason": "Di luar wilayah kami"})
    assert r.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "declined"
    assert "Di luar wilayah kami" in dairi_op.get(f"/incidents/{incident_id}/").content.decode()


TENANT_ROLE_NAMES = ["call_taker", "supervisor", "opd_responder", "pemda_admin", "viewer"]


def test_referral_views_ask_referrals_policies_for_every_role(
    tenant_a, tenant_b, as_user, make_user, client_for
):
    """Each tenant role gets exactly what referrals.policies grants: the inbox to
    readers, refer to senders, accept/decline to answerers; everyone else a 403
    that changes nothing."""
    from referrals import policies as referral_policies

    dairi_op = as_user(tenant_a, "operator1")
    incident_id = post_json(dairi_op, "/incidents/", {
        "category": "fire", "latitude": "2.9701", "longitude": "98.6201", "address": "Tapal",
        "description": "Kebakaran di tapal batas", "idempotency_key": "ref-roles"}).json()["id"]
    assert dairi_op.post(f"/incidents/{incident_id}/refer/",
                         {"to_schema": tenant_b.schema_name}).status_code == 302
    referral = Referral.objects.get(from_schema=tenant_a.schema_name, source_incident_id=incident_id)
    with schema_context(tenant_b.schema_name):
        local_id = Incident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    for role in TENANT_ROLE_NAMES:
        user = make_user(tenant_b, role)
        web = client_for(tenant_b, user)
        may_read = referral_policies.can_view_referrals(user)
        may_send = referral_policies.can_send_referral(user)
        may_answer = referral_policies.can_answer_referral(user)

        inbox = web.get("/referrals/")
        assert inbox.status_code == (200 if may_read else 403), role
        if may_read:
            page = inbox.content.decode()
            assert "Tapal" in page
            # Only answerers are offered the buttons.
            assert (f"/referrals/{referral.pk}/accept/" in page) == may_answer, role

        # Refer: a sender reaches the service (400: not a neighbour), others are stopped.
        refer = web.post(f"/incidents/{local_id}/refer/", {"to_schema": "pemda_99_99"},
                         HTTP_ACCEPT="application/json")
        assert (refer.status_code == 403) == (not may_send), (role, refer.status_code)

        # Decline without a reason: an answerer reaches the service (400), others get 403.
        decline = web.post(f"/referrals/{referral.pk}/decline/", {"reason": ""},
                           HTTP_ACCEPT="application/json")
        assert decline.status_code == (400 if may_answer else 403), (role, decline.status_code)
        accept = web.post("/referrals/999999/accept/", HTTP_ACCEPT="application/json")
        assert accept.status_code == (404 if may_answer else 403), (role, accept.status_code)

    referral.refresh_from_db()
    assert referral.status == "sent" and referral.target_incident_id is None


def test_the_referral_inbox_follows_a_change_of_the_policy(tenant_b, make_user, client_for,
                                                          monkeypatch):
    """The views hold no role list of their own: narrowing referrals.policies
    narrows the page."""
    from accounts.models import Role
    from referrals import policies as referral_policies

    viewer = client_for(tenant_b, make_user(tenant_b, "viewer"))
    assert viewer.get("/referrals/").status_code == 200
    monkeypatch.setattr(referral_policies, "READERS", frozenset({Role.CALL_TAKER}))
    assert viewer.get("/referrals/").status_code == 403
