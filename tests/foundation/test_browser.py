"""The login page in real headless Chromium, on the national and a tenant host."""

import pytest
from siaga112.demo import DEMO_PASSWORD


@pytest.mark.browser
def test_operator_logs_in_on_the_tenant_host(browser, live_server_url, committed, screenshot_dir):
    port = live_server_url.rsplit(":", 1)[1]
    page = browser.new_page()
    try:
        page.goto(f"http://dairi.localhost:{port}/")
        assert "/accounts/login/" in page.url
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        assert page.url.startswith(f"http://dairi.localhost:{port}/")
        assert "Operator Satu" in page.content()
        page.screenshot(path=str(screenshot_dir / "tenant-home.png"), full_page=True)

        # The same account on the national console is unknown.
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        assert "/accounts/login/" in page.url
        assert page.locator(".alert-danger").count() == 1
    finally:
        page.close()
