"""Real Chromium: Sidoarjo's Bupati opens the KPI dashboard over the demo month;
the charts draw, the figures are there, a screenshot is kept. The national
officer's page too."""

from __future__ import annotations

import pytest
from siaga112.demo import DEMO_PASSWORD

from tests.twofactor import pass_second_factor


def _login(browser, base, username):
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, username)
    return page


@pytest.mark.browser
def test_kpi_dashboard_renders_in_chromium(browser, live_server_url, committed, screenshot_dir):
    port = live_server_url.rsplit(":", 1)[1]
    page = _login(browser, f"http://sidoarjo.localhost:{port}", "bupati")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"http://sidoarjo.localhost:{port}/laporan/")
        page.wait_for_load_state("networkidle")
        assert "Panggilan per hari menurut jenis" in page.content()
        assert page.locator("#period-line").inner_text().count("WIB") >= 1
        assert int(page.locator("#kpi-calls").inner_text()) > 500
        assert page.input_value("#id_start") and page.input_value("#id_end")  # the picker shows it
        # Chart.js drew on every canvas (a drawn canvas has a chart instance).
        drawn = page.evaluate(
            "() => Array.from(document.querySelectorAll('canvas'))"
            ".map(c => !!Chart.getChart(c))")
        assert drawn and all(drawn), drawn
        assert page.locator("#table-opd tbody tr").count() >= 3
        page.screenshot(path=str(screenshot_dir / "kpi-dashboard-sidoarjo.png"), full_page=True)
        page.goto(f"http://sidoarjo.localhost:{port}/laporan/?start=2026-03-05&end=2026-03-01")
        assert "tukar kedua tanggal" in page.content()
        assert errors == []
    finally:
        page.close()
    officer = _login(browser, f"http://localhost:{port}", "nasional")
    try:
        officer.goto(f"http://localhost:{port}/kpi/provinsi/35/")
        officer.wait_for_load_state("networkidle")
        assert officer.locator("#league-table tbody tr").count() == 15
        assert officer.evaluate("() => !!Chart.getChart(document.getElementById('chart-trend'))")
        officer.screenshot(path=str(screenshot_dir / "kpi-jawa-timur.png"), full_page=True)
    finally:
        officer.close()
