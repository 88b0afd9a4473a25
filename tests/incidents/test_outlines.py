"""The Pemda's region outline, the console map's base layer: uploaded by its admin
(or loaded with `siaga112 load_outlines`), validated whole, simplified when large,
audited, served per tenant with an ETag; and the open incidents near a caller.

The outline used here is TEST DATA (tests/data/outlines/): invented rectangles, not
real boundaries."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from incidents.models import Category, Incident, RegionOutline
from incidents.services import outlines

TEST_OUTLINE = (Path(__file__).resolve().parents[1] / "data" / "outlines"
                / "TEST-DATA-invented-outline.geojson")
URL = "/manage/outlines/"
SERVED = "/console/outlines.geojson"


def _square(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def _collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


GOOD_KECAMATAN = _feature({"type": "Polygon", "coordinates": _square(98.2, 2.6, 98.3, 2.7)},
                          name="Uji")


def _upload(client: Any, raw: bytes, name: str = "outline.geojson") -> Any:
    client.cookies["django_language"] = "en"  # the messages checked are the English ones
    return client.post(URL, {"file": SimpleUploadedFile(name, raw, "application/geo+json")},
                       HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")


def _state(tenant: Any) -> tuple[Any, int]:
    """(the stored outline's etag or None, the number of outline audit rows)."""
    with schema_context(tenant.schema_name):
        outline = RegionOutline.objects.filter(pk=1).first()
        return (outline.etag if outline else None,
                AuditEntry.objects.filter(action="outline.replaced").count())


def test_admin_uploads_an_outline_it_is_audited_and_served_with_an_etag(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    page = admin.get(URL)
    assert page.status_code == 200 and 'id="outline-current"' in page.content.decode()
    r = _upload(admin, TEST_OUTLINE.read_bytes(), "TEST-DATA-invented-outline.geojson")
    assert r.status_code == 200, r.content
    assert r.json()["features"] == 3
    with schema_context(tenant_a.schema_name):
        outline = RegionOutline.objects.get(pk=1)
        entry = AuditEntry.objects.get(action="outline.replaced")
    assert entry.actor_username == "admin" and entry.after["feature_count"] == 3
    assert entry.after["source_name"] == "TEST-DATA-invented-outline.geojson"

    operator = as_user(tenant_a, "operator1")
    served = operator.get(SERVED)
    assert served.status_code == 200 and served["Content-Type"] == "application/geo+json"
    assert served["ETag"] == f'"{outline.etag}"'
    assert "private" in served["Cache-Control"] and "max-age=" in served["Cache-Control"]
    data = json.loads(served.content)
    # The Pemda's own outline first (drawn under its kecamatan), names normalised
    # (NAMOBJ is BIG's attribute), a MultiPolygon kept as one.
    assert [(f["properties"]["kind"], f["properties"]["name"]) for f in data["features"]] == [
        ("kabupaten", "Wilayah Uji (data uji)"), ("kecamatan", "Uji Barat"),
        ("kecamatan", "Uji Timur")]
    assert data["features"][2]["geometry"]["type"] == "MultiPolygon"
    again = operator.get(SERVED, HTTP_IF_NONE_MATCH=served["ETag"])
    assert again.status_code == 304 and again.content == b""

    # Replaced: the new file is served, under a new tag, and the change is audited.
    assert _upload(admin, _collection(GOOD_KECAMATAN)).status_code == 200
    newer = operator.get(SERVED, HTTP_IF_NONE_MATCH=served["ETag"])
    assert newer.status_code == 200 and newer["ETag"] != served["ETag"]
    assert [f["properties"]["name"] for f in json.loads(newer.content)["features"]] == ["Uji"]
    with schema_context(tenant_a.schema_name):
        last = AuditEntry.objects.filter(action="outline.replaced").order_by("-pk").first()
    assert last.before["feature_count"] == 3 and last.after["feature_count"] == 1


def test_no_outline_yet_is_an_empty_layer_not_an_error(tenant_b, as_user):
    r = as_user(tenant_b, "operator1").get(SERVED)
    assert r.status_code == 200
    assert json.loads(r.content) == {"type": "FeatureCollection", "features": []}


BAD_FILES = [
    (b"", "empty"),
    (b"{not json", "not valid JSON (line 1"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
    (_collection(), "no features"),
    (_collection({"type": "Nope"}), "Feature 1 (?) is not a GeoJSON Feature"),
    (_collection(_feature({"type": "Point", "coordinates": [98.3, 2.7]}, name="Titik")),
     "Feature 1 (Titik): the geometry is Point"),
    (_collection(GOOD_KECAMATAN,
                 _feature({"type": "Polygon", "coordinates": _square(98.3, 2.6, 98.4, 2.7)})),
     "Feature 2 (?): a kecamatan needs a name"),
    # Latitude and longitude swapped: the classic export mistake.
    (_collection(_feature({"type": "Polygon", "coordinates": _square(2.6, 98.2, 2.7, 98.3)},
                          name="Terbalik")),
     "Feature 1 (Terbalik): the point [2.6, 98.2] is outside Indonesia"),
    (_collection(_feature({"type": "Polygon", "coordinates": [
        [[98.2, 2.6], [98.3, 2.6], [98.3, 2.7], [98.2, 2.7]]]}, name="Terbuka")),
     "Feature 1 (Terbuka): a ring is not closed"),
    (_collection(_feature({"type": "Polygon", "coordinates": [[[98.2, "2.6"]] * 4]},
                          name="Teks")),
     "is not a [longitude, latitude] pair"),
    (_collection(_feature({"type": "Polygon", "coordinates": _square(98.2, 2.6, 98.3, 2.7)},
                          name="Desa", kind="desa")),
     "kind 'desa' is not one of"),
]


@pytest.mark.parametrize(("raw", "says"), BAD_FILES, ids=[s for _r, s in BAD_FILES])
def test_a_bad_file_is_refused_naming_what_is_wrong_and_the_old_outline_stays(
        tenant_a, as_user, raw, says):
    admin = as_user(tenant_a, "admin")
    assert _upload(admin, TEST_OUTLINE.read_bytes()).status_code == 200
    before = _state(tenant_a)
    r = _upload(admin, raw)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["field"] == "file" and body["status"] == 400 and body["code"] == "invalid"
    assert says in body["error"]
    assert _state(tenant_a) == before


def test_too_large_a_file_is_refused_before_anything_is_stored(tenant_a, as_user, monkeypatch):
    monkeypatch.setattr(outlines, "OUTLINE_MAX_BYTES", 200)
    admin = as_user(tenant_a, "admin")
    r = _upload(admin, TEST_OUTLINE.read_bytes())
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert r.json()["field"] == "file" and "at most 200" in r.json()["error"]
    assert _state(tenant_a) == (None, 0)
    no_file = admin.post(URL, {}, HTTP_ACCEPT="application/json")
    assert no_file.status_code == 400 and no_file.json()["field"] == "file"


def test_the_indonesian_page_names_the_error_in_indonesian(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    admin.cookies["django_language"] = "id"
    r = admin.post(URL, {"file": SimpleUploadedFile("x.geojson", b"{}")},
                   HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "FeatureCollection" in r.json()["error"]
    assert "harus" in r.json()["error"]


@pytest.mark.parametrize("who", ["anonymous", "operator1", "supervisor", "bupati",
                                 "other_tenant_admin"])
def test_nobody_but_the_pemda_admin_may_replace_the_outline(
        tenant_a, tenant_b, as_user, client_for, tenant_user, who):
    if who == "anonymous":
        client = client_for(tenant_a)
    elif who == "other_tenant_admin":
        # Sidoarjo's admin, with their own session, on Dairi's host.
        client = client_for(tenant_a, tenant_user(tenant_b, "admin"))
    else:
        client = as_user(tenant_a, who)
    before = _state(tenant_a)
    r = _upload(client, TEST_OUTLINE.read_bytes())
    assert r.status_code in (302, 401, 403), r.status_code
    assert client.get(URL).status_code in (302, 401, 403)
    assert _state(tenant_a) == before == (None, 0)


def test_one_pemdas_outline_is_not_served_on_another_pemdas_host(
        tenant_a, tenant_b, as_user, client_for, tenant_user):
    assert _upload(as_user(tenant_a, "admin"), TEST_OUTLINE.read_bytes()).status_code == 200
    # Sidoarjo's operator sees Sidoarjo's (empty) outline, never Dairi's.
    own = as_user(tenant_b, "operator1").get(SERVED)
    assert json.loads(own.content)["features"] == []
    # Sidoarjo's session on Dairi's host is nobody there.
    foreign = client_for(tenant_a, tenant_user(tenant_b, "operator1")).get(SERVED)
    assert foreign.status_code in (302, 401, 403)
    assert client_for(tenant_a).get(SERVED).status_code in (302, 401, 403)


def test_a_large_outline_is_simplified_to_the_budget_keeping_its_shape(tenant_a, as_user):
    # A circle of 60,000 vertices, ~10 km across, around the demo caller.
    n = 60_000
    ring = [[98.31 + 0.09 * math.cos(2 * math.pi * k / n), 2.74 + 0.09 * math.sin(2 * math.pi * k / n)]
            for k in range(n)]
    ring.append(ring[0])
    raw = _collection(_feature({"type": "Polygon", "coordinates": [ring]}, name="Bulat"))
    r = _upload(as_user(tenant_a, "admin"), raw)
    assert r.status_code == 200
    assert 16 <= r.json()["vertices"] <= outlines.OUTLINE_VERTEX_BUDGET
    with schema_context(tenant_a.schema_name):
        stored = json.loads(RegionOutline.objects.get(pk=1).geojson)
    kept = stored["features"][0]["geometry"]["coordinates"][0]
    assert kept[0] == kept[-1]
    # Every kept vertex is still on the circle (to a few metres).
    assert all(abs(math.hypot(x - 98.31, y - 2.74) - 0.09) < 0.0001 for x, y in kept)


def test_douglas_peucker_drops_points_on_a_line_and_keeps_corners():
    ring = [[98.0 + i * 0.001, 2.0] for i in range(11)] + [[98.01, 2.01], [98.0, 2.01], [98.0, 2.0]]
    assert outlines.simplify_ring(ring, 0.0001) == [[98.0, 2.0], [98.01, 2.0], [98.01, 2.01],
                                                    [98.0, 2.01], [98.0, 2.0]]


@translation.override("en")
def test_load_outlines_command_by_host_and_its_refusals(tenant_a, tmp_path, capsys):
    call_command("load_outlines", "dairi.localhost", str(TEST_OUTLINE))
    assert "3 areas" in capsys.readouterr().out
    loaded = _state(tenant_a)
    assert loaded[0] is not None and loaded[1] == 1
    with schema_context(tenant_a.schema_name):
        entry = AuditEntry.objects.get(action="outline.replaced")
    assert entry.actor_id is None  # the command line, not a person of the Pemda
    with pytest.raises(CommandError, match="no Pemda is served on 'nowhere.localhost'"):
        call_command("load_outlines", "nowhere.localhost", str(TEST_OUTLINE))
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(CommandError, match="bad.geojson: The FeatureCollection has no features"):
        call_command("load_outlines", "dairi", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("load_outlines", "dairi", str(tmp_path / "missing.geojson"))
    assert _state(tenant_a) == loaded


def test_the_map_lists_open_incidents_near_the_caller_nearest_first(tenant_a, as_user):
    caller = (2.7441, 98.3127)
    with schema_context(tenant_a.schema_name):
        category = Category.objects.order_by("pk").first()
        made = {}
        # ~0.6 km, ~2.2 km and ~11 km away; a closed one next door is not "open".
        for ref, dlat, status in (("NEAR-1", 0.02, "open"), ("NEAR-0", 0.005, "open"),
                                  ("FAR-1", 0.1, "open"), ("SHUT-1", 0.001, "closed")):
            made[ref] = Incident.objects.create(
                reference=ref, category=category, priority=4, status=status,
                description="near test", idempotency_key=f"near-{ref}",
                latitude=caller[0] + dlat, longitude=caller[1],
                closed_at=timezone.now() if status == "closed" else None)
    operator = as_user(tenant_a, "operator1")
    r = operator.get(f"/console/map.json?near={caller[0]},{caller[1]}",
                     HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    body = r.json()
    near = body["near"]
    assert near.index(made["NEAR-0"].pk) < near.index(made["NEAR-1"].pk)
    assert made["FAR-1"].pk not in body["near"] and made["SHUT-1"].pk not in body["near"]
    by_id = {p["id"]: p for p in body["incidents"]}
    assert 500 <= by_id[made["NEAR-0"].pk]["distance_m"] <= 600
    assert 2100 <= by_id[made["NEAR-1"].pk]["distance_m"] <= 2300
    assert "distance_m" not in by_id.get(made["FAR-1"].pk, {})
    for bad in ("abc", "2.7", "60,10"):
        refused = operator.get(f"/console/map.json?near={bad}", HTTP_ACCEPT="application/json")
        assert refused.status_code == 400 and refused.json()["field"] == "near"
