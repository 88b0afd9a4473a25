"""Run by test_embedded_lifetime.py as a pytest session of its own (the name does not
match test_*.py, so the main suite does not collect it)."""

import os
import signal
import subprocess
import sys
import time


def test_probe():
    from django.conf import settings

    # A child that loads the settings and is killed before it can exit cleanly: the
    # condition that used to leave the suite's PostgreSQL running for good.
    child = subprocess.Popen(
        [sys.executable, "-c", "import django, time; django.setup(); print('up', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, env={**os.environ, "DJANGO_SETTINGS_MODULE": "siaga112.settings"},
    )
    assert child.stdout is not None and child.stdout.readline().strip() == b"up"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with open(os.environ["PROBE_READY"], "w") as ready:
        ready.write(str(settings.DATABASE_URL))
    mode = os.environ.get("PROBE_MODE", "pass")
    if mode == "fail":
        raise AssertionError("failing on purpose")
    if mode == "hang":
        time.sleep(120)
