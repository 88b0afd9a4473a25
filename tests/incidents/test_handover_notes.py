"""Shift handover as a conversation: the outgoing supervisor leaves notes, the
incoming one acknowledges them (not the author), and the page shows who carried the
shift (calls answered per call-taker, median time to answer)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from incidents.models import Call, HandoverNote

from .conftest import post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def night_supervisor(tenant_a):
    from accounts.models import Role, User

    with schema_context(tenant_a.schema_name):
        user, _ = User.objects.get_or_create(
            username="supervisor.malam", defaults={"role": Role.SUPERVISOR,
                                                   "display_name": "Supervisor Malam"})
    return user


def _notes(tenant) -> list[tuple]:
    with schema_context(tenant.schema_name):
        return list(HandoverNote.objects.order_by("pk").values_list(
            "text", "written_by__username", "acknowledged_by__username"))


def test_a_note_is_left_and_acknowledged_by_the_next_supervisor(
        tenant_a, as_user, client_for, night_supervisor):
    day = as_user(tenant_a, "supervisor")
    assert day.post("/supervisor/handover/notes/",
                    {"text": "Ambulans PSC 2 rusak, pakai RSUD."}).status_code == 302
    with schema_context(tenant_a.schema_name):
        note = HandoverNote.objects.latest("pk")
    page = day.get("/supervisor/handover/").content.decode()
    assert "Ambulans PSC 2 rusak" in page and "Belum dikonfirmasi" in page

    own = post_json(day, f"/supervisor/handover/notes/{note.pk}/ack/", {})
    assert own.status_code == 409 and own.json()["field"] == "note"

    night = client_for(tenant_a, night_supervisor)
    assert night.post(f"/supervisor/handover/notes/{note.pk}/ack/").status_code == 302
    with schema_context(tenant_a.schema_name):
        note.refresh_from_db()
        assert note.acknowledged_by_id == night_supervisor.pk and note.acknowledged_at
    assert "Sudah dibaca oleh Supervisor Malam" in day.get("/supervisor/handover/").content.decode()
    again = post_json(night, f"/supervisor/handover/notes/{note.pk}/ack/", {})
    assert again.status_code == 409


def test_an_empty_or_huge_note_is_refused_and_nothing_saved(tenant_a, as_user):
    before = _notes(tenant_a)
    for text in ("", "   ", "x" * 4001):
        answer = post_json(as_user(tenant_a, "supervisor"), "/supervisor/handover/notes/",
                           {"text": text})
        assert answer.status_code == 400 and answer.json()["field"] == "text"
    assert _notes(tenant_a) == before


@pytest.mark.parametrize("who", [None, "operator1", "damkar", "bupati", "admin"])
def test_only_supervisors_write_or_acknowledge(tenant_a, as_user, client_for, who):
    with schema_context(tenant_a.schema_name):
        note = HandoverNote.objects.create(text="catatan", written_by_name="x")
    before = _notes(tenant_a)
    client = client_for(tenant_a) if who is None else as_user(tenant_a, who)
    assert client.post("/supervisor/handover/notes/", {"text": "boleh?"}).status_code in (
        302, 403)
    assert client.post(f"/supervisor/handover/notes/{note.pk}/ack/").status_code in (302, 403)
    assert _notes(tenant_a) == before


def test_another_pemdas_supervisor_cannot_acknowledge(tenant_a, tenant_b, as_user):
    with schema_context(tenant_a.schema_name):
        note = HandoverNote.objects.create(text="rahasia Dairi", written_by_name="x")
    answer = as_user(tenant_b, "supervisor").post(f"/supervisor/handover/notes/{note.pk}/ack/")
    assert answer.status_code == 404
    with schema_context(tenant_a.schema_name):
        note.refresh_from_db()
        assert note.acknowledged_at is None
    assert "rahasia Dairi" not in as_user(tenant_b, "supervisor").get(
        "/supervisor/handover/").content.decode()


def test_calls_answered_per_call_taker(tenant_a, as_user, tenant_user):
    from incidents.selectors import handover_summary

    op1, op2 = tenant_user(tenant_a, "operator1"), tenant_user(tenant_a, "operator2")
    name1, name2 = op1.display_name or "operator1", op2.display_name or "operator2"
    now = timezone.now()

    def answered() -> dict[str, int]:
        with schema_context(tenant_a.schema_name):
            return {r["operator"]: r["answered"] for r in handover_summary(8)["by_operator"]}

    before = answered()
    with schema_context(tenant_a.schema_name):
        for n, (op, secs) in enumerate(((op1, 4), (op1, 8), (op1, 30), (op2, 12))):
            rang = now - dt.timedelta(minutes=10 + n)
            Call.objects.create(external_id=f"per-op-{n}", caller="+6281234500001",
                                ringing_at=rang, answered_at=rang + dt.timedelta(seconds=secs),
                                operator=op, state="ended", is_test=False)
        # Outside the shift window: not counted.
        old = now - dt.timedelta(hours=9)
        Call.objects.create(external_id="per-op-old", caller="+6281234500001", ringing_at=old,
                            answered_at=old + dt.timedelta(seconds=5), operator=op2,
                            state="ended", is_test=False)
    after = answered()
    assert after.get(name1, 0) - before.get(name1, 0) == 3
    assert after.get(name2, 0) - before.get(name2, 0) == 1
    if not before:  # only these calls: the medians are exactly theirs
        with schema_context(tenant_a.schema_name):
            rows = {r["operator"]: r for r in handover_summary(8)["by_operator"]}
        assert rows[name1]["median_answer_seconds"] == 8
        assert rows[name2]["median_answer_seconds"] == 12
    page = as_user(tenant_a, "supervisor").get("/supervisor/handover/").content.decode()
    assert 'id="handover-operators"' in page and name1 in page
