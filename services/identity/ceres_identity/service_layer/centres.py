"""Centres as identity knows them (projection of establishments' events), their activation codes (E3, I2) and
the attachment of a portal account to a centre with SIRET + code (I2)."""
from __future__ import annotations

import hmac
import logging
import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, Forbidden, NotFound

from ..context import now
from ..domain import codes
from ..domain.geography import departement_of, region_of
from ..models import Account, ActivationCode, Centre, Membership
from . import limits

log = logging.getLogger(__name__)
UNKNOWN_SIRET = "Le siret saisi ne correspond pas à un centre enregistré dans CERES"


def centre_dict(centre: Centre) -> dict:
    return {"siret": centre.siret, "siren": centre.siren, "centre_id": centre.centre_id,
            "raison_sociale": centre.raison_sociale, "adresse": centre.adresse, "code_postal": centre.code_postal,
            "commune_code": centre.commune_code, "commune_label": centre.commune_label,
            "departement": centre.departement, "region": centre.region}


def upsert_centre(rt, session: Session, payload: dict) -> Centre:
    """centre.registered / centre.updated: keep the copy, and make sure the centre has an activation code."""
    centre = session.get(Centre, payload["siret"])
    if centre is None:
        centre = Centre(siret=payload["siret"])
        session.add(centre)
    departement = departement_of(payload.get("commune_code"))
    centre.centre_id = payload["centre_id"]
    centre.siren = payload["siren"]
    centre.raison_sociale = payload["raison_sociale"]
    centre.adresse = payload["adresse"]
    centre.code_postal = payload.get("code_postal")
    centre.commune_code = payload.get("commune_code")
    centre.commune_label = payload.get("commune_label")
    centre.departement, centre.region = departement, region_of(departement)
    centre.updated_at = now()
    session.flush()
    if session.get(ActivationCode, centre.siret) is None:
        _new_code(rt, session, centre.siret, actor="system", action="activation_code.create")
    return centre


def _new_code(rt, session: Session, siret: str, *, actor: str, action: str, role: str | None = None) -> str:
    code = codes.new_code()
    row = session.get(ActivationCode, siret)
    sealed = rt.identity.codes.seal(code, siret)
    if row is None:
        session.add(ActivationCode(siret=siret, sealed=sealed, created_at=now()))
    else:
        row.sealed, row.created_at, row.used_at, row.used_by = sealed, now(), None, None
    # The code itself never enters the audit trail nor the logs.
    rt.audit.record(session, entity_type="centre", entity_id=siret, action=action, actor=actor, actor_role=role)
    return code


def competent_centre(session: Session, principal: Principal, siret: str) -> Centre:
    """I4: an agent acts on a centre only within their département / région (or nationally)."""
    centre = session.get(Centre, siret)
    if centre is None:
        raise NotFound(UNKNOWN_SIRET)
    if not principal.covers_location(centre.departement, centre.region):
        raise Forbidden("Ce centre n'est pas dans votre périmètre.").outside_scope("centre", siret)  # I4, traced
    return centre


def show_code(rt, session: Session, principal: Principal, siret: str) -> dict:
    centre = competent_centre(session, principal, siret)
    row = session.get(ActivationCode, siret)
    if row is None:  # a centre known from an old event without a code: make one now
        code = _new_code(rt, session, siret, actor=principal.label, action="activation_code.create",
                         role=principal.role)
        row = session.get(ActivationCode, siret)
    else:
        code = rt.identity.codes.open(row.sealed, siret)
    rt.audit.record(session, entity_type="centre", entity_id=siret, action="activation_code.read",
                    actor=principal.label, actor_role=principal.role)
    session.commit()
    return {"siret": siret, "raison_sociale": centre.raison_sociale, "code": codes.display(code),
            "created_at": row.created_at, "used": row.used_at is not None}


def regenerate_code(rt, session: Session, principal: Principal, siret: str) -> dict:
    competent_centre(session, principal, siret)
    _new_code(rt, session, siret, actor=principal.label, action="activation_code.regenerate", role=principal.role)
    session.commit()
    return show_code(rt, session, principal, siret)


def letter_context(rt, session: Session, principal: Principal, siret: str, today: date | None = None) -> dict:
    shown = show_code(rt, session, principal, siret)
    centre = session.get(Centre, siret)
    commune = " ".join(p for p in (centre.code_postal, centre.commune_label) if p)
    return {"centre": centre_dict(centre), "commune_line": commune, "siret": siret, "code": shown["code"],
            "letter_date": today or date.today(), "portal_url": "https://ceres.emploi.gouv.fr",
            "help_phone": "01 46 29 25 54", "signatory": principal.name or "Le responsable du service"}


# -- I2: attach CERES to one's account ------------------------------------------------------------------------
def attach(rt, session: Session, principal: Principal, siret: str, typed_code: str, ip: str) -> dict:
    """I2. Wrong codes are limited per account and per address (M8), never per SIRET: throwaway accounts must
    not keep the centre's own user out."""
    cfg = rt.identity.config
    account = session.get(Account, principal.subject)
    if account is None or account.kind != "portal" or account.status != "active":
        raise Forbidden("Seul un compte du portail peut être rattaché à un centre.")
    account_key, ip_key = limits.key_for("attach", account.id), limits.key_for("attach-ip", ip)
    limits.lock(session, account_key)  # one attempt at a time per account: parallel guesses are counted too
    limits.ensure_open(session, account_key, ip_key)
    centre = session.get(Centre, siret)
    # locked: two accounts typing the same code at once — the second finds it used (one gestionnaire, I2)
    row = lock_for_update(session, ActivationCode, siret) if centre else None
    expected = rt.identity.codes.open(row.sealed, siret) if row else codes.new_code()
    if centre is None or not hmac.compare_digest(expected.encode(), codes.normalize(typed_code).encode()):
        remaining = limits.count(session, account_key, limit=cfg.attach_max_failures, window=cfg.attach_block)
        limits.fail(session, ip_key, free=cfg.attach_ip_max_failures, first=cfg.login_first_delay,
                    cap=cfg.login_max_delay, memory=cfg.failure_memory)
        session.commit()
        log.info("attach refused for account %s (wrong SIRET or code)", account.id)
        detail = "Le SIRET ou le code d'activation est incorrect."
        if remaining:
            detail += f" Il vous reste {remaining} essai(s) avant un blocage temporaire."
        else:
            detail += " Trop d'essais : le rattachement est bloqué temporairement."
        raise ApiError(422, detail, code="wrong_activation_code", remaining_attempts=remaining,
                       errors={"code": ["Code d'activation incorrect pour ce SIRET."]})
    if session.scalar(select(Membership).where(Membership.account_id == account.id, Membership.siret == siret)):
        raise Conflict("Votre compte est déjà rattaché à ce centre.", code="already_member")
    if row.used_at is not None:
        raise Conflict("Ce code d'activation a déjà été utilisé. Demandez au gestionnaire du centre de vous "
                       "inviter, ou un nouveau code à votre DREETS.", code="code_used")
    has_manager = session.scalar(select(Membership).where(Membership.siret == siret,
                                                          Membership.role == "gestionnaire"))
    # I2: the first user of a centre becomes its gestionnaire.
    membership = add_member(rt, session, account, siret, "centre" if has_manager else "gestionnaire",
                            actor=f"compte:{account.id}", event="member.attached")
    row.used_at, row.used_by = now(), account.id
    limits.clear(session, account_key)
    session.commit()
    return {"siret": siret, "raison_sociale": centre.raison_sociale, "role": membership.role}


def add_member(rt, session: Session, account: Account, siret: str, role: str, *, actor: str,
               event: str) -> Membership:
    membership = Membership(id=str(uuid.uuid4()), account_id=account.id, siret=siret, role=role,
                            created_at=now(), created_by=actor)
    session.add(membership)
    session.flush()
    rt.audit.record(session, entity_type="membership", entity_id=membership.id, action="create", actor=actor,
                    after={"account_id": account.id, "siret": siret, "role": role})
    rt.outbox.record(session, event, {"user_id": account.id, "siret": siret, "role": role})
    return membership
