"""Fixtures of the UI tests: staff users of tenant alpha (shared with the access tests)
and, for the browser tests, a live server and headless Chromium (see browser.py)."""

from tests.access.conftest import alpha, make_user  # noqa: F401 - fixtures
