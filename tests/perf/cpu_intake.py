"""CPU time per intake request in this process, through Django's WSGI handler as
the web server calls it (no network in front, the real PostgreSQL and Redis behind), with
and without the PBX API's short way (siaga112.pbx_path), interleaved so both see the
same machine. On a shared machine wall time moves with the load; the CPU a request
costs moves much less, and it is what caps requests per second on two cores.

    .venv/bin/python -m tests.perf.cpu_intake [N] [ROUNDS]
    CPU_INTAKE_PROFILE=ringing|incident .venv/bin/python -m tests.perf.cpu_intake 2000
    (CPU_INTAKE_DUMP=FILE keeps the profile for `python -m pstats FILE`)
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.perf.bench_intake import CSRF, HOST, build_world
from tests.perf.benchdb import bench_database

LEAN = "siaga112.pbx_path.PbxLeanMiddleware"


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def main(n: int = 1000, rounds: int = 3) -> None:
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SIAGA112_PBX_REQUESTS_PER_KEY", "100000000/60")
    os.environ["SIAGA112_DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "INFO")
    with bench_database("siaga112_cpu_intake"):
        _run(n, rounds)


def _environ(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
           "SERVER_NAME": HOST, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
           "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": HOST, "wsgi.input": io.BytesIO(body),
           "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
           "wsgi.multiprocess": True, "wsgi.run_once": False,
           "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json"}
    env.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return env


def _run(n: int, rounds: int) -> None:
    import logging

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    # The log lines go where the web server's would (a pipe), not to this terminal.
    devnull = open(os.devnull, "w")  # noqa: SIM115
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)  # type: ignore[arg-type]
    world = build_world()
    full_middleware = [m for m in settings.MIDDLEWARE if m != LEAN]
    lean = WSGIHandler()
    settings.MIDDLEWARE = full_middleware
    full = WSGIHandler()
    counter = iter(range(10**9))
    statuses: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    def ringing(app: WSGIHandler) -> None:
        i = next(counter)
        body = json.dumps({"event": "ringing", "call_id": f"cpu-{i}", "caller": f"0812{i:08d}",
                           "trunk": "BENCH"}).encode()
        response = app(_environ("POST", "/api/pbx/events/", body,
                                {"Authorization": f"Bearer {world.pbx_key}"}), start_response)
        b"".join(response)
        response.close()

    def incident(app: WSGIHandler) -> None:
        i = next(counter)
        body = json.dumps({"category": world.category, "description": "cpu",
                           "latitude": -10 + (i % 1500) * 0.01,
                           "longitude": 95 + (i // 1500) * 0.01,
                           "idempotency_key": f"cpu-{i}"}).encode()
        response = app(_environ("POST", "/incidents/", body, {
            "Accept": "application/json", "X-CSRFToken": CSRF,
            "Cookie": f"sessionid={world.session}; csrftoken={CSRF}"}), start_response)
        b"".join(response)
        response.close()

    def measure(fn: Callable[[WSGIHandler], None], app: WSGIHandler) -> tuple[float, float]:
        for _ in range(20):
            fn(app)
        statuses.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            fn(app)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        bad = [s for s in statuses if not s.startswith(("200", "201"))]
        assert not bad, bad[:3]
        return cpu * 1000 / n, wall * 1000 / n

    if os.environ.get("CPU_INTAKE_PROFILE"):
        # Where the CPU of one request goes (cProfile, own time first), before changing code.
        import cProfile
        import pstats

        which = os.environ["CPU_INTAKE_PROFILE"]
        fn = incident if which == "incident" else ringing
        measure(fn, lean)
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on sockets
        profiler.enable()
        for _ in range(n):
            fn(lean)
        profiler.disable()
        if os.environ.get("CPU_INTAKE_DUMP"):
            # For a closer look afterwards: python -m pstats FILE (callees, callers …).
            profiler.dump_stats(os.environ["CPU_INTAKE_DUMP"])
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)
        return
    for r in range(rounds):
        for name, fn, app in (("ringing, all middlewares", ringing, full),
                              ("ringing, short way", ringing, lean),
                              ("incident", incident, lean)):
            cpu, wall = measure(fn, app)
            say(f"round {r + 1}: {name:<26} CPU {cpu:5.2f} ms/request, wall {wall:5.2f} ms "
                f"({n} requests, one thread)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
