"""Branded 403/404/500/503 answers on every host, asked from outside: a page in
Indonesian (English below it) for a browser, JSON for an API client, and never
Django's technical pages (URL patterns, settings, traceback) — in the demo too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from .private_servers import source_url_of

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests.foundation.urls_error_probe"
TECHNICAL = ("Traceback", "URLconf", "urlpatterns", "ROOT_URLCONF", "SECRET_KEY", "DATABASES",
             "RuntimeError", "Request Method", "Django", "settings.py", "6281234567890",
             "internal reason")


def _assert_branded(text: str, status: int) -> None:
    assert f"{status} · Siaga112" in text
    for leak in (*TECHNICAL, django_settings.SECRET_KEY):
        assert leak not in text, leak


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = PROBE


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "dairi.localhost"])
def test_unknown_url_is_a_branded_404_in_indonesian_then_english(host):
    response = Client(HTTP_HOST=host).get("/no/such/page/")
    assert response.status_code == 404
    text = response.content.decode()
    _assert_branded(text, 404)
    assert '<html lang="id">' in text
    assert text.index("Halaman tidak ditemukan") < text.index("Page not found")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_english_chosen_with_the_switch_comes_first():
    client = Client(HTTP_HOST="dairi.localhost")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    text = client.get("/no/such/page/").content.decode()
    assert '<html lang="en">' in text
    assert text.index("Page not found") < text.index("Halaman tidak ditemukan")


@pytest.mark.django_db
def test_api_clients_get_json_not_a_page():
    response = Client(HTTP_HOST="dairi.localhost").get("/api/pbx/nothing/")
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "code": "not_found", "status": 404}


@pytest.mark.django_db
def test_htmx_requests_get_one_sentence_not_a_page(probe_urls):
    client = Client(HTTP_HOST="dairi.localhost", raise_request_exception=False,
                    HTTP_HX_REQUEST="true")
    response = client.get("/probe/db-down/")
    assert response.status_code == 503 and response["Retry-After"]
    assert response.content.decode() == "Sistem call center sementara tidak tersedia"
    assert client.get("/probe/boom/").content.decode() == "Terjadi kesalahan"


@pytest.mark.django_db
def test_a_view_that_raises_is_a_branded_500(probe_urls):
    client = Client(HTTP_HOST="dairi.localhost", raise_request_exception=False)
    response = client.get("/probe/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    _assert_branded(text, 500)
    assert "Terjadi kesalahan" in text


@pytest.mark.django_db
def test_permission_denied_is_a_branded_403(probe_urls):
    response = Client(HTTP_HOST="dairi.localhost").get("/probe/denied/")
    assert response.status_code == 403
    _assert_branded(response.content.decode(), 403)


@pytest.mark.django_db
def test_a_failed_csrf_check_is_the_branded_403():
    client = Client(HTTP_HOST="dairi.localhost", enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    text = response.content.decode()
    _assert_branded(text, 403)
    assert "CSRF" not in text  # the reason is for the log, not the page


@pytest.mark.django_db
def test_an_unreachable_database_is_a_503_with_retry_after(probe_urls):
    client = Client(HTTP_HOST="dairi.localhost", raise_request_exception=False)
    page = client.get("/probe/db-down/")
    assert page.status_code == 503
    assert page["Retry-After"] == str(django_settings.SIAGA112["RETRY_AFTER_SECONDS"])
    text = page.content.decode()
    _assert_branded(text, 503)
    assert "Sistem call center sementara tidak tersedia" in text
    api = client.post("/api/probe/db-down/", data="{}", content_type="application/json")
    assert api.status_code == 503
    assert api["Retry-After"] == page["Retry-After"]
    assert api.json()["status"] == 503 and api.json()["retry_after"] > 0


def test_the_real_server_answers_a_raising_view_with_the_branded_500(
    committed, live_server_url, settings
):
    settings.ROOT_URLCONF = PROBE
    port = live_server_url.rsplit(":", 1)[1]
    status, text, _ = _get(f"http://127.0.0.1:{port}/probe/boom/", "dairi.localhost")
    assert status == 500
    _assert_branded(text, 500)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, host: str) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_the_demo_server_shows_no_technical_pages_and_still_serves_assets(committed):
    """`siaga112 demo` runs the production server (siaga112.webserver, granian)
    with these settings on 0.0.0.0: whatever the developer's environment says,
    technical pages stay off, assets are served (WhiteNoise), and Ctrl-C stops it."""
    from siaga112.cli import demo_environment, web_command

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["SIAGA112_DEBUG_PAGES"] = "1"  # a developer's shell; the demo overrides it
    demo_environment(env)
    env["DATABASE_URL"] = source_url_of(connection.settings_dict)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        web_command(port, "127.0.0.1"),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = _get(f"http://127.0.0.1:{port}/healthz/", "localhost")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.3)
        assert status == 200
        for host in ("localhost", "dairi.localhost"):
            status, text, _ = _get(f"http://127.0.0.1:{port}/no/such/page/", host)
            assert status == 404
            _assert_branded(text, 404)
        status, css, headers = _get(f"http://127.0.0.1:{port}/static/css/siaga112.css",
                                    "dairi.localhost")
        assert status == 200 and "Siaga112" in css
        status, _, _ = _get(
            f"http://127.0.0.1:{port}/static/vendor/htmx/htmx.min.js", "dairi.localhost")
        assert status == 200
        # Ctrl-C in the terminal reaches the whole process group: master and workers.
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=20) is not None
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/healthz/", "localhost")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=20)
