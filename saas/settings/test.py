"""Test suite: real PostgreSQL (DATABASE_URL or embedded), fast hashing, no real mail."""

from saas import embedded
from saas.settings.base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["CONN_MAX_AGE"] = 0

if CELERY_BROKER_URL == "filesystem://":  # type: ignore[used-before-def]
    # A broker folder of its own, so the dev stack's queued messages never reach tests.
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = embedded.filesystem_broker("broker-test")
# Webhooks to a receiver on this machine are fine here.
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
