"""Response headers from outside: no-store on everything a signed-in person sees,
a Content-Security-Policy with a nonce and no eval or inline handlers, and in
real Chromium no CSP violation on the screens that use htmx, Leaflet and Chart.js."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.twofactor import delete_public_user, pass_second_factor

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize(("host", "username", "paths"), [
    ("dairi.localhost", "operator1", ["/console/", "/console/calls/", "/incidents/?q=0812"]),
    ("dairi.localhost", "supervisor", ["/supervisor/", "/supervisor/board/"]),
    ("localhost", "nasional", ["/", "/graphql/"]),
])
def test_signed_in_responses_are_never_stored(host, username, paths, client_for, tenant_a):
    from django_tenants.utils import schema_context

    from accounts.models import User

    schema = tenant_a.schema_name if host != "localhost" else "public"
    with schema_context(schema):
        user = User.objects.get(username=username)
    client = client_for(tenant_a if host != "localhost" else None, user)
    for path in paths:
        if path == "/graphql/":
            response = client.post(path, data='{"query": "{ __typename }"}',
                                   content_type="application/json")
        else:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path


@pytest.mark.django_db
def test_csp_allows_only_own_scripts_and_the_pages_nonce(client_for):
    from accounts.models import User

    client = client_for(None, User.objects.get(username="nasional"))
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    script_src = directives["script-src"]
    assert "'self'" in script_src
    assert "unsafe-eval" not in script_src and "unsafe-inline" not in script_src
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "the national console has inline scripts (map, chart)"
    for attrs in inline:
        assert f'nonce="{nonce}"' in attrs or 'type="application/json"' in attrs, attrs
    # A second response has another nonce.
    again = client.get("/")["Content-Security-Policy"]
    assert nonce not in again


def test_no_template_has_inline_handlers_or_javascript_urls():
    """Inline handlers and javascript: URLs cannot carry a nonce: CSP blocks them."""
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        if "node_modules" in template.parts:
            continue
        text = template.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(str(template.relative_to(ROOT)))
        for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            if "nonce=" not in tag and "application/json" not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
        if re.search(r'hx-trigger="[^"]*\[', text):
            offenders.append(f"{template.relative_to(ROOT)}: hx-trigger filter needs eval")
    assert offenders == []


def test_hsts_and_cookies_follow_the_environment():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SIAGA112_DEBUG", "SECRET_KEY"}}
    env.update({"SECRET_KEY": "k" * 60, "DJANGO_SETTINGS_MODULE": "siaga112.settings",
                "SECURE_HSTS_SECONDS": "600", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0",
                "SECURE_HSTS_PRELOAD": "0"})
    code = ("from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, "
            "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert done.stdout.split() == ["600", "False", "False", "True", "True", "True", "False"], (
        done.stderr)
    del env["SECURE_HSTS_SECONDS"], env["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    del env["SECURE_HSTS_PRELOAD"]
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert done.stdout.split()[:3] == ["31536000", "True", "True"], done.stderr


CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def _login(page, base: str, username: str) -> None:
    from siaga112.demo import DEMO_PASSWORD

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    pass_second_factor(page, username)


@pytest.mark.browser
def test_no_csp_violation_on_the_live_screens(browser, live_server_url, committed):
    port = live_server_url.rsplit(":", 1)[1]
    screens = [
        (live_server_url, "nasional", ["/"], "#onboarding-map[data-markers]"),
        (f"http://dairi.localhost:{port}", "operator1", ["/console/"], "#calls table, #calls *"),
        (f"http://dairi.localhost:{port}", "supervisor", ["/supervisor/"], "#supervisor-board *"),
    ]
    for base, username, paths, ready in screens:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(CSP_PROBE)
        # No internet in tests: map tiles fail at once instead of timing out.
        context.route("https://*/**", lambda route: route.abort())
        page = context.new_page()
        console_errors: list[str] = []
        page.on("console", lambda msg, errors=console_errors: errors.append(msg.text)
                if "Content Security Policy" in msg.text or "EvalError" in msg.text else None)
        try:
            _login(page, base, username)
            for path in paths:
                page.goto(base + path)
                page.wait_for_selector(ready, state="attached", timeout=10_000)
                page.wait_for_timeout(1500)  # a poll or two
                assert page.evaluate("window.__csp") == [], (username, path)
            assert console_errors == [], console_errors
        finally:
            context.close()
    # The language switch (now a static script, no inline handler) still works.
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://dairi.localhost:{port}/accounts/login/")
        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


@pytest.mark.browser
def test_graphiql_renders_for_staff_on_own_assets_under_the_csp(browser, live_server_url,
                                                                 committed):
    from accounts.models import Role, User

    user = User.objects.create_user(username="gql-browser-staff", password="Sirene-pagi-4471",
                                    role=Role.NATIONAL_OFFICER, is_staff=True)
    context = browser.new_context()
    context.add_init_script(CSP_PROBE)
    outside: list[str] = []
    context.on("request", lambda req: outside.append(req.url)
               if not req.url.startswith(live_server_url) else None)
    page = context.new_page()
    try:
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "Sirene-pagi-4471")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        pass_second_factor(page, user.username)
        outside.clear()  # the console's map tiles; GraphiQL itself must fetch nothing outside
        page.goto(f"{live_server_url}/graphql/")
        page.wait_for_selector(".graphiql-container", timeout=15_000)
        assert page.evaluate("window.__csp") == []
        assert outside == []  # no CDN
    finally:
        context.close()
        # Not user.delete(): its cascade looks for tenant tables the public schema lacks.
        delete_public_user(user.pk)
