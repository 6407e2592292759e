"""Now, in one place, so that tests can move time through the module's timers."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
