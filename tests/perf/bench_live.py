"""Benchmark against the running demo (`make demo` in another shell):

1. a ringing call, posted by the PBX endpoint, reaching a second operator's
   console in headless Chromium (budget: < 2 s);
2. the latency of the operator console's polled partials, sequential and with
   8 concurrent clients (budget: p95 < 100 ms).

Prints figures; asserts nothing about time. The demo runs Django's threaded
development server, so 2. is a floor for what a production server does.

    .venv/bin/python -m tests.perf.bench_live [ROUNDS]
"""

from __future__ import annotations

import re
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

PORT = 8000
HOST = "dairi.localhost"
BASE = f"http://{HOST}:{PORT}"  # for Chromium, which resolves *.localhost itself
# Python's resolver does not map *.localhost to loopback: address + Host header.
HTTP = f"http://127.0.0.1:{PORT}"
PASSWORD = "Siaga112-demo!"
CHROMIUM = "/usr/bin/chromium"


def pbx_key() -> str:
    import json
    from pathlib import Path

    credentials = Path(__file__).resolve().parents[2] / "var" / "demo-credentials.json"
    return str(json.loads(credentials.read_text())["pbx_keys"]["dairi"])


def post_event(event: str, call_id: str, caller: str) -> None:
    response = requests.post(
        f"http://127.0.0.1:{PORT}/api/pbx/events/",
        json={"event": event, "call_id": call_id, "caller": caller, "trunk": "BENCH"},
        headers={"Host": f"{HOST}:{PORT}", "Authorization": f"Bearer {pbx_key()}"},
        timeout=10,
    )
    response.raise_for_status()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)]


def describe(name: str, ms: list[float]) -> str:
    return (f"{name}: n={len(ms)} median {statistics.median(ms):.1f} ms, "
            f"p95 {pct(ms, 95):.1f} ms, max {max(ms):.1f} ms")


def ringing_latency(rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    latencies = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(f"{BASE}/accounts/login/")
        page.fill("#id_username", "operator2")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/$"))
        for i in range(rounds):
            call_id = f"bench-{uuid.uuid4().hex[:10]}"
            caller = f"0813{uuid.uuid4().int % 10**8:08d}"
            started = time.perf_counter()
            post_event("ringing", call_id, caller)
            page.wait_for_selector(f".ringing-call[data-call='{call_id}']", timeout=10_000)
            latencies.append((time.perf_counter() - started) * 1000)
            post_event("ended", call_id, caller)  # a missed call: leaves the queue
            time.sleep(0.3 + (i % 5) * 0.15)  # land at different points of the poll cycle
        browser.close()
    return latencies


def logged_in_session() -> requests.Session:
    session = requests.Session()
    session.headers["Host"] = f"{HOST}:{PORT}"
    login = session.get(f"{HTTP}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
    assert token, "no CSRF token on the login page"
    session.post(f"{HTTP}/accounts/login/", timeout=10,
                 data={"username": "operator1", "password": PASSWORD,
                       "csrfmiddlewaretoken": token.group(1)})
    assert "sessionid" in session.cookies, "login failed"
    return session


def partial_latency(session: requests.Session, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        session.get(f"{HTTP}{path}", timeout=10).raise_for_status()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(rounds: int = 20) -> None:
    try:
        requests.get(f"http://127.0.0.1:{PORT}/healthz/", headers={"Host": HOST},
                     timeout=3).raise_for_status()
    except requests.RequestException:
        sys.stderr.write("bench_live: start `make demo` first (nothing answers on :8000)\n")
        raise SystemExit(2) from None

    lines = [describe("ringing call -> second operator's screen", ringing_latency(rounds))]
    session = logged_in_session()
    for path in ("/console/calls/", "/console/incidents/"):
        lines.append(describe(f"GET {path} sequential", partial_latency(session, path, 200)))
    sessions = [logged_in_session() for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda s: partial_latency(s, "/console/calls/", 50), sessions)
    lines.append(describe("GET /console/calls/ with 8 concurrent clients",
                          [ms for chunk in results for ms in chunk]))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
