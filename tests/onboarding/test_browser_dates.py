"""In headless Chromium, in Indonesian (the default): the stored dates show in the
Pemda page's date inputs, and saving a form untouched keeps them.

Before the fix Django wrote `17-03-2026` (the Indonesian input format) into
`<input type="date">`; Chromium rejects that value, so the fields looked empty
and an untouched save stored nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role, User
from onboarding.models import (
    Application,
    PemdaOnboarding,
    Regulation,
    RegulationKind,
    Stage,
    TimelineEntry,
)
from tenants.models import Region
from tests.twofactor import delete_public_user, pass_second_factor

PASSWORD = "Tanggal-iso-2026"
LETTER = dt.date(2025, 1, 15)
INSTALLED = dt.date(2025, 6, 2)
ENACTED = dt.date(2025, 9, 30)


def _login(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "nasional.tanggal")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, "nasional.tanggal")


@pytest.mark.browser
def test_date_inputs_show_and_keep_their_values_in_indonesian(
    browser, live_server_url, committed, screenshot_dir
):
    region = (
        Region.objects.filter(parent_id="52", onboarding__stage=Stage.NOT_STARTED)
        .order_by("-code")
        .first()
    )
    assert region is not None
    code = region.code
    before = PemdaOnboarding.objects.get(pk=code)
    assert not Application.objects.filter(onboarding_id=code).exists()
    Application.objects.create(
        onboarding=before, letter_number="045/12/2025", letter_date=LETTER,
        contact_name="Kabid TIK", contact_phone="+62 811 2000 112",
        contact_email="tik@example.go.id", network_scheme="sip_trunk",
        address="Jl. Pejanggik 1", latitude=Decimal("-8.58"), longitude=Decimal("116.12"),
    )
    PemdaOnboarding.objects.filter(pk=code).update(installed_on=INSTALLED)
    Regulation.objects.create(
        onboarding=before, kind=RegulationKind.PERBUP, number="7/2025", enacted_on=ENACTED
    )
    last_entry = TimelineEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    user = User.objects.create_user(
        username="nasional.tanggal", password=PASSWORD, role=Role.NATIONAL_OFFICER
    )
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.route("https://*/**", lambda route: route.abort())
        _login(page, live_server_url)
        page.goto(f"{live_server_url}/pemda/{code}/")
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.input_value("#application-letter_date") == "2025-01-15"
        assert page.input_value("#installation-installed_on") == "2025-06-02"
        assert page.input_value("#regulation-enacted_on") == "2025-09-30"
        # The browser itself accepts the value (an invalid one reads back as "").
        assert page.eval_on_selector(
            "#regulation-enacted_on", "el => el.valueAsDate && el.valueAsDate.toISOString()"
        ).startswith("2025-09-30")
        page.click("#installation summary")
        page.click("#regulation summary")
        page.screenshot(path=str(screenshot_dir / "onboarding-dates-id.png"), full_page=True)

        # Saving untouched keeps every date.
        page.click("#form-installation button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "Tersimpan." in page.content()
        page.click("#regulation summary")
        page.click("#form-regulation button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.click("#application summary")
        page.click("#form-application button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "Tersimpan." in page.content()
        assert PemdaOnboarding.objects.get(pk=code).installed_on == INSTALLED
        assert Regulation.objects.get(onboarding_id=code).enacted_on == ENACTED
        assert Application.objects.get(onboarding_id=code).letter_date == LETTER
        assert TimelineEntry.objects.filter(onboarding_id=code, id__gt=last_entry).count() == 3

        # A new date typed in the browser's picker is saved as typed.
        page.click("#installation summary")
        page.fill("#installation-installed_on", "2025-07-04")
        page.click("#form-installation button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert PemdaOnboarding.objects.get(pk=code).installed_on == dt.date(2025, 7, 4)
        assert page.input_value("#installation-installed_on") == "2025-07-04"
    finally:
        page.close()
        Application.objects.filter(onboarding_id=code).delete()
        Regulation.objects.filter(onboarding_id=code).delete()
        TimelineEntry.objects.filter(onboarding_id=code, id__gt=last_entry).delete()
        PemdaOnboarding.objects.filter(pk=code).update(installed_on=before.installed_on)
        delete_public_user(user.pk)  # with the two-factor devices its login enrolled
