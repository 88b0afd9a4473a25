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
