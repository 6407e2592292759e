"""Fixtures of the UI tests.

Staff users of tenant alpha are shared with the access tests. The browser tests get a
hotel group of their own (committed, so a server thread sees it; deleted afterwards), the
whole Django stack served by a threaded WSGI server on 127.0.0.1, and Debian's headless
Chromium, which reaches the tenant's domain through ``--host-resolver-rules``. Without
Chromium (or the playwright package) they are skipped with the reason, never silently."""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from tests.access.conftest import alpha, make_user  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.principals import SYSTEM

CHROMIUM = os.environ.get("ATRIUM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Site:
    """A live hotel group: where it answers and who can sign in."""

    tenant: object
    domain: str
    port: int
    admin_email: str
    staff_email: str
    api_token: str
    guests: dict[str, int] = field(default_factory=dict)
    reservations: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.domain}:{self.port}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium "
            "(.ci/run installs it when missing), or set ATRIUM_CHROMIUM"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need the playwright package: pip install -e '.[dev]'")
    return CHROMIUM


def _site_data(domain: str, admin_email: str) -> dict:
    """Staff, guests and an API key in the new tenant, through the services."""
    from django.contrib.auth import get_user_model

    from crm.services.guests import guest_create
    from tenants.access.models import Role
    from tenants.access.services import user_roles_set
    from tenants.integrations.services import api_key_create
    from tenants.users.services import user_password_set

    admin = user_password_set(email=admin_email, password=PASSWORD)
    staff_email = f"frontdesk@{domain}"
    staff = get_user_model().objects.create_user(email=staff_email, password=PASSWORD)
    user_roles_set(user=staff, roles=Role.objects.filter(key="front_office"), actor=SYSTEM)
    guests = {
        "ana": guest_create(
            given_name="Ana", surname="Lima", emails=["ana@example.com"], actor=SYSTEM
        ).pk,
        "bo": guest_create(
            given_name="Bo", surname="Chen", emails=["bo@example.com"], actor=SYSTEM
        ).pk,
        "mei": guest_create(
            given_name="Mei",
            surname="Wong",
            id_document_type="passport",
            id_document_number="K7654321",
            nationality="HK",
            actor=SYSTEM,
        ).pk,
    }
    token = api_key_create(name="browser test", user=admin, scopes=["*"], actor=SYSTEM).plaintext
    return {
        "staff_email": staff_email,
        "guests": guests,
        "api_token": token,
        "reservations": _site_reservations(guests["ana"]),
    }


def _site_reservations(guest_id: int) -> dict[str, int]:
    from datetime import date, timedelta
    from decimal import Decimal

    from crm.models import Guest
    from crm.services.properties import property_create
    from crm.services.reservations import reservation_create

    hotel = property_create(
        code="HBR", name="Harbour Lisbon", country="PT", currency="EUR", actor=SYSTEM
    )
    stay = reservation_create(
        property=hotel,
        guest=Guest.objects.get(pk=guest_id),
        confirmation_number="HBR-1",
        arrival=date.today(),
        departure=date.today() + timedelta(days=2),
        total_amount=Decimal("300"),
        currency="EUR",
        actor=SYSTEM,
    )
    return {"ana": stay.pk}


@pytest.fixture(scope="module")
def live_site(chromium_path, django_db_setup, django_db_blocker):
    """A committed hotel group (en, zh-hans, zh-hant) served on a free local port."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    from tenants.models import Tenant
    from tenants.services.provisioning import tenant_create, tenant_delete

    # Server threads open their own connections; they need the database unblocked as
    # long as they run (pytest-django's own live_server does the same).
    with django_db_blocker.unblock():
        slug = f"ui{secrets.token_hex(3)}"
        domain = f"{slug}.test"
        created = tenant_create(
            name="Harbour Browser Hotels",
            slug=slug,
            domain=domain,
            admin_email=f"admin@{domain}",
            currency="EUR",
            currencies=["USD"],
            languages=["en", "zh-hans", "zh-hant"],
            timezone="Europe/Paris",
            status="active",
            send_welcome_email=False,
        )
        with schema_context(created.tenant.schema_name):
            data = _site_data(domain, created.admin_email)
        connection.set_schema_to_public()
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={})
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            yield Site(
                tenant=created.tenant,
                domain=domain,
                port=server.port,
                admin_email=created.admin_email,
                **data,
            )
        finally:
            server.terminate()
            connection.set_schema_to_public()
            # Request threads close their database connection when their socket ends;
            # let them, or the test database cannot be dropped at the end of the run.
            for thread in threading.enumerate():
                if thread.name.endswith("(process_request_thread)"):
                    thread.join(timeout=10)
            tenant_delete(tenant=Tenant.objects.get(pk=created.tenant.pk))


@pytest.fixture(scope="module")
def browser(chromium_path, live_site):
    """Headless Chromium; it closes (and with it every keep-alive connection to the
    server) before the server stops."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # stay synchronous, so Django's async-safety guard may stand down for these tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=chromium_path,
        headless=True,
        # Every *.test host is this machine: the tenant is reached by its own domain.
        args=["--host-resolver-rules=MAP *.test 127.0.0.1", "--no-sandbox"],
    )
    try:
        yield chromium
    finally:
        chromium.close()
        # Django keeps connections per async context, and Playwright's loop makes the
        # test's context a new one: close what was opened in it while it is current.
        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Shots:
    """Screenshots of a test, saved under test-artifacts/<test name>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def new_page(browser, live_site):
    """Pages in fresh browser contexts (one per user), closed after the test."""
    contexts = []

    def make(*, locale: str = "en-GB", width: int = 1280, height: int = 860):
        context = browser.new_context(
            base_url=live_site.url, locale=locale, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
