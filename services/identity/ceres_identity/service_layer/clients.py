"""Machine-to-machine credentials: the Afpa's integration (role `afpa`) and internal jobs (role `service`)."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.errors import Conflict, NotFound

from ..context import now
from ..domain.secrets_box import token_hash
from ..models import Client


def client_dict(client: Client) -> dict:
    return {"client_id": client.client_id, "name": client.name, "role": client.role,
            "created_at": client.created_at, "revoked": client.revoked_at is not None}


def create_client(rt, session: Session, principal: Principal, name: str, role: str,
                  client_id: str | None = None, secret: str | None = None) -> dict:
    """The secret is shown once, here; only its hash is kept (it is long and random: SHA-256 suffices)."""
    client_id = client_id or f"{role}-{secrets.token_hex(6)}"
    if session.get(Client, client_id) is not None:
        raise Conflict("Cet identifiant de client existe déjà.", code="client_exists")
    secret = secret or secrets.token_urlsafe(32)
    client = Client(client_id=client_id, secret_hash=token_hash(secret), name=name, role=role, created_at=now())
    session.add(client)
    rt.audit.record(session, entity_type="client", entity_id=client_id, action="create", actor=principal.label,
                    actor_role=principal.role, after={"name": name, "role": role})
    session.commit()
    return {**client_dict(client), "client_secret": secret}


def list_clients(session: Session) -> list[dict]:
    return [client_dict(c) for c in session.scalars(select(Client).order_by(Client.created_at))]


def revoke_client(rt, session: Session, principal: Principal, client_id: str) -> dict:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("Ce client n'existe pas.")
    if client.revoked_at is None:
        client.revoked_at = now()
        rt.audit.record(session, entity_type="client", entity_id=client_id, action="revoke",
                        actor=principal.label, actor_role=principal.role, before={"revoked": False},
                        after={"revoked": True})
    session.commit()
    return client_dict(client)
