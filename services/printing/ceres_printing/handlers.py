"""Events the printing service consumes: our copies of sites, titres and candidates, the validated sessions that
create document sets, and candidate corrections that trigger a resend after a PND (P7).

The handlers need the runtime (outbox, audit, clock), so `build(runtime)` returns the map; each handler runs
inside the consumer's inbox transaction.
"""
from __future__ import annotations

from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ceres_shared.bus.consumer import Handler
from ceres_shared.events import Envelope

from . import services
from .domain.reference import DROM_REGIONS, departement_of_commune
from .domain.rules import DOCUMENTS_BY_DECISION, new_document_number
from .models import Candidacy, CandidateCopy, Document, SiteCopy, TitreCopy, ValidatedSession

EVENT_ACTOR = "event"


def on_site(db: Session, env: Envelope) -> None:
    p = env.payload
    site = db.get(SiteCopy, p["site_id"]) or SiteCopy(site_id=p["site_id"])
    site.centre_id, site.name, site.commune_code = p["centre_id"], p["name"], p["commune_code"]
    site.commune_label, site.departement, site.region, site.zone = (
        p.get("commune_label"), p["departement"], p["region"], p["zone"])
    db.add(site)
    # A session validated before its site arrived took its scope from the commune code: correct it now.
    db.execute(update(ValidatedSession).where(ValidatedSession.site_id == p["site_id"])
               .values(departement=p["departement"], region=p["region"]))


def on_titre(db: Session, env: Envelope) -> None:
    p = env.payload
    key = (p["code"], _date(p["version_date"]))
    titre = db.get(TitreCopy, key) or TitreCopy(code=key[0], version_date=key[1])
    titre.libelle, titre.kind, titre.level = p["libelle"], p["kind"], p["level"]
    titre.nsf_codes, titre.rncp, titre.jo_date = list(p["nsf_codes"]), p.get("rncp"), _date(p.get("jo_date"))
    titre.ccps, titre.ccs_of = [dict(c) for c in p.get("ccps") or []], p.get("ccs_of")
    db.add(titre)


def on_candidate(rt, db: Session, env: Envelope) -> None:
    p = env.payload
    candidate = db.get(CandidateCopy, p["candidate_id"]) or CandidateCopy(candidate_id=p["candidate_id"])
    old_address = candidate.address
    candidate.genre, candidate.nom_naissance, candidate.nom_usage = p["genre"], p["nom_naissance"], p.get("nom_usage")
    candidate.prenoms, candidate.birth_date = list(p["prenoms"]), _date(p["birth_date"])
    candidate.birth_country_label, candidate.birth_commune_label = p["birth_country_label"], p.get("birth_commune_label")
    candidate.address = _plain_address(p.get("address"))
    db.add(candidate)
    db.flush()
    if env.type == "candidate.updated" and candidate.address and candidate.address != old_address:
        services.resend_after_pnd(rt, db, candidate.candidate_id, actor=f"{EVENT_ACTOR}:{env.id}")  # P7


def on_candidate_merged(db: Session, env: Envelope) -> None:
    surviving, merged = env.payload["surviving_id"], env.payload["merged_id"]
    copy = db.get(CandidateCopy, merged)
    if copy is not None:
        copy.merged_into = surviving
    # Document sets follow the surviving record, unless it already has one in the same session.
    taken = set(db.scalars(select(Candidacy.session_id).where(Candidacy.candidate_id == surviving)))
    for candidacy in db.scalars(select(Candidacy).where(Candidacy.candidate_id == merged)):
        if candidacy.session_id not in taken:
            candidacy.candidate_id = surviving


def on_session_validated(rt, db: Session, env: Envelope) -> None:
    """P1: each candidate's document set from the jury's decision."""
    p = env.payload
    if db.get(ValidatedSession, p["session_id"]) is not None:
        return  # validated once; a replay with a new event id changes nothing
    site = db.get(SiteCopy, p["site_id"])
    departement = site.departement if site else departement_of_commune(p["site_commune_code"])
    region = site.region if site else DROM_REGIONS.get(departement)
    validated_at = _datetime(p["validated_at"])
    db.add(ValidatedSession(
        session_id=p["session_id"], public_id=p["public_id"], titre_code=p["titre_code"],
        titre_version=_date(p["titre_version"]), site_id=p["site_id"], site_commune_code=p["site_commune_code"],
        centre_id=p["centre_id"], departement=departement, region=region, ends_on=_date(p.get("ends_on")),
        validated_by=p["validated_by"], validated_at=validated_at))
    db.flush()
    issued_on = validated_at.date()
    for position, result in enumerate(p["results"]):
        candidacy = Candidacy(session_id=p["session_id"], candidate_id=result["candidate_id"], position=position,
                              decision=result["decision"], ccps_obtained=list(result.get("ccps_obtained") or []),
                              duplicata_count=0)
        db.add(candidacy)
        db.flush()
        for order, kind in enumerate(DOCUMENTS_BY_DECISION[result["decision"]]):
            db.add(Document(number=new_document_number(kind, issued_on.year), candidacy_id=candidacy.id,
                            kind=kind, position=order, issued_on=issued_on))
    rt.audit.record(db, entity_type="session", entity_id=p["session_id"], action="documents_built",
                    actor=f"{EVENT_ACTOR}:{env.id}", after={"candidates": len(p["results"])})


def build(rt) -> dict[str, list[Handler]]:
    candidate = partial(on_candidate, rt)
    return {
        "site.created": [on_site],
        "site.updated": [on_site],
        "site.closed": [on_site],
        "titre.published": [on_titre],
        "titre.updated": [on_titre],
        "candidate.registered": [candidate],
        "candidate.updated": [candidate],
        "candidate.merged": [on_candidate_merged],
        "session.validated": [partial(on_session_validated, rt)],
    }


def _plain_address(address: dict | None) -> dict | None:
    if not address:
        return None
    return {"lines": list(address["lines"]), "code_postal": address["code_postal"],
            "commune_label": address["commune_label"], "country": address.get("country") or "FRANCE"}


def _date(value):
    from datetime import date

    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _datetime(value):
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
