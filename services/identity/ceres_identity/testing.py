"""Test support for identity and the flows that use it: a real SMTP server on loopback (aiosmtpd) keeping the
mails it receives, an identity runtime with test-only settings (low argon2 cost), and a `Portal` that drives the
API like the front end and follows the links of the mails."""
from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from ceres_shared.config import BusSettings, Settings
from ceres_shared.events import make_envelope

from .bootstrap import bootstrap
from .config import IdentityConfig
from .context import configure
from .domain import botcheck
from .service_layer.mail import send_due, transport_for

PUBLIC = "http://identity.test"
WEB_PAGES = ("/mot-de-passe/nouveau",)  # the gateway's pages the mails open (service_layer/accounts.py)
PASSWORD = "Un-Mot2passe-solide"


class Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.messages.append(msg)
            self.changed.notify_all()
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp() -> tuple[Inbox, Controller]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    return inbox, controller


def config_for_tests(smtp_url: str, **changes):
    # Low argon2 cost and tiny proof of work: tests only (CERES_TESTING=1 allows it; production refuses it). The
    # first wait after wrong passwords is a minute, not a second: a slow test machine still sees it running.
    base = IdentityConfig(public_url=PUBLIC, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1,
                          pow_bits=4, signup_min_seconds=0, smtp_url=smtp_url, mail_poll=0.05, login_first_delay=60)
    return replace(base, **changes)


def build_identity(infra, amqp_url, issuer, smtp_url, exchange=None, **changes):

    settings = Settings(service="identity", database_url=infra.new_database(f"id{uuid.uuid4().hex[:8]}"),
                        bus=BusSettings(url=amqp_url, exchange=exchange or f"i{uuid.uuid4().hex[:8]}.events",
                                        retry_base_ms=50, max_attempts=3),
                        jwks_url=None)
    runtime = bootstrap(settings, jwks=issuer.jwks())
    runtime.upgrade_database()
    configure(runtime, config_for_tests(smtp_url, **changes), keyring=issuer)
    return runtime


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class Portal:
    """What a browser does with the identity API, and the mailbox it reads."""

    def __init__(self, runtime, client, smtp, deliver_inline: bool = True):
        # deliver_inline=False when the runtime's own mail sender runs in the background.
        self.runtime, self.client, self.smtp, self.deliver_inline = runtime, client, smtp, deliver_inline

    # -- mail ---------------------------------------------------------------------------------------------
    def deliver(self) -> None:
        send_due(self.runtime, transport_for(self.runtime.identity.config))

    def last_mail(self, address: str, subject: str | None = None, timeout: float = 10.0):
        """The latest mail to `address` (with that subject, when given), waiting for the sender."""
        if self.deliver_inline:
            self.deliver()

        def matching():
            return [m for m in self.smtp.to(address) if subject is None or m["Subject"] == subject]

        deadline = time.monotonic() + timeout
        with self.smtp.changed:
            while not matching():
                left = deadline - time.monotonic()
                assert left > 0, f"no mail for {address}"
                self.smtp.changed.wait(left)
        return matching()[-1]

    def link_in(self, message) -> str:
        return re.search(r"https?://\S+", message.get_content()).group(0)

    def follow(self, url: str):
        """Open a mailed link (GET shows a page) and return the token it carries. A link to one of the gateway's
        web pages (new password) is not identity's to show: its token only, and no page."""
        parts = urlsplit(url)
        assert url.startswith(PUBLIC)
        if parts.path in WEB_PAGES:
            return parse_qs(parts.query)["token"][0], None
        page = self.client.get(parts.path + "?" + parts.query)
        assert page.status_code == 200 and page.mimetype == "text/html"
        return parse_qs(parts.query)["token"][0], page

    # -- sign-up ------------------------------------------------------------------------------------------
    def signup_body(self, address: str, password: str = PASSWORD, **changes) -> dict:
        challenge = self.client.get("/accounts/signup-challenge").json
        body = {"email": address, "password": password, "password_confirmation": password, "civilite": "Mme",
                "nom": "Durand", "prenom": "Camille", "telephone": "01 23 45 67 89", "ticket": challenge["ticket"],
                "pow_nonce": botcheck.solve(challenge["ticket"], challenge["pow_bits"])}
        body.update(changes)
        return body

    def signup(self, address: str, **changes):
        return self.client.post("/accounts", json=self.signup_body(address, **changes))

    def register_and_activate(self, address: str, **changes) -> None:
        assert self.signup(address, **changes).status_code == 202
        token, _ = self.follow(self.link_in(self.last_mail(address, "Demande de création de votre compte CERES")))
        response = self.client.post("/accounts/activate", json={"token": token})
        assert response.status_code == 200, response.json

    def login(self, address: str, password: str = PASSWORD, ip: str | None = None):
        """Log in, from another client address when `ip` is given."""
        return self.client.post("/auth/login", json={"email": address, "password": password},
                                environ_base={"REMOTE_ADDR": ip} if ip else {})

    def tokens(self, address: str, password: str = PASSWORD) -> dict:
        response = self.login(address, password)
        assert response.status_code == 200, response.json
        return response.json


def register_centre(runtime, siret: str, commune_code: str = "01053", raison_sociale: str = "CFA DE L'AIN",
                    event: str = "centre.registered") -> None:
    """A centre.registered event handled as the consumer would (the flow test sends it over RabbitMQ)."""
    env = make_envelope(event, {"centre_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:centre:{siret}")),
                                "siret": siret, "siren": siret[:9], "raison_sociale": raison_sociale,
                                "adresse": "1 rue de la Gare", "code_postal": "01000",
                                "commune_code": commune_code, "commune_label": "Bourg-en-Bresse",
                                "type_centre": "CFA"}, producer="establishments")
    with runtime.session_factory.begin() as session:
        for handler in runtime.handlers[event]:
            handler(session, env)


def now() -> datetime:
    return datetime.now(timezone.utc)
