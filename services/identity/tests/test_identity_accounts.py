"""Portal accounts (I1): sign-up with bot protection, activation link (single use, 24 h), log-in, lock-out,
refresh, log-out, password reset — and no answer that tells whether an address has an account."""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from ceres_identity.domain import botcheck
from ceres_identity.domain.secrets_box import token_hash
from ceres_identity.models import Account, Attempt, EmailToken, Mail, RefreshToken
from ceres_identity.testing import PASSWORD, bearer, now


def test_I1_sign_up_activate_by_mailed_link_log_in_and_read_me(portal):
    assert portal.signup("camille.durand@example.fr").status_code == 202
    mail = portal.last_mail("camille.durand@example.fr")
    assert mail["Subject"] == "Demande de création de votre compte CERES"
    text = mail.get_content()
    assert "Bonjour Camille Durand" in text and "valable pour une seule activation" in text
    assert portal.login("camille.durand@example.fr").json["type"] == "about:blank#account_pending"
    token, page = portal.follow(portal.link_in(mail))
    assert "Activer mon compte" in page.get_data(as_text=True)
    assert portal.client.post("/accounts/activate", json={"token": token}).status_code == 200
    pair = portal.tokens("camille.durand@example.fr")
    assert pair["role"] == "centre" and pair["expires_in"] == 900
    me = portal.client.get("/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json["email"] == "camille.durand@example.fr" and me.json["memberships"] == []
    with portal.runtime.session_factory() as session:
        stored = session.scalar(select(Account).where(Account.email == "camille.durand@example.fr"))
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        history = portal.runtime.audit.history(session, "account", stored.id)
    assert [h["action"] for h in history] == ["create", "activate"]
    assert "password_hash" not in str(history)


def test_I1_replayed_activation_link_is_refused(portal):
    portal.signup("replay@example.fr")
    token, _ = portal.follow(portal.link_in(portal.last_mail("replay@example.fr")))
    assert portal.client.post("/accounts/activate", json={"token": token}).status_code == 200
    again = portal.client.post("/accounts/activate", json={"token": token})
    assert again.status_code == 409 and again.json["detail"] == "Ce lien a déjà été utilisé."
    forged = portal.client.post("/accounts/activate", json={"token": token[:-2] + ("yy" if token.endswith("xx") else "xx")})
    assert forged.status_code == 404


def test_I1_expired_link_purges_the_account_and_sign_up_starts_again(portal):
    portal.signup("late@example.fr")
    token, _ = portal.follow(portal.link_in(portal.last_mail("late@example.fr")))
    with portal.runtime.session_factory.begin() as session:
        session.execute(update(EmailToken).values(expires_at=now() - timedelta(minutes=1))
                        .where(EmailToken.purpose == "activation", EmailToken.used_at.is_(None)))
    expired = portal.client.post("/accounts/activate", json={"token": token})
    assert expired.status_code == 410 and "recommencer l'inscription" in expired.json["detail"]
    with portal.runtime.session_factory() as session:
        assert session.scalar(select(Account).where(Account.email == "late@example.fr")) is None
    portal.register_and_activate("late@example.fr")
    assert portal.login("late@example.fr").status_code == 200


def test_I1_expired_pending_accounts_are_purged_by_the_worker(portal):
    from ceres_identity.service_layer.accounts import purge_expired

    portal.signup("never@example.fr")
    portal.last_mail("never@example.fr")
    assert purge_expired(portal.runtime) == 0
    with portal.runtime.session_factory.begin() as session:
        account = session.scalar(select(Account).where(Account.email == "never@example.fr"))
        session.execute(update(EmailToken).where(EmailToken.account_id == account.id)
                        .values(expires_at=now() - timedelta(seconds=1)))
    assert purge_expired(portal.runtime) == 1
    with portal.runtime.session_factory() as session:
        assert session.scalar(select(Account).where(Account.email == "never@example.fr")) is None


def test_password_policy_and_fields_are_checked_field_by_field_in_french(portal):
    weak = portal.client.post("/accounts", json=portal.signup_body("weak@example.fr", password="court",
                                                                   password_confirmation="autre"))
    assert weak.status_code == 422
    assert "12 caractères" in weak.json["errors"]["password"][0]
    assert weak.json["errors"]["password_confirmation"] == ["Les deux mots de passe ne sont pas identiques."]
    personal = portal.signup("weak@example.fr", password="Durand-2024-xyz!", password_confirmation="Durand-2024-xyz!")
    assert "votre nom" in personal.json["errors"]["password"][0]
    missing = portal.client.post("/accounts", json={"email": "pas-une-adresse"})
    assert missing.status_code == 422
    assert missing.json["errors"]["email"] == ["Adresse électronique invalide."]
    assert missing.json["errors"]["nom"] == ["Ce champ est obligatoire."]
    with portal.runtime.session_factory() as session:
        assert session.scalar(select(Account).where(Account.email == "weak@example.fr")) is None


def test_bot_protection_honeypot_time_trap_proof_of_work_and_single_use_ticket(portal, smtp):
    before = len(smtp.messages)
    trapped = portal.signup("bot@example.fr", website="http://spam.example")
    assert trapped.status_code == 202  # the bot is told nothing
    portal.deliver()
    with portal.runtime.session_factory() as session:
        assert session.scalar(select(Account).where(Account.email == "bot@example.fr")) is None
    assert len(smtp.messages) == before
    unsolved_body = portal.signup_body("bot@example.fr")
    bits = int(unsolved_body["ticket"].split(".")[1])
    # a nonce that does not solve this ticket's proof of work (the first one that fails, found like the server checks)
    wrong = next(str(n) for n in range(1000) if botcheck.leading_zero_bits(
        hashlib.sha256(f"{unsolved_body['ticket']}:{n}".encode()).digest()) < bits)
    unsolved = portal.client.post("/accounts", json={**unsolved_body, "pow_nonce": wrong})
    assert unsolved.status_code == 422 and "anti-robot" in unsolved.json["errors"]["ticket"][0]
    tampered_body = portal.signup_body("bot@example.fr")
    last = tampered_body["ticket"][-1]
    # change the signature's last character to a different one (a fixed "0" is a no-op one time in 16)
    tampered_ticket = tampered_body["ticket"][:-1] + ("1" if last == "0" else "0")
    tampered = portal.client.post("/accounts", json={**tampered_body, "ticket": tampered_ticket})
    assert tampered.status_code == 422 and tampered.json["errors"]["ticket"]
    body = portal.signup_body("ticket@example.fr")
    assert portal.client.post("/accounts", json=body).status_code == 202
    reused = portal.client.post("/accounts", json={**body, "email": "ticket2@example.fr"})
    assert reused.status_code == 422 and "déjà été envoyé" in reused.json["errors"]["ticket"][0]
    slow_identity = portal.runtime.identity
    portal.runtime.identity = replace(slow_identity, config=replace(slow_identity.config, signup_min_seconds=30))
    try:
        hasty = portal.signup("hasty@example.fr")
    finally:
        portal.runtime.identity = slow_identity
    assert hasty.status_code == 422 and "trop vite" in hasty.json["errors"]["ticket"][0]


def test_proof_of_work_is_checked():
    from ceres_identity.domain import botcheck

    ticket = botcheck.issue_ticket("k", 12)
    nonce = botcheck.solve(ticket, 12)
    assert botcheck.check("k", ticket, nonce, min_seconds=0, max_seconds=60) is None
    wrong = next(str(n) for n in range(10_000) if botcheck.check("k", ticket, str(n), min_seconds=0,
                                                                   max_seconds=60) is not None)
    assert botcheck.check("k", ticket, wrong, min_seconds=0, max_seconds=60) == "Vérification anti-robot invalide."
    assert botcheck.check("other", ticket, nonce, min_seconds=0, max_seconds=60) is not None


def test_no_user_enumeration_through_sign_up(portal):
    portal.register_and_activate("known@example.fr")
    known = portal.signup("known@example.fr")
    unknown = portal.signup("unknown-person@example.fr")
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    # Only the mailbox's owner learns the account exists.
    content = portal.last_mail("known@example.fr").get_content()
    assert "a déjà un compte CERES" in content
    # Its links open the gateway's pages: log-in, and the form asking for a new password.
    lines = content.splitlines()
    assert "Pour vous connecter : http://identity.test/connexion" in lines
    assert "Si vous avez oublié votre mot de passe : http://identity.test/mot-de-passe/oublie" in lines


def test_mail_links_open_the_gateways_web_pages_wherever_identitys_api_is_published():
    from ceres_identity.config import IdentityConfig

    behind_gateway = IdentityConfig(public_url="https://ceres.example/api/identity/")
    assert behind_gateway.web_base == "https://ceres.example"
    elsewhere = IdentityConfig(public_url="https://api.ceres.example/identity", web_url="https://ceres.example/")
    assert elsewhere.web_base == "https://ceres.example"


def test_login_brute_force_locks_the_address_whether_or_not_it_exists(portal):
    portal.register_and_activate("target@example.fr")
    for _ in range(5):
        wrong = portal.login("target@example.fr", "Mauvais-mot-2-passe")
        assert wrong.status_code == 401 and wrong.json["detail"] == "Adresse électronique ou mot de passe incorrect."
        ghost = portal.login("ghost@example.fr", "Mauvais-mot-2-passe")
        assert ghost.status_code == 401 and ghost.json["detail"] == wrong.json["detail"]
    locked = portal.login("target@example.fr")  # even the right password
    assert locked.status_code == 429 and locked.json["type"] == "about:blank#too_many_attempts"
    assert portal.login("ghost@example.fr").status_code == 429  # same answer for an address without account
    # A reset by mail unlocks the account.
    portal.client.post("/auth/password-reset", json={"email": "target@example.fr"})
    link = portal.link_in(portal.last_mail("target@example.fr"))
    # The link opens the gateway's web page (identity's own would run no script under the gateway's CSP).
    assert link.startswith("http://identity.test/mot-de-passe/nouveau?token=")
    token, _ = portal.follow(link)
    new = "Nouveau-Mot2passe-sur"
    done = portal.client.post("/auth/password-reset/confirm",
                              json={"token": token, "password": new, "password_confirmation": new})
    assert done.status_code == 200
    assert portal.login("target@example.fr", new).status_code == 200


def _expire_waits(portal) -> None:
    """Move every running wait of the limits into the past, as if it had been waited out (failures stay counted)."""
    with portal.runtime.session_factory.begin() as session:
        session.execute(update(Attempt).where(Attempt.blocked_until.is_not(None))
                        .values(blocked_until=now() - timedelta(seconds=1)))


def test_M2_an_attackers_failures_delay_the_rightful_user_briefly_never_lock_them_out(portal):
    portal.register_and_activate("victim@example.fr")
    attacker = "203.0.113.66"
    for _ in range(5):
        assert portal.login("victim@example.fr", "Mauvais-mot-2-passe", ip=attacker).status_code == 401
    # The rightful user, from their own address, is not slowed down at all.
    assert portal.login("victim@example.fr", ip="198.51.100.20").status_code == 200
    # Behind the attacker's address (one NAT), the right password waits a short delay, then works.
    waited = portal.login("victim@example.fr", ip=attacker)
    first = portal.runtime.identity.config.login_first_delay
    assert waited.status_code == 429 and waited.headers["Retry-After"] == str(first)
    assert waited.json["detail"] == "Trop de tentatives. Veuillez réessayer dans 1 minute."
    assert waited.json["type"] == "about:blank#too_many_attempts" and waited.json["retry_after"] == first
    _expire_waits(portal)
    assert portal.login("victim@example.fr", ip=attacker).status_code == 200


def test_M2_an_attacker_keeps_getting_growing_waits(portal):
    cfg = portal.runtime.identity.config
    waits, details = [], []
    while len(waits) < 8:
        answer = portal.login("target2@example.fr", "Mauvais-mot-2-passe", ip="203.0.113.77")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            details.append(answer.json["detail"])
            _expire_waits(portal)
        else:
            assert answer.status_code == 401
    assert waits == [min(cfg.login_max_delay, cfg.login_first_delay * 2 ** k) for k in range(8)]
    assert waits[-1] == cfg.login_max_delay == 900
    assert details[1] == "Trop de tentatives. Veuillez réessayer dans 2 minutes."
    assert details[-1] == "Trop de tentatives. Veuillez réessayer dans 15 minutes."


def test_M2_parallel_guesses_do_not_skip_the_waits(portal):
    """Attempts on one email wait for each other (row lock): of 12 guesses sent at once, the free ones fail and
    the rest are told to wait — not 12 password checks."""
    free = portal.runtime.identity.config.login_max_failures
    portal.register_and_activate("parallel@example.fr")
    with ThreadPoolExecutor(12) as pool:
        statuses = sorted(pool.map(lambda _: portal.login("parallel@example.fr", "Mauvais-mot-2-passe",
                                                          ip="203.0.113.88").status_code, range(12)))
    assert statuses == [401] * free + [429] * (12 - free)


def test_M2_production_waits_start_at_one_second_and_double_up_to_fifteen_minutes():
    from ceres_identity.config import IdentityConfig
    from ceres_identity.service_layer.limits import delay_after

    cfg = IdentityConfig(public_url="https://ceres.example/api/identity")
    waits = [delay_after(n, free=cfg.login_max_failures, first=cfg.login_first_delay, cap=cfg.login_max_delay)
             for n in range(1, 18)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


def test_M2_many_failures_from_one_address_slow_it_down_progressively_not_for_15_minutes(portal):
    portal.register_and_activate("office@example.fr")
    cfg = portal.runtime.identity.config
    office = "198.51.100.99"
    for n in range(cfg.ip_max_requests):
        assert portal.login(f"guess{n}@example.fr", "Mauvais-mot-2-passe", ip=office).status_code == 401
    waited = portal.login("office@example.fr", ip=office)  # even the right password, for a short while
    assert waited.status_code == 429 and waited.headers["Retry-After"] == str(cfg.login_first_delay)
    assert portal.login("office@example.fr", ip="198.51.100.98").status_code == 200  # another address is free
    _expire_waits(portal)
    assert portal.login("office@example.fr", ip=office).status_code == 200
    assert portal.login("guess-again@example.fr", "Mauvais-mot-2-passe", ip=office).status_code == 401
    again = portal.login("office@example.fr", ip=office)
    assert again.status_code == 429 and again.headers["Retry-After"] == str(2 * cfg.login_first_delay)


def test_L6_every_429_of_identity_says_how_long_to_wait(portal):
    cfg = portal.runtime.identity.config
    reset_from = {"REMOTE_ADDR": "192.0.2.31"}
    for _ in range(cfg.ip_max_requests):
        assert portal.client.post("/auth/password-reset", json={"email": "x@example.fr"},
                                  environ_base=reset_from).status_code == 202
    reset = portal.client.post("/auth/password-reset", json={"email": "x@example.fr"}, environ_base=reset_from)
    signup_from = {"REMOTE_ADDR": "192.0.2.32"}
    for _ in range(cfg.ip_max_requests):  # the honeypot answers 202 and counts like any sign-up
        assert portal.client.post("/accounts", json=portal.signup_body("bot@example.fr", website="x"),
                                  environ_base=signup_from).status_code == 202
    signup = portal.client.post("/accounts", json=portal.signup_body("bot@example.fr"), environ_base=signup_from)
    for answer in (reset, signup):
        assert answer.status_code == 429 and answer.mimetype == "application/problem+json"
        wait = int(answer.headers["Retry-After"])
        assert 0 < wait <= cfg.ip_window and answer.json["retry_after"] == wait
        assert answer.json["detail"] == f"Trop de tentatives. Veuillez réessayer dans {-(-wait // 60)} minutes."


def test_password_reset_says_nothing_about_the_address_and_ends_open_sessions(portal):
    portal.register_and_activate("reset@example.fr")
    old = portal.tokens("reset@example.fr")
    known = portal.client.post("/auth/password-reset", json={"email": "reset@example.fr"})
    unknown = portal.client.post("/auth/password-reset", json={"email": "nobody@example.fr"})
    assert known.status_code == unknown.status_code == 202 and known.json == unknown.json
    token, _ = portal.follow(portal.link_in(portal.last_mail("reset@example.fr")))
    weak = portal.client.post("/auth/password-reset/confirm",
                              json={"token": token, "password": "faible", "password_confirmation": "faible"})
    assert weak.status_code == 422 and weak.json["errors"]["password"]
    new = "Autre-Mot2passe-sur"
    assert portal.client.post("/auth/password-reset/confirm", json={"token": token, "password": new,
                                                                    "password_confirmation": new}).status_code == 200
    assert portal.client.post("/auth/password-reset/confirm", json={"token": token, "password": new,
                                                                    "password_confirmation": new}).status_code == 409
    assert portal.client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    assert portal.login("reset@example.fr").status_code == 401
    assert portal.login("reset@example.fr", new).status_code == 200


def _age_rotation(portal, refresh_token: str, seconds: int) -> None:
    """Move the rotation that produced `refresh_token` (its creation) `seconds` into the past."""
    with portal.runtime.session_factory.begin() as session:
        session.execute(update(RefreshToken).where(RefreshToken.token_hash == token_hash(refresh_token))
                        .values(created_at=RefreshToken.created_at - timedelta(seconds=seconds)))


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_log_in(portal):
    portal.register_and_activate("refresh@example.fr")
    first = portal.tokens("refresh@example.fr")
    second = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json["refresh_token"] != first["refresh_token"]
    _age_rotation(portal, second.json["refresh_token"], 31)  # past the 30 s grace window
    replay = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The thief's replay also killed the legitimate holder's newer token.
    assert portal.client.post("/auth/refresh", json={"refresh_token": second.json["refresh_token"]}).status_code == 401
    with portal.runtime.session_factory() as session:
        hashes = session.scalars(select(RefreshToken.token_hash)).all()
    assert first["refresh_token"] not in hashes  # stored hashed


def test_a_refresh_token_presented_again_just_after_its_rotation_gives_the_same_successor(portal):
    """Two pages renewing the same log-in at once, on two gateway workers: both go on, with one refresh token."""
    portal.register_and_activate("twotabs@example.fr")
    first = portal.tokens("twotabs@example.fr")

    def renew(_):
        answer = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        return answer.status_code, answer.json

    with ThreadPoolExecutor(2) as pool:
        (status_a, a), (status_b, b) = pool.map(renew, range(2))
    assert (status_a, status_b) == (200, 200)
    assert a["refresh_token"] == b["refresh_token"] != first["refresh_token"]
    for pair in (a, b):
        assert portal.client.get("/me", headers=bearer(pair["access_token"])).json["email"] == "twotabs@example.fr"
    # A third page a little later, still within the window: the same successor again, and the log-in lives on.
    _age_rotation(portal, a["refresh_token"], 20)
    late = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert late.status_code == 200 and late.json["refresh_token"] == a["refresh_token"]
    third = portal.client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert third.status_code == 200 and third.json["refresh_token"] not in (a["refresh_token"], first["refresh_token"])
    with portal.runtime.session_factory() as session:
        subject = session.scalar(select(Account.id).where(Account.email == "twotabs@example.fr"))
        live = session.scalars(select(RefreshToken.token_hash).where(RefreshToken.subject == subject,
                                                                     RefreshToken.revoked_at.is_(None))).all()
    assert live == [token_hash(third.json["refresh_token"])]  # one live token: no fork of the log-in


def test_the_grace_window_gives_nothing_once_the_log_in_is_ended(portal):
    portal.register_and_activate("graceout@example.fr")
    first = portal.tokens("graceout@example.fr")
    second = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json
    assert portal.client.post("/auth/logout", json={"refresh_token": second["refresh_token"]}).status_code == 204
    again = portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and again.json["detail"] == "Votre session a expiré, veuillez vous reconnecter."
    # A disabled account: its successor is revoked with its other tokens, the rotated one gives nothing either.
    portal.register_and_activate("gracedisabled@example.fr")
    first = portal.tokens("gracedisabled@example.fr")
    portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    with portal.runtime.session_factory.begin() as session:
        session.execute(update(Account).where(Account.email == "gracedisabled@example.fr").values(status="disabled"))
    assert portal.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401


def test_logout_revokes_the_refresh_token(portal):
    portal.register_and_activate("logout@example.fr")
    pair = portal.tokens("logout@example.fr")
    assert portal.client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert portal.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_a_mail_server_outage_delays_mail_but_loses_none(portal, smtp):
    from ceres_identity.service_layer.mail import SmtpTransport, send_due
    from ceres_identity.testing import free_port

    portal.signup("outage@example.fr")
    down = SmtpTransport(f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    assert send_due(portal.runtime, down) == 0
    with portal.runtime.session_factory() as session:
        pending = session.scalar(select(Mail).where(Mail.to_addr == "outage@example.fr"))
        assert pending.sent_at is None and pending.attempts == 1 and "ConnectionRefused" in pending.last_error
    with portal.runtime.session_factory.begin() as session:  # the backoff has passed
        session.execute(update(Mail).where(Mail.id == pending.id).values(next_attempt_at=now()))
    assert portal.last_mail("outage@example.fr")["Subject"] == "Demande de création de votre compte CERES"
