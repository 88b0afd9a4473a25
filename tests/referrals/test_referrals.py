"""The cross-Pemda exchange: Dairi (tenant_a) refers to Sidoarjo (tenant_b), each
acting from its own schema; Kota Malang (tenant_c) is a bystander. Every refused
step leaves the rows as they were."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from referrals.models import Referral, ReferralUpdate
from referrals.selectors import (
    inbox_for,
    neighbour_tenants,
    sent_by,
    tenant_labels,
    updates_for,
)
from referrals.services import (
    ReferralError,
    ReferralNotFound,
    access_referral,
    referral_accept,
    referral_decline,
    referral_post_update,
    referral_send,
)
from tenants.models import Tenant

PAYLOAD = {
    "category": "fire",
    "lat": -7.45,
    "lng": 112.70,
    "address": "Jl. Raya Porong km 3",
    "description": "Kebakaran lahan meluas ke arah timur",
    "priority": 1,
}


def _send(a, b, **overrides):
    args = {"from_schema": a.schema_name, "to_schema": b.schema_name, "source_incident_id": 41,
            "payload": PAYLOAD, "actor_name": "Operator Dairi", **overrides}
    with schema_context(a.schema_name):
        return referral_send(**args)


def _snapshot(referral_id: int) -> tuple:
    referral = Referral.objects.get(pk=referral_id)
    return (referral.status, referral.target_incident_id, referral.accepted_at,
            ReferralUpdate.objects.filter(referral_id=referral_id).count())


def test_referral_round_trip_seen_by_both_sides(tenant_a, tenant_b) -> None:
    referral = _send(tenant_a, tenant_b)
    assert (referral.status, referral.from_schema, referral.to_schema) == (
        "sent", tenant_a.schema_name, tenant_b.schema_name)

    with schema_context(tenant_b.schema_name):
        assert list(inbox_for(tenant_b.schema_name)) == [referral]
        assert list(sent_by(tenant_b.schema_name)) == []
        accepted = referral_accept(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                                   local_incident_id=907)
        referral_post_update(referral_id=referral.pk, from_schema=tenant_b.schema_name,
                             status="in_progress", note="Damkar Sidoarjo berangkat")
    assert (accepted.status, accepted.target_incident_id) == ("accepted", 907)
    assert accepted.accepted_at is not None

    with schema_context(tenant_a.schema_name):
        assert list(sent_by(tenant_a.schema_name)) == [referral]
        assert list(inbox_for(tenant_a.schema_name)) == []
        referral_post_update(referral_id=referral.pk, from_schema=tenant_a.schema_name,
                             status="in_progress", note="Angin ke timur, api mendekati batas")
        seen_by_a = [(u.from_schema, u.status, u.note) for u in updates_for(referral.pk)]
        assert access_referral(tenant_a.schema_name, referral.pk).status == "in_progress"

    with schema_context(tenant_b.schema_name):
        referral_post_update(referral_id=referral.pk, from_schema=tenant_b.schema_name,
                             status="resolved", note="Api padam")
        seen_by_b = [(u.from_schema, u.status, u.note) for u in updates_for(referral.pk)]

    a, b = tenant_a.schema_name, tenant_b.schema_name
    expected = [
        (a, "sent", ""),
        (b, "accepted", ""),
        (b, "in_progress", "Damkar Sidoarjo berangkat"),
        (a, "in_progress", "Angin ke timur, api mendekati batas"),
    ]
    assert seen_by_a == expected
    assert seen_by_b == [*expected, (b, "resolved", "Api padam")]
    # The same rows from the national (public) connection.
    assert connection.schema_name == "public"
    assert Referral.objects.get(pk=referral.pk).status == "resolved"
    assert tenant_labels([a, b]) == {a: "Kab. Dairi", b: "Kab. Sidoarjo"}


def test_a_third_pemda_can_neither_see_nor_touch_it(tenant_a, tenant_b, tenant_c) -> None:
    referral = _send(tenant_a, tenant_b)
    before = _snapshot(referral.pk)
    c = tenant_c.schema_name
    with schema_context(c):
        with pytest.raises(ReferralNotFound):
            referral_accept(referral_id=referral.pk, to_schema=c, local_incident_id=1)
        with pytest.raises(ReferralNotFound):
            referral_decline(referral_id=referral.pk, to_schema=c, reason="bukan wilayah kami")
        with pytest.raises(ReferralNotFound):
            referral_post_update(referral_id=referral.pk, from_schema=c, status="closed",
                                 note="x")
        with pytest.raises(ReferralNotFound):
            access_referral(c, referral.pk)
        assert list(inbox_for(c)) == [] and list(sent_by(c)) == []
        # Nor by naming another Pemda from its own connection.
        with pytest.raises(ReferralError) as excinfo:
            referral_accept(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                            local_incident_id=1)
        assert excinfo.value.code == "impersonation"
    # Missing looks the same as forbidden, in both languages.
    with pytest.raises(ReferralNotFound) as forbidden, translation.override("id"):
        access_referral(c, referral.pk)
    with pytest.raises(ReferralNotFound) as missing, translation.override("id"):
        access_referral(c, referral.pk + 10_000)
    assert missing.value.messages == forbidden.value.messages == ["Rujukan tidak ditemukan."]
    with pytest.raises(ReferralNotFound) as missing_en, translation.override("en"):
        access_referral(c, referral.pk + 10_000)
    assert missing_en.value.messages == ["Referral not found."]
    assert _snapshot(referral.pk) == before


def test_only_the_receiver_accepts_and_only_once(tenant_a, tenant_b) -> None:
    referral = _send(tenant_a, tenant_b)
    with schema_context(tenant_a.schema_name):
        with pytest.raises(ReferralError) as by_sender:
            referral_accept(referral_id=referral.pk, to_schema=tenant_a.schema_name,
                            local_incident_id=3)
    assert by_sender.value.code == "not_receiver"
    with schema_context(tenant_b.schema_name):
        referral_accept(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                        local_incident_id=5)
        after_first = _snapshot(referral.pk)
        with pytest.raises(ReferralError) as twice, translation.override("en"):
            referral_accept(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                            local_incident_id=6)
        with pytest.raises(ReferralError) as decline_late:
            referral_decline(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                             reason="terlambat")
    assert twice.value.code == "already_accepted"
    assert "already accepted" in twice.value.messages[0]
    assert decline_late.value.code == "status"
    assert _snapshot(referral.pk) == after_first
    assert after_first[1] == 5


def test_decline_needs_a_reason_and_ends_the_exchange(tenant_a, tenant_b) -> None:
    referral = _send(tenant_a, tenant_b)
    b = tenant_b.schema_name
    with schema_context(b):
        with pytest.raises(ReferralError) as no_reason:
            referral_decline(referral_id=referral.pk, to_schema=b, reason="  ")
        assert no_reason.value.code == "note"
        declined = referral_decline(referral_id=referral.pk, to_schema=b,
                                    reason="Lokasi di wilayah Pasuruan")
        with pytest.raises(ReferralError) as after:
            referral_post_update(referral_id=referral.pk, from_schema=b, status="declined",
                                 note="lagi")
    assert declined.status == "declined"
    assert after.value.code == "final"
    assert [(u.status, u.note) for u in updates_for(referral.pk)] == [
        ("sent", ""), ("declined", "Lokasi di wilayah Pasuruan")]


@pytest.mark.parametrize(
    ("status", "note", "code"),
    [
        ("resolved", "api padam", "not_accepted"),
        ("in_progress", "", "not_accepted"),
        ("accepted", "", "status"),
        ("burning", "x", "status"),
        ("sent", "", "note"),
        ("sent", "hubungi 0812-3456-7890", "caller_data"),
    ],
)
def test_updates_out_of_order_are_refused(tenant_a, tenant_b, status, note, code) -> None:
    referral = _send(tenant_a, tenant_b)
    before = _snapshot(referral.pk)
    with schema_context(tenant_a.schema_name):
        with pytest.raises(ReferralError) as excinfo:
            referral_post_update(referral_id=referral.pk, from_schema=tenant_a.schema_name,
                                 status=status, note=note)
    assert excinfo.value.code == code
    assert _snapshot(referral.pk) == before


def test_status_never_goes_back_and_closed_is_final(tenant_a, tenant_b) -> None:
    referral = _send(tenant_a, tenant_b)
    a, b = tenant_a.schema_name, tenant_b.schema_name
    with schema_context(b):
        referral_accept(referral_id=referral.pk, to_schema=b, local_incident_id=8)
        referral_post_update(referral_id=referral.pk, from_schema=b, status="resolved", note="")
        with pytest.raises(ReferralError) as back:
            referral_post_update(referral_id=referral.pk, from_schema=b, status="in_progress",
                                 note="")
        assert back.value.code == "backwards"
        # A note without a status change is fine.
        referral_post_update(referral_id=referral.pk, from_schema=b, status="resolved",
                             note="Laporan lengkap menyusul")
    with schema_context(a):
        referral_post_update(referral_id=referral.pk, from_schema=a, status="closed", note="")
        with pytest.raises(ReferralError) as closed:
            referral_post_update(referral_id=referral.pk, from_schema=a, status="closed",
                                 note="lagi")
    assert closed.value.code == "final"
    assert [u.status for u in updates_for(referral.pk)] == [
        "sent", "accepted", "resolved", "resolved", "closed"]


def test_sender_may_withdraw_before_acceptance(tenant_a, tenant_b) -> None:
    referral = _send(tenant_a, tenant_b)
    with schema_context(tenant_a.schema_name):
        referral_post_update(referral_id=referral.pk, from_schema=tenant_a.schema_name,
                             status="closed", note="Salah wilayah, ditangani sendiri")
    with schema_context(tenant_b.schema_name):
        with pytest.raises(ReferralError):
            referral_accept(referral_id=referral.pk, to_schema=tenant_b.schema_name,
                            local_incident_id=1)
    assert Referral.objects.get(pk=referral.pk).status == "closed"


def _installed_tenant() -> Tenant:
    return Tenant.objects.filter(region__isnull=False, is_template=False,
                                 status__in=["installed", "training"]).first()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("self", "to_schema"),
        ("not_running", "to_schema"),
        ("unknown", "to_schema"),
        ("public", "to_schema"),
        ("caller_number", "caller_data"),
        ("nested_caller_name", "caller_data"),
        ("phone_in_description", "caller_data"),
        ("no_category", "category"),
        ("lat_outside_indonesia", "lat"),
        ("no_incident", "source_incident_id"),
        ("no_actor", "actor_name"),
    ],
)
def test_bad_referrals_are_refused_and_nothing_saved(tenant_a, tenant_b, case, code) -> None:
    overrides: dict = {
        "self": {"to_schema": tenant_a.schema_name},
        "not_running": {"to_schema": _installed_tenant().schema_name},
        "unknown": {"to_schema": "pemda_99_99"},
        "public": {"to_schema": "public"},
        "caller_number": {"payload": {**PAYLOAD, "caller_number": "+6281234567890"}},
        "nested_caller_name": {"payload": {**PAYLOAD, "reporter": {"Caller_Name": "Budi"}}},
        "phone_in_description": {"payload": {**PAYLOAD,
                                             "description": "Pelapor 0812 3456 7890, rumah"}},
        "no_category": {"payload": {k: v for k, v in PAYLOAD.items() if k != "category"}},
        "lat_outside_indonesia": {"payload": {**PAYLOAD, "lat": 48.85}},
        "no_incident": {"source_incident_id": 0},
        "no_actor": {"actor_name": " "},
    }[case]
    counts = (Referral.objects.count(), ReferralUpdate.objects.count())
    with pytest.raises(ReferralError) as excinfo:
        _send(tenant_a, tenant_b, **overrides)
    assert excinfo.value.code == code
    assert excinfo.value.messages[0]
    assert (Referral.objects.count(), ReferralUpdate.objects.count()) == counts


def test_the_not_running_message_names_the_pemda(tenant_a) -> None:
    target = _installed_tenant()
    with pytest.raises(ReferralError) as excinfo:
        with schema_context(tenant_a.schema_name):
            referral_send(from_schema=tenant_a.schema_name, to_schema=target.schema_name,
                          source_incident_id=1, payload=PAYLOAD, actor_name="Op")
    assert target.name in excinfo.value.messages[0]


def test_a_pemda_cannot_send_in_another_pemdas_name(tenant_a, tenant_b, tenant_c) -> None:
    with schema_context(tenant_c.schema_name):
        with pytest.raises(ReferralError) as excinfo:
            referral_send(from_schema=tenant_a.schema_name, to_schema=tenant_b.schema_name,
                          source_incident_id=1, payload=PAYLOAD, actor_name="Op")
    assert excinfo.value.code == "impersonation"
    assert not Referral.objects.exists()


def test_one_open_referral_per_incident_and_pemda(tenant_a, tenant_b, tenant_c) -> None:
    first = _send(tenant_a, tenant_b)
    with pytest.raises(ReferralError) as excinfo:
        _send(tenant_a, tenant_b)
    assert excinfo.value.code == "duplicate"
    # The same incident may also go to another neighbour.
    other = _send(tenant_a, tenant_c)
    assert sorted(r.pk for r in sent_by(tenant_a.schema_name)) == sorted([first.pk, other.pk])


def test_neighbours_same_province_first(tenant_a, tenant_b, tenant_c) -> None:
    with schema_context(tenant_b.schema_name):
        neighbours = list(neighbour_tenants(tenant_b.schema_name))
    running = Tenant.objects.filter(region__isnull=False, is_template=False,
                                    status__in=["trial", "live"]).exclude(pk=tenant_b.pk)
    assert sorted(t.pk for t in neighbours) == sorted(running.values_list("pk", flat=True))
    provinces = [t.region.parent_id for t in neighbours]
    jatim = provinces.count("35")
    # Jawa Timur: 15 launched + 4 in trial in the demo world, Sidoarjo excluded.
    assert jatim == 18
    assert provinces[:jatim] == ["35"] * jatim
    assert "35" not in provinces[jatim:]
    assert tenant_c in neighbours[:jatim]
    assert tenant_a in neighbours[jatim:]
    schemas = {t.schema_name for t in neighbours}
    assert tenant_b.schema_name not in schemas
    assert not schemas & {"public", "tenant_template"}
    kotamobagu = Tenant.objects.get(region__code="71.74")
    assert kotamobagu.status == "training" and kotamobagu not in neighbours
