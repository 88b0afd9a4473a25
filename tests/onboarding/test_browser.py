"""In headless Chromium: a Pemda coordinator logs in, submits the application
with a PDF, and the national officer's console (map, chart, tables) renders —
with the map tiles failing to load, the markers still show."""

from __future__ import annotations

import zoneinfo

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from accounts.models import Role, User
from onboarding.models import Application, PemdaOnboarding, Stage, TimelineEntry
from tenants.models import Region
from tests.twofactor import pass_second_factor

DEMO_PASSWORD = "Siaga112-demo!"


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, username)


def _block_tiles(page) -> None:
    # The sandbox has no internet anyway; make the failure immediate and certain.
    page.route("**/*.tile.openstreetmap.org/**", lambda route: route.abort())
    page.route("https://*/**", lambda route: route.abort())


@pytest.mark.browser
def test_coordinator_submits_application_and_console_renders(
    browser, live_server_url, committed, screenshot_dir, tmp_path, pdf_bytes
):
    region = (
        Region.objects.filter(parent_id="35", onboarding__stage=Stage.NOT_STARTED)
        .exclude(name__in=["Kabupaten Lumajang", "Kabupaten Jember"])
        .order_by("code")
        .first()
    )
    before = PemdaOnboarding.objects.get(pk=region.code)
    user = User.objects.create_user(
        username="koord.browser", password="Sirene-pagi-4471", role=Role.PEMDA_COORDINATOR,
        region=region,
    )
    letter = tmp_path / "surat-permohonan.pdf"
    letter.write_bytes(pdf_bytes)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _block_tiles(page)
        _login(page, live_server_url, "koord.browser", "Sirene-pagi-4471")
        assert page.url.endswith(f"/pemda/{region.code}/")
        page.fill("#application-letter_number", "045/77/Diskominfo/2025")
        page.fill("#application-letter_date", "2025-01-15")
        page.fill("#application-contact_name", "Kabid TIK")
        page.fill("#application-contact_phone", "+62 811 2000 112")
        page.fill("#application-contact_email", "tik@example.go.id")
        page.select_option("#application-network_scheme", "sip_trunk")
        page.fill("#application-address", "Jl. Alun-alun 1")
        page.fill("#application-latitude", "-7.9")
        page.fill("#application-longitude", "113.8")
        page.set_input_files("#application-letter", str(letter))
        page.click("#form-application button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "Tersimpan." in page.content()
        page.click("#form-advance button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#current-stage", "data-stage") == "application"
        page.screenshot(path=str(screenshot_dir / "onboarding-coordinator-submitted.png"),
                        full_page=True)
        ob = PemdaOnboarding.objects.get(pk=region.code)
        assert ob.stage == Stage.APPLICATION and ob.version == before.version + 1
        assert Application.objects.get(onboarding_id=region.code).letter.read(5) == b"%PDF-"

        page.context.clear_cookies()
        _login(page, live_server_url, "nasional", DEMO_PASSWORD)
        page.goto(f"{live_server_url}/")
        page.wait_for_function("document.getElementById('onboarding-map').dataset.markers > 0")
        markers = page.locator("#onboarding-map path.leaflet-interactive").count()
        assert markers == int(page.get_attribute("#onboarding-map", "data-markers")) > 100
        assert page.locator("#launch-chart").bounding_box()["height"] > 50
        assert "121 dari 514" not in page.content() and "120 dari 514" in page.content()
        page.screenshot(path=str(screenshot_dir / "onboarding-national-console.png"), full_page=True)
        page.goto(f"{live_server_url}/provinsi/35/")
        page.wait_for_function("document.getElementById('onboarding-map').dataset.markers > 0")
        assert "15 dari 38 telah diluncurkan" in page.inner_text("#launched-headline")
        page.screenshot(path=str(screenshot_dir / "onboarding-province-jatim.png"), full_page=True)
        page.goto(f"{live_server_url}/pemda/?province=35")
        page.screenshot(path=str(screenshot_dir / "onboarding-list.png"), full_page=False)
        page.goto(f"{live_server_url}/pemda/71.74/")
        page.screenshot(path=str(screenshot_dir / "onboarding-kotamobagu.png"), full_page=True)

        page.context.clear_cookies()
        _login(page, live_server_url, "koordinator.dairi", DEMO_PASSWORD)
        assert page.url.endswith("/pemda/12.11/")
        missing = page.inner_text("#missing-list")
        assert "Smartfren" in missing and "Perbup/Perwali" in missing
        page.screenshot(path=str(screenshot_dir / "onboarding-dairi-coordinator.png"), full_page=True)
    finally:
        page.close()
        app = Application.objects.filter(onboarding_id=region.code).first()
        if app is not None and app.letter:
            default_storage.delete(app.letter.name)
        Application.objects.filter(onboarding_id=region.code).delete()
        TimelineEntry.objects.filter(onboarding_id=region.code).delete()
        PemdaOnboarding.objects.filter(pk=region.code).update(
            stage=before.stage, version=before.version, stage_entered_at=before.stage_entered_at)
        # Raw: the ORM cascade would look for tenant-only tables (incidents) in public.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])


@pytest.mark.browser
def test_national_officer_walks_kotamobagu_to_launch_in_the_browser(
    browser, live_server_url, committed, screenshot_dir
):
    """The demo's 'done when': FGD/Bimtek → trial → launch, and the count moves."""
    from django.utils import timezone

    from onboarding.models import Launch, TrialCall
    from tenants.models import Tenant

    code = "71.74"
    before = PemdaOnboarding.objects.get(pk=code)
    assert before.stage == Stage.TRAINING
    status = Tenant.objects.get(region_id=code).status
    last_entry = TimelineEntry.objects.filter(onboarding_id=code).order_by("-id").first()
    launched = PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).count()
    # The trial starts now, on Kotamobagu's own date (WITA): from 16:00 UTC that is
    # already tomorrow, and a launch dated before the trial began is refused.
    zone = Tenant.objects.get(region_id=code).region.timezone
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date().isoformat()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _block_tiles(page)
        _login(page, live_server_url, "nasional", DEMO_PASSWORD)
        page.goto(f"{live_server_url}/pemda/{code}/")
        page.click("#form-advance button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#current-stage", "data-stage") == "trial"
        assert Tenant.objects.get(region_id=code).status == Tenant.Status.TRIAL
        # Launch is refused until a test call and the launch details exist.
        assert "panggilan uji yang berhasil" in page.inner_text("#missing-list")
        page.click("#trial summary")
        page.fill("#trial_call-called_on", today)
        page.select_option("#trial_call-operator", "indosat")
        page.fill("#trial_call-scenario", "Kecelakaan lalu lintas di Jl. Ahmad Yani")
        page.select_option("#trial_call-result", "success")
        page.click("#form-trial_call button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.click("#launch summary")
        page.fill("#launch-launched_on", today)
        page.fill("#launch-launched_by", "Walikota Kotamobagu")
        page.fill("#launch-press_link", "https://kotamobagukota.go.id/berita/112")
        page.click("#form-launch button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.locator("#missing-list").count() == 0
        page.click("#form-advance button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#current-stage", "data-stage") == "launched"
        assert f"ke-{launched + 1} secara nasional" in page.inner_text("#launch-ordinal")
        page.screenshot(path=str(screenshot_dir / "onboarding-kotamobagu-launched.png"),
                        full_page=True)
        assert Tenant.objects.get(region_id=code).status == Tenant.Status.LIVE
        page.goto(f"{live_server_url}/")
        assert f"{launched + 1} dari 514 telah diluncurkan" in page.inner_text("#launched-headline")
    finally:
        page.close()
        Launch.objects.filter(onboarding_id=code).delete()
        TrialCall.objects.filter(onboarding_id=code).delete()
        TimelineEntry.objects.filter(onboarding_id=code, id__gt=last_entry.id).delete()
        PemdaOnboarding.objects.filter(pk=code).update(
            stage=before.stage, version=before.version, stage_entered_at=before.stage_entered_at,
            launched_on=None)
        Tenant.objects.filter(region_id=code).update(status=status)
