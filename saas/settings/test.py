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

# pytest-xdist runs the suite in several processes (gw0, gw1...), each on a test
# database of its own (pytest-django adds the suffix); the broker, the cache and the
# export folder are made theirs here too, and the Celery workers a test starts inherit
# the variable, so they read the same ones.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_suffix = f"-{XDIST_WORKER}" if XDIST_WORKER else ""

from saas.settings import base as _base  # noqa: E402 - the values the star import gave

if _base.CELERY_BROKER_URL == "filesystem://":
    # A broker folder of its own, so the dev stack's queued messages never reach tests.
    CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = embedded.filesystem_broker(
        f"broker-test{_suffix}"
    )
elif XDIST_WORKER and str(_base.CELERY_BROKER_URL).startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_base.CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"atrium-test-{XDIST_WORKER}:",
    }
if XDIST_WORKER.startswith("gw") and XDIST_WORKER[2:].isdigit() and _base.CACHE_URL:
    # Each test clears the cache (FLUSHDB on Redis): a database number per process.
    _scheme, _, _rest = _base.CACHE_URL.partition("://")
    _host, _, _db = _rest.partition("/")
    _db_number = (int(_db or 0) + 5 * int(XDIST_WORKER[2:])) % 16
    _base.CACHES["default"]["LOCATION"] = f"{_scheme}://{_host}/{_db_number}"
# Webhooks to a receiver on this machine are fine here; the tests of the address rules
# turn it off with override_settings.
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS", True)
# Exports taken before a tenant is deleted go to a throwaway folder, never into .data.
ATRIUM_TENANT_EXPORTS_DIR = Path(tempfile.gettempdir()) / f"atrium-test-tenant-exports{_suffix}"
