"""The main public pages in headless Chromium, as the national officer, in
Indonesian and in English: no console error, no failed request to the platform,
nothing raw on screen (stage codes, yes/no, a tenant's slug), times with their
zone, a chart with whole numbers up to this month. Screenshots land in
var/test/screenshots for a person to look at."""

from __future__ import annotations

import base64
import re

import pytest
from django.utils import timezone
from siaga112.demo import DEMO_PASSWORD

from tests.twofactor import pass_second_factor

# What the map asks a tile server for, answered with a blank tile: the sandbox has no
# internet and tiles are optional; what is under test is the platform's own pages.
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
RAW = re.compile(
    r"\b(not_started|sip_trunk|ip_pbx|send_back|national_officer|provincial_officer|"
    r"True|False)\b|Tenant: [a-z-]+\b"
)
PAGES = [
    ("console", "/"),
    ("list", "/pemda/?province=35&sort=-days"),
    ("list-empty", "/pemda/?q=tidak-ada-pemda-ini"),
    ("pemda-kotamobagu", "/pemda/71.74/"),
    ("province-sulut", "/provinsi/71/"),
]


class Watch:
    """Everything that went wrong on a page, as text."""

    def __init__(self, page, origin: str) -> None:
        self.problems: list[str] = []
        self.origin = origin
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.problems.append(f"console: {msg.text} @ {msg.location.get('url', '')}")

    def _failed(self, request) -> None:
        self.problems.append(f"failed: {request.url} {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def _login(page, base: str, username: str = "nasional") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, username)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_public_pages_render_clean_as_the_national_officer(
    browser, live_server_url, committed, screenshot_dir, lang
):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "django_language", "value": lang, "url": live_server_url}])
    context.route(
        re.compile(r"^https?://(?!localhost[:/]).*"),
        lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_PNG),
    )
    page = context.new_page()
    watch = Watch(page, live_server_url)
    try:
        _login(page, live_server_url)
        # The browser asks for /favicon.ico by itself on some builds: ask for it here.
        assert page.request.get(f"{live_server_url}/favicon.ico").status == 200
        # The watch does see a failed asset (so a clean run means something).
        page.goto(f"{live_server_url}/static/no-such-asset.js")
        assert any("HTTP 404" in p and "no-such-asset" in p for p in watch.problems)
        watch.problems.clear()
        month = timezone.localdate().strftime("%Y-%m")
        for name, url in PAGES:
            page.goto(f"{live_server_url}{url}")
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            text = page.inner_text("body")
            raw = RAW.findall(text)
            assert not raw, (name, raw)
            if "onboarding-map" in page.content():
                page.wait_for_function(
                    "document.getElementById('onboarding-map').dataset.markers !== undefined")
            if name == "console":
                ticks = page.evaluate(
                    "() => { const c = Chart.getChart('launch-chart');"
                    " return {y: c.scales.y.ticks.map(t => t.value),"
                    " y1: c.scales.y1.ticks.map(t => t.value), x: c.data.labels}; }")
                assert all(float(v).is_integer() for v in ticks["y"] + ticks["y1"]), ticks
                assert ticks["x"][-1] == month
                assert re.search(r"\d{2}:\d{2} WIB", page.inner_text("#as-of"))
            if name == "pemda-kotamobagu":
                stamps = page.locator("#timeline .text-nowrap").all_inner_texts()
                assert stamps and all(s.endswith(" WITA") for s in stamps), stamps
            if name == "list":
                assert page.locator("#pemda-table tbody tr").count() == 38
                assert page.get_attribute("th[aria-sort=descending] a", "data-sort") == "days"
            if name == "list-empty":
                assert page.locator("#no-rows").is_visible()
                assert page.locator("#pemda-table").count() == 0
            page.screenshot(path=str(screenshot_dir / f"public-{name}-{lang}.png"),
                            full_page=name != "list")
        assert not watch.problems, watch.problems
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("username,title,pages", [
    ("prov.jatim", "Konsol provinsi", ["/provinsi/35/", "/pemda/?sort=stage", "/pemda/35.15/"]),
    ("koordinator.dairi", "Onboarding Pemda", ["/pemda/12.11/"]),
])
def test_other_public_roles_at_1366(
    browser, live_server_url, committed, screenshot_dir, username, title, pages
):
    """The navbar names the role's console and links only what the role may open;
    a smaller laptop screen (1366×768) shows the same pages clean."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.route(
        re.compile(r"^https?://(?!localhost[:/]).*"),
        lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_PNG),
    )
    page = context.new_page()
    watch = Watch(page, live_server_url)
    try:
        _login(page, live_server_url, username)
        for url in pages:
            page.goto(f"{live_server_url}{url}")
            page.wait_for_load_state("networkidle")
            assert page.inner_text(".navbar-brand small").strip() == title
            assert "Konsol nasional" not in page.inner_text("nav")
            assert not RAW.findall(page.inner_text("body"))
            links = page.eval_on_selector_all("nav .nav-link", "els => els.map(e => e.href)")
            for href in links:
                assert page.request.get(href).status == 200, href
            slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")
            page.screenshot(path=str(screenshot_dir / f"public-{username}-{slug}-1366.png"),
                            full_page=False)
        assert not watch.problems, watch.problems
    finally:
        context.close()
