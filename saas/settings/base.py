"""Settings shared by every environment. Everything deployment-specific comes from
environment variables (see README "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.schedules import crontab

from saas import embedded
from saas.observability.logs import logging_config
from saas.settings.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY") or ""
# Key material for fields encrypted at rest (identity documents); SECRET_KEY if unset.
ATRIUM_FIELD_KEY = env_str("ATRIUM_FIELD_KEY") or ""
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Tenancy -------------------------------------------------------------------------
# Apps whose tables live in the public schema (shared by all hotel groups).
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "saas",
    "modeltranslation",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenants.users",  # platform operators in public, staff in every tenant schema
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # htmx itself comes from this package's static files, never copied into the repo.
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Its tables also exist in public so a sign-in attempt there never meets a missing
    # table; the ones that count are in each tenant's schema.
    "axes",
]
# Apps whose tables live in each hotel group's own schema.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenants.users",
    "django.contrib.sessions",
    "tenants.jobs",
    "tenants.integrations",
    "tenants.access",
    # Failed sign-ins, lockouts and two-factor devices belong to the tenant whose
    # staff they concern, so they live in its schema like the accounts.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "metadata",
    "crm",
    # Domain modules of crm, each switchable per tenant (their tables stay when off).
    "crm.loyalty",
    "crm.service",
    "crm.analytics",
    "crm.marketing",
    # E-mail providers' backends and tracking webhooks (no tables).
    "anymail",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this schema (kept migrated by `migrate_schemas`, because
# the template is a Tenant row of its own) instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
ATRIUM_PUBLIC_DOMAIN = env_str("ATRIUM_PUBLIC_DOMAIN", "localhost")
ATRIUM_PROVISIONING_DOMAIN_SUFFIX = env_str("ATRIUM_TENANT_DOMAIN_SUFFIX", "localhost")

ROOT_URLCONF = "saas.urls.tenant"
PUBLIC_SCHEMA_URLCONF = "saas.urls.public"

MIDDLEWARE = [
    # Outermost: the request id (X-Request-ID), the request's metrics and its log line.
    "saas.observability.middleware.RequestObservabilityMiddleware",
    "saas.healthz.HealthzMiddleware",
    "tenants.middleware.TenantMiddleware",
    # Suspended and cancelled tenants are read-only (402 on writes).
    "billing.middleware.TenantStatusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files itself, so gunicorn needs no web server in front for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, limited to the tenant's enabled languages.
    "saas.ui.i18n.TenantLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenants.access.middleware.AccessMiddleware",
    # Domain errors escaping a screen become a 404/400 page with their message.
    "saas.ui.errors.ScreenErrorMiddleware",
    "saas.api.auth.BodySizeMiddleware",
    # Replays the first answer to an API write repeated with the same Idempotency-Key.
    "tenants.integrations.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it turns a lockout noticed during authentication into its response.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "saas" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billing.middleware.billing_banner",
                "saas.ui.i18n.languages",
            ],
        },
    },
]

WSGI_APPLICATION = "saas.wsgi.application"
ASGI_APPLICATION = "saas.asgi.application"

# Django's hashers for chosen passwords; one-time passwords Atrium draws itself use the
# last one (see tenants/users/hashers.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "tenants.users.hashers.OneTimePasswordHasher",
]

# --- Database ------------------------------------------------------------------------
# Without DATABASE_URL, the embedded server starts at the first connection (the backend
# below does it), never for --help or an argument error.
ATRIUM_EMBEDDED_DATABASE = not env_str("DATABASE_URL")
DATABASE_URL = env_str("DATABASE_URL") or embedded.embedded_database_url("atrium", start=False)
DATABASES = {"default": parse_database_url(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "saas.db"
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_atrium")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (keys carry the tenant schema) --------------------------------------------
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
_cache_common = {
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            **_cache_common,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "atrium",
            **_cache_common,
        }
    }

# --- Auth ----------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # Refuses to authenticate a locked-out e-mail/IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("ATRIUM_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions: never readable by scripts, not sent on cross-site posts, and no longer than a
# long hotel shift; a shared front-desk computer should not stay signed in for weeks.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("ATRIUM_SESSION_HOURS", 12) * 60 * 60
CSRF_COOKIE_SAMESITE = "Lax"
# Pages carry the token in the form ({% csrf_token %}); scripts read it from the page.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Login protection (django-axes, per tenant schema) ---------------------------------
# After this many failed sign-ins for one e-mail from one address, that pair is locked
# for the cool-off time. Locking the pair (not the e-mail alone) keeps an attacker from
# locking staff out of their accounts from elsewhere; ATRIUM_LOGIN_LOCKOUT_BY=username
# locks the account whatever the address.
AXES_FAILURE_LIMIT = env_int("ATRIUM_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ATRIUM_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = {
    "username": ["username"],
    "ip": ["ip_address"],
    "username_ip": [["username", "ip_address"]],
}[env_str("ATRIUM_LOGIN_LOCKOUT_BY", "username_ip") or "username_ip"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "tenants.access.login.axes_username"
# Failures are forgotten after a complete sign-in only, password and code: see
# tenants.access.two_factor.on_user_logged_in (wrong codes count as failures too).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("ATRIUM_TRUSTED_PROXY_COUNT", 0) or None
# Two-factor (django-otp TOTP): issuer shown in authenticator apps.
OTP_TOTP_ISSUER = env_str("ATRIUM_OTP_ISSUER", "Atrium")
# Where the two-factor gate sends a signed-in user who still has to verify or enrol, and
# the pages it lets through meanwhile (URL names).
ATRIUM_TWO_FACTOR_URLS = {"verify": "two_factor_verify", "enrol": "two_factor_enrol"}
ATRIUM_TWO_FACTOR_EXEMPT = ["login", "logout"]
ATRIUM_ACCESS_GRANT_RETENTION_DAYS = env_int("ATRIUM_ACCESS_GRANT_RETENTION_DAYS", 365)
# Password reset e-mails: per address asked for (whether or not it has an account, so
# the answer tells nothing) and per client address, within one window.
ATRIUM_PASSWORD_RESET_PER_ADDRESS = env_int("ATRIUM_PASSWORD_RESET_PER_ADDRESS", 3)
ATRIUM_PASSWORD_RESET_PER_IP = env_int("ATRIUM_PASSWORD_RESET_PER_IP", 20)
ATRIUM_PASSWORD_RESET_WINDOW_MINUTES = env_int("ATRIUM_PASSWORD_RESET_WINDOW_MINUTES", 15)

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en"
# The fixed superset of languages Atrium speaks; each tenant enables a subset, so
# enabling a language never needs a schema change.
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("pt", "Português"),
    ("ru", "Русский"),
    ("ar", "العربية"),
    ("th", "ไทย"),
    ("vi", "Tiếng Việt"),
    ("id", "Bahasa Indonesia"),
]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# collectstatic fills it for production; in development WhiteNoise serves from the apps'
# static folders instead, but it expects the folder to exist.
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = False
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or (BASE_DIR / ".data" / "media"))
MEDIA_URL = "media/"

# --- E-mail --------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Atrium <no-reply@atrium.localhost>")

# --- REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "saas.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "saas.api.auth.ModuleScopePermission",
    ],
    "EXCEPTION_HANDLER": "saas.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "saas.api.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["saas.api.auth.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The API speaks JSON only (a form-encoded body is a 415): one way to send each
    # type, as the OpenAPI document says.
    "DEFAULT_PARSER_CLASSES": ["saas.api.errors.JSONParser"],
}
# OpenAPI 3 at /api/v1/schema/, per tenant (see saas/openapi.py); Swagger UI at
# /api/v1/docs/ and Redoc at /api/v1/redoc/ from the sidecar package's static files.
SPECTACULAR_SETTINGS = {
    "TITLE": "Atrium API",
    "DESCRIPTION": "A hotel group's CRM: records of every object with their custom fields, "
    "metadata, webhooks. Authenticate with `Authorization: Bearer <API key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "PREPROCESSING_HOOKS": ["saas.api.openapi.only_api"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "saas.api.openapi.tenant_objects",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"apiKey": []}],
    "DISABLE_ERRORS_AND_WARNINGS": True,
    # Names of their own for enums whose field names other operations use too (a
    # reservation's status and action beside a grant's), so no enum is renamed with a hash.
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "tenants.access.models.ACTIONS",
        "StatusEnum": ["active", "scheduled", "expired", "revoked"],  # a grant's
        "ReservationStatusEnum": "saas.api.reservation_folio.RESERVATION_STATUSES",
        "ReservationActionEnum": "saas.api.reservation_folio.STATUS_ACTIONS",
        "FolioLineKindEnum": "saas.api.reservation_folio.FOLIO_KINDS",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Per API key, unless the tenant's plan says otherwise.
ATRIUM_API_RATE_PER_MINUTE = env_int("ATRIUM_API_RATE_PER_MINUTE", 600)
# Bulk requests of 1,000 records fit well within this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ATRIUM_MAX_BODY_BYTES", 10 * 1024 * 1024)

# --- Billing (Stripe) ----------------------------------------------------------------
# Without a secret key billing is off and every tenant runs as on an unlimited plan.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")  # a local server in tests
# The Stripe API version the billing code reads payloads in (periods on subscription
# items, an invoice's subscription under ``parent``): pinned, not the account's default.
STRIPE_API_VERSION = env_str("STRIPE_API_VERSION", "2025-03-31.basil")
ATRIUM_TRIAL_DAYS = env_int("ATRIUM_TRIAL_DAYS", 14)
ATRIUM_GRACE_DAYS = env_int("ATRIUM_GRACE_DAYS", 7)
ATRIUM_RETENTION_DAYS = env_int("ATRIUM_RETENTION_DAYS", 30)
# Before the lifecycle deletes a tenant cancelled past retention, its export (tenant_export
# format) is written here; a tenant whose export fails is not deleted.
ATRIUM_TENANT_EXPORTS_DIR = Path(
    env_str("ATRIUM_TENANT_EXPORTS_DIR") or (BASE_DIR / ".data" / "tenant-exports")
)
# Sign-up on the public site: every posted form or confirmed link counts against the
# client's address; every e-mailed link against the address it goes to; links sent and
# workspaces provisioned against the whole platform. Each one clones a schema or sends a
# mail, so anonymous callers must not be able to ask for them without bound.
ATRIUM_SIGNUP_PER_IP_PER_HOUR = env_int("ATRIUM_SIGNUP_PER_IP_PER_HOUR", 10)
ATRIUM_SIGNUP_PER_ADDRESS_PER_HOUR = env_int("ATRIUM_SIGNUP_PER_ADDRESS_PER_HOUR", 3)
ATRIUM_SIGNUP_PER_HOUR = env_int("ATRIUM_SIGNUP_PER_HOUR", 100)
# How long the e-mailed confirmation link of a sign-up stays valid.
ATRIUM_SIGNUP_LINK_HOURS = env_int("ATRIUM_SIGNUP_LINK_HOURS", 24)

# --- Celery --------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if not CELERY_BROKER_URL:
    # ATRIUM_BROKER_FOLDER: a folder of its own (the benchmark's workers use one).
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = embedded.filesystem_broker(
        env_str("ATRIUM_BROKER_FOLDER", "broker") or "broker"
    )
CELERY_TASK_IGNORE_RESULT = True
# A message is acknowledged when its task has finished, not when a worker takes it, and
# a task whose worker process died is given back to the broker: a worker killed mid-task
# (deploy, OOM, a lost machine) does not lose the message. Every task is therefore safe
# to run twice (they claim their row and skip finished work).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved per worker process: imports and index builds run for minutes, and
# messages prefetched behind one would wait (and, unacknowledged, count toward the
# visibility timeout) for nothing.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged message to another worker after this many seconds. It
# must exceed the longest task (a 1M-row import is ~6 min) and the longest countdown we
# send (workflow waits past ATRIUM_WORKFLOW_COUNTDOWN_MAX_SECONDS are left to the
# scheduler), or a task still running would be started again elsewhere. Work lost with a
# dead worker comes back much sooner through the sweeper (ATRIUM_JOB_LEASE_SECONDS).
ATRIUM_BROKER_VISIBILITY_TIMEOUT = env_int("ATRIUM_BROKER_VISIBILITY_TIMEOUT", 6 * 60 * 60)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ATRIUM_BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# tenant-schemas-celery: keep Tenant rows looked up by schema for this many seconds.
CELERY_TASK_TENANT_CACHE_SECONDS = env_int("CELERY_TENANT_CACHE_SECONDS", 30)
# How long a web process keeps a host's tenant row (status, settings) before reading it
# again; a change made in the same process applies at once.
ATRIUM_TENANT_HOST_CACHE_SECONDS = env_int("ATRIUM_TENANT_HOST_CACHE_SECONDS", 10)
CELERY_BEAT_SCHEDULE = {
    "purge-finished-jobs": {
        "task": "tenants.jobs.tasks.purge_finished_jobs_everywhere",
        "schedule": 60 * 60,
    },
    "billing-lifecycle": {
        "task": "billing.tasks.billing_lifecycle",
        "schedule": 60 * 60,
    },
    # Date-relative and cron workflow triggers; each tenant's check is spread over a
    # minute (ATRIUM_WORKFLOW_SPREAD_SECONDS) and only active tenants are checked.
    "workflows-schedule": {
        "task": "metadata.tasks.workflows_schedule_everywhere",
        "schedule": 5 * 60,
    },
    "webhook-retries": {
        "task": "tenants.integrations.tasks.webhook_retries_everywhere",
        "schedule": 60,
    },
    "expire-temporary-grants": {
        "task": "tenants.access.tasks.temporary_grants_expire_everywhere",
        "schedule": 5 * 60,
    },
    # Loyalty: expire due points, re-qualify tiers, post missed stays (tenants with the
    # module on). Each step only does what is still due, so a repeated run is harmless.
    "loyalty-nightly": {
        "task": "crm.loyalty.tasks.loyalty_nightly_everywhere",
        "schedule": crontab(minute=30, hour=2),
    },
    # Task reminders: e-mail the assignee when a task's reminder time comes.
    "task-reminders": {
        "task": "crm.tasks.task_reminders_everywhere",
        "schedule": 60,
    },
    # Marketing: start due campaigns, send A/B winners, queue again chunks a dead worker
    # lost (a chunk takes unlocked queued rows only, so nothing is sent twice).
    "marketing-sweep": {
        "task": "crm.marketing.tasks.marketing_sweep_everywhere",
        "schedule": 60,
    },
    # Service desk: record cases past their first-response or resolution due time.
    "service-sla-sweep": {
        "task": "crm.service.tasks.sla_sweep_everywhere",
        "schedule": 60,
    },
    # Service desk: one reminder to guests who have not answered a survey (each at most
    # once, so hourly runs are harmless).
    "service-survey-reminders": {
        "task": "crm.service.tasks.survey_reminders_everywhere",
        "schedule": 60 * 60,
    },
    # Analytics: retrain the churn model and rescore every guest (tenants with the module
    # on). The run replaces each guest's scores, so a repeated run is harmless.
    "analytics-nightly": {
        "task": "crm.analytics.tasks.analytics_nightly_everywhere",
        "schedule": crontab(minute=15, hour=3),
    },
}
# Sign-up renames a spare schema cloned ahead of time instead of cloning the template
# (tenants.services.spare_schemas); this many are kept ready, 0 turns the pool off.
TENANT_SPARE_SCHEMAS = env_int("TENANT_SPARE_SCHEMAS", 2)
if TENANT_SPARE_SCHEMAS:
    CELERY_BEAT_SCHEDULE["spare-schemas-fill"] = {
        "task": "tenants.tasks.spare_schemas_fill",
        "schedule": 5 * 60,
    }
# Outbound webhooks: an endpoint failing this many attempts in a row is disabled. URLs
# whose host is or resolves to a loopback, private, link-local, reserved or otherwise
# non-public address are refused when saved and when sent, unless this is on (local and
# test settings turn it on by default, for receivers on the same machine).
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)
ATRIUM_JOB_RETENTION_DAYS = env_int("ATRIUM_JOB_RETENTION_DAYS", 30)

# --- Work that survives a crash ----------------------------------------------------------
# Background jobs and workflow runs that say "running" name their worker and hold a lease.
# A job's worker renews it every third of ATRIUM_JOB_LEASE_SECONDS from a heartbeat
# thread; a run renews it with every step it commits. The sweeper (beat, every
# ATRIUM_SWEEP_SECONDS, in each tenant) queues again what a dead worker left behind, or
# fails it after ATRIUM_JOB_MAX_ATTEMPTS (jobs; runs have their own 5). Work queued but not
# taken within ATRIUM_QUEUED_TIMEOUT_SECONDS (a message lost with the broker) is sent again.
ATRIUM_JOB_LEASE_SECONDS = env_int("ATRIUM_JOB_LEASE_SECONDS", 120)
ATRIUM_JOB_MAX_ATTEMPTS = env_int("ATRIUM_JOB_MAX_ATTEMPTS", 3)
ATRIUM_WORKFLOW_RUN_LEASE_SECONDS = env_int("ATRIUM_WORKFLOW_RUN_LEASE_SECONDS", 300)
ATRIUM_QUEUED_TIMEOUT_SECONDS = env_int("ATRIUM_QUEUED_TIMEOUT_SECONDS", 15 * 60)
ATRIUM_SWEEP_SECONDS = env_int("ATRIUM_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE["sweep-stuck-work"] = {
    "task": "tenants.jobs.tasks.sweep_everywhere",
    "schedule": ATRIUM_SWEEP_SECONDS,
}

# --- Workflows -------------------------------------------------------------------------
# Runs per second per tenant (token bucket; a plan may set workflow_runs_per_second).
ATRIUM_WORKFLOW_RATE_PER_SECOND = env_int("ATRIUM_WORKFLOW_RATE_PER_SECOND", 50)
ATRIUM_WORKFLOW_BURST = env_int("ATRIUM_WORKFLOW_BURST", 100)
# A chain of workflows triggering each other stops at this many.
ATRIUM_WORKFLOW_MAX_DEPTH = env_int("ATRIUM_WORKFLOW_MAX_DEPTH", 5)
# How far back a scheduler check looks for date-relative and cron occurrences (it
# overlaps the previous check; each occurrence runs once).
ATRIUM_WORKFLOW_LOOKBACK_MINUTES = env_int("ATRIUM_WORKFLOW_LOOKBACK_MINUTES", 6 * 60)
ATRIUM_WORKFLOW_SPREAD_SECONDS = env_int("ATRIUM_WORKFLOW_SPREAD_SECONDS", 60)
# A wait step up to this long resumes through a delayed message; a longer one is resumed by
# the scheduler's check (every 5 minutes). Redis would hand a message delayed past the
# visibility timeout to a second worker, so keep this well below it.
ATRIUM_WORKFLOW_COUNTDOWN_MAX_SECONDS = env_int("ATRIUM_WORKFLOW_COUNTDOWN_MAX_SECONDS", 60 * 60)
# Run workflows in the writing process instead of Celery (tests without a worker only).
ATRIUM_WORKFLOWS_INLINE = env_bool("ATRIUM_WORKFLOWS_INLINE", False)
ATRIUM_SMS_PROVIDER = env_str(
    "ATRIUM_SMS_PROVIDER", "metadata.workflows.messaging.LocalSmsProvider"
)
# Links in messages (unsubscribe) point at the tenant's domain with this scheme.
ATRIUM_URL_SCHEME = env_str("ATRIUM_URL_SCHEME", "https")

# --- Marketing e-mail providers ------------------------------------------------------------
# Campaign mail leaves through EMAIL_BACKEND (an anymail backend for a real provider, e.g.
# "anymail.backends.mailgun.EmailBackend"). The provider's delivery reports come back to
# https://<hotel group's domain>/webhooks/mail/<provider>/tracking/, verified by the
# provider's signature (Mailgun, SendGrid, Postmark...) and/or basic auth with
# ANYMAIL_WEBHOOK_SECRET ("user:password"); bounces and complaints suppress the address.
# The service desk's inbound hook (/webhooks/mail/<provider>/inbound/: guests' answers to
# case replies) needs ANYMAIL_WEBHOOK_SECRET, and for Mailgun MAILGUN_WEBHOOK_SIGNING_KEY;
# unset, it stays shut.
# A sending campaign whose queued recipients nobody touched for this long lost its chunk
# (a dead worker): the sweeper queues it again.
ATRIUM_MARKETING_STALE_SECONDS = env_int("ATRIUM_MARKETING_STALE_SECONDS", 600)
ANYMAIL = {
    key: value
    for key, value in {
        "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET", ""),
        "MAILGUN_API_KEY": env_str("MAILGUN_API_KEY", ""),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
        "POSTMARK_SERVER_TOKEN": env_str("POSTMARK_SERVER_TOKEN", ""),
        "SENDGRID_API_KEY": env_str("SENDGRID_API_KEY", ""),
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env_str(
            "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", ""
        ),
    }.items()
    if value
}

# --- Operations: logs, metrics, traces (see README "Operations") ---------------------------
# text (the default here) or json: one JSON object per line with the request id, the Celery
# task id and the tenant (schema and slug). Production defaults to json.
LOG_FORMAT = env_str("LOG_FORMAT", "text") or "text"
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO") or "INFO")
# /metrics answers on the public host only, to a bearer token equal to METRICS_TOKEN or to
# a client inside METRICS_ALLOWED_NETWORKS (CIDR list, REMOTE_ADDR as the proxy passes it);
# with neither set it is off (404). Tenant hosts never serve it.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", [])
# Extra Celery queues whose depth /metrics reports (the default queue always is).
ATRIUM_METRICS_QUEUES = env_list("ATRIUM_METRICS_QUEUES", [])
# A Celery worker serves its own metrics on this port when set (0: off).
ATRIUM_WORKER_METRICS_PORT = env_int("ATRIUM_WORKER_METRICS_PORT", 0)
ATRIUM_WORKER_METRICS_ADDR = env_str("ATRIUM_WORKER_METRICS_ADDR", "0.0.0.0")  # noqa: S104
