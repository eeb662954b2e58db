"""Settings for the portal. Everything a deployment changes comes from an environment variable (see README)."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_database, env_email, env_int, env_list, env_rate, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set. Set it, or set DEBUG=true for a development run.")
    SECRET_KEY = "development-only-secret-key-do-not-use-in-production-0123456789"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
PORTAL_BASE_URL = env_url("PORTAL_BASE_URL", "http://127.0.0.1:8000", {"http", "https"}).rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PORTAL_BASE_URL])
DATA_ROOT = Path(env_str("DATA_ROOT", str(VAR_DIR / "data"))).resolve()
# Seconds a schema scan waits for a source to answer before it records a failed scan.
CATALOG_SCAN_TIMEOUT = env_int("CATALOG_SCAN_TIMEOUT", 10, minimum=1)
# Hosts, addresses or networks (CIDR) inside the portal's own network that HTTP probes and webhooks may reach
# (core/outbound.py); everything else internal (loopback, private, link-local, metadata) is refused.
OUTBOUND_ALLOWED_HOSTS = env_list("OUTBOUND_ALLOWED_HOSTS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "csp",
    "axes",
    "core",
    "accounts",
    "catalog",
    "registry",
    "monitoring",
    "quality",
    "mlops",
    "glossary",
    "trust",
    # The top layer: its management commands (generate_scale) may use every app.
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # First to see a request: a body declared too large is refused before it is read.
    "portal.errors.BodySizeLimitMiddleware",
    "portal.errors.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Before anything reads the user: the database away answers 503 (the page, or JSON under /api/), not 500.
    "portal.errors.DatabaseUnavailableMiddleware",
    # The viewer's time zone (their profile, kept in the session at sign-in): no query per request. After the 503
    # answer above, since reading the session reads the database.
    "accounts.middleware.TimeZoneMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
# The most a form may send, files aside. Django's 2.5 MB default refused a long pasted model card section with a
# bare 400 and lost the text; at 10 MB every form fits with its stated field limits (50,000 characters for a long
# text, up to 4 bytes each), and an over-limit field gets its own error with the text kept. Past this, a page
# says what happened (portal.errors.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024 * 1024)
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: web, worker and beat share one file, so writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The API's hottest reads run as server-side prepared statements (core.onequery); off behind a pooler in
# transaction mode (PgBouncer), where one connection's statements may reach different server connections.
DATABASE_PREPARE = env_bool("DATABASE_PREPARE", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# OWASP ASVS level 1: at least 12 characters, not like the user's name, not a common password, not only digits.
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12, minimum=12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out sign-in before any password is checked (pages and admin alike).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PasswordBackend",
    # Company sign-in (accounts/oidc.py); does nothing while OIDC_CLIENT_ID is unset.
    "accounts.oidc.OidcBackend",
]
# Local passwords (the demo, and a fallback while the company's provider is away); staff may turn them off once
# everyone signs in with the company account (OIDC_*), on the sign-in page and the admin alike.
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)

# --- company sign-in (OpenID Connect, mozilla-django-oidc; accounts/oidc.py) -------------------------------------
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
# Exactly as the provider writes it in its tokens (some end with a slash): it is compared, not just fetched.
OIDC_ISSUER = env_str("OIDC_ISSUER", "")
if OIDC_CLIENT_ID and not OIDC_ISSUER:
    raise ImproperlyConfigured("OIDC_CLIENT_ID is set but OIDC_ISSUER is not: company sign-in needs both.")
if OIDC_ISSUER:
    env_url("OIDC_ISSUER", "", {"https"} if not DEBUG else {"http", "https"})
# Each endpoint is read from the issuer's discovery document unless set here.
OIDC_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT", "")
OIDC_USERINFO_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT", "")
OIDC_JWKS_URI = env_str("OIDC_JWKS_URI", "")
OIDC_END_SESSION_ENDPOINT = env_str("OIDC_END_SESSION_ENDPOINT", "")
OIDC_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups")
OIDC_SIGN_ALGORITHM = env_str("OIDC_SIGN_ALGORITHM", "RS256")
OIDC_TOKEN_AUTH_METHOD = env_str("OIDC_TOKEN_AUTH_METHOD", "client_secret_basic")
if OIDC_TOKEN_AUTH_METHOD not in {"client_secret_basic", "client_secret_post"}:
    raise ImproperlyConfigured(
        f"OIDC_TOKEN_AUTH_METHOD={OIDC_TOKEN_AUTH_METHOD!r}: use client_secret_basic or client_secret_post."
    )
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_EMAIL_CLAIM = env_str("OIDC_EMAIL_CLAIM", "email")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# Members of these provider groups are the portal's staff (more can be added in the admin: Group mappings).
OIDC_STAFF_GROUPS = env_list("OIDC_STAFF_GROUPS", [])
# A first company sign-in may take over the local account with the same address when the provider says it verified
# the address; off, staff link accounts by hand (admin: Company sign-in identities).
OIDC_LINK_BY_EMAIL = env_bool("OIDC_LINK_BY_EMAIL", True)
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "your company account")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# A password reset link works this long (seconds); one use, and void once the password changes.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600, minimum=300)
# Signed out after this many seconds without a request: accounts.middleware.IdleSessionMiddleware moves the
# session's expiry forward (at most once a minute, not a write per request).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- sign-in throttling (django-axes) ---------------------------------------------------------------------------
# After LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, sign-in (page and admin) is refused
# for LOGIN_LOCKOUT_MINUTES, even with the right password. Staff unlock early in the administration (Axes → Access
# attempts: delete the row) or with `manage.py axes_reset_username <name>` / `manage.py axes_reset`.
AXES_ENABLED = env_bool("LOGIN_THROTTLE_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
# The pair, not the address alone (many people share the office's address) nor the name alone (anyone could lock
# a colleague out from anywhere).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Failed attempts are kept (AccessAttempt, shown in the admin); successful sign-ins are not logged by axes.
AXES_DISABLE_ACCESS_LOG = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One date format for the site, whatever the locale says (portal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files after collectstatic in production; the plain finders in development and tests.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "media/"
# Lets the test live server and a development run serve static files straight from the apps' folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- email -----------------------------------------------------------------------------------------------------
vars().update(env_email("EMAIL_URL", "consolemail://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Data portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security (production values unless DEBUG) -----------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
X_FRAME_OPTIONS = "DENY"


def _oidc_origins():
    from urllib.parse import urlsplit

    urls = [OIDC_END_SESSION_ENDPOINT or OIDC_ISSUER] if OIDC_CLIENT_ID else []
    return [f"{part.scheme}://{part.netloc}" for part in map(urlsplit, urls) if part.netloc]


# Content-Security-Policy (django-csp): scripts only from the portal's own static files, never inline, so markup
# that slips past sanitizing cannot run. Styles may be inline (plotly and the lineage graph set them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Signing out sends the form's answer on to the company's provider, which ends its session too.
        "form-action": ["'self'", *_oidc_origins()],
        "frame-ancestors": ["'none'"],
    },
}

# --- API -------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerOrTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.conventions.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.conventions.exception_handler",
    # Per token (or signed-in user, or address), counted in the cache; see core/throttles.py.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.PerTokenThrottle"],
}
# Requests per token and scope: the API at large, OpenLineage events (pipelines send bursts), prediction batches.
API_RATE_LIMITS = {
    "api": env_rate("API_RATE_LIMIT", "600/min"),
    "lineage": env_rate("LINEAGE_RATE_LIMIT", "3000/min"),
    # Prediction and outcome batches (up to PREDICTION_BATCH_MAX_ROWS rows each): 100 batches/s of 1,000 rows.
    "predictions": env_rate("PREDICTION_RATE_LIMIT", "6000/min"),
}
# Heartbeat pings per check (its address): a run pings two or three times; more is a loop or an attack.
PING_RATE_LIMIT = env_rate("PING_RATE_LIMIT", "30/min")
# The cache holds rendered Markdown and the rate-limit counters; with several web processes, point it at Redis so
# they share one count.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Data & model portal API",
    "DESCRIPTION": "Catalog, model registry, monitoring and trust. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "DEFAULT_GENERATOR_CLASS": "portal.schema.SchemaGenerator",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
    ],
    # Choice sets used under several field names get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "IssueStatusEnum": "trust.choices.IssueStatus",
        "AssetKindEnum": "catalog.choices.AssetKind",
        "StageEnum": "registry.choices.Stage",
        "FreshnessStatusEnum": "monitoring.choices.FreshnessStatus",
        "NotificationKindEnum": "core.choices.NotificationKind",
        "JobKindEnum": "core.choices.JobKind",
        "JobStateEnum": "core.choices.JobState",
        "ChangeRequestStatusEnum": "trust.choices.ChangeRequestStatus",
        "DependencyStatusEnum": "trust.choices.DependencyStatus",
    },
}

# --- Celery ----------------------------------------------------------------------------------------------------
# With no broker configured, kombu's filesystem transport lets `make run` work with no server at all.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
# Results go where the broker is (Redis), or to files beside the filesystem broker.
_DEFAULT_RESULTS = CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else f"file://{BROKER_DIR / 'results'}"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _DEFAULT_RESULTS)
# Redis: a broker that is down is reported in two seconds, not after the operating system's connect timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "polling_interval": 0.2,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600 * 24
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A request that commits a row only wakes a worker, best effort: with the broker down, a send gives up within
# about two seconds (not twenty) and the relay on beat sends the work later. Results are stored only for tasks
# someone reads (the tests' .get(), the health check); ``run_job`` and the drains ignore theirs.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2, minimum=1)
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
# django-celery-beat's DatabaseScheduler, noting beat's tick for /health/.
CELERY_BEAT_SCHEDULER = "portal.beat:PortalScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Periodic jobs. The DatabaseScheduler copies these into the database, where staff can pause or retime them.
CELERY_BEAT_SCHEDULE = {
    "catalog-nightly-schema-scans": {
        "task": "catalog.tasks.scan_all_sources",
        "schedule": 24 * 3600,
        "options": {"expires": 23 * 3600},
    },
    "registry-mlflow-sync": {
        "task": "registry.tasks.schedule_mlflow_sync",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "trust-retire-sunset-assets": {
        "task": "trust.tasks.retire_due_deprecations",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "trust-unacknowledged-issue-alerts": {
        "task": "trust.tasks.alert_unacknowledged_issues",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    "trust-review-reminders": {
        "task": "trust.tasks.send_review_notices",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "catalog-ingest-lineage-events": {
        # Accepted events wake the ingester themselves; this picks up any a lost wake-up left waiting.
        "task": "catalog.tasks.ingest_lineage_events",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "trust-refresh-stale-badges": {
        "task": "trust.tasks.refresh_stale_badges",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "trust-refresh-expired-badges": {
        "task": "trust.tasks.refresh_expired_badges",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "freshness-sweep": {
        "task": "monitoring.tasks.sweep_freshness",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "prune-freshness-history": {
        "task": "monitoring.tasks.prune_freshness_history",
        # Hourly, so each run deletes an hour of history (about 40,000 rows at 10,000 policies), not a day's million.
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "portal-worker-heartbeat": {
        # /health/ reads the row this touches: a worker that ran it lately is alive.
        "task": "portal.tasks.worker_heartbeat",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "core-daily-digests": {
        # Non-critical news people chose to read once a day (core.digests), at the hour each chose in their own
        # time zone: hourly runs send the digests whose hour has come, once even if two runs overlap.
        "task": "core.tasks.send_daily_digests",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
    "core-weekly-digests": {
        "task": "core.tasks.send_weekly_digests",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
    "trust-relay-problem-notices": {
        # Problems upstream told downstream (trust.downstream): notices whose fan-out was never sent or was lost.
        "task": "trust.tasks.relay_problem_notices",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "trust-relay-deprecations": {
        # Deprecation announcements told by the worker (trust.models.Deprecation.tell): those never sent, sent again.
        "task": "trust.tasks.relay_deprecations",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "trust-remove-orphan-attachments": {
        "task": "trust.tasks.remove_orphan_attachments",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "reap-lost-jobs": {
        # A lost worker is noticed within JOB_HEARTBEAT_TIMEOUT + this interval (45 + 15 = 60 s by default).
        "task": "monitoring.tasks.reap_lost_jobs",
        "schedule": float(env_int("JOB_REAPER_INTERVAL", 15, minimum=1)),
        "options": {"expires": 12},
    },
    "mlops-monitor-models-in-use": {
        "task": "mlops.tasks.schedule_monitoring",
        "schedule": float(env_int("MLOPS_MONITORING_INTERVAL", 3600, minimum=60)),
        "options": {"expires": 300},
    },
    "mlops-scheduled-scoring": {
        "task": "mlops.tasks.start_scheduled_scoring",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "mlops-deliver-webhooks": {
        "task": "mlops.tasks.deliver_due_webhooks",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "mlops-purge-old-predictions": {
        "task": "mlops.tasks.purge_old_predictions",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600},
    },
    "relay-queued-jobs": {
        # The outbox relay: queued runs whose task never reached the broker (it was down) are sent again.
        "task": "core.tasks.relay_queued_jobs",
        "schedule": float(env_int("JOB_RELAY_INTERVAL", 15, minimum=1)),
        "options": {"expires": 12},
    },
}
# /health/ calls the worker or beat lost when their heartbeat row is older than this (they touch it every 15-30 s).
PORTAL_HEALTH_STALE_SECONDS = env_int("PORTAL_HEALTH_STALE_SECONDS", 180, minimum=30)
# How many times a job is retried after a temporary problem (a lost connection) before it fails, and the first
# wait (it doubles with each retry: 10, 20, 40 s...).
JOB_MAX_RETRIES = env_int("JOB_MAX_RETRIES", 3, minimum=0)
JOB_RETRY_DELAY = env_int("JOB_RETRY_DELAY", 10, minimum=1)
# A running job's heartbeat is beaten every JOB_HEARTBEAT_INTERVAL seconds; one older than JOB_HEARTBEAT_TIMEOUT
# means its worker was lost (the reaper fails it, a redelivered task takes it over).
JOB_HEARTBEAT_INTERVAL = env_int("JOB_HEARTBEAT_INTERVAL", 5, minimum=1)
JOB_HEARTBEAT_TIMEOUT = env_int("JOB_HEARTBEAT_TIMEOUT", 45, minimum=3)
# A queued run sent this long ago and still not claimed is sent again by the relay (the broker may have lost it).
JOB_DISPATCH_OVERDUE = env_int("JOB_DISPATCH_OVERDUE", 300, minimum=5)
# After this many seconds in the queue, a run's page says it is waiting for a worker.
JOB_WAITING_NOTICE = env_int("JOB_WAITING_NOTICE", 10, minimum=0)
# How often SQL, file and HTTP freshness probes run when no deadline comes sooner.
FRESHNESS_PROBE_INTERVAL = env_int("FRESHNESS_PROBE_INTERVAL", 15 * 60, minimum=60)
# How long freshness observations are kept for the history timeline.
FRESHNESS_HISTORY_DAYS = env_int("FRESHNESS_HISTORY_DAYS", 90, minimum=1)

# --- trust ----------------------------------------------------------------------------------------------------
# How long an owner has to acknowledge a new data issue before their team is alerted, per severity.
TRUST_ISSUE_ACKNOWLEDGE_HOURS = {
    "critical": env_int("TRUST_ACK_HOURS_CRITICAL", 4, minimum=1),
    "major": env_int("TRUST_ACK_HOURS_MAJOR", 24, minimum=1),
    "minor": env_int("TRUST_ACK_HOURS_MINOR", 72, minimum=1),
}
TRUST_ATTACHMENT_MAX_BYTES = env_int("TRUST_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
TRUST_ATTACHMENT_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".csv", ".txt"}
TRUST_REVIEW_REMINDER_DAYS = env_int("TRUST_REVIEW_REMINDER_DAYS", 7, minimum=0)
TRUST_DEFAULT_REVIEW_INTERVAL_DAYS = env_int("TRUST_DEFAULT_REVIEW_INTERVAL_DAYS", 90, minimum=1)
TRUST_CERTIFICATION_MAX_DAYS = env_int("TRUST_CERTIFICATION_MAX_DAYS", 365, minimum=1)

# --- MLflow ----------------------------------------------------------------------------------------------------
MLFLOW_TRACKING_URI = env_str("MLFLOW_TRACKING_URI", f"sqlite:///{VAR_DIR / 'mlflow.sqlite3'}")
MLFLOW_ARTIFACT_ROOT = env_str("MLFLOW_ARTIFACT_ROOT", str(VAR_DIR / "mlartifacts"))
# MLflow's own store (its server's --backend-store-uri), for backups when MLFLOW_TRACKING_URI names a server.
MLFLOW_BACKEND_STORE_URI = env_str("MLFLOW_BACKEND_STORE_URI", "")

# --- registry --------------------------------------------------------------------------------------------------
# A version may go into use only when its model card is at least this complete (percent of sections filled).
MODEL_CARD_COMPLETENESS_THRESHOLD = env_int("MODEL_CARD_COMPLETENESS_THRESHOLD", 80, minimum=0)

# --- MLOps (models after go-live) -----------------------------------------------------------------------------
# Logged predictions (and their outcomes) older than this are deleted by the daily purge.
PREDICTION_RETENTION_DAYS = env_int("PREDICTION_RETENTION_DAYS", 400, minimum=1)
# The most rows one prediction or outcome batch may carry through the API.
PREDICTION_BATCH_MAX_ROWS = env_int("PREDICTION_BATCH_MAX_ROWS", 10000, minimum=1)
# How many days of predictions one monitoring run compares with the training profile.
MLOPS_MONITORING_WINDOW_DAYS = env_int("MLOPS_MONITORING_WINDOW_DAYS", 1, minimum=1)
# Signed webhook deliveries: attempts before giving up, and the first wait (it doubles each time).
# Batch scoring and prediction tables read SQL sources in a read-only session whose statements stop after this long.
MLOPS_SQL_READ_TIMEOUT = env_int("MLOPS_SQL_READ_TIMEOUT", 600, minimum=1)
MLOPS_WEBHOOK_ATTEMPTS = env_int("MLOPS_WEBHOOK_ATTEMPTS", 5, minimum=1)
MLOPS_WEBHOOK_BACKOFF_SECONDS = env_int("MLOPS_WEBHOOK_BACKOFF_SECONDS", 30, minimum=1)
# The MLflow alias a promotion moves to the version going into use.
MLOPS_CHAMPION_ALIAS = env_str("MLOPS_CHAMPION_ALIAS", "champion")
# Stages appear in several registry serializers; one name for them in the API schema.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs every successful sign-in at INFO; its warnings (repeated failures, lock-outs) are kept.
    "loggers": {"axes": {"level": "WARNING"}},
}
