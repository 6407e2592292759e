from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["atrium.test", "alpha.test", "unknown.example"])
def test_healthz_reports_database_and_broker(client, host):
    response = client.get("/healthz", HTTP_HOST=host)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz", HTTP_HOST="atrium.test")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["transport"] == "redis"


def test_liveness_checks_no_dependency(client, settings):
    # Given a broker nobody answers on
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz/live", HTTP_HOST="unknown.example")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("host", ["atrium.test", "alpha.test"])
def test_readiness_reports_database_broker_and_cache(client, host):
    response = client.get("/healthz/ready", HTTP_HOST=host)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert [body[name]["ok"] for name in ("database", "broker", "cache")] == [True, True, True]
    assert "failed" not in body


def test_readiness_answers_503_naming_a_cache_that_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        }
    }

    response = client.get("/healthz/ready", HTTP_HOST="atrium.test")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["cache"]["ok"] is False
    assert body["database"]["ok"] is True


def test_readiness_answers_503_naming_a_broker_that_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz/ready", HTTP_HOST="alpha.test")

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
