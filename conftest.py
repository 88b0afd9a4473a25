"""Shared fixtures. Session-wide, committed once: the demo world of `make demo`
(regions, 514 onboarding rows, ~150 Pemda tenants, one user per role), so every
test can try another tenant and another province for free. The three used most:
Dairi (Sumatera Utara), Sidoarjo and Kota Malang (both Jawa Timur)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

DAIRI, SIDOARJO, KOTA_MALANG = "12.11", "35.15", "35.73"


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """Always create the test database (pytest-django skips it when no collected
    test is marked django_db, but `committed` tests need it too), then seed."""
    from django.test.utils import setup_databases, teardown_databases
    from siaga112.demo import seed_demo

    with django_db_blocker.unblock():
        _wait_for_a_previous_drop()
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"},
                                 serialized_aliases=set())
        seed_demo()
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        # Threads of the live server and the Celery worker may still hold a session.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        if _server_outlives_the_session():
            # DROP DATABASE of ~150 schemas takes PostgreSQL 15 a forced checkpoint and
            # some 20,000 files: 20-25 s the run need not wait for (the next run waits
            # for it, _wait_for_a_previous_drop).
            connection.creation._destroy_test_db = _drop_without_waiting
        teardown_databases(db_cfg, verbosity=0)


_DROP_WAIT_SECONDS = 300
_dropping: list[object] = []  # kept open until the process ends


def _server_outlives_the_session() -> bool:
    """The machine's (or CI's) PostgreSQL, not the embedded one a session stops."""
    import os

    return bool(os.environ.get("DATABASE_URL"))


def _maintenance_connection():
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None,
                           user=db["USER"] or None, password=db["PASSWORD"] or None,
                           dbname="postgres", autocommit=True)


def _drop_statement(name: str) -> str:
    return "DROP DATABASE " + connection.ops.quote_name(name)


def _drop_without_waiting(test_database_name: str, verbosity: int) -> None:
    """Send the DROP and return: the server finishes it after this process is gone."""
    conn = _maintenance_connection()
    conn.pgconn.send_query(_drop_statement(test_database_name).encode())
    while conn.pgconn.flush():
        pass
    _dropping.append(conn)


def _wait_for_a_previous_drop() -> None:
    """A run right after another: its test database may still be being dropped."""
    import time

    if not _server_outlives_the_session():
        return
    statement = _drop_statement(connection.creation._get_test_db_name())
    deadline = time.monotonic() + _DROP_WAIT_SECONDS
    with _maintenance_connection() as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity "
                               "WHERE state = 'active' AND query = %s", [statement]).fetchone()
            if not row or not row[0]:
                return
            time.sleep(0.2)


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Database access outside the per-test transaction, for tests where another
    thread or process (a Celery worker, a browser's server) must see the rows.
    Never `transaction=True`: its flush would wipe the session's shared tenants.
    Tests using this clean up what they create."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


def _force_login_with_second_factor(original: Callable[..., None]) -> Callable[..., None]:
    """Django's force_login skips the password; for a two-factor role it must also
    skip the second factor, as a finished login would, or every test of a
    supervisor's page would stop at the verify page. The session is marked
    verified with the user's device (given one if it has none). The tests in
    tests/accounts/test_twofactor.py go through the real login form instead."""

    def force_login(self: Client, user: object, backend: str | None = None) -> None:
        from tests.twofactor import mark_second_factor_passed

        original(self, user, backend)
        mark_second_factor_passed(self, user)

    force_login.__wrapped__ = original  # type: ignore[attr-defined]
    return force_login


@pytest.fixture(scope="session", autouse=True)
def _force_login_passes_second_factor() -> Iterator[None]:
    original = Client.force_login
    Client.force_login = _force_login_with_second_factor(original)  # type: ignore[method-assign]
    yield
    Client.force_login = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _back_to_public() -> Iterator[None]:
    yield
    connection.set_schema_to_public()
    # A test's rollback undoes rows the process caches (a host's tenant, a PBX key).
    from core.localcache import clear_all

    clear_all()


def _tenant(code: str):
    from tenants.models import Tenant

    return Tenant.objects.select_related("region").get(region__code=code)


@pytest.fixture
def tenant_a(db):
    """Kab. Dairi, Sumatera Utara."""
    return _tenant(DAIRI)


@pytest.fixture
def tenant_b(db):
    """Kab. Sidoarjo, Jawa Timur."""
    return _tenant(SIDOARJO)


@pytest.fixture
def tenant_c(db):
    """Kota Malang, Jawa Timur: same province as tenant_b."""
    return _tenant(KOTA_MALANG)


def host_of(tenant) -> str:
    return tenant.domains.get(is_primary=True).domain


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    """A browser on a tenant's host, optionally logged in as `user`."""

    def make(tenant, user=None) -> Client:
        client = Client(HTTP_HOST=host_of(tenant) if tenant is not None else "localhost")
        if user is not None:
            if tenant is not None:
                with schema_context(tenant.schema_name):
                    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """make_user(tenant_or_None, role, username=..., region=...) creates the user
    in that tenant's schema (None: the public schema)."""
    from accounts.models import User

    counter = {"n": 0}

    def make(tenant, role: str, *, username: str | None = None, region=None, **extra):
        counter["n"] += 1
        name = username or f"{role}{counter['n']}"
        schema = tenant.schema_name if tenant is not None else "public"
        with schema_context(schema):
            user = User.objects.create_user(
                username=name, password="correct-horse-112", role=role, region=region, **extra
            )
        return user

    return make


@pytest.fixture(scope="session")
def live_server_url(django_db_setup) -> Iterator[str]:
    """The real app (WSGI + static files) on a free port in a thread, over the
    session's test database. Returns "http://localhost:<port>"; tenant hosts are
    "http://<slug>.localhost:<port>" (Chromium resolves *.localhost to loopback).
    Requests only see committed rows: use the `committed` fixture, not `db`."""
    import threading

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(WSGIHandler()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "var" / "test" / "screenshots"


def require_chromium(path: str = CHROMIUM) -> None:
    """Without Chromium a browser test skips on a laptop, but FAILS in CI (CI=true):
    a CI run that silently skipped the browser tests would look green."""
    import os

    if Path(path).exists():
        return
    message = f"Debian chromium is not installed at {path} (make test installs it as root)"
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message}; CI=true, so browser tests may not skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    import os

    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # tests make between page actions are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
