"""Settings for pytest: the machine's own PostgreSQL and Redis on 127.0.0.1 when
they answer, else the embedded ones; never SQLite, never a mocked database."""

import os

from siaga112 import embedded

os.environ.setdefault("SIAGA112_DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("AXES_ENABLED", "1")
# The whole suite comes from 127.0.0.1 within minutes: limits it cannot reach, so the
# throttle's code path runs on every request; tests/foundation/test_throttle.py sets
# the real ones.
for _name in ("LOGIN_FAILURES_PER_IP", "PBX_KEY_FAILURES_PER_IP", "PBX_REQUESTS_PER_KEY",
              "GRAPHQL_REQUESTS_PER_IP", "GRAPHQL_REQUESTS_PER_TOKEN"):
    os.environ.setdefault(f"SIAGA112_{_name}", "100000/60")
# Server and worker threads in tests must not keep connections past a request.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
# SIAGA112_TEST_EMBEDDED=1 ignores the local servers: the suite then runs as on a machine
# without them (tests/foundation/test_embedded_lifetime.py uses it).
_local = os.environ.get("SIAGA112_TEST_EMBEDDED") != "1"
if "DATABASE_URL" not in os.environ and _local and embedded.tcp_answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/postgres"
if "REDIS_URL" not in os.environ and _local and embedded.tcp_answers("127.0.0.1", 6379):
    # db 15: the test suite may flush it; a demo on the same Redis uses db 0.
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"
# A private var dir keeps the embedded servers of a test run apart from the demo's.
os.environ.setdefault("SIAGA112_VAR_DIR", str(embedded.REPO_ROOT / "var" / "test"))
embedded.VAR_DIR = embedded.Path(os.environ["SIAGA112_VAR_DIR"])

from siaga112.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = embedded.VAR_DIR / "media"
# A test worker looks for tasks a killed worker left unacknowledged every second (kombu:
# every 100 s), so a test with a short SIAGA112_BROKER_VISIBILITY_TIMEOUT sees them
# handed out again (tests/foundation/test_worker_failures.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
                                   "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
