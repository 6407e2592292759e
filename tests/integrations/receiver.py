"""A real HTTP server on 127.0.0.1 that records what webhooks send it."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    # Seconds to wait before answering (to hold a delivery "in flight").
    delay: float = 0.0
    # Sent as Location with 3xx answers.
    location: str = ""
    # Answer body; the default says whether the receiver is up.
    body: bytes | None = None
    # The TLS server name (SNI) of each HTTPS connection.
    server_names: list[str | None] = field(default_factory=list)


def receiver_start(*, tls: ssl.SSLContext | None = None) -> tuple[Receiver, ThreadingHTTPServer]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            if state.delay:
                time.sleep(state.delay)
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.send_header("content-type", "text/plain")
            if 300 <= code < 400 and state.location:
                self.send_header("location", state.location)
            self.end_headers()
            if state.body is not None:
                self.wfile.write(state.body)
            else:
                self.wfile.write(b"ok" if code < 300 else b"receiver is down")
            state.arrived.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        tls.sni_callback = lambda sock, name, ctx: state.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    state.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
