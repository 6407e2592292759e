"""Production: refuses to start unless it is configured safely.

The checks run before the base settings are imported so that a misconfigured
production process never starts the embedded database or anything else.
"""

from django.core.exceptions import ImproperlyConfigured

from saas.settings.env import env_bool, env_int, env_list, env_str

if not env_str("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if len(env_str("SECRET_KEY") or "") < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters in production.")
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")
if not env_str("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
if not env_str("CELERY_BROKER_URL"):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be set in production.")
if not env_list("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the platform's domains in production.")

from saas.observability.logs import logging_config  # noqa: E402
from saas.settings.base import *  # noqa: E402,F401,F403

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and Prometheus talk plain HTTP to the container, inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Webhooks only ever go to public addresses unless explicitly allowed (never by default).
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Containers log to stdout for a collector: one JSON object per line unless LOG_FORMAT=text.
LOG_FORMAT = env_str("LOG_FORMAT", "json") or "json"
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO") or "INFO")
