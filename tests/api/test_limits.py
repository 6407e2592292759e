"""Rate limits per API key (429 with Retry-After) and oversized bodies (413)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.api.test_records_api import api

pytestmark = pytest.mark.django_db


def test_a_key_over_its_rate_gets_429_with_retry_after(tenant_a, settings):
    settings.ATRIUM_API_RATE_PER_MINUTE = 3
    cache.clear()
    client = api(tenant_a)
    codes = [client.get("/api/v1/guests/").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    limited = client.get("/api/v1/guests/")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["code"] == "throttled"
    assert api(tenant_a).get("/api/v1/guests/").status_code == 200  # another key: own budget


def test_oversized_bodies_get_413(tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(tenant_a).post(
        "/api/v1/guests/",
        {"given_name": "x" * 2000, "surname": "Big"},
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
