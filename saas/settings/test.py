"""Test suite: real PostgreSQL (DATABASE_URL or embedded), fast hashing, no real mail."""

from saas import embedded
from saas.settings.base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["CONN_MAX_AGE"] = 0

if CELERY_BROKER_URL == "filesystem://":
    # A queue folder of its own, so the dev stack's queued messages never reach tests.
    _test_broker = embedded.data_dir() / "broker-test"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_test_broker / "queue"),
        "data_folder_out": str(_test_broker / "queue"),
        "processed_folder": str(_test_broker / "processed"),
        "store_processed": "false",
    }
    (_test_broker / "queue").mkdir(parents=True, exist_ok=True)
    (_test_broker / "processed").mkdir(parents=True, exist_ok=True)
