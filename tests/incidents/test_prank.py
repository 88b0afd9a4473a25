"""Prank/ghost calls: the third within the window blocks the number for 24 h; a
supervisor sees and lifts blocks; nobody else may."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from incidents.models import Call, NumberBlock

from .conftest import pbx_post


def _ring(client, caller):
    call_id = f"p-{uuid.uuid4().hex[:10]}"
    assert pbx_post(client, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                                  "caller": caller}).status_code == 200
    return call_id


def test_third_prank_blocks_for_24_hours_and_supervisor_lifts(tenant_a, client_for, as_user):
    pbx, op = client_for(tenant_a), as_user(tenant_a, "operator1")
    caller = "081260008008"
    for n, kind in enumerate(["prank", "ghost", "prank"], start=1):
        call_id = _ring(pbx, caller)
        with schema_context(tenant_a.schema_name):
            pk = Call.objects.get(external_id=call_id).pk
        if n < 3:
            r = op.post(f"/calls/{pk}/classify/", {"call_type": kind}, HTTP_ACCEPT="application/json")
            assert r.status_code == 200 and r.json()["blocked"] is False
        else:  # the console form: the operator is told on the next page
            r = op.post(f"/calls/{pk}/classify/", {"call_type": kind}, follow=True)
            assert r.status_code == 200
            assert "+6281260008008 kini diblokir sampai" in r.content.decode()
    with schema_context(tenant_a.schema_name):
        block = NumberBlock.objects.get(number="+6281260008008")
        assert abs((block.blocked_until - block.blocked_from) - timedelta(hours=24)) < timedelta(seconds=1)
        assert block.blocked_from > timezone.now() - timedelta(minutes=1)
    r = pbx_post(pbx, "/api/pbx/events/", {"event": "ringing", "call_id": "p-after", "caller": caller})
    assert r.json()["blocked"] is True

    sup = as_user(tenant_a, "supervisor")
    assert "+6281260008008" in sup.get("/blocks/").content.decode()
    # A call-taker may not lift it.
    assert op.post(f"/blocks/{block.pk}/lift/").status_code == 403
    with schema_context(tenant_a.schema_name):
        block.refresh_from_db()
        assert block.lifted_at is None and block.hits == 1
    assert sup.post(f"/blocks/{block.pk}/lift/").status_code == 302
    with schema_context(tenant_a.schema_name):
        block.refresh_from_db()
        assert block.lifted_by.username == "supervisor"
    r = pbx_post(pbx, "/api/pbx/events/", {"event": "ringing", "call_id": "p-lifted", "caller": caller})
    assert "blocked" not in r.json()


def test_two_pranks_or_old_pranks_do_not_block(tenant_a, client_for, as_user):
    pbx, op = client_for(tenant_a), as_user(tenant_a, "operator1")
    caller = "081260009009"
    ids = [_ring(pbx, caller) for _ in range(3)]
    with schema_context(tenant_a.schema_name):
        # The first prank is older than the 24 h window.
        Call.objects.filter(external_id=ids[0]).update(
            ringing_at=timezone.now() - timedelta(hours=25))
        pks = [Call.objects.get(external_id=i).pk for i in ids]
    for pk in pks:
        op.post(f"/calls/{pk}/classify/", {"call_type": "prank"})
    with schema_context(tenant_a.schema_name):
        assert not NumberBlock.objects.filter(number="+6281260009009").exists()
