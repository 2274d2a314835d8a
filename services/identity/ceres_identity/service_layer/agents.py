"""Agents (I4): created by an administrator with a profile and a scope — UD: départements; DREETS: a
metropolitan région; DEETS: an overseas région; DGEFP: national; Afpa operator; administrator."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, NotFound

from .. import mails
from ..context import now
from ..domain.geography import DEPARTEMENTS, DROM_REGIONS, REGIONS
from ..models import Account
from . import tokens
from .accounts import NEW_PASSWORD_PAGE, fold, issue_link, page_link, public_account
from .mail import enqueue

PROFILES = {"ud": "UD / DDETS", "dreets": "DREETS", "deets": "DEETS", "dgefp": "DGEFP", "afpa": "Opérateur Afpa",
            "admin": "Administrateur"}


def scope_errors(profile: str, departements: list[str], regions: list[str]) -> dict:
    """The scope each profile needs, field by field (French)."""
    errors: dict[str, list[str]] = {}
    unknown_deps = sorted(set(departements) - DEPARTEMENTS)
    unknown_regs = sorted(set(regions) - REGIONS)
    if unknown_deps:
        errors["departements"] = [f"Département inconnu : {', '.join(unknown_deps)}."]
    if unknown_regs:
        errors["regions"] = [f"Région inconnue : {', '.join(unknown_regs)}."]
    if profile == "ud":
        if not departements:
            errors.setdefault("departements", []).append("Une UD est compétente pour au moins un département.")
        if regions:
            errors.setdefault("regions", []).append("Une UD n'a pas de région.")
    elif profile in ("dreets", "deets"):
        if len(regions) != 1:
            errors.setdefault("regions", []).append("Indiquez une région, et une seule.")
        elif profile == "dreets" and regions[0] in DROM_REGIONS:
            errors.setdefault("regions", []).append("Outre-mer, le profil est DEETS.")
        elif profile == "deets" and regions[0] not in DROM_REGIONS and not unknown_regs:
            errors.setdefault("regions", []).append("Une DEETS est compétente pour une région d'outre-mer.")
        if departements:
            errors.setdefault("departements", []).append("Ce profil n'a pas de département.")
    elif departements or regions:
        errors["profile"] = ["Ce profil n'a pas de périmètre géographique."]
    return errors


def agent_dict(account: Account) -> dict:
    return {"id": account.id, "email": account.email, "civilite": account.civilite, "nom": account.nom,
            "prenom": account.prenom, "telephone": account.telephone, "profile": account.agent_role,
            "departements": account.departements, "regions": account.regions, "status": account.status}


def create_agent(rt, session: Session, principal: Principal, data: dict, password: str | None = None) -> dict:
    """The new agent receives a link to choose a password (or, for the demo data, is given one)."""
    profile = data["profile"]
    deps, regs = sorted(set(data.get("departements") or [])), sorted(set(data.get("regions") or []))
    errors = scope_errors(profile, deps, regs)
    if errors:
        raise ApiError(422, "Certaines données sont invalides.", errors=errors)
    email = data["email"].strip().lower()
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict("Un compte existe déjà avec cette adresse électronique.", code="email_taken")
    account = Account(id=str(uuid.uuid4()), email=email, civilite=data["civilite"], nom=data["nom"].strip(),
                      prenom=data["prenom"].strip(), telephone=data.get("telephone"),
                      search_name=fold(f"{data['nom']} {data['prenom']}"), kind="agent", agent_role=profile,
                      departements=deps, regions=regs, status="pending", created_at=now(),
                      password_hash=rt.identity.passwords.hash(password) if password else None)
    if password:
        account.status, account.activated_at = "active", now()
    session.add(account)
    session.flush()
    if not password:
        token = issue_link(session, account, "setup", rt.identity.config.agent_setup_ttl)
        enqueue(session, email, mails.agent_setup(account.prenom, PROFILES[profile],
                                                  page_link(rt.identity, NEW_PASSWORD_PAGE, token)))
    rt.audit.record(session, entity_type="account", entity_id=account.id, action="create", actor=principal.label,
                    actor_role=principal.role, after=public_account(account))
    session.commit()
    return agent_dict(account)


def list_agents(session: Session) -> list[dict]:
    rows = session.scalars(select(Account).where(Account.kind == "agent").order_by(Account.nom, Account.prenom))
    return [agent_dict(a) for a in rows]


def _agent(session: Session, agent_id: str, *, lock: bool = False) -> Account:
    account = lock_for_update(session, Account, agent_id) if lock else session.get(Account, agent_id)
    if account is None or account.kind != "agent":
        raise NotFound("Cet agent n'existe pas.")
    return account


def get_agent(session: Session, agent_id: str) -> dict:
    return agent_dict(_agent(session, agent_id))


def update_agent(rt, session: Session, principal: Principal, agent_id: str, data: dict) -> dict:
    account = _agent(session, agent_id, lock=True)  # a deactivation and a reactivation at once: one after the other
    before = public_account(account)
    profile = data.get("profile", account.agent_role)
    deps = sorted(set(data["departements"])) if "departements" in data else account.departements
    regs = sorted(set(data["regions"])) if "regions" in data else account.regions
    if profile != account.agent_role and "departements" not in data and "regions" not in data:
        deps, regs = [], []
    errors = scope_errors(profile, deps, regs)
    if errors:
        raise ApiError(422, "Certaines données sont invalides.", errors=errors)
    if account.id == principal.subject and data.get("status") == "disabled":
        raise Conflict("Vous ne pouvez pas désactiver votre propre compte.", code="self_disable")
    account.agent_role, account.departements, account.regions = profile, deps, regs
    if data.get("status") in ("active", "disabled") and account.status != "pending":
        account.status = data["status"]
    # A changed profile or scope must not live on in refresh tokens.
    tokens.revoke_all(session, account.id)
    rt.audit.record(session, entity_type="account", entity_id=account.id, action="update", actor=principal.label,
                    actor_role=principal.role, before=before, after=public_account(account))
    session.commit()
    return agent_dict(account)
