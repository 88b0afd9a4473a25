"""An agency's duty phone and radio channel: the Pemda admin keeps them, the call
center sees them next to the dispatch (a tel: link), bad input names its field and
saves nothing, and only the admin may change them."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency

from .conftest import post_json

pytestmark = pytest.mark.django_db


def _row(tenant, code="damkar") -> tuple:
    with schema_context(tenant.schema_name):
        a = Agency.objects.get(code=code)
        return a.pk, a.name, a.kind, a.email, a.phone, a.radio_channel, a.webhook_url, a.active


def _form(tenant, **changes) -> dict:
    pk, name, kind, email, phone, radio, hook, active = _row(tenant)
    form = {"agency_id": pk, "name": name, "kind": kind, "email": email, "phone": phone,
            "radio_channel": radio, "webhook_url": hook, "active": "1" if active else "0"}
    form.update(changes)
    return form


def test_the_admin_sets_phone_and_radio_and_the_dispatch_shows_them(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    page = admin.get("/manage/agencies/").content.decode()
    assert 'name="phone"' in page and 'name="radio_channel"' in page and "Kanal radio" in page
    answer = admin.post("/manage/agencies/", _form(tenant_a, phone=" (0627)  21112 ",
                                                    radio_channel="Kanal 7  VHF"))
    assert answer.status_code == 302
    assert _row(tenant_a)[4:6] == ("(0627) 21112", "Kanal 7 VHF")

    operator = as_user(tenant_a, "operator1")
    created = post_json(operator, "/incidents/", {
        "category": "fire", "latitude": "2.74", "longitude": "98.31", "address": "Pasar",
        "description": "asap", "idempotency_key": "agency-contact-1", "force": "1"})
    assert created.status_code == 201, created.content
    operator.post(f"/incidents/{created.json()['id']}/dispatch/", {"agency": _row(tenant_a)[0]})
    live = operator.get(f"/incidents/{created.json()['id']}/live/").content.decode()
    assert 'href="tel:062721112"' in live and "Kanal 7 VHF" in live


@pytest.mark.parametrize(("field", "value"), [
    ("phone", "call me maybe"), ("phone", "1" * 41), ("phone", "+"),
    ("radio_channel", "x" * 61),
])
def test_bad_contact_input_names_the_field_and_saves_nothing(tenant_a, as_user, field, value):
    before = _row(tenant_a)
    answer = post_json(as_user(tenant_a, "admin"), "/manage/agencies/",
                       _form(tenant_a, name="Nama baru", **{field: value}))
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert _row(tenant_a) == before


@pytest.mark.parametrize("who", [None, "operator1", "supervisor", "damkar", "bupati"])
def test_only_the_pemda_admin_changes_them(tenant_a, as_user, client_for, who):
    before = _row(tenant_a)
    client = client_for(tenant_a) if who is None else as_user(tenant_a, who)
    answer = client.post("/manage/agencies/", _form(tenant_a, phone="112"))
    assert answer.status_code in (302, 403)
    assert _row(tenant_a) == before


def test_another_pemdas_admin_cannot_reach_them(tenant_a, tenant_b, as_user):
    before = _row(tenant_a)
    as_user(tenant_b, "admin").post("/manage/agencies/", _form(tenant_a, phone="112"))
    assert _row(tenant_a) == before
