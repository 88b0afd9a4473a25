# The production web server's configuration, used by the Docker image, `make demo`
# and the intake benchmark (tests/perf/bench_intake.py): one server, one config.
#
# Every value can be overridden from the environment. The defaults come from the
# intake benchmark on a 2-core machine (README "Performance"): a request spends
# ~2.5 ms of CPU in Python and most of its wall time waiting on PostgreSQL and
# Redis round trips, so each of the 2-per-core worker processes runs 4 threads:
# while one waits on the database another computes. Measured in consecutive runs
# (2 cores shared with other jobs, load average 14-27, so noisy): sync 4x1
# 104/109 req/s (ringing/incident), gthread 4x4 114/172, gthread 2x8 71/77,
# gthread 8x2 64/67.
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# gthread keeps client connections alive between requests (a PBX posting events,
# a console polling); a sync worker closes each one after its response.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
# The platform logs what it does itself (JSON, scrubbed of personal data): no access
# log, whose lines would carry URLs and client addresses unscrubbed.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# Django is imported once in the master; workers fork with it loaded (faster start,
# shared memory). Database connections are opened per worker, after the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
