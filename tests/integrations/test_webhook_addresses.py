"""Webhooks never reach the platform's own network (security issue, hole 3): the URL is
checked when saved -- in every spelling the resolver accepts -- and again when each
attempt is sent, which then connects to the very address it checked."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys
import urllib.parse

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from crm.services.guests import guest_create
from tenants.integrations import egress
from tenants.integrations.models import WebhookAttempt, WebhookDelivery
from tenants.integrations.webhooks import webhook_attempt
from tests.api.test_records_api import api, post
from tests.integrations.receiver import receiver_start
from tests.integrations.test_webhooks import HOOKS, subscribe
from tests.principals import SYSTEM

PUBLIC_IP = "93.184.215.14"  # a globally routable address; nothing is sent to it here

production_rules = override_settings(ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS=False)

REFUSED_URLS = [
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/",  # ... in hex
    "http://127.1/",  # ... with the zeros left out
    "http://0177.0.0.1/",  # ... with an octal first part
    "http://0/",  # 0.0.0.0
    "http://2852039166/",  # 169.254.169.254, the cloud metadata service
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost/",
    "http://localhost./",  # a trailing dot is the same name
    "http://LOCALHOST:8000/",
    "http://api.localhost/",
    "http://127.0.0.1:9/h",
    "http://10.1.2.3/h",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, mapped
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://127。0。0。1/",  # ideographic full stops, read as dots by IDNA
    "http://redis:6379/",  # bare names are completed with the cluster's search domains
    "http://postgres/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://kubernetes.default.svc.cluster.local/",
    "http://printer.local/",
]


@pytest.mark.django_db
@production_rules
@pytest.mark.parametrize("url", REFUSED_URLS)
def test_internal_addresses_are_refused_in_every_spelling(tenant_a, url):
    response = post(api(tenant_a), HOOKS, {"url": url, "event_types": ["*"]})
    assert response.status_code == 400, (url, response.content)
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "private"), url
    assert "public addresses only" in error["message"]


@pytest.mark.django_db
@production_rules
@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (["127.0.0.1"], "127.0.0.1, a loopback address"),
        (["::1"], "::1, a loopback address"),
        (["::ffff:127.0.0.1"], "::ffff:7f00:1, a loopback address (127.0.0.1 inside"),
        (["10.0.0.7"], "10.0.0.7, a private address"),
        (["169.254.169.254"], "169.254.169.254, a link-local address"),
        (["fd00::7"], "fd00::7, a private address"),
        (["fe80::7"], "fe80::7, a link-local address"),
        # One bad address among good ones is enough: either could be connected to.
        ([PUBLIC_IP, "10.0.0.7"], "10.0.0.7, a private address"),
    ],
)
def test_names_that_resolve_inward_are_refused(tenant_a, resolver, answer, shown):
    resolver.names["hooks.partner.example"] = answer
    response = post(
        api(tenant_a), HOOKS, {"url": "https://hooks.partner.example/in", "event_types": ["*"]}
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "private")
    assert f"hooks.partner.example resolves to {shown}" in error["message"]
    assert resolver.calls == ["hooks.partner.example"]


@pytest.mark.django_db
@production_rules
def test_public_names_are_accepted_and_unknown_ones_refused(tenant_a, resolver):
    resolver.names["hooks.partner.example"] = [PUBLIC_IP, "2606:4700::1111"]
    resolver.names["typo.partner.example"] = []
    client = api(tenant_a)
    made = post(client, HOOKS, {"url": "https://hooks.partner.example/in", "event_types": ["*"]})
    assert made.status_code == 201, made.content
    literal = post(client, HOOKS, {"url": f"http://{PUBLIC_IP}:8080/in", "event_types": ["*"]})
    assert literal.status_code == 201, literal.content
    typo = post(client, HOOKS, {"url": "https://typo.partner.example/in", "event_types": ["*"]})
    assert typo.status_code == 400
    [error] = typo.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "unresolvable")
    assert "typo.partner.example does not resolve" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://exa mple.com/", "spaces"),
        ("http://example.com\\@127.0.0.1/", "backslashes"),
        ("http://example.com:99999/", "port"),
        ("http://[not-v6]/", "not-v6"),
    ],
)
def test_malformed_urls_name_the_field(tenant_a, url, message):
    response = post(api(tenant_a), HOOKS, {"url": url, "event_types": ["*"]})
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("url", "invalid")
    assert message in error["message"]


def test_the_host_is_normalised_once_for_the_check_and_the_request():
    target = egress.target_parse("https://Ops:p%40ss@HOOKS.Partner.Example.:8443/in?x=1#frag")
    assert target.host == "hooks.partner.example"
    assert target.port == 8443
    assert target.path == "/in?x=1"
    assert target.host_header == "hooks.partner.example:8443"
    assert target.authorization == "Basic T3BzOnBAc3M="  # Ops:p@ss
    assert egress.target_parse("http://bücher.example/").host == "xn--bcher-kva.example"
    assert egress.target_parse("http://[2606:4700::1111]/").host_header == "[2606:4700::1111]"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("127.0.0.1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104 - an address under test
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "a multicast address"),
        ("fec0::1", "a site-local address"),
        ("64:ff9b::7f00:1", "a reserved address"),  # NAT64 of 127.0.0.1
        ("::ffff:10.0.0.1", "a private address (10.0.0.1 inside ::ffff:a00:1)"),
    ],
)
def test_address_problems(address, problem):
    assert egress.address_problem(ipaddress.ip_address(address)) == problem


# --- send time ----------------------------------------------------------------------------


def _pending_delivery(url: str) -> WebhookDelivery:
    subscribe(url=url, event_types=["guest.created"])
    guest_create(given_name="Ana", surname="Silva", actor=SYSTEM)
    return WebhookDelivery.objects.get()


@pytest.mark.django_db
def test_a_name_that_turns_inward_after_saving_is_refused_when_sent(tenant_a, receiver, resolver):
    """Public when the URL was saved, 127.0.0.1 -- where a receiver listens -- when the
    event is sent: the attempt fails naming the url, and nothing reaches the receiver."""
    port = urllib.parse.urlsplit(receiver.url).port
    resolver.names["hooks.partner.example"] = [PUBLIC_IP]
    with tenant_context(tenant_a), production_rules:
        delivery = _pending_delivery(f"http://hooks.partner.example:{port}/hooks")
        resolver.names["hooks.partner.example"] = ["127.0.0.1"]
        done = webhook_attempt(delivery_id=delivery.pk)
        [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert receiver.requests == []
    assert done.status == "retrying"
    assert done.last_status_code is None
    assert done.last_error.startswith("url: hooks.partner.example resolves to 127.0.0.1")
    assert (attempt.status_code, attempt.response_body) == (None, "")
    assert attempt.error == done.last_error


@pytest.mark.django_db
def test_the_attempt_connects_to_the_address_it_checked(tenant_a, receiver, resolver, monkeypatch):
    """DNS rebinding inside one attempt: the check sees a public address, a second lookup
    would say 127.0.0.1. The connection goes to the checked address, never looked up
    again."""
    import urllib3.util.connection

    answers = iter([[PUBLIC_IP]])
    resolver.names["rebind.partner.example"] = lambda: next(answers, ["127.0.0.1"])
    dialled: list[tuple] = []

    def dial(address, *args, **kwargs):
        dialled.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", dial)
    port = urllib.parse.urlsplit(receiver.url).port
    with tenant_context(tenant_a), production_rules:
        delivery = _pending_delivery(f"http://rebind.partner.example:{port}/hooks")
        answers = iter([[PUBLIC_IP]])  # the save used the first answer; start again
        done = webhook_attempt(delivery_id=delivery.pk)
    assert dialled == [(PUBLIC_IP, port)]
    assert receiver.requests == []
    assert done.last_error.startswith("ConnectionError:")


@pytest.mark.django_db
def test_the_request_keeps_the_name_in_the_host_header(tenant_a, receiver, resolver):
    """With private hosts allowed (development), the name still resolves once and the
    request goes to that address with the name in the Host header."""
    port = urllib.parse.urlsplit(receiver.url).port
    answers = iter([["127.0.0.1"]])
    resolver.names["hooks.partner.example"] = lambda: next(answers, ["10.255.255.1"])
    with tenant_context(tenant_a):
        delivery = _pending_delivery(f"http://hooks.partner.example:{port}/hooks?src=atrium")
        done = webhook_attempt(delivery_id=delivery.pk)
    assert done.status == "succeeded"
    [received] = receiver.requests
    assert received.headers["host"] == f"hooks.partner.example:{port}"
    assert resolver.calls == ["hooks.partner.example"]


@pytest.mark.django_db
def test_redirects_are_not_followed(tenant_a, receiver):
    elsewhere, server = receiver_start()
    try:
        receiver.answers.append(302)
        receiver.location = elsewhere.url
        with tenant_context(tenant_a):
            delivery = _pending_delivery(receiver.url)
            done = webhook_attempt(delivery_id=delivery.pk)
        assert (done.status, done.last_status_code) == ("retrying", 302)
        assert len(receiver.requests) == 1
        assert elsewhere.requests == []
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_only_the_first_2_kb_of_an_answer_is_kept(tenant_a, receiver):
    receiver.answers.append(500)
    receiver.body = b"x" * 50_000
    with tenant_context(tenant_a):
        delivery = _pending_delivery(receiver.url)
        webhook_attempt(delivery_id=delivery.pk)
        [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code == 500
    assert attempt.response_body == "x" * 2000


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver on 127.0.0.1 whose certificate is for hooks.partner.example,
    signed by a CA of the test's own that the webhook client is told to trust."""
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Atrium test CA"))
        .issuer_name(name("Atrium test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("hooks.partner.example"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("hooks.partner.example")]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    monkeypatch.setattr(egress, "_ca_bundle", lambda: str(tmp_path / "ca.pem"))
    state, server = receiver_start(tls=context)
    yield state
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_tls_speaks_to_the_name_while_connecting_to_the_checked_address(
    tenant_a, tls_receiver, resolver
):
    port = urllib.parse.urlsplit(tls_receiver.url).port
    resolver.names["hooks.partner.example"] = ["127.0.0.1"]
    resolver.names["other.partner.example"] = ["127.0.0.1"]
    with tenant_context(tenant_a):
        subscribe(url=f"https://hooks.partner.example:{port}/in", event_types=["guest.created"])
        subscribe(url=f"https://other.partner.example:{port}/in", event_types=["guest.created"])
        guest_create(given_name="Ana", surname="Silva", actor=SYSTEM)
        right, wrong = WebhookDelivery.objects.order_by("endpoint_id")
        right = webhook_attempt(delivery_id=right.pk)
        wrong = webhook_attempt(delivery_id=wrong.pk)
        [wrong_attempt] = WebhookAttempt.objects.filter(delivery=wrong)
    assert right.status == "succeeded"
    assert tls_receiver.server_names[0] == "hooks.partner.example"
    assert [r.headers["host"] for r in tls_receiver.requests] == [f"hooks.partner.example:{port}"]
    # The certificate is for hooks.partner.example: the other name fails verification,
    # even though both point at the same address.
    assert wrong.status == "retrying"
    assert wrong.last_error.startswith("SSLError:")
    assert wrong_attempt.response_body == ""


# --- the setting ------------------------------------------------------------------------------


def _setting_in(module: str, value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS"}
    env.update(
        DJANGO_SETTINGS_MODULE=f"saas.settings.{module}",
        SECRET_KEY="x" * 50,
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://u:p@db.invalid:5432/atrium",
        CELERY_BROKER_URL="redis://broker.invalid:6379/0",
        ALLOWED_HOSTS=".atrium.example",
    )
    env.pop("DEBUG", None)
    if value is not None:
        env["ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS"] = value
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.ATRIUM_WEBHOOKS_ALLOW_PRIVATE_HOSTS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("module", "default"), [("production", "False"), ("local", "True"), ("test", "True")]
)
def test_every_settings_module_reads_the_setting_from_the_environment(module, default):
    assert _setting_in(module, None) == default
    assert _setting_in(module, "0") == "False"
    assert _setting_in(module, "1") == "True"
