"""Real Chromium: a PBX ringing event reaches a second operator's console within
2 s without reload; then the 'done when' walk: incident, dispatch to Damkar,
the Damkar responder sees it within 2 s and resolves it."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.db import connection, transaction
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from incidents.demo import demo_pbx_key
from incidents.models import Call, Incident, TimelineEntry
from tests.twofactor import pass_second_factor


def _login(browser, base, username):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, username)
    return page


def _pbx(port, body):
    response = requests.post(
        f"http://127.0.0.1:{port}/api/pbx/events/", json=body, timeout=10,
        headers={"Host": f"dairi.localhost:{port}", "Authorization": f"Bearer {demo_pbx_key('dairi')}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.browser
def test_ringing_call_reaches_second_operator_and_damkar_resolves(
    browser, live_server_url, committed, screenshot_dir
):
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    caller = f"0812{uuid.uuid4().int % 10**8:08d}"
    call_id = f"browser-{uuid.uuid4().hex[:8]}"
    pages = []
    try:
        op1 = _login(browser, base, "operator1")
        op2 = _login(browser, base, "operator2")
        damkar = _login(browser, base, "damkar")
        pages += [op1, op2, damkar]
        assert op2.url.endswith("/console/") and damkar.url.endswith("/opd/")
        op2.wait_for_selector("#no-ringing, .ringing-call")

        sent = time.monotonic()
        _pbx(port, {"event": "ringing", "call_id": call_id, "caller": caller, "trunk": "T-browser"})
        e164 = "+62" + caller[1:]
        op2.wait_for_selector(f".ringing-call[data-call='{call_id}']", timeout=2000)
        assert time.monotonic() - sent < 2.5
        assert e164 in op2.inner_text("#calls")
        op2.screenshot(path=str(screenshot_dir / "incidents-ringing-operator2.png"), full_page=True)

        # operator1 answers, fills the keyboard-first form, Enter submits.
        op1.wait_for_selector(f".ringing-call[data-call='{call_id}'] button", timeout=2000)
        op1.click(f".ringing-call[data-call='{call_id}'] button")
        op1.wait_for_url("**/console/?call=*")
        assert op1.evaluate("document.activeElement.id") == "id_category"
        op1.select_option("#id_category", "fire")
        op1.fill("#id_latitude", "2.7381")
        op1.fill("#id_longitude", "98.3302")
        op1.fill("#id_address", "Jl. Uji Browser")
        op1.fill("#id_description", "Rumah terbakar (uji browser)")
        op1.screenshot(path=str(screenshot_dir / "incidents-console-form.png"), full_page=True)
        op1.press("#id_description", "Enter")
        op1.wait_for_url("**/incidents/*/")
        op1.wait_for_selector("#suggestion button")
        op1.screenshot(path=str(screenshot_dir / "incidents-detail-suggestion.png"), full_page=True)
        sent = time.monotonic()
        op1.click("#suggestion button >> nth=0")  # one click: the first suggestion, Damkar
        op1.wait_for_selector("#dispatch-table td:has-text('Damkar')")
        reference = op1.inner_text("h1")

        card = f".dispatch-card[data-reference='{reference}']"
        damkar.wait_for_selector(card, timeout=2000)
        assert time.monotonic() - sent < 3
        damkar.screenshot(path=str(screenshot_dir / "incidents-opd-console.png"), full_page=True)
        for _step in ("acknowledged", "departed", "arrived"):
            before = damkar.get_attribute(f"{card} input[name=version]", "value")
            damkar.click(f"{card} button.next-status")
            damkar.wait_for_function(
                "([sel, v]) => { const e = document.querySelector(sel + ' input[name=version]');"
                " return e && e.value !== v; }", arg=[card, before], timeout=3000)
        damkar.select_option(f"{card} select[name=outcome]", "handled")
        damkar.fill(f"{card} input[name=note]", "Api padam")
        damkar.click(f"{card} button.next-status")
        damkar.wait_for_selector(card, state="detached", timeout=3000)

        op1.reload()
        kinds = op1.eval_on_selector_all("#timeline [data-kind]",
                                         "els => els.map(e => e.dataset.kind)")
        assert kinds == ["created", "call_attached", "dispatched", "status", "acknowledged",
                         "departed", "arrived", "resolved", "status"]
        assert "diteruskan" in op1.inner_text("#timeline")  # Indonesian first
        op1.screenshot(path=str(screenshot_dir / "incidents-detail-resolved.png"), full_page=True)
        with schema_context(tenant.schema_name):
            incident = Incident.objects.get(reference=reference)
            assert incident.status == "resolved" and incident.caller == e164
            d = incident.dispatches.get()
            assert d.acknowledged_at < d.departed_at < d.arrived_at < d.resolved_at
    finally:
        for page in pages:
            page.close()
        # Timeline entries are append-only in PostgreSQL: only a transaction
        # with the retention purge's setting may remove them.
        with schema_context(tenant.schema_name), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute("SET LOCAL siaga112.purge = 'on'")
            ids = list(Call.objects.filter(external_id=call_id).values_list("incident_id", flat=True))
            Call.objects.filter(external_id=call_id).delete()
            TimelineEntry.objects.filter(incident_id__in=[i for i in ids if i]).delete()
            Incident.objects.filter(pk__in=[i for i in ids if i]).delete()


@pytest.mark.browser
def test_screens_render(browser, live_server_url, committed, screenshot_dir):
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    shots = {
        "supervisor": ["/supervisor/", "/supervisor/handover/?hours=8", "/blocks/"],
        "admin": ["/manage/users/", "/manage/agencies/", "/manage/categories/", "/manage/pbx/",
                  "/manage/settings/"],
        "bupati": ["/dashboard/"],
        "operator1": ["/console/", "/incidents/", "/referrals/"],
    }
    for username, paths in shots.items():
        page = _login(browser, base, username)
        try:
            for path in paths:
                response = page.goto(base + path)
                assert response.status == 200, path
                page.wait_for_load_state("networkidle")
                if path == "/console/":
                    # Markers are drawn even when the tile server is unreachable.
                    page.wait_for_function("document.getElementById('map').dataset.markers > 0",
                                           timeout=5000)
                if path == "/manage/categories/":
                    _edit_category_row(page, tenant_slug="dairi")
                name = path.strip("/").replace("/", "-").split("?")[0] or "home"
                page.screenshot(path=str(screenshot_dir / f"incidents-{username}-{name}.png"),
                                full_page=True)
        finally:
            page.close()


def test_pbx_simulate_command_plays_the_pbx(live_server_url, committed):
    from io import StringIO

    from django.core.management import call_command

    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    call_id = f"sim-test-{uuid.uuid4().hex[:6]}"
    out = StringIO()
    try:
        call_command("pbx_simulate", "dairi", caller="081260014014", aml=True, answer="operator2",
                     end=True, call_id=call_id, port=port, stdout=out)
        with schema_context(tenant.schema_name):
            call = Call.objects.get(external_id=call_id)
            assert (call.caller, call.state, call.operator.username) == (
                "+6281260014014", "ended", "operator2")
            assert call.aml_lat == 2.7441 and call.aml_source == "gnss"
        assert out.getvalue().count("-> 200") == 4
    finally:
        with schema_context(tenant.schema_name):
            from incidents.models import AmlReport

            AmlReport.objects.filter(caller="+6281260014014").delete()
            Call.objects.filter(external_id=call_id).delete()


def _edit_category_row(page, tenant_slug):
    """A row of the admin table saves its own inputs (forms bound by the form attribute)."""
    from incidents.models import Category
    from tenants.models import Tenant

    schema = Tenant.objects.get(region__slug=tenant_slug).schema_name
    with schema_context(schema):
        other = Category.objects.get(code="other")
    original = other.ack_target_minutes
    try:
        page.fill(f"input[form='c{other.pk}'][name=ack_target_minutes]", str(original + 1))
        page.click(f"button[form='c{other.pk}']")
        page.wait_for_load_state("networkidle")
        with schema_context(schema):
            assert Category.objects.get(pk=other.pk).ack_target_minutes == original + 1
    finally:
        with schema_context(schema):
            Category.objects.filter(pk=other.pk).update(ack_target_minutes=original)
