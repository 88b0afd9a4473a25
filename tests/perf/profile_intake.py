"""Where one intake request spends its time, in process (no server, no network):
the SQL statements of one PBX ringing event and of one incident created over the
API, then a pyinstrument profile of N of each (if pyinstrument is installed).

    .venv/bin/python -m tests.perf.profile_intake [N]
"""

from __future__ import annotations

import json
import sys
import time

from tests.perf.bench_intake import CSRF, HOST, build_world
from tests.perf.benchdb import bench_database


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def main(n: int = 300) -> None:
    import os

    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    with bench_database("siaga112_profile_intake"):
        _run(n)


def _run(n: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    world = build_world()
    pbx_client = Client(HTTP_HOST=HOST)  # a PBX sends no cookies
    client = Client(HTTP_HOST=HOST)
    client.cookies["sessionid"] = world.session
    client.cookies["csrftoken"] = CSRF
    counter = iter(range(10**9))

    def ringing() -> int:
        i = next(counter)
        return pbx_client.post(
            "/api/pbx/events/",
            data=json.dumps({"event": "ringing", "call_id": f"p-{i}", "caller": f"0812{i:08d}"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {world.pbx_key}",
        ).status_code

    def incident() -> int:
        i = next(counter)
        return client.post(
            "/incidents/",
            data=json.dumps({"category": world.category, "description": "p",
                             "latitude": -10 + (i % 1500) * 0.01,
                             "longitude": 95 + (i // 1500) * 0.01,
                             "idempotency_key": f"p-{i}"}),
            content_type="application/json", HTTP_ACCEPT="application/json",
            HTTP_X_CSRFTOKEN=CSRF,
        ).status_code

    for name, fn in (("ringing", ringing), ("incident", incident)):
        for _ in range(20):
            fn()  # warm caches and connections
        with CaptureQueriesContext(connection) as ctx:
            status = fn()
        say(f"\n{name}: HTTP {status}, {len(ctx.captured_queries)} SQL statements")
        for q in ctx.captured_queries:
            say(f"  {q['time']}s  {q['sql'][:160]}")
        started = time.perf_counter()
        for _ in range(n):
            fn()
        say(f"{name}: {(time.perf_counter() - started) / n * 1000:.2f} ms per request "
              f"in process ({n} requests)")
    try:
        from pyinstrument import Profiler
    except ImportError:
        return
    for name, fn in (("ringing", ringing), ("incident", incident)):
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(n):
            fn()
        profiler.stop()
        say(f"\n=== profile: {name} ===")
        say(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
