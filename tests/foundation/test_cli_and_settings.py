"""The command line and the production settings, run as separate processes
exactly as an operator would run them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args, env_extra, timeout=60):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "SIAGA112_DEBUG", "SECRET_KEY",
                        "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "siaga112.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_unreachable_database_is_one_clear_line():
    done = _run(["migrate"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/siaga112",
                              "REDIS_URL": "redis://127.0.0.1:6379/15",
                              "SIAGA112_DEBUG": "1"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "PostgreSQL at 127.0.0.1:1/siaga112 could not be reached" in lines[0]
    assert "Traceback" not in done.stderr


def test_unreachable_redis_is_one_clear_line():
    # The database must answer so that Redis is the part found missing: use the one this
    # session runs on (the embedded server where 127.0.0.1:5432 has none), not a fixed port.
    done = _run(["migrate"], {"DATABASE_URL": os.environ["DATABASE_URL"],
                              "REDIS_URL": "redis://127.0.0.1:1/0", "SIAGA112_DEBUG": "1"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if "Redis at 127.0.0.1:1/0" in line
    ]


def test_production_settings_pass_check_deploy():
    env = {
        "SECRET_KEY": "k3y-" + "x9Q!z" * 12,
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "SIAGA112_BASE_DOMAIN": "siaga112.go.id",
        "SENTRY_DSN": "",
    }
    done = _run(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    done = _run(["check"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
                            "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
