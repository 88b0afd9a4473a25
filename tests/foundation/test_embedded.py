"""With no DATABASE_URL / REDIS_URL the platform runs on private servers under
var/: exercised here in a separate process with its own var dir, so it also
works on a machine where nothing listens on 127.0.0.1."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os
from siaga112 import embedded
pg = embedded.embedded_postgres_url()
redis_url = embedded.embedded_redis_url()
embedded.check_postgres(pg)
embedded.check_redis(redis_url)
import psycopg
with psycopg.connect(pg) as conn:
    print("pg", conn.execute("SHOW data_directory").fetchone()[0])
print("redis", redis_url)
"""


def test_embedded_servers_start_under_the_var_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SIAGA112_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())
    assert lines["pg"] == str(tmp_path / "var" / "pg")
    assert lines["redis"].startswith("redis+socket://")
    # The server stops with the last process holding it: nothing left running.
    assert not (tmp_path / "var" / "pg" / "postmaster.pid").exists()
