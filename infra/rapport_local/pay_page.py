"""The sandbox rail's hosted pay page, served on loopback for local development.

A debtor's link (``<pay page>/<link_id>``) opens a page with the amount due and its expiry; paying
(in full or in part) or having the card declined posts the sandbox's signed webhook to the webhook
function, exactly as a provider's checkout would, and the page says what the webhook answered. An
expired or settled link takes no payment, as a real checkout refuses one.

Run it with ``make pay-page``: a few accounts of the shipped portfolio are loaded, their journeys
start and wait (for an hour of the simulated day) on the first message, and the links they were
sent are printed; open one in a browser, pay, and see the journey thank the debtor and end.

The page shows amounts and dates only, never who the debtor is.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from rapport.journey.plans import plan_of_link
from rapport.payments import LinkStatus, PaymentEventKind
from rapport.payments.plans import PaymentPlan
from rapport.store.models import PaymentLinkModel
from rapport_local import payments_page

_PAY_PATH = re.compile(r"^/pay/(?P<link_id>[A-Za-z0-9_-]{1,64})$")
_OUTCOMES = {"pay": PaymentEventKind.SUCCEEDED, "decline": PaymentEventKind.FAILED}
_MAX_FORM_BYTES = 2_048
_MOST_RAND = Decimal(1_000_000_000)
_PAID = {LinkStatus.PAID.value, LinkStatus.OVERPAID.value}


def _rand(cents: int) -> str:
    return f"R {cents / 100:,.2f}".replace(",", " ")


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>{body}</main>"
        "</body></html>"
    ).encode()


class PayPage:
    """What the page does, apart from HTTP: read a link, take a payment on it."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def link(self, link_id: str) -> PaymentLinkModel | None:
        try:
            return PaymentLinkModel.get(link_id)
        except PaymentLinkModel.DoesNotExist:
            return None

    def refusal(self, link: PaymentLinkModel) -> str | None:
        """Why this link takes no payment now, or None."""
        if link.status in _PAID:
            return "This link has already been paid."
        # As the webhook judges it: a link past its expiry that never took a payment takes none now.
        if link.expires_at <= self.cloud.clock.now() and not link.events:
            return "This link has expired. Reply to our message for a new one."
        plan = plan_of_link(self.cloud.services, link)
        if plan is not None and plan.status != "active":
            # As the plan's own pay link answers: a completed or cancelled plan takes nothing more here.
            return "This payment plan has ended. Reply to our message to talk to us."
        return None

    def due_cents(self, link: PaymentLinkModel) -> int:
        """What the page asks for: a plan's next instalment on a plan's link, else what the link still asks."""
        plan = plan_of_link(self.cloud.services, link)
        if plan is not None and "current" in (plan.plan or {}):
            unpaid = PaymentPlan.model_validate(plan.plan["current"]).unpaid
            if unpaid:
                return unpaid[0].outstanding_cents
        return max(0, link.amount_cents - link.credited_cents)

    def pay(self, link: PaymentLinkModel, amount_cents: int, outcome: PaymentEventKind) -> dict[str, Any]:
        headers, body = payments_page.link_payment(self.cloud, link.link_id, amount_cents, outcome)
        return self.cloud.post_webhook(link.provider, headers, body)


def _handler(page: PayPage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "RapportSandboxPay/1"

        def do_GET(self) -> None:  # the name http.server calls
            link = self._link()
            if link is None:
                return
            refusal = page.refusal(link)
            if refusal:
                self._answer(HTTPStatus.GONE, _page("Nothing to pay", f"<p>{html.escape(refusal)}</p>"))
                return
            owed = page.due_cents(link)
            form = (
                f"<p>Amount due: <strong>{_rand(owed)}</strong></p>"
                f"<p>This link is valid until {link.expires_at:%d %B %Y, %H:%M} UTC.</p>"
                f"<form method='post'><label>Amount to pay (rand) <input name='amount' inputmode='decimal' "
                f"value='{owed / 100:.2f}' required></label> "
                "<button name='action' value='pay'>Pay</button> "
                "<button name='action' value='decline'>My card is declined</button></form>"
            )
            self._answer(HTTPStatus.OK, _page("Pay your account", form))

        def do_POST(self) -> None:
            link = self._link()
            if link is None:
                return
            refusal = page.refusal(link)
            if refusal:
                self._answer(HTTPStatus.GONE, _page("Nothing to pay", f"<p>{html.escape(refusal)}</p>"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_FORM_BYTES:
                self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _page("Too much", "<p>Form too large.</p>"))
                return
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            outcome = _OUTCOMES.get((form.get("action") or [""])[0])
            amount_cents = _cents((form.get("amount") or [""])[0])
            if outcome is None or amount_cents is None:
                problem = "<p>Enter an amount in rand, like 150.00, and choose Pay.</p>"
                self._answer(HTTPStatus.BAD_REQUEST, _page("Please check the amount", problem))
                return
            answer = page.pay(link, amount_cents, outcome)
            if answer["statusCode"] != HTTPStatus.OK:
                said = f"<p>The payment could not be taken now (webhook answered {answer['statusCode']}).</p>"
                self._answer(HTTPStatus.BAD_GATEWAY, _page("Not taken", said))
            elif outcome is PaymentEventKind.FAILED:
                self._answer(HTTPStatus.OK, _page("Card declined", "<p>Nothing was taken.</p>"))
            else:
                said = f"<p>Thank you. {_rand(amount_cents)} was received.</p>"
                self._answer(HTTPStatus.OK, _page("Payment received", said))

        def _link(self) -> PaymentLinkModel | None:
            match = _PAY_PATH.match(self.path.split("?", 1)[0])
            link = page.link(match["link_id"]) if match else None
            if link is None:
                self._answer(HTTPStatus.NOT_FOUND, _page("Not found", "<p>There is no such payment link.</p>"))
            return link

        def _answer(self, status: HTTPStatus, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: request lines carry link ids, which are nobody's business in a terminal log."""

    return Handler


def _cents(text: str) -> int | None:
    """Rand as typed ("150", "150.5", "1 500,00") to cents; None for anything else or a non-positive sum."""
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
        if not amount.is_finite() or not 0 < amount < _MOST_RAND or amount != amount.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:
        return None
    return int(amount * 100)


@contextmanager
def serving(cloud: Any, port: int = 0) -> Iterator[str]:
    """Serve the pay page for ``cloud`` on 127.0.0.1 (``port`` 0: any free one); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(PayPage(cloud)))
    thread = threading.Thread(target=server.serve_forever, name="pay-page", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pay"
    finally:
        server.shutdown()
        server.server_close()


def _links_once_sent(cloud: Any, timeout: float = 60) -> list[PaymentLinkModel]:
    """The links of the journeys' first messages, once every started journey waits (or a minute)."""
    from rapport.store.models import JourneyModel

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        journeys = list(JourneyModel.scan())
        if journeys and all(journey.status != "running" for journey in journeys):
            break
        time.sleep(0.5)
    return sorted(PaymentLinkModel.scan(), key=lambda link: link.created_at)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from rapport.clock import SimulatedClock
    from rapport.portfolio import read_portfolio
    from rapport_infra.catalogue import PROJECT_ROOT
    from rapport_local.cloud import LocalCloud
    from rapport_local.loading import load_accounts
    from rapport_local.main import _CAMPAIGN_DAY_STARTS

    parser = argparse.ArgumentParser(prog="rapport-pay-page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", type=Path, default=PROJECT_ROOT / "clients" / "acme-za.toml")
    parser.add_argument("--portfolio", type=Path, default=PROJECT_ROOT / "data" / "uci-credit-card-default.csv")
    parser.add_argument("--limit", type=int, default=40, help="portfolio rows to load (default 40)")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)

    portfolio = read_portfolio(args.portfolio, limit=args.limit)
    # The simulated day runs at real speed here: a person is paying by hand.
    with LocalCloud(args.client, clock=SimulatedClock(_CAMPAIGN_DAY_STARTS, scale=1)) as cloud:
        payments_page.enable_payments(cloud)
        load_accounts(cloud, portfolio.accounts)
        campaign = cloud.client.campaigns[0].name
        timings = {"reply_timeout_seconds": 3600, "promise_wait_seconds": 3600, "max_wait_seconds": 2}
        cloud.start_campaign(campaign, page_size=args.limit, timings=timings)
        with serving(cloud, args.port) as base_url:
            links = _links_once_sent(cloud)
            print(f"pay page on {base_url}; links sent so far ({len(links)}):")
            for link in links:
                print(f"  {base_url}/{link.link_id}  {_rand(link.amount_cents)}  ({link.account_id})")
            print("Ctrl-C to stop.", flush=True)
            signal.signal(signal.SIGTERM, _stop)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0


if __name__ == "__main__":
    code = main()
    # moto runs each journey on a thread of its own that waits out its state's timeout (an hour
    # here); nothing is left to save, so the process ends now instead of waiting for them.
    sys.stdout.flush()
    os._exit(code)
