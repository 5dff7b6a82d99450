"""Stripe for tests: the real SDK talks HTTP to this small server, which adds to localstripe
what localstripe lacks and forwards everything else to it.

localstripe (PyPI) is stateful and real enough for customers, payment methods, plans,
subscriptions, quantities and invoices. It lacks Checkout Sessions, Customer Portal sessions,
Prices (Stripe accepts a Plan's id wherever a Price id goes, so ``price`` is sent on as
``plan``), idempotency keys, ``proration_behavior`` on updates, and a way to make a renewal
fail. This server supplies those:

* ``/v1/checkout/sessions`` and ``/v1/billing_portal/sessions`` (+ a page that "pays");
* ``/v1/prices`` (create, list by ``lookup_keys``), each Price being a localstripe Plan;
* invoices get what localstripe leaves out: a ``number``, ``hosted_invoice_url`` and
  ``invoice_pdf`` (pages this server serves);
* webhooks: with ``webhook_url`` set, events are signed and POSTed there after the calls that
  cause them in Stripe (Checkout paid, a subscription updated), from a thread, as Stripe
  delivers them after answering;
* ``/v1/customers/<id>/balance_transactions`` (credit given by operators);
* idempotency: the first answer to a key is stored and replayed, a key reused with other
  parameters is refused (as Stripe does), and every mutating request is logged for asserts;
* ``/_fake/subscriptions/<id>/status``: what Stripe's dunning would do to a subscription
  (``past_due`` after a failed renewal, ``unpaid`` when retries are exhausted, ``active``
  when paid again), returned from then on by every read of it;
* ``event()`` / ``signed()``: events signed exactly like Stripe's, for the webhook endpoint.

Run on its own (``python tests/fake_stripe.py``), it serves a development copy of Relata: it
prints the variables to start Relata with, so the whole payment flow works without Stripe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

API_KEY = "sk_test_relata_local"
WEBHOOK_SECRET = "whsec_relata_local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# localstripe rewrites a fixed /tmp/localstripe.pickle on every change and reloads it at start:
# two test runs on one machine overwrite each other's state, and a server killed mid-write leaves
# a truncated file that stops the next one from starting. The tests need no persistence.
_LOCALSTRIPE_WITHOUT_DISK = (
    "import runpy, localstripe.resources as r; "
    "r.Store.try_load_from_disk = r.Store.dump_to_disk = lambda self: None; "
    "runpy.run_module('localstripe', run_name='__main__')"
)


def start_localstripe(log: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-c", _LOCALSTRIPE_WITHOUT_DISK, "--port", str(port)],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    # Generous: on a loaded shared machine importing aiohttp alone can take many seconds.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode} (log: {log})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"localstripe did not start within 120 s (log: {log})")


@dataclass
class Logged:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str


@dataclass
class FakeStripe:
    upstream: str
    base: str = ""
    requests: list[Logged] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    fail_next: int = 0  # answer the next N mutating calls with a 500, as an outage would
    # Do the next mutating call but lose its answer (a timeout after Stripe acted): only an
    # idempotent retry keeps this from being applied twice.
    lose_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Customer balance transactions (localstripe has none): customer id → transactions.
    balance: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where Stripe would deliver webhooks (None: nowhere; tests then deliver by hand).
    webhook_url: str | None = None
    delivered: list[tuple[str, int]] = field(default_factory=list)

    # --- calls to localstripe (for the fake's own work) --------------------------------------

    def call(self, method: str, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        data = urlencode(params or []).encode() if method != "GET" else None
        url = self.upstream + path
        if method == "GET" and params:
            url += "?" + urlencode(params)
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {API_KEY}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def _overlay(self, body: bytes) -> bytes:
        try:
            data = json.loads(body)
        except ValueError:
            return body

        def fix(obj: Any) -> None:
            if isinstance(obj, dict):
                if obj.get("object") == "invoice" and obj.get("id"):
                    self._dress_invoice(obj)
                if (
                    obj.get("object") == "subscription"
                    and obj.get("id") in self.statuses
                    and obj.get("status") not in ("canceled", "incomplete_expired")
                ):
                    obj["status"] = self.statuses[obj["id"]]
                for value in obj.values():
                    fix(value)
            elif isinstance(obj, list):
                for value in obj:
                    fix(value)

        fix(data)
        return json.dumps(data).encode()

    def _dress_invoice(self, invoice: dict[str, Any]) -> None:
        """What Stripe's invoices carry and localstripe's do not."""
        invoice_id = str(invoice["id"])
        invoice.setdefault("number", None)
        if not invoice["number"]:
            invoice["number"] = f"RLT-{invoice_id[-8:].upper()}"
        invoice["hosted_invoice_url"] = f"{self.base}/_fake/invoices/{invoice_id}"
        invoice["invoice_pdf"] = f"{self.base}/_fake/invoices/{invoice_id}/pdf"

    # --- webhooks -----------------------------------------------------------------------------

    def send(self, type_: str, obj: dict[str, Any]) -> None:
        """Deliver a signed event to ``webhook_url`` a moment later, as Stripe would."""
        if not self.webhook_url:
            return
        payload = self.event(type_, obj)
        url = self.webhook_url

        def deliver() -> None:
            time.sleep(0.2)
            request = urllib.request.Request(url, data=payload.encode(), method="POST")
            request.add_header("Content-Type", "application/json")
            request.add_header("Stripe-Signature", self.signed(payload))
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            with self.lock:
                self.delivered.append((type_, status))

        threading.Thread(target=deliver, daemon=True).start()

    # --- what tests do ----------------------------------------------------------------------

    def plan(self, amount: int = 50000, currency: str = "rub") -> str:
        plan_id = f"price_relata_{secrets.token_hex(4)}"
        self.call(
            "POST",
            "/v1/plans",
            [
                ("id", plan_id),
                ("product[name]", "Relata seat"),
                ("amount", str(amount)),
                ("currency", currency),
                ("interval", "month"),
            ],
        )
        return plan_id

    def complete_checkout(self, session_id: str, card: str = "4242424242424242") -> dict[str, Any]:
        """The customer pays on the Checkout page: a card, then the subscription starts."""
        session = self.sessions[session_id]
        customer = session["customer"]
        method = self.call(
            "POST",
            "/v1/payment_methods",
            [
                ("type", "card"),
                ("card[number]", card),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        self.call("POST", f"/v1/payment_methods/{method['id']}/attach", [("customer", customer)])
        self.call(
            "POST",
            f"/v1/customers/{customer}",
            [("invoice_settings[default_payment_method]", method["id"])],
        )
        subscription = self.call(
            "POST",
            "/v1/subscriptions",
            [
                ("customer", customer),
                ("items[0][plan]", session["_price"]),
                ("items[0][quantity]", str(session["_quantity"])),
                ("metadata[company_id]", session.get("client_reference_id") or ""),
            ],
        )
        session.update(status="complete", payment_status="paid", subscription=subscription["id"])
        self.send("checkout.session.completed", self._public(session))
        invoice_id = subscription.get("latest_invoice")
        if invoice_id:
            invoice = self.call("GET", f"/v1/invoices/{invoice_id}")
            self._dress_invoice(invoice)
            self.send("invoice.paid", invoice)
        return session

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def set_status(self, subscription_id: str, status: str) -> None:
        self.statuses[subscription_id] = status

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        data = self.call("GET", f"/v1/subscriptions/{subscription_id}")
        return dict(json.loads(self._overlay(json.dumps(data).encode())))

    def quantity_updates(self) -> list[Logged]:
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path.startswith("/v1/subscriptions/")
            and "items[0][quantity]" in r.params
        ]

    def event(self, type_: str, obj: dict[str, Any], *, created: int | None = None) -> str:
        return json.dumps(
            {
                "id": f"evt_{secrets.token_hex(8)}",
                "object": "event",
                "api_version": "2025-03-31.basil",
                "created": created or int(time.time()),
                "type": type_,
                "livemode": False,
                "data": {"object": obj},
            }
        )

    @staticmethod
    def signed(payload: str, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
        stamp = at or int(time.time())
        mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256)
        return f"t={stamp},v1={mac.hexdigest()}"

    # --- the HTTP side ------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        path, _sep, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        pairs = parse_qsl(raw.decode() if method != "GET" else query, keep_blank_values=True)
        params = dict(pairs)
        key = handler.headers.get("Idempotency-Key", "")
        if method != "GET":
            with self.lock:
                self.requests.append(Logged(method, path, params, key))
        fingerprint = json.dumps([method, path, sorted(pairs)])
        if key and key in self.replies:
            seen, status, body = self.replies[key]
            if seen != fingerprint:
                body = json.dumps(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with "
                            "the same parameters they were first used with.",
                        }
                    }
                ).encode()
                status = 400
            self._reply(handler, status, body, replayed=True)
            return
        if method != "GET" and self.fail_next > 0:
            self.fail_next -= 1
            outage = json.dumps({"error": {"type": "api_error", "message": "fake outage"}})
            self._reply(handler, 500, outage.encode())
            return
        status, body = self._route(method, path, pairs, handler)
        if key and status < 500:
            self.replies[key] = (fingerprint, status, body)
        if method != "GET" and self.lose_next > 0:
            self.lose_next -= 1
            lost = json.dumps({"error": {"type": "api_error", "message": "fake timeout"}})
            self._reply(handler, 500, lost.encode())
            return
        self._reply(handler, status, body)

    def _route(  # noqa: PLR0911, PLR0912  (one branch per endpoint the fake adds)
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        handler: BaseHTTPRequestHandler,
    ) -> tuple[int, bytes]:
        params = dict(pairs)
        if path == "/v1/checkout/sessions" and method == "POST":
            session_id = f"cs_test_{secrets.token_hex(8)}"
            session: dict[str, Any] = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "status": "open",
                "payment_status": "unpaid",
                "subscription": None,
                "url": f"{self.base}/_fake/checkout/{session_id}",
                "_price": params.get("line_items[0][price]"),
                "_quantity": int(params.get("line_items[0][quantity]") or 1),
            }
            self.sessions[session_id] = session
            return 200, json.dumps(self._public(session)).encode()
        if path == "/v1/checkout/sessions" and method == "GET":
            listed = [
                session
                for session in self.sessions.values()
                if session["customer"] == params.get("customer", session["customer"])
                and session["status"] == params.get("status", session["status"])
            ]
            return 200, json.dumps(
                {
                    "object": "list",
                    "url": path,
                    "has_more": False,
                    "data": [self._public(session) for session in listed],
                }
            ).encode()
        if path.startswith("/v1/checkout/sessions/") and method == "GET":
            found = self.sessions.get(path.rsplit("/", 1)[1])
            if found is None:
                return 404, b'{"error": {"type": "invalid_request_error"}}'
            return 200, json.dumps(self._public(found)).encode()
        if path == "/v1/prices" and method == "POST":
            return self._create_price(params)
        if path == "/v1/prices" and method == "GET":
            keys = {value for key, value in pairs if key.startswith("lookup_keys[")}
            listed = [
                price
                for price in self.prices.values()
                if (not keys or price.get("lookup_key") in keys) and price["active"]
            ]
            return 200, json.dumps(
                {"object": "list", "url": path, "has_more": False, "data": listed}
            ).encode()
        if path.startswith("/_fake/invoices/"):
            invoice_id = path.split("/")[3]
            if path.endswith("/pdf"):
                return 200, b"%PDF-1.4 fake invoice " + invoice_id.encode()
            return 200, f"<html><body><h1>Invoice {invoice_id}</h1></body></html>".encode()
        if (
            path.startswith("/v1/customers/")
            and path.endswith("/balance_transactions")
            and method == "POST"
        ):
            customer = path.split("/")[3]
            try:
                amount = int(params["amount"])
            except (KeyError, ValueError):
                return 400, b'{"error": {"type": "invalid_request_error", "param": "amount"}}'
            transactions = self.balance.setdefault(customer, [])
            ending = sum(t["amount"] for t in transactions) + amount
            transaction = {
                "id": f"cbtxn_{secrets.token_hex(8)}",
                "object": "customer_balance_transaction",
                "customer": customer,
                "amount": amount,
                "currency": params.get("currency"),
                "description": params.get("description"),
                "ending_balance": ending,
                "type": "adjustment",
            }
            transactions.append(transaction)
            return 200, json.dumps(transaction).encode()
        if path == "/v1/billing_portal/sessions" and method == "POST":
            portal_id = f"bps_{secrets.token_hex(8)}"
            return 200, json.dumps(
                {
                    "id": portal_id,
                    "object": "billing_portal.session",
                    "customer": params.get("customer"),
                    "return_url": params.get("return_url"),
                    "url": f"{self.base}/_fake/portal/{portal_id}",
                }
            ).encode()
        if path.startswith("/_fake/checkout/"):
            session_id = path.split("/")[3]
            if method == "POST":
                session = self.complete_checkout(session_id)
                back = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
                return 303, back.encode()
            found = self.sessions.get(session_id)
            if found is None:
                return 404, b"<html><body>No such Checkout session</body></html>"
            page = (
                '<html lang="en"><head><title>Fake Checkout</title></head><body><main>'
                f"<h1>Test payment</h1><p>{found['_quantity']} × {found['_price']}</p>"
                '<form method="post"><button id="pay">Pay</button></form>'
                f"<p>{session_id}</p></main></body></html>"
            ).encode()
            return 200, page
        return self._forward(method, path, pairs, handler)

    def _forward(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        handler: BaseHTTPRequestHandler,
    ) -> tuple[int, bytes]:
        if path.startswith("/v1/subscriptions"):
            pairs = [(k.replace("[price]", "[plan]"), v) for k, v in pairs]
            # localstripe has no proration settings on updates (its proration is its own).
            pairs = [(k, v) for k, v in pairs if k != "proration_behavior"]
        url = self.upstream + path
        data = None
        if method == "GET":
            if pairs:
                url += "?" + urlencode(pairs)
        else:
            data = urlencode(pairs).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", handler.headers.get("Authorization", ""))
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, body = answer.status, self._overlay(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        if method == "POST" and path.startswith("/v1/subscriptions/") and path.count("/") == 3:
            self.send("customer.subscription.updated", json.loads(body))
        return status, body

    def _create_price(self, params: dict[str, str]) -> tuple[int, bytes]:
        """A recurring Price, kept as a localstripe Plan with the same id (what Checkout and
        subscriptions are given)."""
        try:
            amount = int(params["unit_amount"])
            currency = params["currency"]
        except (KeyError, ValueError):
            return 400, b'{"error": {"type": "invalid_request_error", "param": "unit_amount"}}'
        price_id = f"price_{secrets.token_hex(8)}"
        self.call(
            "POST",
            "/v1/plans",
            [
                ("id", price_id),
                ("product[name]", params.get("product_data[name]") or "Relata seat"),
                ("amount", str(amount)),
                ("currency", currency),
                ("interval", params.get("recurring[interval]") or "month"),
            ],
        )
        price = {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": currency,
            "unit_amount": amount,
            "lookup_key": params.get("lookup_key"),
            "recurring": {"interval": params.get("recurring[interval]") or "month"},
            "type": "recurring",
        }
        with self.lock:
            self.prices[price_id] = price
        return 200, json.dumps(price).encode()

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, *, replayed: bool = False
    ) -> None:
        if status == 303:
            handler.send_response(303)
            handler.send_header("Location", body.decode())
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(status)
        is_html = body.startswith(b"<")
        handler.send_header("Content-Type", "text/html" if is_html else "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(body)


def serve(fake: FakeStripe) -> Iterator[FakeStripe]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.handle(self)

        def do_POST(self) -> None:
            fake.handle(self)

        def do_DELETE(self) -> None:
            fake.handle(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """Serve localstripe and this fake for a development copy of Relata (Ctrl-C stops)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument(
        "--webhook-url",
        default="http://localhost:8000/billing/stripe/webhook/",
        help="where Relata takes Stripe's webhooks",
    )
    args = parser.parse_args()
    process, upstream = start_localstripe()
    fake = FakeStripe(upstream=upstream, webhook_url=args.webhook_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.handle(self)

        def do_POST(self) -> None:
            fake.handle(self)

        def do_DELETE(self) -> None:
            fake.handle(self)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    fake.base = f"http://localhost:{args.port}"
    print(  # noqa: T201
        "Local Stripe fake (localstripe behind tests/fake_stripe.py). Start Relata with:\n"
        f"  STRIPE_SECRET_KEY={API_KEY} STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET} "
        f"STRIPE_API_BASE={fake.base} python3 dev.py start",
        flush=True,
    )

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM (a process manager) stops it like Ctrl-C, localstripe included.
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        process.terminate()


if __name__ == "__main__":
    main()
