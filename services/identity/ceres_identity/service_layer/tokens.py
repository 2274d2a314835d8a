"""Tokens: short-lived EdDSA access JWTs carrying role and scope (I4), refresh tokens kept hashed and rotated
on each use (a replayed refresh token revokes its whole log-in, except just after its rotation: see `refresh`),
machine-to-machine credentials."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ceres_shared.errors import ApiError

from ..context import Identity, aware, now
from ..domain.secrets_box import new_token, token_hash
from ..models import Account, Client, Membership, RefreshToken
from . import revocations

INVALID_REFRESH = "Votre session a expiré, veuillez vous reconnecter."


def claims_for(session: Session, account: Account) -> tuple[str, dict]:
    """(role, scope) of an account as of now: an agent's profile, or a portal user's centres."""
    if account.kind == "agent":
        role = account.agent_role
        if role == "ud":
            return role, {"departements": sorted(account.departements or [])}
        if role in ("dreets", "deets"):
            return role, {"regions": sorted(account.regions or [])}
        if role in ("dgefp", "admin"):
            return role, {"national": True}
        return role, {}
    memberships = session.scalars(select(Membership).where(Membership.account_id == account.id)).all()
    role = "gestionnaire" if any(m.role == "gestionnaire" for m in memberships) else "centre"
    return role, {"sirets": sorted(m.siret for m in memberships)}


def access_token(ident: Identity, account: Account, role: str, scope: dict) -> str:
    return ident.keyring.issue(account.id, role, scope=scope, name=f"{account.prenom} {account.nom}",
                               ttl=ident.config.access_ttl)


def _successor_of(ident: Identity, token: str) -> str:
    """The refresh token that replaces `token` on rotation, derived from it with the server's secret: a second
    request presenting `token` just after the rotation can be given the same successor, though only hashes are
    stored (unguessable without the secret, like a random one)."""
    digest = hmac.new(ident.secret_key.encode(), b"ceres refresh successor v1\0" + token.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def _store_refresh(session: Session, ident: Identity, subject: str, family: str, token: str | None = None) -> str:
    token = token or new_token()
    current = now()
    session.add(RefreshToken(token_hash=token_hash(token), subject=subject, family=family, created_at=current,
                             expires_at=current + timedelta(seconds=ident.config.refresh_ttl)))
    return token


def token_pair(session: Session, ident: Identity, account: Account, family: str | None = None,
               refresh_token: str | None = None) -> dict:
    """A new access token, and the refresh token `refresh_token` (already stored) or a newly stored one."""
    role, scope = claims_for(session, account)
    return {
        "access_token": access_token(ident, account, role, scope),
        "refresh_token": refresh_token or _store_refresh(session, ident, account.id, family or secrets.token_hex(16)),
        "token_type": "Bearer",
        "expires_in": ident.config.access_ttl,
        "role": role,
    }


def refresh(session: Session, ident: Identity, token: str) -> dict:
    row = session.get(RefreshToken, token_hash(token), with_for_update=True)
    if row is None or aware(row.expires_at) <= now():
        raise ApiError(401, INVALID_REFRESH, code="invalid_refresh_token")
    account = session.get(Account, row.subject)
    successor = _successor_of(ident, token)
    if row.revoked_at is not None:
        # Two pages (maybe on two gateway workers) renewing the same log-in at once: the later one, within the
        # grace window after the rotation, gets the same successor with a new access token. Only if that
        # successor is still live: a log-out, a disabled account or a changed profile revoked it.
        next_row = session.get(RefreshToken, token_hash(successor))
        if (next_row is not None and next_row.family == row.family and next_row.revoked_at is None
                and now() - aware(next_row.created_at) <= timedelta(seconds=ident.config.refresh_grace)
                and account is not None and account.status == "active"):
            return token_pair(session, ident, account, refresh_token=successor)
        # Replay of a rotated token later on: someone else holds this log-in; end it for both.
        revoke_family(session, row.family)
        session.commit()
        raise ApiError(401, INVALID_REFRESH, code="invalid_refresh_token")
    if account is None or account.status != "active":
        raise ApiError(401, INVALID_REFRESH, code="invalid_refresh_token")
    row.revoked_at = now()
    _store_refresh(session, ident, account.id, row.family, token=successor)
    return token_pair(session, ident, account, refresh_token=successor)


def revoke_family(session: Session, family: str) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now()))


def revoke_all(session: Session, subject: str) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.subject == subject, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now()))
    revocations.cut_off(session, subject)  # L1: its access tokens too, not in up to 15 minutes


def logout(session: Session, token: str | None, access=None) -> None:
    """Ends the log-in the refresh token belongs to, and the access token `access` (a verified Principal) with
    every access token of the account issued before (L1: a copy stops working); an unknown token changes nothing
    (and says nothing)."""
    row = session.get(RefreshToken, token_hash(token)) if token else None
    if row is not None:
        revoke_family(session, row.family)
        revocations.cut_off(session, row.subject)
    if access is not None:
        if access.token_id:
            revocations.revoke_token(session, access.token_id)
        revocations.cut_off(session, access.subject)


# -- machine-to-machine ---------------------------------------------------------------------------------------
def client_token(session: Session, ident: Identity, client_id: str, secret: str) -> dict:
    client = session.get(Client, client_id)
    # Compare against a hash even for an unknown client: same time either way.
    expected = client.secret_hash if client else token_hash("no such client")
    if not hmac.compare_digest(expected, token_hash(secret)) or client is None or client.revoked_at:
        raise ApiError(401, "Identifiants du client invalides.", code="invalid_client")
    token = ident.keyring.issue(f"client:{client.client_id}", client.role, scope={}, name=client.name,
                                ttl=ident.config.access_ttl)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ident.config.access_ttl,
            "role": client.role}
