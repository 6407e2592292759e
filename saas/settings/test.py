"""Test suite: real PostgreSQL (DATABASE_URL or embedded), fast hashing, no real mail."""

import os
import tempfile
from pathlib import Path

from saas import embedded
from saas.settings.base import *  # noqa: F401,F403
from saas.settings.env import env_bool, env_int

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "tenants.users.hashers.OneTimePasswordHasher",
]
# The end-to-end workflow test starts a worker pointed at a local SMTP server through
# ATRIUM_TEST_EMAIL_BACKEND (and EMAIL_HOST/EMAIL_PORT); everything else keeps locmem.
EMAIL_BACKEND = os.environ.get(
    "ATRIUM_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
)
ATRIUM_URL_SCHEME = "http"
# Tests clone each tenant as before; the spare-schema tests turn the pool on themselves.
TENANT_SPARE_SCHEMAS = env_int("TENANT_SPARE_SCHEMAS", 0)
DATABASES["default"]["CONN_MAX_AGE"] = 0

if CELERY_BROKER_URL == "filesystem://":  # type: ignore[used-before-def]
    # A broker folder of its own, so the dev stack's queued messages never reach tests.
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = embedded.filesystem_broker("broker-test")
# Webhooks to a receiver on this machine are fine here; the tests of the address rules
# turn it off with override_settings.
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS", True)
# Exports taken before a tenant is deleted go to a throwaway folder, never into .data.
ATRIUM_TENANT_EXPORTS_DIR = Path(tempfile.gettempdir()) / "atrium-test-tenant-exports"
