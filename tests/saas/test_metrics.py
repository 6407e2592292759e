"""/metrics: traffic, tasks and tenants show up as bounded series; only the platform host
serves it, and only to a caller with the token (or from an allowed network)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests-0123456789"
PUBLIC = "atrium.test"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return settings


def _scrape(**headers):
    return Client(HTTP_HOST=PUBLIC).get("/metrics", **headers)


def _samples(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return [
        sample
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    ]


def _value(samples, name: str, **labels) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_scrape_after_traffic_finds_requests_tasks_and_tenants(metrics_on, tenant_a):
    # Given a few API requests on a tenant host, one of them for a missing guest
    with tenant_context(tenant_a):
        user = User.objects.get(email="admin@alpha.test")
        token = api_key_create(name="PMS", user=user, scopes=["*"], actor=SYSTEM).plaintext
    api = Client(HTTP_HOST="alpha.test", HTTP_AUTHORIZATION=f"Bearer {token}")
    before = _samples(_scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    for _ in range(3):
        assert api.get("/api/v1/guests/").status_code == 200
    assert api.get("/api/v1/guests/999999/").status_code == 404
    # and a Celery task run (eagerly, through the same signals a worker sends), and one
    # that fails
    from tenants.jobs.tasks import purge_finished_jobs, run_job

    with tenant_context(tenant_a):
        assert purge_finished_jobs.apply().successful()
        assert run_job.apply(args=["not-a-job-id"]).failed()

    # When Prometheus scrapes the platform host with the token
    samples = _samples(_scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))

    # Then the requests are counted by route (the pattern, not the path) and status
    requests = "atrium_http_requests_total"
    list_route = {"route": "api/v1/<slug:collection>/", "method": "GET", "status": "200"}
    assert _value(samples, requests, **list_route) - _value(before, requests, **list_route) == 3
    detail = [
        s
        for s in samples
        if s.name == requests
        and s.labels["status"] == "404"
        and s.labels["route"] == "api/v1/<slug:collection>/<str:pk>/"
    ]
    assert detail, "the detail route is labelled with its pattern"
    assert not [s for s in samples if s.name == requests and "999999" in s.labels["route"]]
    assert {s.labels["plan"] for s in samples if s.name == requests} >= {"none"}
    assert any(
        s.name == "atrium_http_request_duration_seconds_bucket"
        and s.labels["route"] == "api/v1/<slug:collection>/"
        for s in samples
    )
    # the tasks by name and state, their run time and the failure
    purge = "tenants.jobs.tasks.purge_finished_jobs"
    assert _value(samples, "atrium_celery_tasks_total", task=purge, state="SUCCESS") >= 1
    assert _value(samples, "atrium_celery_task_duration_seconds_count", task=purge) >= 1
    run_job_name = "tenants.jobs.tasks.run_job"
    assert _value(samples, "atrium_celery_task_failures_total", task=run_job_name) >= 1
    # and the hotel groups by status, read from the tenants table (alpha and bravo are
    # active, the template and the platform are not hotel groups)
    assert _value(samples, "atrium_tenants", status="active") >= 2
    assert {s.labels["status"] for s in samples if s.name == "atrium_tenants"} == {
        "trial",
        "active",
        "past_due",
        "suspended",
        "cancelled",
    }
    # and the depth of the default queue when the broker is Redis
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("redis://"):
        assert any(
            s.name == "atrium_celery_queue_length" and s.labels["queue"] == "celery"
            for s in samples
        )


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}],
)
def test_scrape_without_the_token_is_refused(metrics_on, headers):
    response = _scrape(**headers)

    assert response.status_code == 401
    assert b"atrium_" not in response.content


def test_tenant_hosts_never_serve_metrics(metrics_on, tenant_a):
    response = Client(HTTP_HOST="alpha.test").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 404
    assert b"atrium_http_requests_total" not in response.content


def test_metrics_are_off_until_configured(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []

    assert _scrape(HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_an_allowed_network_may_scrape_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]

    assert _scrape().status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert _scrape().status_code == 401


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    """Under gunicorn each worker counts in its own process; with PROMETHEUS_MULTIPROC_DIR
    one scrape reports the sum."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
    count = (
        "import django; django.setup()\n"
        "from saas.observability import metrics\n"
        "metrics.HTTP_REQUESTS.labels(route='r/', method='GET', status='200', plan='p').inc(3)\n"
    )
    scrape = (
        "import django; django.setup()\n"
        "from prometheus_client import generate_latest\n"
        "from saas.observability import metrics\n"
        "print(generate_latest(metrics.exposition_registry(scrape_time=False)).decode())\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, timeout=120, capture_output=True
    ).stdout.decode()

    samples = [
        s
        for family in text_string_to_metric_families(out)
        for s in family.samples
        if s.name == "atrium_http_requests_total" and s.labels.get("route") == "r/"
    ]
    assert [s.value for s in samples] == [6.0]


def test_a_real_worker_serves_its_task_metrics_on_its_port(tenant_a):
    """A worker has no web server: with ATRIUM_WORKER_METRICS_PORT it serves its own."""
    import socket
    import time
    import urllib.request

    from tests.celery_worker import worker_start, worker_stop

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc, lines = worker_start(
        {"ATRIUM_WORKER_METRICS_PORT": str(port), "ATRIUM_WORKER_METRICS_ADDR": "127.0.0.1"},
        name="metrics",
    )
    try:
        from tenants.jobs.tasks import purge_finished_jobs

        with tenant_context(tenant_a):
            purge_finished_jobs.delay()
        name = "tenants.jobs.tasks.purge_finished_jobs"
        deadline = time.monotonic() + 60
        found = 0.0
        while time.monotonic() < deadline and not found:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
            samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
            found = _value(samples, "atrium_celery_tasks_total", task=name, state="SUCCESS")
            time.sleep(0.5)
        assert found >= 1, "".join(lines[-30:])
        assert _value(samples, "atrium_celery_task_duration_seconds_count", task=name) >= 1
    finally:
        worker_stop(proc)
