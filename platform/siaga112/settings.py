"""The one settings module. Everything that differs between a laptop, CI and
production comes from the environment; nothing here branches on a hostname.

Safe by default: without SIAGA112_DEBUG=1 the platform runs with production
security settings and refuses to start without a SECRET_KEY.

SIAGA112_DEBUG=1 means "a laptop" (DEVELOPMENT below): a built-in secret key,
plain http, assets straight from the finders. It does not turn on Django's
technical error pages, which list every URL pattern and setting: those need
SIAGA112_DEBUG_PAGES=1 as well, and `siaga112 demo` always turns them off
because the demo listens on every interface.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from siaga112 import embedded


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "postgis"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a PostgreSQL URL, not {parts.scheme}://")
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]
    options = {k: v[0] for k, v in query.items() if k not in {"host"}}
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parts.path.lstrip("/")) or "siaga112",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(host),
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_siaga112")},
    }


REPO_ROOT = embedded.REPO_ROOT
VAR_DIR = embedded.VAR_DIR
FRONTEND_DIR = REPO_ROOT / "frontend"

DEVELOPMENT = env_bool("SIAGA112_DEBUG", False)
DEBUG = DEVELOPMENT and env_bool("SIAGA112_DEBUG_PAGES", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY must be set when SIAGA112_DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-siaga112-do-not-use-in-production-0123456789"

# --- hosts and tenancy -----------------------------------------------------
# The national console answers on BASE_DOMAIN, each Pemda on <slug>.BASE_DOMAIN.
BASE_DOMAIN = os.environ.get("SIAGA112_BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env_list("SIAGA112_EXTRA_HOSTS")]
if DEVELOPMENT:
    ALLOWED_HOSTS += ["127.0.0.1", "testserver", ".testserver"]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "accounts",
    "onboarding",
    "referrals",
    "webhooks",
    "reporting",
    "audit",
    "billing",
    "integration",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "graphene_django",
    "djmoney",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# Each Pemda's schema has its own users and sessions: a login for one Pemda
# means nothing on another host because the row does not exist there.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "incidents",
    "outbox",
    "audit",
    "axes",
    # Second-factor devices belong to a user, so they live beside that schema's users.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this already-migrated schema instead of replaying
# every migration (see tenants.services.tenant_provision).
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Send `SET search_path` once per connection and tenant, not before every cursor
# (7 of the 16 statements a PBX event cost). Safe here: the django-tenants in use
# forgets the setting on rollback, savepoint rollback and close, which revert it.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "siaga112.urls_public"
ROOT_URLCONF = "siaga112.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # /api/pbx/: a short chain of its own (tenant, security headers, throttle, view),
    # none of the browser middlewares below (siaga112.pbx_path).
    "siaga112.pbx_path.PbxLeanMiddleware",
    # A console poll whose fragment has not changed: 304 from Redis before any database
    # work (incidents.views.live); everything else passes straight through.
    "incidents.views.live.EarlyNotModifiedMiddleware",
    "siaga112.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Where the consoles' event stream is (same origin, or the events server's port).
    "incidents.views.stream.StreamUrlMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "siaga112.throttle.ThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "siaga112.middleware.IndonesianFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): did this session pass the second factor?
    "django_otp.middleware.OTPMiddleware",
    # A role that needs two factors reaches nothing but verify/enrol/logout before it.
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "audit.middleware.AuditRequestMiddleware",
    "siaga112.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "siaga112.middleware.TenantTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so it is the first to see a view's exception: one mapping for DomainError.
    "core.http.DomainErrorMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [FRONTEND_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "siaga112.context.platform",
            ]
        },
    }
]

WSGI_APPLICATION = "siaga112.wsgi.application"
ASGI_APPLICATION = "siaga112.asgi.application"

# --- servers ------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.embedded_postgres_url()
REDIS_URL = os.environ.get("REDIS_URL") or embedded.embedded_redis_url()
# Child processes (Celery workers, subprocesses of the tests) must reach the servers
# this process started instead of starting, and then leaving behind, their own.
os.environ.setdefault("DATABASE_URL", DATABASE_URL)
os.environ.setdefault("REDIS_URL", REDIS_URL)
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _redis_cache_location(url: str) -> str:
    return url.replace("redis+socket://", "unix://", 1)


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_cache_location(REDIS_URL),
        # Cache keys carry the schema so one Pemda never reads another's entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "TIMEOUT": 300,
    }
}

# --- auth ------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A call center sits behind one NAT address: lock the (user, address) pair,
# never the whole address, so one mistyped password does not lock a shift out.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# Two-factor login (accounts.twofactor). Wrong codes are throttled per device by
# django-otp: after n failures the next try waits 2**(n-1) seconds. Its default is
# already 1; written here so turning it off is a visible change.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_TOTP_ISSUER = "Siaga112"


def env_rate(name: str, default: str) -> tuple[int, int]:
    """"<count>/<seconds>", e.g. "30/600": at most 30 in any 10-minute window."""
    count, _, seconds = os.environ.get(name, default).partition("/")
    return int(count), int(seconds)


# What axes cannot see (siaga112.throttle): per address across all hosts, per PBX key.
THROTTLE: dict[str, object] = {
    "ENABLED": env_bool("SIAGA112_THROTTLE", True),
    # Wrong passwords from one address, whatever the username and the host.
    "LOGIN_FAILURES_PER_IP": env_rate("SIAGA112_LOGIN_FAILURES_PER_IP", "30/600"),
    # Requests with an unknown or revoked PBX key from one address.
    "PBX_KEY_FAILURES_PER_IP": env_rate("SIAGA112_PBX_KEY_FAILURES_PER_IP", "20/600"),
    # Authenticated requests per PBX key (a busy center sends a few a second at most).
    "PBX_REQUESTS_PER_KEY": env_rate("SIAGA112_PBX_REQUESTS_PER_KEY", "1200/60"),
    "GRAPHQL_REQUESTS_PER_IP": env_rate("SIAGA112_GRAPHQL_REQUESTS_PER_IP", "300/60"),
    # Requests per API token (integration clients), whatever their address.
    "GRAPHQL_REQUESTS_PER_TOKEN": env_rate("SIAGA112_GRAPHQL_REQUESTS_PER_TOKEN", "600/60"),
    # Trusted reverse proxies in front (X-Forwarded-For); 0: REMOTE_ADDR is the client.
    "PROXY_COUNT": int(os.environ.get("SIAGA112_PROXY_COUNT", "0")),
}
if THROTTLE["PROXY_COUNT"]:
    # axes must see the same client address as the throttle.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = THROTTLE["PROXY_COUNT"]

# --- i18n / time ---------------------------------------------------------------------
# Billing (django-money): rupiah only, end to end.
CURRENCIES = ("IDR",)
DEFAULT_CURRENCY = "IDR"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [FRONTEND_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"  # stored in UTC; shown in the Pemda's zone by TenantTimezoneMiddleware
USE_TZ = True
DISPLAY_TIME_ZONE = "Asia/Jakarta"

# --- static ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = FRONTEND_DIR / "node_modules"
# Browser libraries come from npm (frontend/package-lock.json) and are served by
# the platform itself, never from a CDN.
STATICFILES_DIRS = [
    FRONTEND_DIR / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
]
if DEVELOPMENT:
    # GraphiQL is only shown on a development machine (siaga112.graphql_view).
    STATICFILES_DIRS += [
        ("vendor/graphiql", NODE_MODULES / "graphiql"),
        ("vendor/react", NODE_MODULES / "react" / "umd"),
        ("vendor/react-dom", NODE_MODULES / "react-dom" / "umd"),
    ]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# A laptop serves assets straight from the finders; production from collectstatic.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT
if DEVELOPMENT:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# acks_late: a task whose worker dies before finishing stays unacknowledged in Redis and
# is handed out again after this many seconds (kombu's default, an hour). Outbox tasks
# are safe to run twice (the row's claim decides); the sweep re-queues a message whose
# worker died long before that (OUTBOX STALE_SENDING_SECONDS).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("SIAGA112_BROKER_VISIBILITY_TIMEOUT", "3600")),
}
# Per-app periodic jobs live in <app>/beat.py (plain dicts, no Django imports).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    **__import__("onboarding.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("incidents.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("outbox.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("webhooks.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("reporting.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("billing.beat", fromlist=["SCHEDULE"]).SCHEDULE,
    **__import__("integration.beat", fromlist=["SCHEDULE"]).SCHEDULE,
}
CELERY_TIMEZONE = "UTC"

# --- email ------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Siaga112 <noreply@siaga112.go.id>")

# --- GraphQL ----------------------------------------------------------------------------
GRAPHENE = {"SCHEMA": "siaga112.schema.schema", "ATOMIC_MUTATIONS": True,
            "MIDDLEWARE": ["core.graphql.refuse_nul_characters"]}
# Checked before a query is validated or run (siaga112.graphql_view).
GRAPHQL_LIMITS = {
    "MAX_BODY_BYTES": int(os.environ.get("SIAGA112_GRAPHQL_MAX_BODY_BYTES", "16384")),
    "MAX_TOKENS": int(os.environ.get("SIAGA112_GRAPHQL_MAX_TOKENS", "5000")),
    "MAX_DEPTH": int(os.environ.get("SIAGA112_GRAPHQL_MAX_DEPTH", "8")),
    "MAX_ALIASES": int(os.environ.get("SIAGA112_GRAPHQL_MAX_ALIASES", "20")),
    "MAX_FIELDS": int(os.environ.get("SIAGA112_GRAPHQL_MAX_FIELDS", "200")),
    # Estimated rows a query may touch: each list field's first/last (or the page
    # maximum) multiplies what is selected under it.
    "MAX_COST": int(os.environ.get("SIAGA112_GRAPHQL_MAX_COST", "5000")),
    "MAX_OPERATIONS": int(os.environ.get("SIAGA112_GRAPHQL_MAX_OPERATIONS", "5")),
    "MAX_PAGE": int(os.environ.get("SIAGA112_GRAPHQL_MAX_PAGE", "100")),
}
# Dotted paths of callables request -> user or None (API tokens); a DomainError
# raised by one (unknown, revoked, expired token) is the answer.
GRAPHQL_AUTHENTICATORS: list[str] = ["integration.auth.authenticate"]

# --- security (production defaults; DEVELOPMENT relaxes only what a laptop needs) ----
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEVELOPMENT)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEVELOPMENT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEVELOPMENT)
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "0" if DEVELOPMENT else "31536000")
)
# Every Pemda is a subdomain of the base domain: HSTS covers them all by default.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEVELOPMENT)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEVELOPMENT)
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: pages carry the token (forms, htmx's hx-headers).
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Database sessions as Django keeps them, read with one fixed statement (hot path).
SESSION_ENGINE = "accounts.sessions"
X_FRAME_OPTIONS = "DENY"
# A failed CSRF check gets the branded 403, not Django's page naming the reason.
CSRF_FAILURE_VIEW = "siaga112.error_pages.csrf_failure"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- logging and errors -------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub_pii": {"()": "core.observability.ScrubPersonalDataFilter"}},
    "formatters": {
        "structured": {"()": "core.observability.StructuredFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "structured",
            "filters": ["scrub_pii"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # runserver's access log: its own handler by default, bypassing the scrubber.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from core.observability import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"))

# --- the platform's own knobs -----------------------------------------------------------
SIAGA112 = {
    "TOTAL_REGENCIES": 514,
    "STALLED_AFTER_DAYS": int(os.environ.get("SIAGA112_STALLED_AFTER_DAYS", "60")),
    "MAP_TILES_URL": os.environ.get(
        "SIAGA112_MAP_TILES_URL", "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    ),
    "PUBLIC_SCHEME": os.environ.get("SIAGA112_PUBLIC_SCHEME", "http" if DEVELOPMENT else "https"),
    # Told to API clients in `Retry-After` when PostgreSQL or Redis is briefly away.
    "RETRY_AFTER_SECONDS": int(os.environ.get("SIAGA112_RETRY_AFTER_SECONDS", "5")),
    "PUBLIC_PORT": os.environ.get("SIAGA112_PUBLIC_PORT", "8000" if DEVELOPMENT else ""),
    # The events server (pushed consoles, siaga112.events): empty when a proxy routes
    # /console/stream/ to it on the pages' own origin (infra/nginx.conf); else the port
    # browsers reach it on, beside the pages' (`make demo`), with CORS for the page's
    # exact origin (scheme, host, PUBLIC_PORT).
    "EVENTS_PORT": os.environ.get("SIAGA112_EVENTS_PORT", ""),
    # A comment on every idle stream this often, so proxies (nginx: 60 s) keep it open.
    "EVENTS_HEARTBEAT_SECONDS": float(os.environ.get("SIAGA112_EVENTS_HEARTBEAT_SECONDS", "20")),
    # How long a server process may use its own copy of a host's tenant or a PBX key
    # (core.localcache): the longest a removed domain or a revoked key keeps working
    # in another process. The process that made the change forgets it at once.
    "LOCAL_CACHE_SECONDS": float(os.environ.get("SIAGA112_LOCAL_CACHE_SECONDS", "5")),
    # Retention of the public integration tables (integration.services.integration_purge,
    # daily): a partner must read the province feed within this many days of a change,
    # and a client may replay an Idempotency-Key within this many hours.
    "PROVINCE_FEED_RETENTION_DAYS": float(
        os.environ.get("SIAGA112_PROVINCE_FEED_RETENTION_DAYS", "30")),
    "IDEMPOTENCY_RETENTION_HOURS": float(
        os.environ.get("SIAGA112_IDEMPOTENCY_RETENTION_HOURS", "24")),
}

# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Scripts only from the platform itself, or inline with the response's nonce
# (<script nonce="{{ request.csp_nonce }}">); no eval, so htmx trigger filters are
# not used (incidents.js cancels polls instead). Inline style attributes stay allowed:
# Bootstrap markup and Leaflet use them, and they cannot run code.


def _tiles_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}" if parts.netloc else ""


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": [
            "'self'", "data:",
            *[o for o in [_tiles_origin(str(SIAGA112["MAP_TILES_URL"]))] if o],
        ],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- per-app settings (each app owns its block) -----------------------------------------
# onboarding
ONBOARDING: dict[str, object] = {
    # The one-time link for a new Pemda's first admin account.
    "INVITATION_TTL_HOURS": int(os.environ.get("SIAGA112_INVITATION_TTL_HOURS", "72")),
    # The weekly digest lists submissions of the last N days.
    "DIGEST_DAYS": 7,
}
# incidents
INCIDENTS: dict[str, object] = {}
# outbox (defaults and meaning of every key: outbox/conf.py)
OUTBOX: dict[str, object] = {
    "MAX_ATTEMPTS": int(os.environ.get("SIAGA112_OUTBOX_MAX_ATTEMPTS", "10")),
    "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("SIAGA112_OUTBOX_WEBHOOK_TIMEOUT", "5")),
    # A message claimed by a worker that died mid-send is sent again after this long.
    "STALE_SENDING_SECONDS": float(
        os.environ.get("SIAGA112_OUTBOX_STALE_SENDING_SECONDS", "300")),
}

# Subscriber webhooks (webhooks/): production refuses http and private/loopback
# hosts (SSRF); a laptop (SIAGA112_DEBUG=1, also the tests) may post to a receiver
# on localhost. SIAGA112_WEBHOOKS_ALLOW_PRIVATE=1 allows private hosts in production
# (a province's receiver inside a government VPN, on purpose).
WEBHOOKS: dict[str, object] = {
    "ALLOW_PRIVATE_ADDRESSES": DEVELOPMENT or env_bool("SIAGA112_WEBHOOKS_ALLOW_PRIVATE", False),
    "ALLOW_HTTP_LOCALHOST": DEVELOPMENT,
}
# Largest EIDO document POST /api/eido/incidents/ accepts (bytes).
EIDO_MAX_BYTES = 1_000_000
