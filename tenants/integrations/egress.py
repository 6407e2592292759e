"""Where outbound webhook requests may go, and a POST that goes only there.

A webhook URL is chosen by a tenant, so it must not reach the platform's own network
(loopback, the private ranges of the cluster, the cloud metadata service at
169.254.169.254, ...). Checking the text of the URL is not enough: the resolver reads
``2130706433``, ``0x7f000001``, ``127.1`` and ``0177.0.0.1`` as 127.0.0.1, ``0`` as
0.0.0.0, and any host name can point at an internal address -- or point somewhere public
while the URL is saved and somewhere internal when the event is sent (DNS rebinding).

So the host is normalised once, the way the resolver will read it (IDNA, trailing dots),
resolved with ``socket.getaddrinfo``, and *every* address it resolves to must be globally
routable. That check runs when the URL is saved and again on every attempt, and the
attempt then connects to the very address it checked: the connection pool is opened on
the IP, while the Host header, the TLS SNI and the certificate check keep the name.
Redirects are never followed; an environment proxy is never used.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
# Special-use names (RFC 6761, 6762, 8375, ICANN's .internal) that only mean something
# inside a network, whatever a resolver answers for them today.
INTERNAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa", "lan")
ANSWER_LIMIT = 2000  # bytes of the receiver's answer kept in the delivery log


class AddressRefused(Exception):
    """The URL may not be used; ``code`` is ``invalid``, ``private`` or ``unresolvable``
    and the message says why, naming the host."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII name without trailing dot, or an IP literal without brackets
    port: int
    path: str  # path and query as sent on the request line
    host_header: str
    authorization: str | None  # Basic credentials given in the URL, if any

    @property
    def is_ip_literal(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def target_parse(url: str) -> Target:
    """The parts of ``url`` an attempt uses, normalised once so that the check and the
    connection read the host the same way."""
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise AddressRefused(
            "A URL may not contain spaces, control characters or backslashes.", code="invalid"
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. brackets around something that is not IPv6
        raise AddressRefused(f"The URL cannot be read ({exc}).", code="invalid") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise AddressRefused("Give an http:// or https:// URL.", code="invalid")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise AddressRefused(
            "The URL's port is not a number from 1 to 65535.", code="invalid"
        ) from None
    raw = parts.hostname
    if ":" in raw:  # urlsplit only yields a colon for a bracketed IPv6 literal
        try:
            ipaddress.ip_address(raw)
        except ValueError:
            raise AddressRefused(f"{raw} is not an IPv6 address.", code="invalid") from None
        host = raw
        shown = f"[{raw}]"
    else:
        # Resolvers ignore a final dot ("localhost." is localhost) and read non-ASCII
        # names (and separators such as "。") through IDNA; do the same before checking.
        try:
            host = raw.rstrip(".").encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise AddressRefused(f"{raw} is not a valid host name.", code="invalid") from None
        if not host:
            raise AddressRefused("The URL has no host.", code="invalid")
        shown = host
    explicit_port = parts.port is not None and parts.port != DEFAULT_PORTS[parts.scheme]
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    return Target(
        scheme=parts.scheme,
        host=host,
        port=port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        host_header=f"{shown}:{port}" if explicit_port else shown,
        authorization=authorization,
    )


def address_problem(ip: IPAddress) -> str | None:
    """Why a request must not go to ``ip`` ("a loopback address", ...), or None when it
    is globally routable."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one (::ffff:127.0.0.1, 6to4) reaches
        # wherever the IPv4 address does.
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            problem = address_problem(inner)
            if problem:
                return f"{problem} ({inner} inside {ip})"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((label for failed, label in checks if failed), None)


def _resolve(target: Target) -> list[IPAddress]:
    """Every address the host resolves to, in the resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(
            f"The host {target.host} does not resolve ({exc}).", code="unresolvable"
        ) from None
    seen: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]), None)
    if not seen:
        raise AddressRefused(f"The host {target.host} does not resolve.", code="unresolvable")
    return list(seen)


def _numeric(host: str) -> bool:
    """Does the resolver read ``host`` as an address (in any of the forms inet_aton
    takes, such as 2130706433 or 0x7f.1) rather than a name?"""
    try:
        socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def target_addresses(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """Resolve the host and return its addresses; unless ``allow_private``, refuse the
    target when *any* of them is not globally routable (a name answering with a public
    and a private address could be connected to either)."""
    if not allow_private and not target.is_ip_literal and not _numeric(target.host):
        name = target.host
        if "." not in name:
            # A bare name is completed with the resolver's search domains: the cluster's
            # own services ("redis", "postgres", "metadata").
            raise AddressRefused(
                f"{name} is an internal host name; webhooks go to public addresses only.",
                code="private",
            )
        if any(name == s or name.endswith(f".{s}") for s in INTERNAL_SUFFIXES):
            raise AddressRefused(
                f"{name} is a local or internal name; webhooks go to public addresses only.",
                code="private",
            )
    addresses = _resolve(target)
    if not allow_private:
        for ip in addresses:
            problem = address_problem(ip)
            if problem:
                said = (
                    f"{target.host} is {problem}"
                    if target.is_ip_literal and ipaddress.ip_address(target.host) == ip
                    else f"{target.host} resolves to {ip}, {problem}"
                )
                raise AddressRefused(
                    f"{said}; webhooks go to public addresses only.", code="private"
                )
    return addresses


def target_check(url: str, *, allow_private: bool) -> Target:
    """Save-time check of a URL: parsed, normalised, resolved and every address checked.
    With private hosts allowed there is nothing to check, and a name that does not
    resolve yet (a receiver still being set up) is accepted."""
    target = target_parse(url)
    if not allow_private:
        target_addresses(target, allow_private=False)
    return target


# --- sending ------------------------------------------------------------------------------


@dataclass
class Answer:
    status_code: int | None
    body: str  # the first ANSWER_LIMIT bytes, only from an address that passed the check
    error: str
    duration_ms: int


def _ca_bundle() -> str:
    """The CA certificates receivers' certificates are checked against (requests' own
    bundle; the tests point it at their own CA)."""
    import certifi

    return certifi.where()


def _pool(target: Target, ip: IPAddress, timeout: tuple[float, float]):
    import urllib3

    kwargs: dict = {
        "timeout": urllib3.Timeout(connect=timeout[0], read=timeout[1]),
        "retries": False,
        "maxsize": 1,
    }
    if target.scheme == "https":
        # Connect to the checked IP, but speak TLS to the name: SNI and the certificate
        # check are for the host in the URL, as if the name had been dialled.
        return urllib3.HTTPSConnectionPool(
            str(ip),
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=_ca_bundle(),
            **kwargs,
        )
    return urllib3.HTTPConnectionPool(str(ip), target.port, **kwargs)


def _error_text(exc: Exception) -> str:
    from urllib3 import exceptions as e

    kind = {
        e.NewConnectionError: "ConnectionError",
        e.ConnectTimeoutError: "ConnectTimeout",
        e.ReadTimeoutError: "ReadTimeout",
        e.SSLError: "SSLError",
        e.ProtocolError: "ConnectionError",
    }
    name = next((v for k, v in kind.items() if isinstance(exc, k)), type(exc).__name__)
    return f"{name}: {exc}"[:300]


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    allow_private: bool,
    timeout: tuple[float, float],
) -> Answer:
    """POST ``body`` to ``url`` after checking where it goes (see the module docstring).
    A refused target is an error naming ``url``; nothing is sent."""
    from urllib3 import exceptions as e

    started = time.monotonic()
    try:
        target = target_parse(url)
        addresses = target_addresses(target, allow_private=allow_private)
    except AddressRefused as refused:
        return Answer(None, "", f"url: {refused.message}"[:300], _ms(started))
    sent = {**headers, "Host": target.host_header}
    if target.authorization:
        sent["Authorization"] = target.authorization
    error = ""
    # Each address was checked; try them in the resolver's order, but only move on when
    # the connection could not be made (the body has not left yet).
    for ip in addresses:
        pool = _pool(target, ip, timeout)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (e.NewConnectionError, e.ConnectTimeoutError) as exc:
            error = _error_text(exc)
            pool.close()
            continue
        except e.HTTPError as exc:
            pool.close()
            return Answer(None, "", _error_text(exc), _ms(started))
        try:
            snippet = response.read(ANSWER_LIMIT, decode_content=True) or b""
        except e.HTTPError:
            snippet = b""
        finally:
            response.release_conn()
            pool.close()
        text = snippet.decode(errors="replace") if isinstance(snippet, bytes) else str(snippet)
        return Answer(response.status, text, "", _ms(started))
    return Answer(None, "", error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
