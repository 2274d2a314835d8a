"""Use cases of the printing service: one function each; permissions and scope, rules, rows, audit and outbox in
the caller's transaction."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.documents.french import date_numeric_fr
from ceres_shared.errors import ApiError, Conflict, Forbidden, NotFound
from ceres_shared.openapi import rfc3339

from . import documents
from .config import aware
from .domain.reference import REGION_OF_DEPARTEMENT, departement_of_commune
from .domain.rules import (DOCUMENT_LABELS, RuleViolation, check_original_date, check_print_request,
                           new_document_number, normalize_original_number, route)
from .models import (PRE_CERES, Candidacy, CandidateCopy, Document, PrintItem, PrintRequest, SiteCopy, TitreCopy,
                     ValidatedSession)

PRE_CERES_SESSION_LABEL = "Session antérieure à CERES"


# --- reading, within the agent's scope (I4) --------------------------------------------------------------------
def scoped_session(db: Session, principal: Principal, session_id: str) -> ValidatedSession:
    vs = db.get(ValidatedSession, session_id)
    if vs is None:
        raise NotFound("Session validée introuvable.")
    if not principal.covers_location(vs.departement, vs.region):  # I4, traced
        raise Forbidden("Cette session n'est pas dans votre périmètre géographique.").outside_scope(
            "session", vs.session_id)
    return vs


def scoped_candidacy(db: Session, principal: Principal, session_id: str, candidate_id: int) -> Candidacy:
    scoped_session(db, principal, session_id)
    candidacy = db.scalars(select(Candidacy).where(Candidacy.session_id == session_id,
                                                  Candidacy.candidate_id == candidate_id)).first()
    if candidacy is None:
        raise NotFound("Ce candidat n'est pas dans cette session.")
    return candidacy


def scope_filter(principal: Principal):
    if principal.national:
        return True
    return ValidatedSession.departement.in_(principal.departements) | ValidatedSession.region.in_(principal.regions)


def candidacy_state(db: Session, candidacy: Candidacy) -> dict:
    """What the agent's list shows per candidate (P1, P4, P5, B3)."""
    candidate = db.get(CandidateCopy, candidacy.candidate_id)
    docs = db.scalars(select(Document).where(Document.candidacy_id == candidacy.id).order_by(Document.position)).all()
    requests = db.scalars(select(PrintRequest).where(PrintRequest.candidacy_id == candidacy.id)
                          .order_by(PrintRequest.id)).all()
    items = db.scalars(select(PrintItem).join(PrintRequest).where(PrintRequest.candidacy_id == candidacy.id)
                       .order_by(PrintItem.id)).all()
    mentions = []
    session = db.get(ValidatedSession, candidacy.session_id)
    if session is not None and session.origin == PRE_CERES:
        mentions.append("Réimpression d'un diplôme antérieur à CERES, sous son numéro d'origine")
    if candidacy.initial_request_at:
        mentions.append(f"Demande d'impression initiale transmise le {date_numeric_fr(candidacy.initial_request_at)}")
    duplicata = [r for r in requests if r.kind == "duplicata"]
    if duplicata:
        mentions.append(f"Duplicata demandé le {date_numeric_fr(duplicata[-1].requested_at)} ({len(duplicata)})")
    return {
        "candidate_id": candidacy.candidate_id,
        "holder": documents.holder_name(candidate) if candidate else None,
        "birth_date": candidate.birth_date.isoformat() if candidate else None,
        "decision": candidacy.decision,
        "verified_at": iso(candidacy.verified_at),
        "initial_request_at": iso(candidacy.initial_request_at),
        "last_request_at": iso(candidacy.last_request_at),
        "duplicata_count": candidacy.duplicata_count,
        "mentions": mentions,
        "documents": [{"number": d.number, "kind": d.kind, "label": DOCUMENT_LABELS[d.kind]} for d in docs],
        "requests": [{"id": r.id, "kind": r.kind, "requested_at": iso(r.requested_at), "requested_by": r.requested_by}
                     for r in requests],
        "items": [{"document_number": i.document_number, "request_id": i.request_id, "status": i.status,
                   "batch_id": i.batch_id, "routed_to": i.routed_to, "addressee": i.addressee,
                   "status_at": iso(i.status_at), "resent_at": iso(i.resent_at)} for i in items],
        "pnd": any(i.status == "pnd" and i.resent_at is None for i in items),
    }


def neighbours(db: Session, candidacy: Candidacy) -> tuple[int | None, int | None]:
    """Previous / next candidate of the session (P1 navigation, P3 « the next candidate opens »)."""
    positions = db.execute(select(Candidacy.position, Candidacy.candidate_id)
                           .where(Candidacy.session_id == candidacy.session_id).order_by(Candidacy.position)).all()
    ids = [cid for _, cid in positions]
    i = ids.index(candidacy.candidate_id)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


def session_summary(db: Session, vs: ValidatedSession) -> dict:
    total, requested = db.execute(
        select(func.count(Candidacy.id), func.count(Candidacy.initial_request_at))
        .where(Candidacy.session_id == vs.session_id, Candidacy.decision != "absent")).one()
    return {"session_id": vs.session_id, "public_id": vs.public_id, "titre_code": vs.titre_code,
            "titre_version": vs.titre_version.isoformat(), "departement": vs.departement, "region": vs.region,
            "validated_at": iso(vs.validated_at), "candidates_with_documents": total, "requested": requested}


def dashboard(db: Session, principal: Principal) -> dict:
    """P9: validated sessions of the scope with no print request, and with only part of them requested — counted
    by the database (a national scope holds tens of thousands of sessions)."""
    counts = request_counts()
    row = db.execute(sessions_in_scope(principal, counts, func.count().filter(progress_is(counts, "sans_demande")),
                                       func.count().filter(progress_is(counts, "partielles")))).one()
    return {"sessions_sans_demande": row[0], "sessions_partielles": row[1]}


def request_counts():
    """Per session: candidates expected to receive documents, and those whose initial request is sent."""
    return (select(Candidacy.session_id, func.count(Candidacy.id).label("total"),
                   func.count(Candidacy.initial_request_at).label("requested"))
            .where(Candidacy.decision != "absent").group_by(Candidacy.session_id).subquery())


def progress_is(counts, progress: str):
    """P9's two lists: « sans_demande » (nothing requested yet) or « partielles » (part of the candidates)."""
    if progress == "sans_demande":
        return counts.c.requested == 0
    return and_(counts.c.requested > 0, counts.c.requested < counts.c.total)


def sessions_in_scope(principal: Principal, counts, *columns):
    """SELECT columns over the validated sessions of the caller's scope (I4), joined to their request counts."""
    return (select(*columns).select_from(ValidatedSession)
            .join(counts, counts.c.session_id == ValidatedSession.session_id)
            .where(scope_filter(principal), ValidatedSession.origin != PRE_CERES))  # P8 reprints are no sessions


# --- the agent's actions (P3-P5) -------------------------------------------------------------------------------
def verify(rt, db: Session, principal: Principal, candidacy: Candidacy) -> None:
    """P3: « Données vérifiées et conformes »; documents need the candidate's data to be checked at all."""
    parts = _parts_or_conflict(db, candidacy)
    before = {"verified_at": candidacy.verified_at}
    candidacy.verified_at, candidacy.verified_by = rt.printing.now(), principal.label
    rt.audit.record(db, entity_type="candidacy", entity_id=f"{candidacy.session_id}:{candidacy.candidate_id}",
                    action="verify", actor=principal.label, actor_role=principal.role, before=before,
                    after={"verified_at": iso(candidacy.verified_at), "holder": documents.holder_name(parts.candidate)})


def request_print(rt, db: Session, principal: Principal, candidacy: Candidacy, kind: str) -> PrintRequest:
    """P3 « Envoyer pour impression » (initial) or P5 duplicata: checks, then one queued item per document."""
    now = rt.printing.now()
    docs = db.scalars(select(Document).where(Document.candidacy_id == candidacy.id).order_by(Document.position)).all()
    try:
        check_print_request(kind, has_documents=bool(docs), verified_at=aware(candidacy.verified_at),
                            last_request_at=aware(candidacy.last_request_at), now=now)
    except RuleViolation as exc:
        raise Conflict(exc.message, code=exc.code) from None
    parts = _parts_or_conflict(db, candidacy)
    before = {"initial_request_at": iso(candidacy.initial_request_at), "duplicata_count": candidacy.duplicata_count}
    request = _queue(rt, db, candidacy, parts, docs, kind, principal.label, now)
    if kind == "initial":
        candidacy.initial_request_at = now
    else:
        candidacy.duplicata_count += 1
    candidacy.last_request_at = now
    rt.audit.record(db, entity_type="candidacy", entity_id=f"{candidacy.session_id}:{candidacy.candidate_id}",
                    action=f"print_{kind}", actor=principal.label, actor_role=principal.role, before=before,
                    after={"initial_request_at": iso(candidacy.initial_request_at),
                           "duplicata_count": candidacy.duplicata_count, "request_id": request.id})
    return request


@dataclass(frozen=True)
class CheckedReprint:
    """A reprint request that passed every check (P8), not recorded yet."""

    number: str
    departement: str
    region: str
    issued_on: date
    candidate: CandidateCopy
    titre: TitreCopy


def check_reprint(rt, db: Session, principal: Principal, *, number: str, candidate_id: int, titre_code: str,
                  titre_version: date, issued_on: date, departement: str) -> CheckedReprint:
    """P8: the checks of a reprint, field by field (422), then the agent's scope (I4) and the number's uniqueness:
    what the request does before recording anything, and what the agent's confirmation page shows."""
    errors: dict[str, list[str]] = {}
    try:
        number = normalize_original_number(number)
    except RuleViolation as exc:
        errors["number"] = [exc.message]
    region = REGION_OF_DEPARTEMENT.get(departement)
    if region is None:
        errors["departement"] = ["Département inconnu (code INSEE : 01 à 95, 2A, 2B, 971 à 976)."]
    candidate = db.get(CandidateCopy, candidate_id)
    titre = db.get(TitreCopy, (titre_code, titre_version))
    if titre is None:
        errors["titre_version"] = ["Cette version du titre n'est pas au catalogue (code et date de l'arrêté)."]
    else:
        try:
            check_original_date(issued_on, titre_version=titre.version_date, today=rt.printing.now().date())
        except RuleViolation as exc:
            errors["issued_on"] = [exc.message]
    if not errors and not principal.covers_location(departement, region):  # the département sent, not the person
        raise Forbidden("Ce département n'est pas dans votre périmètre géographique.")
    hidden = candidate is not None and not covers_candidate(db, principal, candidate)
    if candidate is None or hidden:
        # I4: a person out of the agent's scope is answered as an unknown number (its existence is not revealed);
        # the attempt on a real person is traced.
        errors["candidate_id"] = ["Candidat inconnu : créez ou retrouvez sa fiche dans le module Candidats (C1)."]
    if errors:
        refused = ApiError(422, "Certaines données sont invalides.", errors=errors)
        raise refused.outside_scope("candidate", candidate_id) if hidden else refused
    if db.get(Document, number) is not None:
        raise _number_taken(number)
    return CheckedReprint(number, departement, region, issued_on, candidate, titre)


def covers_candidate(db: Session, principal: Principal, candidate: CandidateCopy) -> bool:
    """I4 on our copy of a person: national agents; the agent of the département (or région) where the person
    lives; or of a session the person sat (as the candidates service decides who sees a record)."""
    if principal.national:
        return True
    departement = address_departement(candidate.address)
    if departement and principal.covers_location(departement, REGION_OF_DEPARTEMENT.get(departement)):
        return True
    sat_here = (select(Candidacy.id).join(ValidatedSession, ValidatedSession.session_id == Candidacy.session_id)
                .where(Candidacy.candidate_id == candidate.candidate_id, scope_filter(principal)).limit(1))
    return db.scalar(sat_here) is not None


def address_departement(address: dict | None) -> str | None:
    """The département of a French postal address: its commune's INSEE code when the copy has it (a postcode may
    cross a département's border), else from its postcode (97x overseas; 200-201 Corse-du-Sud, else Haute-Corse);
    None abroad or without either."""
    if not address or (address.get("country") or "FRANCE").upper() != "FRANCE":
        return None
    if address.get("commune_code"):
        departement = departement_of_commune(address["commune_code"])
        return departement if departement in REGION_OF_DEPARTEMENT else None
    code = (address.get("code_postal") or "").replace(" ", "")
    if len(code) != 5 or not code.isdigit():
        return None
    if code.startswith("97"):
        departement = code[:3]
    elif code.startswith("20"):
        departement = "2A" if code[2] in "01" else "2B"
    else:
        departement = code[:2]
    return departement if departement in REGION_OF_DEPARTEMENT else None


def _number_taken(number: str) -> Conflict:
    return Conflict(f"Le numéro {number} figure déjà sur un document de CERES : chaque numéro est unique (P8).",
                    code="number_taken", errors={"number": ["Ce numéro figure déjà sur un document de CERES."]})


def reprint_summary(checked: CheckedReprint) -> dict:
    """What the agent confirms before recording (P8): the holder as in the candidate's record (C4)."""
    t = checked.titre
    return {"number": checked.number, "candidate_id": checked.candidate.candidate_id,
            "holder": documents.holder_name(checked.candidate),
            "birth_date": checked.candidate.birth_date.isoformat(),
            "titre_code": t.code, "titre_version": t.version_date.isoformat(), "titre": f"{t.libelle} ({t.code})",
            "issued_on": checked.issued_on.isoformat(), "departement": checked.departement,
            "region": checked.region}


def _reprint_rows(checked: CheckedReprint, session_id: str, validated_by: str):
    session = ValidatedSession(
        session_id=session_id, public_id=PRE_CERES_SESSION_LABEL, titre_code=checked.titre.code,
        titre_version=checked.titre.version_date, site_id="", site_commune_code="", centre_id="",
        departement=checked.departement, region=checked.region, validated_by=validated_by,
        validated_at=datetime.combine(checked.issued_on, time(12), tzinfo=timezone.utc), origin=PRE_CERES)
    candidacy = Candidacy(session_id=session_id, candidate_id=checked.candidate.candidate_id, position=0,
                          decision="titre", ccps_obtained=[], duplicata_count=0)
    return session, candidacy


def preview_reprint(rt, db: Session, checked: CheckedReprint) -> bytes:
    """P8 with P2: the diploma as it will be reprinted, read-only and without artwork, before anything is recorded
    (the rows are built, never added to the session)."""
    session, candidacy = _reprint_rows(checked, "apercu", "apercu")
    diploma = Document(number=checked.number, kind="diplome", position=0, issued_on=checked.issued_on)
    parts = documents.Parts(candidacy, session, checked.candidate, checked.titre)
    ctx = documents.context(db, parts, diploma, public_base=rt.printing.public_base_url, now=rt.printing.now())
    return documents.render("diplome", ctx, artwork=False)


def request_reprint(rt, db: Session, principal: Principal, **fields) -> Candidacy:
    """P8: a diploma of a session held before CERES, to be printed again under its original number (seed 001: the
    number top right, also on reprints of older parchments), with its cover letter (P1), numbered by CERES and dated
    of the reprint. It becomes a diploma of CERES like the others — a session row of its own marked « avant_ceres »,
    a candidacy « titre », the documents — and then goes the normal way: preview (P1/P2), « Données vérifiées et
    conformes », « Envoyer pour impression » (P3), batch (P6), public verification (B1). Holder and address come
    from the candidate's record (C4)."""
    checked = check_reprint(rt, db, principal, **fields)
    number, candidate, titre = checked.number, checked.candidate, checked.titre
    session_id = f"avant-ceres-{uuid.uuid4().hex[:12]}"
    session, candidacy = _reprint_rows(checked, session_id, principal.label)
    db.add(session)
    db.flush()  # no ORM relationships: rows go in the order they are flushed
    db.add(candidacy)
    db.flush()
    today = rt.printing.now().date()
    letter = Document(number=new_document_number("lettre_diplome", today.year), candidacy_id=candidacy.id,
                      kind="lettre_diplome", position=1, issued_on=today)  # P1: the letter goes with the diploma
    try:
        with db.begin_nested():
            db.add_all([Document(number=number, candidacy_id=candidacy.id, kind="diplome", position=0,
                                 issued_on=checked.issued_on), letter])
    except IntegrityError:  # the same number sent twice at once: the second one loses
        raise _number_taken(number) from None
    rt.audit.record(db, entity_type="candidacy", entity_id=f"{session_id}:{candidate.candidate_id}",
                    action="reprint_pre_ceres", actor=principal.label, actor_role=principal.role,
                    after={"number": number, "titre": f"{titre.code} ({titre.version_date.isoformat()})",
                           "issued_on": checked.issued_on.isoformat(), "departement": checked.departement,
                           "holder": documents.holder_name(candidate), "letter": letter.number})
    return candidacy


REPRINT_SORTS = {  # P8 list: the agent's choice of order, each with a stable tie-break
    "recent": (Candidacy.id.desc(),),
    "numero": (Document.number,),
    "titulaire": (CandidateCopy.nom_naissance, Candidacy.id.desc()),
    "date": (Document.issued_on.desc(), Candidacy.id.desc()),
}


def list_reprints(db: Session, principal: Principal, *, page: int, per_page: int, sort: str) -> dict:
    """P8: the reprints of the caller's scope (I4), a page at a time, in the chosen order."""
    listed = (select(Candidacy, Document, ValidatedSession, CandidateCopy)
              .join(ValidatedSession, ValidatedSession.session_id == Candidacy.session_id)
              .join(Document, and_(Document.candidacy_id == Candidacy.id, Document.kind == "diplome"))
              .outerjoin(CandidateCopy, CandidateCopy.candidate_id == Candidacy.candidate_id)
              .where(ValidatedSession.origin == PRE_CERES, scope_filter(principal)))
    total = db.scalar(select(func.count()).select_from(listed.subquery()))
    rows = db.execute(listed.order_by(*REPRINT_SORTS[sort]).offset((page - 1) * per_page).limit(per_page)).all()
    reprints = []
    for candidacy, diploma, vs, candidate in rows:
        reprints.append({
            "session_id": vs.session_id, "candidate_id": candidacy.candidate_id, "number": diploma.number,
            "holder": documents.holder_name(candidate) if candidate else None, "titre_code": vs.titre_code,
            "issued_on": diploma.issued_on.isoformat(), "departement": vs.departement,
            "verified_at": iso(candidacy.verified_at), "initial_request_at": iso(candidacy.initial_request_at)})
    return {"total": total, "page": page, "per_page": per_page, "sort": sort, "reprints": reprints}


def resend_after_pnd(rt, db: Session, candidate_id: int, *, actor: str) -> list[PrintRequest]:
    """P7: the address was corrected after a PND: the Afpa sends the same documents again, no duplicata."""
    now = rt.printing.now()
    pnd = db.scalars(select(PrintItem).join(PrintRequest).join(Candidacy)
                     .where(Candidacy.candidate_id == candidate_id, PrintItem.status == "pnd",
                            PrintItem.resent_at.is_(None)).order_by(PrintItem.id)).all()
    by_candidacy: dict[int, list[PrintItem]] = {}
    for item in pnd:
        by_candidacy.setdefault(db.get(PrintRequest, item.request_id).candidacy_id, []).append(item)
    made = []
    for candidacy_id, items in by_candidacy.items():
        candidacy = db.get(Candidacy, candidacy_id)
        parts = documents.load_parts(db, candidacy)
        docs = [db.get(Document, i.document_number) for i in items]
        request = _queue(rt, db, candidacy, parts, docs, "resend", actor, now)
        for item in items:
            item.resent_at = now
        rt.audit.record(db, entity_type="candidacy", entity_id=f"{candidacy.session_id}:{candidate_id}",
                        action="print_resend", actor=actor, reason="PND, adresse corrigée (P7)",
                        after={"request_id": request.id, "documents": [d.number for d in docs]})
        made.append(request)
    return made


def _queue(rt, db, candidacy, parts, docs, kind, actor, now) -> PrintRequest:
    request = PrintRequest(candidacy_id=candidacy.id, kind=kind, requested_at=now, requested_by=actor)
    db.add(request)
    db.flush()
    site = db.get(SiteCopy, parts.session.site_id)
    routed_to, deets = route(site.zone if site else None, parts.session.departement)  # P6
    if deets is not None:
        addressee, address = deets["addressee"], {k: deets[k] for k in ("lines", "code_postal", "commune_label",
                                                                        "country")}
    else:
        if not parts.candidate.address:
            raise Conflict("Le candidat n'a pas d'adresse postale : complétez-la dans le module Candidats (C4).",
                           code="no_address")
        addressee, address = documents.holder_name(parts.candidate), parts.candidate.address
    for doc in docs:
        db.add(PrintItem(request_id=request.id, document_number=doc.number, status="requested",
                         addressee=addressee, address=address, routed_to=routed_to, created_at=now))
        rt.outbox.record(db, "print.requested", {
            "candidate_id": candidacy.candidate_id, "document_number": doc.number, "document_type": doc.kind,
            "status": "requested", "session_id": candidacy.session_id})
    db.flush()
    return request


def _parts_or_conflict(db, candidacy):
    try:
        return documents.load_parts(db, candidacy)
    except documents.MissingData as exc:
        raise Conflict(str(exc), code="data_missing") from None


# --- documents to read ------------------------------------------------------------------------------------------
def preview(rt, db: Session, candidacy: Candidacy, number: str) -> bytes:
    """P1/P2: the document as it will be printed, without stamp, signature, Marque État, watermark, front page."""
    doc = db.get(Document, number)
    if doc is None or doc.candidacy_id != candidacy.id:
        raise NotFound("Document introuvable pour ce candidat.")
    parts = _parts_or_conflict(db, candidacy)
    ctx = documents.context(db, parts, doc, public_base=rt.printing.public_base_url, now=rt.printing.now())
    return documents.render(doc.kind, ctx, artwork=False)


def attestation(rt, db: Session, candidacy: Candidacy) -> bytes:
    """P4: only for an admitted candidate, after the first print request."""
    if candidacy.decision != "titre":
        raise Conflict("L'attestation de réussite n'existe que pour un candidat admis.", code="not_admitted")
    if candidacy.initial_request_at is None:
        raise Conflict("L'attestation de réussite est disponible après la demande d'impression initiale.",
                       code="no_initial_request")
    diploma = db.scalars(select(Document).where(Document.candidacy_id == candidacy.id,
                                                Document.kind == "diplome")).one()
    parts = _parts_or_conflict(db, candidacy)
    ctx = documents.context(db, parts, diploma, public_base=rt.printing.public_base_url, now=rt.printing.now())
    ctx["doc"]["label"] = "Attestation de réussite"
    return documents.render("attestation_reussite", ctx, artwork=False)


def verification_facts(db: Session, number: str) -> dict | None:
    """B1: what the public page confirms: holder, titre and date of the jury's decision — nothing more (RGPD
    minimisation: an employer does not need the birth date)."""
    doc = db.get(Document, number)
    if doc is None:
        return None
    try:
        parts = documents.load_parts(db, db.get(Candidacy, doc.candidacy_id))
    except documents.MissingData:
        return None
    return {"number": number, "document": DOCUMENT_LABELS[doc.kind],
            "holder": documents.holder_name(parts.candidate),  # no birth date: not needed to check (RGPD)
            "titre": f"{parts.titre.libelle} ({parts.titre.code})",
            "issued_on": doc.issued_on.isoformat(), "session": parts.session.public_id}


def iso(value: datetime | None) -> str | None:
    return rfc3339(value)  # with its offset, also on SQLite (L9)
