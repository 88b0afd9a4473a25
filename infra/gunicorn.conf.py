# The production web server's configuration, used by the Docker image, `make demo`
# and the intake benchmark (tests/perf/bench_intake.py): one server, one config.
#
# Every value can be overridden from the environment. The defaults come from the
# intake profile on a 2-core machine (README "Performance"): the request work is
# CPU-bound Python between short database round trips, so processes, not threads,
# are what scale; 2 workers per core keep both cores busy while one worker waits
# on PostgreSQL. Threads beyond 1 only add GIL contention here.
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
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
