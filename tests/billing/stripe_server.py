"""A local stand-in for api.stripe.com: the real stripe library talks HTTP to it. It
records every request (so tests can check what Atrium asked for) and answers with the
subscription state the test sets."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

SECRET_KEY = "sk_test_local_atrium"


class StripeStandIn:
    def __init__(self):
        self.requests: list[dict] = []
        self.subscriptions: dict[str, dict] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, method: str) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                entry = {
                    "method": method,
                    "path": self.path,
                    "form": {k: v[0] for k, v in parse_qs(raw).items()},
                    "auth": self.headers.get("Authorization"),
                    "version": self.headers.get("Stripe-Version"),
                }
                stand_in.requests.append(entry)
                return entry

            def do_POST(self):
                entry = self._record("POST")
                if entry["auth"] != f"Bearer {SECRET_KEY}":
                    return self._answer(401, {"error": {"message": "bad key"}})
                if self.path == "/v1/checkout/sessions":
                    return self._answer(
                        200,
                        {
                            "id": "cs_test_1",
                            "object": "checkout.session",
                            "url": "https://checkout.stripe.test/cs_test_1",
                        },
                    )
                if self.path == "/v1/billing_portal/sessions":
                    return self._answer(
                        200,
                        {
                            "id": "bps_1",
                            "object": "billing_portal.session",
                            "url": "https://billing.stripe.test/p/1",
                        },
                    )
                return self._answer(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self):
                entry = self._record("GET")
                if entry["auth"] != f"Bearer {SECRET_KEY}":
                    return self._answer(401, {"error": {"message": "bad key"}})
                prefix = "/v1/subscriptions/"
                sub_id = self.path[len(prefix) :].split("?")[0]
                if self.path.startswith(prefix) and sub_id in stand_in.subscriptions:
                    return self._answer(200, stand_in.subscriptions[sub_id])
                return self._answer(404, {"error": {"message": "No such subscription"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def subscription(self, sub_id: str, *, status: str, price: str, customer: str = "cus_1"):
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "status": status,
            "customer": customer,
            "trial_end": None,
            # 2025-03-31.basil: the billing period is on each item, not the subscription.
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_1",
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price"},
                        "current_period_start": 1890864000,
                        "current_period_end": 1893456000,
                    }
                ],
            },
            "metadata": {},
        }
