"""Invitations and members of a company's centres (I3): a gestionnaire finds a colleague's account by name or
gives an email, picks a role and a SIRET of the same company (SIREN), the invitee accepts once logged in."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.audit import refusal
from ceres_shared.auth import Principal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, Forbidden, NotFound

from .. import mails
from ..context import aware, now
from ..domain.secrets_box import new_token, token_hash
from ..models import Account, Centre, Invitation, Membership
from .accounts import fold, link
from .centres import UNKNOWN_SIRET, add_member
from .mail import enqueue
from .tokens import revoke_all

ROLE_LABELS = {"centre": "« Centre agréé »", "gestionnaire": "« Gestionnaire CENTRES »"}
SEARCH_LIMIT = 10


def managed_sirens(session: Session, account_id: str) -> set[str]:
    """The companies (SIREN) the account manages: those of the centres where it is gestionnaire."""
    sirets = session.scalars(select(Membership.siret).where(Membership.account_id == account_id,
                                                            Membership.role == "gestionnaire")).all()
    return {s[:9] for s in sirets}


def _manager_for(session: Session, principal: Principal, siret: str) -> Centre:
    """I3: the caller must be gestionnaire of a centre of the same company as `siret`."""
    if siret[:9] not in managed_sirens(session, principal.subject):  # I4: a real centre is traced
        raise refusal(session, Centre, siret, "centre",
                      Forbidden("Vous n'êtes pas gestionnaire d'un centre de cette entreprise."))
    centre = session.get(Centre, siret)
    if centre is None:
        raise ApiError(422, "Certaines données sont invalides.", errors={"siret": [UNKNOWN_SIRET]})
    return centre


def mask_email(email: str) -> str:
    """Enough for the gestionnaire to recognise a colleague, not a directory of addresses: j•••@d•••.fr."""
    local, _, domain = email.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{name[:1]}•••.{tld}"


def search_accounts(session: Session, principal: Principal, query: str) -> list[dict]:
    """By name only (at least 3 characters), a short list; never by email, so addresses cannot be probed."""
    if not managed_sirens(session, principal.subject):
        raise Forbidden("Seul un gestionnaire peut rechercher des comptes.")
    folded = fold(query)
    if len(folded.replace(" ", "")) < 3:
        raise ApiError(422, "Certaines données sont invalides.", errors={"q": ["Saisissez au moins 3 caractères."]})
    pattern = "%" + folded.replace("\\", "").replace("%", "").replace("_", "") + "%"
    rows = session.scalars(select(Account).where(Account.kind == "portal", Account.status == "active",
                                                 Account.search_name.like(pattern))
                           .order_by(Account.nom, Account.prenom).limit(SEARCH_LIMIT)).all()
    return [{"id": a.id, "nom": a.nom, "prenom": a.prenom, "email": mask_email(a.email)} for a in rows]


def invite(rt, session: Session, principal: Principal, data: dict) -> dict:
    siret, role = data["siret"], data["role"]
    centre = _manager_for(session, principal, siret)
    inviter = session.get(Account, principal.subject)
    invitee = None
    if data.get("account_id"):
        invitee = session.get(Account, data["account_id"])
        if invitee is None or invitee.kind != "portal" or invitee.status != "active":
            raise NotFound("Ce compte n'existe pas.")
        email = invitee.email
    else:
        email = data["email"].strip().lower()
        invitee = session.scalar(select(Account).where(Account.email == email, Account.kind == "portal"))
    if invitee is not None and session.scalar(select(Membership).where(Membership.account_id == invitee.id,
                                                                       Membership.siret == siret)):
        if data.get("account_id"):  # only when the gestionnaire picked the account can we say so
            raise Conflict("Cette personne a déjà accès à ce centre.", code="already_member")
    token = new_token()
    invitation = Invitation(id=str(uuid.uuid4()), token_hash=token_hash(token), siret=siret, role=role,
                            invited_by=inviter.id, invitee_account_id=invitee.id if invitee else None,
                            invitee_email=email, status="pending", created_at=now(),
                            expires_at=now() + timedelta(seconds=rt.identity.config.invitation_ttl))
    session.add(invitation)
    session.flush()
    enqueue(session, email, mails.invitation(f"{inviter.prenom} {inviter.nom}", ROLE_LABELS[role],
                                             centre.raison_sociale,
                                             link(rt.identity, "/invitations/accept", token)))
    rt.audit.record(session, entity_type="invitation", entity_id=invitation.id, action="create",
                    actor=principal.label, actor_role=principal.role, after=_audit_view(invitation))
    rt.outbox.record(session, "member.invited", {"user_id": invitation.invitee_account_id or
                                                 f"invitation:{invitation.id}", "siret": siret, "role": role})
    session.commit()
    return invitation_dict(invitation, centre)


def _audit_view(inv: Invitation) -> dict:
    return {"siret": inv.siret, "role": inv.role, "invitee_account_id": inv.invitee_account_id,
            "status": inv.status, "expires_at": inv.expires_at}


def invitation_dict(inv: Invitation, centre: Centre | None = None) -> dict:
    status = inv.status
    if status == "pending" and aware(inv.expires_at) <= now():
        status = "expired"
    return {"id": inv.id, "siret": inv.siret, "role": inv.role, "email": inv.invitee_email, "status": status,
            "created_at": inv.created_at, "expires_at": inv.expires_at,
            "raison_sociale": centre.raison_sociale if centre else None}


def accept(rt, session: Session, principal: Principal, token: str) -> dict:
    inv = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token))
                         .with_for_update())
    if inv is None:
        raise NotFound("Cette invitation n'existe pas.")
    account = session.get(Account, principal.subject)
    # A forwarded link is no use to somebody else: the invitation is for one account / one address.
    if account is None or account.kind != "portal" or account.email != inv.invitee_email:
        raise Forbidden("Cette invitation a été adressée à une autre personne.")
    if inv.status == "revoked":
        raise Conflict("Cette invitation a été annulée par le gestionnaire.", code="invitation_revoked")
    if inv.status == "accepted":
        raise Conflict("Cette invitation a déjà été acceptée.", code="invitation_used")
    if aware(inv.expires_at) <= now():
        inv.status = "expired"
        session.commit()
        raise ApiError(410, "Cette invitation a expiré : demandez-en une nouvelle au gestionnaire.",
                       code="invitation_expired")
    existing = session.scalar(select(Membership).where(Membership.account_id == account.id,
                                                       Membership.siret == inv.siret))
    if existing is not None:
        if existing.role != inv.role:
            before = existing.role
            existing.role = inv.role
            rt.audit.record(session, entity_type="membership", entity_id=existing.id, action="update",
                            actor=f"compte:{account.id}", before={"role": before}, after={"role": inv.role})
            rt.outbox.record(session, "member.attached", {"user_id": account.id, "siret": inv.siret,
                                                          "role": inv.role})
    else:
        add_member(rt, session, account, inv.siret, inv.role, actor=f"compte:{account.id}",
                   event="member.attached")
    before = _audit_view(inv)
    inv.status, inv.decided_at, inv.invitee_account_id = "accepted", now(), account.id
    rt.audit.record(session, entity_type="invitation", entity_id=inv.id, action="accept",
                    actor=f"compte:{account.id}", before=before, after=_audit_view(inv))
    session.commit()
    return {"siret": inv.siret, "role": inv.role}


def list_invitations(session: Session, principal: Principal, siret: str) -> list[dict]:
    centre = _manager_for(session, principal, siret)
    rows = session.scalars(select(Invitation).where(Invitation.siret == siret)
                           .order_by(Invitation.created_at.desc())).all()
    return [invitation_dict(r, centre) for r in rows]


def revoke(rt, session: Session, principal: Principal, invitation_id: str) -> dict:
    inv = lock_for_update(session, Invitation, invitation_id)  # against an acceptance at the same moment
    if inv is None:
        raise NotFound("Cette invitation n'existe pas.")
    centre = _manager_for(session, principal, inv.siret)
    if inv.status != "pending":
        raise Conflict("Seule une invitation en attente peut être annulée.", code="invitation_not_pending")
    before = _audit_view(inv)
    inv.status, inv.decided_at = "revoked", now()
    rt.audit.record(session, entity_type="invitation", entity_id=inv.id, action="revoke", actor=principal.label,
                    actor_role=principal.role, before=before, after=_audit_view(inv))
    session.commit()
    return invitation_dict(inv, centre)


def members(session: Session, principal: Principal, siret: str) -> list[dict]:
    """Gestionnaires of the company, or agents competent for the centre."""
    centre = session.get(Centre, siret)
    if principal.is_agent:
        if centre is None:
            raise NotFound(UNKNOWN_SIRET)
        if not principal.covers_location(centre.departement, centre.region):
            raise Forbidden("Ce centre n'est pas dans votre périmètre.")
    else:
        _manager_for(session, principal, siret)
    rows = session.execute(select(Membership, Account).join(Account, Account.id == Membership.account_id)
                           .where(Membership.siret == siret).order_by(Account.nom, Account.prenom)).all()
    return [{"account_id": a.id, "nom": a.nom, "prenom": a.prenom, "email": a.email, "role": m.role,
             "since": m.created_at} for m, a in rows]


def remove_member(rt, session: Session, principal: Principal, siret: str, account_id: str) -> None:
    _manager_for(session, principal, siret)
    membership = session.scalar(select(Membership).where(Membership.siret == siret,
                                                         Membership.account_id == account_id))
    if membership is None:
        raise NotFound("Cette personne n'a pas accès à ce centre.")
    if membership.role == "gestionnaire":
        managers = session.scalars(select(Membership).where(Membership.siret == siret,
                                                            Membership.role == "gestionnaire")).all()
        if len(managers) == 1:
            raise Conflict("Le centre doit garder au moins un gestionnaire.", code="last_gestionnaire")
    rt.audit.record(session, entity_type="membership", entity_id=membership.id, action="delete",
                    actor=principal.label, actor_role=principal.role,
                    before={"account_id": account_id, "siret": siret, "role": membership.role})
    rt.outbox.record(session, "member.removed", {"user_id": account_id, "siret": siret, "role": membership.role})
    session.delete(membership)
    revoke_all(session, account_id)  # their next refresh would still carry the SIRET
    session.commit()
