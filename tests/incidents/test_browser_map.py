"""The caller on the map: an answered call with an AML position shows the
handset's position and its uncertainty circle on the console map, next to the
open incidents — also with no tile server at all (the map still draws)."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from incidents.models import Call


@pytest.mark.browser
def test_the_callers_aml_position_and_radius_are_on_the_map(
    browser, live_server_url, committed, screenshot_dir
):
    from accounts.models import User
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    external_id = f"map-{uuid.uuid4().hex[:8]}"
    with schema_context(tenant.schema_name):
        now = timezone.now()
        call = Call.objects.create(
            external_id=external_id, caller="+6281260014015", state="answered", ringing_at=now,
            answered_at=now, operator=User.objects.get(username="operator1"),
            aml_lat=2.7441, aml_lng=98.3127, aml_radius_m=35.0, aml_source="gnss", aml_time=now)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{base}/console/?call={call.pk}")
        page.wait_for_function("document.getElementById('map').dataset.caller === 'shown'",
                               timeout=5000)
        # The uncertainty circle is a drawn SVG path centred near the caller, and the map
        # zoomed to it rather than to all of Indonesia.
        assert page.locator("#map path.leaflet-interactive").count() >= 2
        zoom = page.evaluate(
            "() => { const m = document.querySelector('#map .leaflet-proxy');"
            " return m ? m.style.transform : ''; }")
        assert zoom, "the map rendered"
        assert "Penelepon (AML)" in page.content()
        page.screenshot(path=str(screenshot_dir / "incidents-console-caller-on-map.png"),
                        full_page=True)
    finally:
        page.close()
        with schema_context(tenant.schema_name):
            Call.objects.filter(external_id=external_id).delete()


def _wait_until(page, predicate: str, timeout: float = 8.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"still false after {timeout}s: {predicate}"
        page.wait_for_timeout(100)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_pemdas_outline_is_the_base_map_with_tiles_off_and_near_incidents_show(
    browser, live_server_url, committed, screenshot_dir, settings, lang
):
    """No tile server at all: the Pemda's outline (TEST DATA, invented rectangles
    around the caller) is drawn under the caller with its kecamatan names, and an
    open incident 600 m away is marked with its distance."""
    from pathlib import Path

    from accounts.models import User
    from incidents.models import Category, Incident, RegionOutline
    from incidents.services.outlines import outline_replace
    from tenants.models import Tenant
    from tests.cleanup import purging

    settings.SIAGA112 = {**settings.SIAGA112, "MAP_TILES_URL": ""}
    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    tag = uuid.uuid4().hex[:8]
    raw = (Path(__file__).resolve().parents[1] / "data" / "outlines"
           / "TEST-DATA-invented-outline.geojson").read_bytes()
    with schema_context(tenant.schema_name):
        assert not RegionOutline.objects.exists(), "another test left an outline behind"
        outline_replace(actor=None, raw=raw, source_name="TEST-DATA")
        now = timezone.now()
        call = Call.objects.create(
            external_id=f"outline-{tag}", caller="+6281260014016", state="answered",
            ringing_at=now, answered_at=now, operator=User.objects.get(username="operator1"),
            aml_lat=2.7441, aml_lng=98.3127, aml_radius_m=120.0, aml_source="gnss", aml_time=now)
        near = Incident.objects.create(
            reference=f"NEAR-{tag}", category=Category.objects.order_by("pk").first(),
            priority=4, status="open", description="near the caller (test)",
            idempotency_key=f"near-{tag}", latitude=2.7495, longitude=98.3127)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    tile_requests: list[str] = []
    context.on("request", lambda r: tile_requests.append(r.url)
               if not r.url.startswith(base) else None)
    page = context.new_page()
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{base}/console/?call={call.pk}")
        # Polled from here: wait_for_function's own polling evals a string, which the
        # site's CSP (script-src 'self') rightly refuses.
        _wait_until(page, "() => document.getElementById('map').dataset.outline === '3'")
        _wait_until(page, "() => Number(document.getElementById('map').dataset.near) >= 1")
        assert page.locator("#map .leaflet-tile").count() == 0, "tiles are off"
        assert tile_requests == [], tile_requests
        # Kabupaten + 2 kecamatan polygons (one a MultiPolygon) in the outline pane, under
        # the markers' pane.
        assert page.locator("#map .leaflet-outlines-pane path").count() == 3
        assert page.evaluate(
            "() => Number(getComputedStyle(document.querySelector('.leaflet-outlines-pane')).zIndex)"
            " < Number(getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex)")
        labels = page.locator("#map .outline-label").all_inner_texts()
        assert sorted(labels) == ["Uji Barat", "Uji Timur"]
        # (The demo's own open incidents near this spot are labelled too.)
        words = "dari penelepon" if lang == "id" else "from the caller"
        near_labels = page.locator("#map .near-label").all_inner_texts()
        assert f"NEAR-{tag} · 600 m {words}" in near_labels, near_labels
        # Zoomed in on the caller: its kecamatan is named on the caller's label.
        assert page.evaluate("() => document.getElementById('map').dataset.callerKecamatan") \
            == "Uji Barat"
        assert "Kec. Uji Barat" in page.locator("#map .caller-label").inner_text()
        page.wait_for_timeout(600)  # the zoom animation ends: the picture shows the result
        page.screenshot(path=str(screenshot_dir / f"incidents-console-outline-no-tiles-{lang}.png"),
                        full_page=True)
        # With no caller the map frames the Pemda's outline, every kecamatan named in view.
        page.goto(f"{base}/console/")
        _wait_until(page, "() => document.getElementById('map').dataset.outline === '3'")
        page.wait_for_timeout(600)
        box = page.locator("#map").bounding_box()
        for label in page.locator("#map .outline-label").all():
            at = label.bounding_box()
            assert box["x"] <= at["x"] and at["x"] + at["width"] <= box["x"] + box["width"]
            assert box["y"] <= at["y"] and at["y"] + at["height"] <= box["y"] + box["height"]
        page.screenshot(path=str(screenshot_dir / f"incidents-console-outline-overview-{lang}.png"),
                        full_page=True)
    finally:
        context.close()
        with schema_context(tenant.schema_name):
            RegionOutline.objects.all().delete()
            Call.objects.filter(external_id=f"outline-{tag}").delete()
            with purging():
                Incident.objects.filter(pk=near.pk).delete()
