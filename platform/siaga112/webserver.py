"""The production web server: Django's WSGI application under granian, a Rust HTTP
server. One command for the Docker image (`python -m siaga112.webserver`), `make demo`
(siaga112.cli) and the benchmarks (tests/perf), so what is measured is what runs.

Why granian and not gunicorn (gthread), which served until December 2026: on the
intake benchmark (2 cores shared with PostgreSQL and the load generator) gunicorn's
own Python work — parsing each request, handing it between threads — was ~0.4 ms of
the ~1.9 ms of CPU a PBX event cost; granian does that part in Rust. Same machine,
same run (`.venv/bin/python -m tests.perf.bench_intake 2 8`, 6 Dec): ringing 659 ->
807 req/s, p99 63 -> 50 ms; incident 1,114 -> 1,266 req/s; a trivial WSGI app 8,100
-> 56,000 req/s. Django's own deployment guide lists it beside gunicorn.

Each worker process runs WEB_THREADS threads for Django: a request spends much of its
wall time waiting on PostgreSQL and Redis, so while one waits another computes. What
counted on 2 cores was the number of threads in all, about 4 per core: 2 workers x 4
threads took 872 ringing events/s (p99 39-42 ms), 4 x 2 858-896, 3 x 2 905, against
4 x 4 778 (p99 64 ms), 4 x 1 757 and 8 x 1 717. One worker per core (granian's own
advice) keeps the memory of half as many copies of Django. Every value can be
overridden from the environment:

    WEB_CONCURRENCY   worker processes (default: 1 per core)
    WEB_THREADS       threads per worker running Django (default 4)
    WEB_MAX_RSS_MIB   a worker grown past this is replaced (default 400; 0 = never).
                      A worker measured at most 140 MiB with all 514 Pemda cached
                      (bench_scale): this catches a leak long before it is an outage.
    WEB_LIFETIME      seconds before a worker is replaced anyway (default 0 = never)
    WEB_KILL_TIMEOUT  seconds a stopping worker may finish its requests (default 10)
    WEB_LOG_LEVEL     the server's own log (default warning). There is no access log:
                      the platform logs what it does itself (JSON, scrubbed of personal
                      data); access lines would carry URLs and addresses unscrubbed.

Stopping: SIGTERM or SIGINT to the server stops its workers after their requests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

APP = "siaga112.wsgi:application"


def _setting(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"siaga112 web server: {name}={raw!r} is not a whole number") from None
    if value < 0:
        raise SystemExit(f"siaga112 web server: {name} must not be negative, not {value}")
    return value


def command(port: int = 8000, host: str = "0.0.0.0", app: str = APP,  # noqa: S104 - in a container
            environ: Mapping[str, str] | None = None) -> list[str]:
    """The server's command line for serving `app` on host:port."""
    env = os.environ if environ is None else environ
    workers = _setting(env, "WEB_CONCURRENCY", os.cpu_count() or 1) or 1
    threads = _setting(env, "WEB_THREADS", 4) or 1
    max_rss = _setting(env, "WEB_MAX_RSS_MIB", 400)
    lifetime = _setting(env, "WEB_LIFETIME", 0)
    kill_timeout = _setting(env, "WEB_KILL_TIMEOUT", 10)
    if lifetime and lifetime < 60:
        raise SystemExit("siaga112 web server: WEB_LIFETIME is at least 60 seconds (or 0)")
    args = [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads),
        # Behind nginx (infra/nginx.conf), which speaks HTTP/1.1 to its upstreams; the
        # consoles' WebSocket-free event stream is the events server's (siaga112.events).
        "--http", "1", "--no-ws",
        # A worker that dies (a segfault in a C extension, the OOM killer) comes back.
        "--respawn-failed-workers",
        "--workers-kill-timeout", str(kill_timeout),
        "--log-level", env.get("WEB_LOG_LEVEL", "warning"), "--no-access-log",
    ]
    if max_rss:
        args += ["--workers-max-rss", str(max_rss)]
    if lifetime:
        args += ["--workers-lifetime", str(lifetime)]
    return [*args, app]


def main() -> None:
    port = _setting(os.environ, "WEB_PORT", 8000)
    args = command(port, os.environ.get("WEB_HOST", "0.0.0.0"))  # noqa: S104 - in a container
    os.execv(args[0], args)  # noqa: S606 - our own interpreter, a fixed argument list


if __name__ == "__main__":
    main()
