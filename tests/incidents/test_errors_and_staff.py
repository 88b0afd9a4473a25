"""The call center's refusals go through core.http's one mapping (JSON, htmx
text, the site's page; a 404 is the same branded page, never Django's bare one),
and staff and roles are accounts' (the responder's agency plugged in by incidents)."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from core.errors import Conflict, DomainError
from incidents.models import Agency, AgencyMember, Incident
from incidents.services.incidents import DuplicateOffer

from .conftest import post_json


def test_a_missing_incident_is_the_branded_404_for_browsers_json_and_htmx(tenant_a, as_user):
    operator = as_user(tenant_a, "operator1")
    page = operator.get("/incidents/999999/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "navbar" in text and "Kejadian tidak ditemukan." in text and "Tidak dilakukan" in text

    answer = operator.get("/incidents/999999/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 404
    assert answer.json() == {"error": "Kejadian tidak ditemukan.", "code": "not_found",
                             "status": 404}

    htmx = operator.get("/incidents/999999/live/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 404 and htmx["Content-Type"].startswith("text/plain")
    assert htmx.content.decode() == "Kejadian tidak ditemukan."


def test_a_service_404_and_a_missing_dispatch_answer_json_not_a_page(tenant_a, as_user):
    supervisor = as_user(tenant_a, "supervisor")
    missing = post_json(supervisor, "/dispatches/999999/reassign/", {"agency": "1"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    admin = as_user(tenant_a, "admin")
    category = admin.post("/manage/categories/", {"category_id": "no-such", "name": "x"},
                          HTTP_ACCEPT="application/json")
    assert category.status_code == 404
    assert category.json() == {"error": "Kategori tidak ditemukan.", "code": "not_found",
                               "status": 404}
    # No category_id at all is the sender's mistake to correct: 400 naming the field.
    unnamed = admin.post("/manage/categories/", {"name": "x"}, HTTP_ACCEPT="application/json")
    assert unnamed.status_code == 400 and unnamed.json()["field"] == "category_id"
    revoke = admin.post("/manage/pbx/999999/revoke/")  # a service's lock_or_404
    assert revoke.status_code == 404 and "navbar" in revoke.content.decode()


def test_bad_input_in_the_console_still_gets_its_message_in_each_form(tenant_a, as_user):
    operator = as_user(tenant_a, "operator1")
    body = {"category": "fire", "latitude": "x", "longitude": "98.6", "address": "A",
            "description": "Asap", "idempotency_key": "err-1"}
    with schema_context(tenant_a.schema_name):
        before = Incident.objects.count()
    answer = post_json(operator, "/incidents/", body)
    assert answer.status_code == 400 and answer.json()["field"] == "latitude"
    htmx = as_user(tenant_a, "damkar").post("/dispatches/999999/advance/", {"status": "departed"},
                         HTTP_HX_REQUEST="true")
    assert htmx.status_code == 404 and htmx["Content-Type"].startswith("text/plain")
    # A browser's form post re-renders the console with the message (not the error page).
    form = operator.post("/incidents/", body)
    assert form.status_code == 400 and 'name="description"' in form.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.count() == before


def test_the_duplicate_offer_is_a_conflict_and_still_offers_the_candidates(tenant_a, as_user):
    offer = DuplicateOffer([])
    assert isinstance(offer, Conflict) and isinstance(offer, DomainError)
    assert (offer.error_status(), offer.error_code()) == (409, "duplicate_incident")
    operator = as_user(tenant_a, "operator1")
    body = {"category": "fire", "latitude": "2.9801", "longitude": "98.6301", "address": "Pasar",
            "description": "Kebakaran pasar", "idempotency_key": "dup-1"}
    first = post_json(operator, "/incidents/", body).json()["id"]
    again = post_json(operator, "/incidents/", {**body, "idempotency_key": "dup-2"})
    assert again.status_code == 409
    answer = again.json()
    assert answer["duplicate"] is True and [c["id"] for c in answer["candidates"]] == [first]
    assert answer["message"] == (
        "Ada kejadian terbuka yang mirip: tautkan ke kejadian itu, atau kirim force=1.")


def test_a_referral_refusal_flows_with_its_own_message_and_status(tenant_a, tenant_b, as_user):
    """No hand translation in incidents: the exchange's ReferralError is answered as is."""
    from referrals.models import Referral

    dairi_op, sda_op = as_user(tenant_a, "operator1"), as_user(tenant_b, "operator1")
    incident_id = post_json(dairi_op, "/incidents/", {
        "category": "fire", "latitude": "2.9901", "longitude": "98.6401", "address": "Batas",
        "description": "Asap", "idempotency_key": "ref-err"}).json()["id"]
    assert dairi_op.post(f"/incidents/{incident_id}/refer/",
                         {"to_schema": tenant_b.schema_name}).status_code == 302
    referral = Referral.objects.get(from_schema=tenant_a.schema_name, source_incident_id=incident_id)
    declined = post_json(sda_op, f"/referrals/{referral.pk}/decline/", {"reason": ""})
    assert declined.status_code == 400
    assert declined.json() == {"error": "Tuliskan catatan untuk Pemda lainnya.", "code": "note",
                               "status": 400}
    referral.refresh_from_db()
    assert referral.status == "sent"


def test_staff_page_is_accounts_with_the_responder_agency_from_incidents(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    page = admin.get("/manage/users/").content.decode()
    with schema_context(tenant_a.schema_name):
        damkar = User.objects.get(username="damkar")
        bpbd = Agency.objects.get(code="bpbd")
        assert AgencyMember.objects.get(user=damkar).agency.code == "damkar"
    assert 'name="agency"' in page and f'<option value="{bpbd.pk}">' in page
    # A responder moves to BPBD, then becomes a viewer: the membership follows the role.
    data = {"user_id": damkar.pk, "display_name": "Damkar", "role": "opd_responder",
            "agency": bpbd.pk, "active": "1"}
    assert admin.post("/manage/users/", data).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert AgencyMember.objects.get(user=damkar).agency == bpbd
    assert admin.post("/manage/users/", {**data, "role": "viewer"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not AgencyMember.objects.filter(user=damkar).exists()
        assert User.objects.get(pk=damkar.pk).role == "viewer"
    # Back to responder without an agency: refused, nothing changed.
    bad = admin.post("/manage/users/", {**data, "agency": ""}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "agency"
    with schema_context(tenant_a.schema_name):
        assert User.objects.get(pk=damkar.pk).role == "viewer"
    # The admin may not demote themself: a 409 conflict, as before.
    with schema_context(tenant_a.schema_name):
        me = User.objects.get(username="admin")
    own = admin.post("/manage/users/", {"user_id": me.pk, "role": "viewer", "active": "1"},
                     HTTP_ACCEPT="application/json")
    assert own.status_code == 409 and own.json()["field"] == "role"
    # Another role gets the console's 403 page, and nothing changes.
    denied = as_user(tenant_a, "operator1").post("/manage/users/", {**data, "role": "supervisor"})
    assert denied.status_code == 403 and "navbar" in denied.content.decode()
    with schema_context(tenant_a.schema_name):
        assert User.objects.get(pk=damkar.pk).role == "viewer"
    anonymous = Client(HTTP_HOST="dairi.localhost").post("/manage/users/", data)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
