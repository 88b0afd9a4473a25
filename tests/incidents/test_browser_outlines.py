"""The Pemda admin's outline page in a real browser: a bad file is refused with the
reason in the page's language and changes nothing; a good one (TEST DATA: invented
rectangles) replaces the outline and the page says what is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from incidents.models import RegionOutline
from tests.twofactor import pass_second_factor

TEST_OUTLINE = (Path(__file__).resolve().parents[1] / "data" / "outlines"
                / "TEST-DATA-invented-outline.geojson")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_admin_uploads_an_outline_and_sees_a_bad_one_refused(
    browser, live_server_url, committed, screenshot_dir, tmp_path, lang
):
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    with schema_context(tenant.schema_name):
        assert not RegionOutline.objects.exists(), "another test left an outline behind"
    swapped = tmp_path / "terbalik.geojson"
    swapped.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                       '"properties":{"name":"Terbalik"},"geometry":{"type":"Polygon",'
                       '"coordinates":[[[2.6,98.2],[2.7,98.2],[2.7,98.3],[2.6,98.2]]]}}]}')
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page = context.new_page()
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        pass_second_factor(page, "admin")
        page.goto(f"{base}/manage/outlines/")
        empty = ("Belum ada batas wilayah" if lang == "id" else "No outline loaded yet")
        assert empty in page.locator("#outline-current").inner_text()
        page.set_input_files("#id_outline_file", str(swapped))
        page.click("form button.btn-primary")
        page.wait_for_load_state("networkidle")
        refused = page.content()
        assert "Terbalik" in refused
        assert ("di luar Indonesia" if lang == "id" else "outside Indonesia") in refused
        page.screenshot(path=str(screenshot_dir / f"incidents-outline-refused-{lang}.png"),
                        full_page=True)
        with schema_context(tenant.schema_name):
            assert not RegionOutline.objects.exists()
        page.goto(f"{base}/manage/outlines/")
        page.set_input_files("#id_outline_file", str(TEST_OUTLINE))
        page.click("form button.btn-primary")
        page.wait_for_load_state("networkidle")
        current = page.locator("#outline-current").inner_text()
        assert ("3 wilayah" if lang == "id" else "3 areas") in current
        assert "TEST-DATA-invented-outline.geojson" in current
        page.screenshot(path=str(screenshot_dir / f"incidents-outline-loaded-{lang}.png"),
                        full_page=True)
    finally:
        context.close()
        with schema_context(tenant.schema_name):
            RegionOutline.objects.all().delete()
