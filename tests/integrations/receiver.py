"""A real HTTP server on 127.0.0.1 that records what webhooks send it."""

from __future__ import annotations

import threading
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


def receiver_start() -> tuple[Receiver, ThreadingHTTPServer]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if code < 300 else b"receiver is down")
            state.arrived.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
