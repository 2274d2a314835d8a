"""Portal accounts (I1): sign-up with bot protection, activation by a single-use 24-hour link, log-in with
lock-out, log-out, password reset. No answer tells whether an email address has an account."""
from __future__ import annotations

import logging
import unicodedata
import uuid
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ceres_shared.errors import ApiError

from .. import mails
from ..context import Identity, aware, now
from ..domain import botcheck
from ..domain.passwords import policy_errors
from ..domain.secrets_box import new_token, token_hash
from ..models import Account, EmailToken
from . import limits, tokens
from .mail import enqueue

log = logging.getLogger(__name__)

SIGNUP_ACCEPTED = ("Si cette adresse électronique peut être utilisée, un courriel vient d'y être envoyé : "
                   "suivez le lien qu'il contient pour activer votre compte (valable 24 heures).")
RESET_ACCEPTED = ("Si un compte actif correspond à cette adresse, un courriel contenant un lien de "
                  "réinitialisation vient d'y être envoyé.")
BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
LINK_INVALID = "Ce lien n'est pas valide. Vérifiez que vous l'avez copié en entier."
LINK_USED = "Ce lien a déjà été utilisé."


def fold(text: str) -> str:
    """Lower case without accents, for searching names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def public_account(account: Account) -> dict:
    """What the audit trail keeps of an account (never the password hash)."""
    return {"email": account.email, "civilite": account.civilite, "nom": account.nom, "prenom": account.prenom,
            "telephone": account.telephone, "kind": account.kind, "agent_role": account.agent_role,
            "departements": account.departements, "regions": account.regions, "status": account.status}


def check_password(password: str, confirmation: str | None, *, email: str, nom: str, prenom: str) -> None:
    errors = {}
    problems = policy_errors(password, email=email, nom=nom, prenom=prenom)
    if problems:
        errors["password"] = problems
    if confirmation is not None and confirmation != password:
        errors["password_confirmation"] = ["Les deux mots de passe ne sont pas identiques."]
    if errors:
        raise ApiError(422, "Certaines données sont invalides.", errors=errors)


def issue_link(session: Session, account: Account, purpose: str, ttl: int) -> str:
    """A new single-use link token; older unused links of the same purpose stop working."""
    session.execute(delete(EmailToken).where(EmailToken.account_id == account.id, EmailToken.purpose == purpose,
                                             EmailToken.used_at.is_(None)))
    token = new_token()
    session.add(EmailToken(token_hash=token_hash(token), account_id=account.id, purpose=purpose,
                           expires_at=now() + timedelta(seconds=ttl)))
    return token


def link(ident: Identity, path: str, token: str) -> str:
    return f"{ident.config.public_url}{path}?token={token}"


# The gateway's web pages that the mails open (services/gateway/ceres_gateway/web/auth_views.py).
LOGIN_PAGE, FORGOTTEN_PAGE, NEW_PASSWORD_PAGE = "/connexion", "/mot-de-passe/oublie", "/mot-de-passe/nouveau"


def page_link(ident: Identity, path: str, token: str | None = None) -> str:
    """A link to one of the gateway's pages (its forms post with a CSRF token, work without script)."""
    return f"{ident.config.web_base}{path}" + (f"?token={token}" if token else "")


def signup_challenge(ident: Identity) -> dict:
    cfg = ident.config
    return {"ticket": botcheck.issue_ticket(ident.secret_key, cfg.pow_bits), "pow_bits": cfg.pow_bits,
            "min_seconds": cfg.signup_min_seconds}


def _check_bot(session: Session, ident: Identity, data: dict) -> None:
    cfg = ident.config
    reason = botcheck.check(ident.secret_key, data["ticket"], data["pow_nonce"], min_seconds=cfg.signup_min_seconds,
                            max_seconds=cfg.signup_max_seconds)
    if reason is None:
        ticket_key = limits.key_for("ticket", data["ticket"])
        if limits.blocked_until(session, ticket_key):
            reason = "Ce formulaire a déjà été envoyé : veuillez recharger la page."
        else:
            limits.count(session, ticket_key, limit=1, window=cfg.signup_max_seconds)
    if reason:
        raise ApiError(422, "La vérification anti-robot a échoué.", errors={"ticket": [reason]}, code="bot_check")


def signup(session: Session, rt, data: dict, ip: str) -> None:
    """I1. Answers the same whether or not the address has an account (SIGNUP_ACCEPTED)."""
    ident = rt.identity
    cfg = ident.config
    ip_key = limits.key_for("signup-ip", ip)
    limits.ensure_open(session, ip_key)
    limits.count(session, ip_key, limit=cfg.ip_max_requests, window=cfg.ip_window)
    if data.get("website"):  # honeypot: hidden field a person never fills; the bot is told it worked
        log.info("sign-up honeypot filled, ignored")
        session.commit()
        return
    _check_bot(session, ident, data)
    email = data["email"].strip().lower()
    check_password(data["password"], data["password_confirmation"], email=email, nom=data["nom"],
                   prenom=data["prenom"])
    password_hash = ident.passwords.hash(data["password"])  # always: the time taken says nothing either
    existing = session.scalar(select(Account).where(Account.email == email))
    if existing is not None and existing.status == "pending" and _activation_expired(session, existing):
        purge_account(rt, session, existing, reason="activation expirée, nouvelle inscription")
        session.flush()
        existing = None
    if existing is not None:
        if existing.status == "active":
            enqueue(session, email, mails.already_registered(
                existing.prenom, page_link(ident, LOGIN_PAGE), page_link(ident, FORGOTTEN_PAGE)))
        elif existing.status == "pending":  # a second sign-up before activating: a fresh link
            token = issue_link(session, existing, "activation", cfg.activation_ttl)
            enqueue(session, email, mails.activation(existing.prenom, existing.nom,
                                                     link(ident, "/accounts/activate", token)))
        session.commit()
        return
    account = Account(id=str(uuid.uuid4()), email=email, password_hash=password_hash, civilite=data["civilite"],
                      nom=data["nom"].strip(), prenom=data["prenom"].strip(), telephone=data["telephone"],
                      search_name=fold(f"{data['nom']} {data['prenom']}"), kind="portal", agent_role=None,
                      departements=[], regions=[], status="pending", created_at=now())
    session.add(account)
    session.flush()
    token = issue_link(session, account, "activation", cfg.activation_ttl)
    enqueue(session, email, mails.activation(account.prenom, account.nom, link(ident, "/accounts/activate", token)))
    audit(rt, session, account, "create", None, public_account(account))
    session.commit()


def _activation_expired(session: Session, account: Account) -> bool:
    live = session.scalar(select(EmailToken).where(EmailToken.account_id == account.id,
                                                   EmailToken.purpose == "activation",
                                                   EmailToken.expires_at > now()))
    return live is None


def audit(rt, session: Session, account: Account, action: str, before, after, *, actor: str | None = None,
          role: str | None = None, reason: str | None = None) -> None:
    rt.audit.record(session, entity_type="account", entity_id=account.id, action=action,
                    actor=actor or f"compte:{account.id}", actor_role=role, before=before, after=after,
                    reason=reason)


def purge_account(rt, session: Session, account: Account, reason: str) -> None:
    audit(rt, session, account, "purge", public_account(account), None, actor="system", reason=reason)
    session.delete(account)


def _use_link(session: Session, token: str, purposes: tuple[str, ...]) -> EmailToken:
    row = session.get(EmailToken, token_hash(token), with_for_update=True)
    if row is None or row.purpose not in purposes:
        raise ApiError(404, LINK_INVALID, code="link_invalid")
    if row.used_at is not None:
        raise ApiError(409, LINK_USED, code="link_used")
    return row


def activate(session: Session, rt, token: str) -> Account:
    """I1: the link works once and for 24 hours; after that the account is purged and sign-up starts again."""
    row = _use_link(session, token, ("activation",))
    account = session.get(Account, row.account_id)
    if aware(row.expires_at) <= now():
        purge_account(rt, session, account, reason="lien d'activation expiré")
        session.commit()
        raise ApiError(410, "Ce lien d'activation a expiré (24 heures). Votre demande a été supprimée : "
                            "veuillez recommencer l'inscription.", code="link_expired")
    before = public_account(account)
    row.used_at = now()
    account.status, account.activated_at = "active", now()
    audit(rt, session, account, "activate", before, public_account(account))
    session.commit()
    return account


def _login_keys(email: str, ip: str) -> tuple[str, str, str]:
    """Failure counters of a log-in: the email from this address, the email from anywhere, the address."""
    return (limits.key_for("login-pair", f"{email}\0{ip}"), limits.key_for("login", email),
            limits.key_for("login-ip", ip))


def login(session: Session, rt, email: str, password: str, ip: str) -> dict:
    """M2: wrong passwords cost growing waits — per email from one address (an attacker slows down himself, not
    the rightful user elsewhere), per email from all addresses (past a higher count), and per address (whether
    or not the email has an account, so the wait says nothing). A wait, once over, lets the right password in."""
    ident = rt.identity
    cfg = ident.config
    email = email.strip().lower()
    pair_key, email_key, ip_key = _login_keys(email, ip)
    for key in (email_key, pair_key):  # in this order everywhere: attempts on one email wait for each other
        limits.lock(session, key)
    limits.ensure_open(session, pair_key, email_key, ip_key)
    account = session.scalar(select(Account).where(Account.email == email))
    if not ident.passwords.verify(account.password_hash if account else None, password):
        waits = {"first": cfg.login_first_delay, "cap": cfg.login_max_delay, "memory": cfg.failure_memory}
        limits.fail(session, pair_key, free=cfg.login_max_failures, **waits)
        limits.fail(session, email_key, free=cfg.login_account_max_failures, **waits)
        limits.fail(session, ip_key, free=cfg.ip_max_requests, **waits)
        session.commit()
        raise ApiError(401, BAD_CREDENTIALS, code="bad_credentials")
    if account.status == "pending":
        raise ApiError(403, "Votre compte n'est pas encore activé : suivez le lien reçu par courriel.",
                       code="account_pending")
    if account.status != "active":
        raise ApiError(403, "Ce compte est désactivé.", code="account_disabled")
    limits.clear(session, pair_key)  # not the address's count: logging into one's own account frees no one
    limits.clear(session, email_key)
    if ident.passwords.needs_rehash(account.password_hash):
        account.password_hash = ident.passwords.hash(password)
    pair = tokens.token_pair(session, ident, account)
    session.commit()
    return pair


def request_reset(session: Session, rt, email: str, ip: str) -> None:
    ident = rt.identity
    cfg = ident.config
    ip_key = limits.key_for("reset-ip", ip)
    limits.ensure_open(session, ip_key)
    limits.count(session, ip_key, limit=cfg.ip_max_requests, window=cfg.ip_window)
    email = email.strip().lower()
    mail_key = limits.key_for("reset", email)
    account = session.scalar(select(Account).where(Account.email == email))
    # A few mails an hour at most per address, silently: the answer stays the same.
    if account is not None and account.status == "active" and not limits.blocked_until(session, mail_key):
        limits.count(session, mail_key, limit=3, window=3600)
        token = issue_link(session, account, "reset", cfg.reset_ttl)
        enqueue(session, email, mails.password_reset(account.prenom, page_link(ident, NEW_PASSWORD_PAGE, token)))
    session.commit()


def confirm_reset(session: Session, rt, token: str, password: str, confirmation: str, ip: str) -> Account:
    """Sets a new password from a reset link (or an agent's set-up link); ends every open log-in."""
    ident = rt.identity
    row = _use_link(session, token, ("reset", "setup"))
    if aware(row.expires_at) <= now():
        raise ApiError(410, "Ce lien a expiré : veuillez refaire une demande.", code="link_expired")
    account = session.get(Account, row.account_id)
    check_password(password, confirmation, email=account.email, nom=account.nom, prenom=account.prenom)
    before = public_account(account)
    account.password_hash = ident.passwords.hash(password)
    if row.purpose == "setup" and account.status == "pending":
        account.status, account.activated_at = "active", now()
    row.used_at = now()
    tokens.revoke_all(session, account.id)
    pair_key, email_key, _ = _login_keys(account.email, ip)
    limits.clear(session, pair_key)
    limits.clear(session, email_key)
    audit(rt, session, account, "password_reset" if row.purpose == "reset" else "setup", before,
           public_account(account))
    session.commit()
    return account


def purge_expired(runtime) -> int:
    """Pending accounts whose activation link expired are removed (I1: sign up again), with used/expired links
    and stale counters."""
    with runtime.session_factory() as session:
        expired = session.scalars(
            select(Account).where(Account.status == "pending", Account.kind == "portal",
                                  ~Account.id.in_(select(EmailToken.account_id)
                                                  .where(EmailToken.purpose == "activation",
                                                         EmailToken.expires_at > now())))).all()
        for account in expired:
            purge_account(runtime, session, account, reason="lien d'activation expiré")
        session.execute(delete(EmailToken).where(EmailToken.expires_at < now() - timedelta(days=1)))
        limits.purge_stale(session)
        session.commit()
        return len(expired)
