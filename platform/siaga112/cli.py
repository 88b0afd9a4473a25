"""The `siaga112` command line.

`siaga112 demo` runs the whole platform (web, Celery worker and beat) on one
machine; every other word is a Django management command. Before a command
touches the database we check that PostgreSQL and Redis answer, so a wrong
DATABASE_URL ends in one line naming the server, not a stack trace.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Commands that never open a database connection.
_NO_DB_COMMANDS = {"help", "--help", "-h", "version", "--version", "check", "makemigrations",
                   "collectstatic", "compilemessages", "makemessages", "graphql_schema"}
DEMO_PORT = int(os.environ.get("SIAGA112_PORT", "8000"))


def _fail(message: str) -> None:
    sys.stderr.write(f"siaga112: {message}\n")
    raise SystemExit(2)


def _check_servers() -> None:
    from siaga112 import embedded

    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    try:
        if database_url:
            embedded.check_postgres(database_url)
        if redis_url:
            embedded.check_redis(redis_url)
    except embedded.ServerUnreachable as exc:
        _fail(str(exc))


def _ensure_servers_in_env() -> None:
    """Start the embedded servers if needed and put their URLs in the environment,
    so the web, worker and beat children all reach the same ones."""
    from siaga112 import embedded

    try:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = embedded.embedded_postgres_url()
        if not os.environ.get("REDIS_URL"):
            os.environ["REDIS_URL"] = embedded.embedded_redis_url()
    except Exception as exc:  # noqa: BLE001 - one line for a person, not a traceback
        _fail(f"could not start the embedded servers under {embedded.VAR_DIR}: {exc}")


def _django(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["siaga112", *argv])
    except ImproperlyConfigured as exc:
        _fail(f"{exc} (on a laptop: SIAGA112_DEBUG=1, as `make demo` sets)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    if command == "demo":
        demo(argv[1:])
        return
    if command not in _NO_DB_COMMANDS:
        _check_servers()
    _django(argv)


# --- demo ---------------------------------------------------------------------------------


def _urls(port: int) -> list[str]:
    from django.conf import settings

    base = settings.BASE_DOMAIN
    return [
        f"http://{base}:{port}/  (national console)",
        f"http://dairi.{base}:{port}/  (Kab. Dairi call center)",
        f"http://sidoarjo.{base}:{port}/  (Kab. Sidoarjo call center)",
        f"http://{base}:{port}/graphql/  (GraphQL, POST JSON)",
    ]


def _wait_until_serving(port: int, web: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """So the URLs are the last thing printed, after the children's start-up chatter."""
    import urllib.error
    import urllib.request

    from django.conf import settings

    # Asked as the national host: a bare address is no Pemda's host (404).
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz/", headers={"Host": settings.BASE_DOMAIN}
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - our own server
                break
        except urllib.error.HTTPError:
            break  # it answers; whether healthy is /healthz/'s business, not the banner's
        except OSError:
            time.sleep(0.3)
    time.sleep(1.5)


def web_command(port: int, host: str = "0.0.0.0") -> list[str]:  # noqa: S104 - a demo on a LAN
    """The demo's web server: the production server and settings of the Docker image
    (siaga112.webserver), not Django's development server. Static files come from
    WhiteNoise (from the finders on a laptop), and nothing reloads on a code change:
    restart `make demo` after editing Python."""
    from siaga112 import webserver

    return webserver.command(port, host)


def events_command(port: int, host: str = "0.0.0.0") -> list[str]:  # noqa: S104 - a demo on a LAN
    """The events server (pushed consoles, siaga112.events) beside the web server: uvicorn,
    one process. In the demo the browser reaches it on its own port (CORS for the
    page's origin, settings SIAGA112["EVENTS_PORT"]); in production a proxy routes
    /console/stream/ to it (infra/nginx.conf)."""
    return [sys.executable, "-m", "uvicorn", "siaga112.events:application", "--host", host,
            "--port", str(port), "--log-level", "warning", "--no-access-log"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def demo(argv: list[str]) -> None:
    """Set up and run everything; Ctrl-C stops every process started here."""
    # Explicit, because a process started in the background by a non-interactive
    # shell inherits SIGINT as ignored: Ctrl-C (or kill -INT) must work however
    # the demo was launched, also during the set-up below.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    from siaga112 import embedded

    try:
        _demo(argv)
    except KeyboardInterrupt:
        sys.stderr.write("siaga112 demo: interrupted; everything it started is stopped.\n")
        raise SystemExit(130) from None
    finally:
        embedded.stop_embedded_servers()


def demo_environment(environ: dict[str, str] | os._Environ[str], port: int = DEMO_PORT) -> None:
    """The demo's settings, in place: a laptop (SIAGA112_DEBUG=1), but never
    Django's technical error pages, because the demo listens on every interface
    and those pages list every URL pattern and setting. Static files are still
    served by the platform (WhiteNoise from the finders), not by DEBUG.

    Pages on `port`, their event stream on the next one (CORS and CSP for exactly
    the page's origin: incidents.views.stream). Set before Django reads its settings,
    so the printed logins and the links in messages name the port actually served."""
    environ.setdefault("SIAGA112_PUBLIC_PORT", str(port))
    environ.setdefault("SIAGA112_EVENTS_PORT", str(port + 1))
    environ.setdefault("SIAGA112_DEBUG", "1")
    environ["SIAGA112_DEBUG_PAGES"] = "0"
    environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    # Two web processes are plenty for a demo on a laptop (production: 1 per core).
    environ.setdefault("WEB_CONCURRENCY", "2")


def _demo(argv: list[str]) -> None:
    port = int(argv[0]) if argv else DEMO_PORT
    demo_environment(os.environ, port)
    _ensure_servers_in_env()
    _check_servers()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from siaga112.demo import seed_demo

    sys.stdout.write("siaga112 demo: migrating the public schema and the tenants …\n")
    call_command("migrate_all", verbosity=0)
    sys.stdout.write("siaga112 demo: loading regions and demo Pemda …\n")
    # One log line per provisioned tenant is right in production, noise here.
    logging.getLogger("tenants.services").setLevel(logging.WARNING)
    summary = seed_demo()
    logging.getLogger("tenants.services").setLevel(logging.NOTSET)
    sys.stdout.write(summary.describe() + "\n")

    env = dict(os.environ)
    events_port = port + 1
    python = sys.executable
    var_dir = Path(settings.VAR_DIR)
    var_dir.mkdir(parents=True, exist_ok=True)
    commands = {
        "web": web_command(port),
        "events": events_command(events_port),
        "worker": [python, "-m", "celery", "-A", "siaga112", "worker", "--loglevel=INFO",
                   "--concurrency=2", "-n", f"demo-{os.getpid()}@%h"],
        "beat": [python, "-m", "celery", "-A", "siaga112", "beat", "--loglevel=INFO",
                 "-s", str(var_dir / "celerybeat-schedule")],
    }
    children: dict[str, subprocess.Popen[bytes]] = {}
    failed = ""
    # SIGINT/SIGTERM raise KeyboardInterrupt (see demo()); whenever it comes,
    # the finally block stops every child started so far.
    try:
        for name, cmd in commands.items():
            # Own process group each, so Ctrl-C in the terminal reaches us first and
            # we stop them in order instead of them dying mid-task.
            children[name] = subprocess.Popen(cmd, env=env, start_new_session=True)  # noqa: S603
        _wait_until_serving(port, children["web"])
        if children["web"].poll() is None:
            sys.stdout.write("\nSiaga112 demo is running:\n")
            for line in _urls(port):
                sys.stdout.write(f"  {line}\n")
            sys.stdout.write(f"  (live consoles pushed from port {events_port}; they poll "
                             "when it is away)\n")
            sys.stdout.write(f"Demo logins: {var_dir / 'demo-credentials.json'}\n")
            sys.stdout.write("Ctrl-C stops everything.\n")
            sys.stdout.flush()
        while not failed:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = f"{name} exited ({child.returncode})"
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        sys.stdout.write("siaga112 demo: stopped web, events, worker and beat.\n")
    _fail(f"{failed}; stopped everything (is port {port} or {events_port} already in use?)")

if __name__ == "__main__":
    main()
