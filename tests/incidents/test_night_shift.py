"""The demo's night-shift path in real Chromium, in Indonesian and in English, end to
end: a call rings (with the handset's AML position) while the call-taker reads the
incident list, Alt+Shift+J answers it, the position is on the map and in the form,
the incident goes to Damkar, the Damkar responder sees it with its location, a
navigation link and the link to the incident, and moves it along; at shift end the
supervisor leaves a handover note that the next supervisor acknowledges.

At every step: no console error, no failed request, and nothing raw on screen
(status and agency codes, call types, trunk names, ISO timestamps, template tags).
Screenshots at 1440×900 and 1366×768 in var/test/screenshots."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from incidents.demo import demo_pbx_key
from incidents.models import AmlReport, Call, HandoverNote, Incident, TimelineEntry
from tests.cleanup import purging
from tests.twofactor import pass_second_factor

BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
# Raw internals in either language: codes with an underscore, agency codes, trunk
# names, a tenant's label, Python's None, ISO timestamps, unrendered template tags.
RAW_ANY = re.compile(
    r"\b(in_progress|not_started|no_unit|call_taker|opd_responder|damkar|psc119|bpbd|"
    r"gnss|None)\b|sim-trunk|Tenant:|"
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}| \d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2})?)|\{\{|\{%"
)
# In Indonesian the English status and call-type codes cannot be ordinary words.
RAW_ID = re.compile(
    r"\b(open|dispatched|pending|acknowledged|departed|arrived|resolved|closed|"
    r"emergency|information|ghost|unclassified|answered|ringing|ended|missed)\b"
)
SIZES = [(1440, 900), (1366, 768)]
WRAPPED_REFERENCES = """() => Array.from(document.querySelectorAll('a, h1, td, li, strong'))
    .filter(e => e.offsetParent !== null && e.childElementCount === 0
                 && /^INC-\\d{6}-\\d+$/.test(e.textContent.trim())
                 && (e.getClientRects().length > 1
                     || e.getBoundingClientRect().height
                        > 1.5 * (parseFloat(getComputedStyle(e).lineHeight)
                                 || 1.6 * parseFloat(getComputedStyle(e).fontSize))))
    .map(e => e.textContent.trim())"""
# In Sidikalang, Dairi, further than the duplicate radius (500 m) from the demo's fire.
AML_LAT, AML_LNG = 2.73221, 98.32214


class Screen:
    """One person's browser: what went wrong on it, and what its screen says."""

    def __init__(self, browser, origin: str, lang: str, who: str, shots, problems) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.context.add_cookies([{"name": "django_language", "value": lang, "url": origin}])
        # Map tiles come from outside; the sandbox has no internet, and tiles are optional.
        self.context.route(
            re.compile(r"^https?://(?![a-z0-9.-]*localhost[:/]|127\.0\.0\.1[:/]).*"),
            lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_PNG),
        )
        self.page = self.context.new_page()
        self.lang, self.who, self.shots, self.problems = lang, who, shots, problems
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: problems.append(f"{who} pageerror: {exc}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.problems.append(f"{self.who} console: {msg.text} @ {msg.location.get('url')}")

    def _failed(self, request) -> None:
        # Leaving a page cancels its pending polls; that is not a failure of the page.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"{self.who} failed: {request.url} {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{self.who} HTTP {response.status}: {response.url}")

    def login(self, origin: str, username: str) -> None:
        self.page.goto(f"{origin}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        pass_second_factor(self.page, username)
        assert "/accounts/" not in self.page.url, self.page.url

    def check(self, step: str) -> str:
        """The screen as it is now: clean, in its language, photographed at both sizes."""
        page = self.page
        assert page.locator("html").get_attribute("lang") == self.lang, step
        assert not self.problems, (step, self.problems)
        text = page.inner_text("body")
        raw = [m.group(0) for m in RAW_ANY.finditer(text)]
        if self.lang == "id":
            raw += [m.group(0) for m in RAW_ID.finditer(text)]
        assert not raw, (step, self.lang, raw, _around(text, raw[0]))
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            # An incident number broken over two lines is read as two things.
            wrapped = page.evaluate(WRAPPED_REFERENCES)
            assert not wrapped, (step, width, wrapped)
            # Nothing cut off at the right edge (a table wider than its column).
            wide = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            assert wide <= 0, (step, width, wide)
            # The language switch keeps room for "ID"/"EN" in a crowded navbar.
            switch = page.eval_on_selector("select[name=language]",
                                           "s => s.getBoundingClientRect().width")
            assert switch >= 60, (step, width, switch)
            page.screenshot(path=str(self.shots / f"nightshift-{step}-{self.lang}-{width}.png"))
        page.set_viewport_size({"width": 1440, "height": 900})
        return text

    def close(self) -> None:
        self.context.close()


def _around(text: str, found: str) -> str:
    at = text.find(found)
    return text[max(0, at - 60): at + 60]


def _pbx(port: str, path: str, body: dict) -> dict:
    answer = requests.post(
        f"http://127.0.0.1:{port}{path}", json=body, timeout=10,
        headers={"Host": f"dairi.localhost:{port}",
                 "Authorization": f"Bearer {demo_pbx_key('dairi')}"})
    assert answer.status_code in (200, 202), answer.text
    return answer.json()


def _one_line(page, selector: str) -> None:
    """An incident number is never broken over two lines."""
    box = page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                " const lh = parseFloat(getComputedStyle(e).lineHeight)"
                                " || parseFloat(getComputedStyle(e).fontSize) * 1.6;"
                                " return {h: r.height, lh: lh}; }")
    assert box["h"] < box["lh"] * 1.5, (selector, box)


@pytest.fixture
def next_supervisor(committed):
    """The supervisor of the next shift, with a password (and, at first login, a new
    authenticator through the enrolment page)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Role, User
    from tenants.models import Tenant

    schema = Tenant.objects.get(region__slug="dairi").schema_name
    username = f"spv.malam.{uuid.uuid4().hex[:6]}"
    with schema_context(schema):
        User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                 role=Role.SUPERVISOR, display_name="Supervisor Malam")
    yield username
    with schema_context(schema):
        user = User.objects.get(username=username)
        HandoverNote.objects.filter(acknowledged_by=user).update(acknowledged_by=None)
        StaticDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.filter(user=user).delete()
        user.delete()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_night_shift_path(browser, live_server_url, committed, screenshot_dir,
                              next_supervisor, lang):
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    call_id = f"night-{uuid.uuid4().hex[:8]}"
    caller = f"0812{uuid.uuid4().int % 10**8:08d}"
    note_text = f"Ambulans PSC 2 rusak, pakai RSUD ({call_id})."
    problems: list[str] = []
    screens: list[Screen] = []

    def screen(who: str) -> Screen:
        s = Screen(browser, base, lang, who, screenshot_dir, problems)
        screens.append(s)
        s.login(base, who)
        return s

    try:
        # 1. The call-taker is on the incident list, not on the console.
        operator = screen("operator1")
        op = operator.page
        op.goto(f"{base}/incidents/")
        op.wait_for_selector("#ringing-alert", state="attached", timeout=5000)
        operator.check("1-incident-list")

        # 2. The PBX rings (no trunk: its label is the presence work's), AML follows.
        now = datetime.now(UTC).replace(microsecond=0)
        _pbx(port, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                         "caller": caller, "at": now.isoformat()})
        _pbx(port, "/api/pbx/aml/", {
            "sms": f'A"ML=1;lt=+{AML_LAT:.5f};lg=+{AML_LNG:.5f};rd=18;'
                   f"top={now + timedelta(seconds=10):%Y%m%d%H%M%S};lc=68;pm=G;"
                   "si=510101234567890;ei=356938035643809;mcc=510;mnc=10;ml=124",
            "from": "+62" + caller[1:]})
        op.wait_for_selector(f"#ringing-alert[data-call='{call_id}']", timeout=5000)
        op.wait_for_function("document.title.startsWith('(')", timeout=3000)
        badge = op.inner_text("#ringing-watch")
        assert ("berdering" if lang == "id" else "ringing") in badge, badge
        operator.check("2-ringing-on-list")

        # 3. Alt+Shift+J answers; the form has the AML position, the map shows it.
        op.keyboard.press("Alt+Shift+J")
        op.wait_for_url("**/console/?call=*", timeout=5000)
        op.wait_for_function("document.getElementById('map').dataset.caller === 'shown'",
                             timeout=5000)
        assert float(op.input_value("#id_latitude")) == pytest.approx(AML_LAT)
        assert float(op.input_value("#id_longitude")) == pytest.approx(AML_LNG)
        op.wait_for_function("!document.title.startsWith('(')", timeout=5000)
        assert op.evaluate("document.activeElement.id") == "id_category"
        text = operator.check("3-console-answered")
        assert ("satelit (GNSS)" if lang == "id" else "satellite (GNSS)") in text

        # 4. The incident, then one click sends it to Damkar.
        op.select_option("#id_category", "fire")
        op.fill("#id_address", "Jl. Sisingamangaraja, Sidikalang")
        op.fill("#id_description", "Rumah terbakar, penghuni sudah keluar")
        op.press("#id_description", "Enter")
        op.wait_for_url("**/incidents/*/", timeout=5000)
        op.wait_for_selector("#suggestion button")
        reference = op.inner_text("h1")
        _one_line(op, "h1")
        operator.check("4-incident-created")
        # The referral list is labelled and narrows to what is typed.
        assert op.locator("label[for=refer-to]").inner_text().strip()
        names = op.eval_on_selector_all("#refer-to option", "os => os.map(o => o.textContent)")
        assert len(names) > 20
        wanted = names[-1]
        op.fill("#refer-filter", wanted.split()[-1].lower())
        assert op.eval_on_selector("#refer-to", "s => s.selectedOptions[0].textContent") in names
        shown = op.eval_on_selector_all("#refer-to option:not([hidden])",
                                        "os => os.map(o => o.textContent)")
        assert wanted in shown and len(shown) < len(names) / 4, shown
        assert all(wanted.split()[-1].lower() in n.lower() for n in shown), shown
        op.fill("#refer-filter", "")
        op.click("#suggestion button >> nth=0")
        op.wait_for_selector("#dispatch-table td:has-text('Damkar')", timeout=5000)
        operator.check("5-dispatched")
        with schema_context(tenant.schema_name):
            incident = Incident.objects.get(reference=reference)
            assert (incident.latitude, incident.longitude) == pytest.approx((AML_LAT, AML_LNG))
            assert incident.dispatches.get().agency.code == "damkar"

        # 5. The Damkar responder: the card has the place, directions and the incident.
        responder = screen("damkar")
        rp = responder.page
        assert rp.url.endswith("/opd/")
        card = f".dispatch-card[data-reference='{reference}']"
        rp.wait_for_selector(card, timeout=5000)
        _one_line(rp, f"{card} strong a")
        route = rp.get_attribute(f"{card} a.navigate-route", "href") or ""
        geo = rp.get_attribute(f"{card} a.navigate-geo", "href") or ""
        to = re.search(r"[?&]destination=(-?[\d.]+),(-?[\d.]+)", route)
        at = re.match(r"geo:(-?[\d.]+),(-?[\d.]+)", geo)
        assert to and at, (route, geo)
        for found in (to, at):
            assert (float(found[1]), float(found[2])) == pytest.approx((AML_LAT, AML_LNG))
        assert rp.get_attribute(f"{card} strong a", "href") == f"/incidents/{incident.pk}/"
        assert f"{AML_LAT:.5f}" in rp.inner_text(card).replace(",", ".")
        responder.check("6-opd-card")
        for step in ("acknowledged", "departed", "arrived"):
            before = rp.get_attribute(f"{card} input[name=version]", "value")
            rp.click(f"{card} button.next-status")
            rp.wait_for_function(
                "([sel, v]) => { const e = document.querySelector(sel + ' input[name=version]');"
                " return e && e.value !== v; }", arg=[card, before], timeout=5000)
            with schema_context(tenant.schema_name):
                assert incident.dispatches.get().status == step
        responder.check("7-opd-on-scene")
        # The responder opens the incident from the card: the same directions are there.
        rp.click(f"{card} strong a")
        rp.wait_for_url(f"**/incidents/{incident.pk}/")
        assert rp.locator("a.navigate-geo").count() == 1
        responder.check("8-opd-incident")

        # 6. Shift end: the supervisor leaves a note, the next supervisor reads it.
        day = screen("supervisor")
        day.page.goto(f"{base}/supervisor/handover/")
        day.check("9-handover-before")
        day.page.fill("#handover-note-form textarea", note_text)
        day.page.click("#handover-note-form button")
        day.page.wait_for_selector(f"#handover-notes li:has-text('{call_id}')")
        day.check("10-handover-note-left")
        night = screen(next_supervisor)
        night.page.goto(f"{base}/supervisor/handover/")
        item = f"#handover-notes li:has-text('{call_id}')"
        night.page.click(f"{item} button")
        night.page.wait_for_selector(f"{item} .badge.text-bg-success")
        assert "Supervisor Malam" in night.page.inner_text(item)
        night.check("11-handover-acknowledged")
        with schema_context(tenant.schema_name):
            note = HandoverNote.objects.get(text=note_text)
            assert note.acknowledged_by.username == next_supervisor
            assert note.written_by.username == "supervisor"
        assert not problems, problems
    finally:
        for s in screens:
            s.close()
        with schema_context(tenant.schema_name), purging():
            ids = [i for i in Call.objects.filter(external_id=call_id)
                   .values_list("incident_id", flat=True) if i]
            AmlReport.objects.filter(caller="+62" + caller[1:]).delete()
            Call.objects.filter(external_id=call_id).delete()
            TimelineEntry.objects.filter(incident_id__in=ids).delete()
            Incident.objects.filter(pk__in=ids).delete()
            HandoverNote.objects.filter(text=note_text).delete()
