"""Real Chromium: a new supervisor of Dairi logs in with the password, lands on
the enrolment page in Indonesian (QR code drawn inline, no CSP violation), types
the app's code, sees the backup codes once and reaches the supervisor console."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import Role, User
from audit.models import AuditEntry

PASSWORD = "Dua-faktor-pagi-4471"
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.mark.browser
def test_enrolment_walk_in_indonesian(browser, live_server_url, committed, screenshot_dir):
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    with schema_context(tenant.schema_name):
        user = User.objects.create_user(username="spv.browser2fa", password=PASSWORD,
                                        role=Role.SUPERVISOR, display_name="Supervisor Baru")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    try:
        page.goto(f"{base}/supervisor/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/2fa/enrol/" in url)
        assert page.locator("html").get_attribute("lang") == "id"
        assert "Siapkan login dua faktor" in page.content()
        assert page.locator("#twofactor-qr svg").is_visible()
        secret = page.locator("#twofactor-secret").get_attribute("data-secret")
        page.screenshot(path=str(screenshot_dir / "twofactor-enrol-id.png"), full_page=True)

        with schema_context(tenant.schema_name):
            device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert secret and len(secret) == 32
        page.fill("#id_code", f"{totp(device.bin_key):06d}")
        page.click("button[type=submit]")
        page.wait_for_selector("#backup-codes li")
        assert page.locator("#backup-codes li").count() == 10
        assert "hanya ditampilkan sekali" in page.content()
        page.screenshot(path=str(screenshot_dir / "twofactor-backup-codes-id.png"),
                        full_page=True)
        page.click("#twofactor-backup-codes a.btn")
        page.wait_for_url(lambda url: url.endswith("/supervisor/"))
        page.wait_for_selector("#supervisor-board *", state="attached", timeout=10_000)
        assert page.evaluate("window.__csp") == []
        with schema_context(tenant.schema_name):
            assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
            assert AuditEntry.objects.filter(action="twofactor.enrolled",
                                             target_id=str(user.pk)).exists()
    finally:
        context.close()
        # The audit rows stay: the trail is append-only. Devices go with the user.
        with schema_context(tenant.schema_name):
            user.delete()
