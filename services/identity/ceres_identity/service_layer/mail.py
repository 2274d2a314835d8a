"""Mail through an outbox: `enqueue` writes the mail in the caller's transaction; `MailSender` (an extra worker
of the runtime) sends what is due — SMTP when SMTP_URL is set, else `.eml` files under var/mail/ — and retries
with backoff, so a mail server outage delays mail but loses none."""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import now
from ..models import Mail

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600


def enqueue(session: Session, to: str, subject_and_body: tuple[str, str]) -> None:
    subject, body = subject_and_body
    current = now()
    session.add(Mail(to_addr=to, subject=subject, body=body, created_at=current, next_attempt_at=current,
                     attempts=0))


def build_message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=str(mail.id), domain="ceres.emploi.gouv.fr")
    msg.set_content(mail.body)  # UTF-8, quoted-printable or base64 as needed
    return msg


class SmtpTransport:
    """smtp://user:pass@host:port (STARTTLS when ?starttls=1) or smtps://host:port."""

    def __init__(self, url: str):
        parts = urlparse(url)
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] == "1"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, msg: EmailMessage) -> None:
        if self.tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=10, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=10)
        with client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(msg)


class FileTransport:
    """Embedded mode: each mail as an .eml file, readable in any mail client."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, msg: EmailMessage) -> None:
        name = msg["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.directory / f"{name}.eml").write_bytes(bytes(msg))


def transport_for(config):
    return SmtpTransport(config.smtp_url) if config.smtp_url else FileTransport(config.mail_dir)


def send_due(runtime, transport, batch: int = 20) -> int:
    """Send the mails that are due; returns how many were sent."""
    sent = 0
    with runtime.session_factory() as session:
        query = (select(Mail).where(Mail.sent_at.is_(None), Mail.next_attempt_at <= now())
                 .order_by(Mail.next_attempt_at).limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # two workers never send the same mail
        for mail in session.scalars(query):
            try:
                transport.send(build_message(mail, runtime.identity.config.mail_from))
            except (OSError, smtplib.SMTPException) as exc:
                mail.attempts += 1
                mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
                mail.next_attempt_at = now() + timedelta(seconds=min(MAX_BACKOFF, 5 * 2 ** mail.attempts))
                log.warning("mail %s not sent (attempt %s): %s", mail.id, mail.attempts, type(exc).__name__)
                continue
            mail.sent_at = now()
            mail.attempts += 1
            sent += 1
        session.commit()
    return sent


class MailSender:
    def __init__(self, runtime):
        self.runtime = runtime
        self.transport = transport_for(runtime.identity.config)
        self._stop = threading.Event()

    def run(self) -> None:
        poll = self.runtime.identity.config.mail_poll
        while not self._stop.is_set():
            try:
                send_due(self.runtime, self.transport)
            except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
                log.exception("mail sender pass failed")
            self._stop.wait(poll)

    def stop(self) -> None:
        self._stop.set()
