"""Rules for the suite itself: browser tests cannot silently skip in CI, and a
test that hangs fails on a per-test timeout instead of stalling the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_browser_tests_fail_without_chromium_when_ci_is_true(monkeypatch):
    from conftest import require_chromium

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_chromium("/nonexistent/chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_chromium("/nonexistent/chromium")


def test_every_test_has_a_timeout(request):
    assert float(request.config.getini("timeout")) > 0


def test_a_hanging_test_fails_on_the_timeout(tmp_path):
    probe = tmp_path / "test_hangs.py"
    probe.write_text("import time\n\ndef test_hangs():\n    time.sleep(60)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "timeout=2", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-p", "no:django", str(probe)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Timeout" in done.stdout and "1 failed" in done.stdout, done.stdout
