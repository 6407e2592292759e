"""Developer machine: `make run`."""

from saas.settings.base import *  # noqa: F401,F403
from saas.settings.env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"  # noqa: S105
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Serve static files straight from the apps' folders, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ATRIUM_URL_SCHEME = env_str("ATRIUM_URL_SCHEME", "http")
# Webhooks to a receiver on this machine are fine here (ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS=0
# tries the production rule).
ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS", True)
