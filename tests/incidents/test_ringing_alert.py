"""A ringing call reaches a call-taker on any page of the tenant site, not only on
the console: badge, blinking title, sound switch, and Alt+Shift+J to answer."""

from __future__ import annotations

import uuid

import pytest
import requests
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from incidents.demo import demo_pbx_key
from incidents.models import Call

pytestmark = pytest.mark.django_db


def test_only_call_takers_get_the_watcher_and_its_endpoint(tenant_a, as_user, client_for):
    for who in ("operator1", "supervisor"):
        page = as_user(tenant_a, who).get("/incidents/").content.decode()
        assert 'id="ringing-watch"' in page and "ringing.js" in page
        assert as_user(tenant_a, who).get("/console/ringing/").status_code == 200
    for who in ("damkar", "bupati"):
        page = as_user(tenant_a, who).get("/incidents/").content.decode()
        assert 'id="ringing-watch"' not in page
        assert as_user(tenant_a, who).get("/console/ringing/").status_code == 403
    assert client_for(tenant_a).get("/console/ringing/").status_code == 302


@pytest.mark.browser
def test_a_call_rings_on_the_incident_list_and_alt_shift_j_answers_it(
        browser, live_server_url, committed, screenshot_dir):
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    call_id = f"alert-{uuid.uuid4().hex[:8]}"
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/incidents/")
        page.wait_for_selector("#ringing-alert", state="attached", timeout=5000)
        title = page.title()
        answer = requests.post(
            f"http://127.0.0.1:{port}/api/pbx/events/", timeout=10,
            json={"event": "ringing", "call_id": call_id, "caller": "081260014099"},
            headers={"Host": f"dairi.localhost:{port}",
                     "Authorization": f"Bearer {demo_pbx_key('dairi')}"})
        assert answer.status_code == 200, answer.text
        page.wait_for_selector(f"#ringing-alert[data-call='{call_id}']", timeout=5000)
        assert "berdering" in page.inner_text("#ringing-watch")
        page.wait_for_function("document.title.startsWith('(')", timeout=3000)
        page.screenshot(path=str(screenshot_dir / "incidents-ringing-on-any-page.png"))

        # The sound switch is remembered for this user in this browser.
        page.click("#ring-sound-toggle")
        assert "mati" in page.inner_text("#ring-sound-toggle")
        page.reload()
        page.wait_for_selector(f"#ringing-alert[data-call='{call_id}']", timeout=5000)
        assert "mati" in page.inner_text("#ring-sound-toggle")

        page.keyboard.press("Alt+Shift+J")
        page.wait_for_url("**/console/?call=*", timeout=5000)
        with schema_context(tenant.schema_name):
            call = Call.objects.get(external_id=call_id)
            assert call.state == "answered" and call.operator.username == "operator1"
        # Answered: nothing rings any more, the title stops blinking.
        page.wait_for_function("!document.title.startsWith('(')", timeout=5000)
        assert title
    finally:
        page.close()
        with schema_context(tenant.schema_name):
            Call.objects.filter(external_id=call_id).delete()


def test_no_access_key_is_a_browser_shortcut(tenant_a, as_user):
    """Alt+D (address bar), Alt+E and Alt+F (Chromium's menus) belong to the browser."""
    import re

    page = as_user(tenant_a, "operator1").get("/console/").content.decode()
    keys = set(re.findall(r'accesskey="([^"]+)"', page))
    assert keys and not keys & {"d", "e", "f"}, keys
    assert "j" not in keys  # Alt+Shift+J answers a ringing call from any page
