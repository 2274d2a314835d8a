"""Session use cases: creation (S1, S2), the workflow steps (S3–S8) through the declarative table, candidates."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone

from sqlalchemy import delete, false, or_, select, true, update
from sqlalchemy.orm import Session

from ceres_shared.audit import refusal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, NotFound

from .. import clock
from ..clock import PARIS
from ..domain import controls as controls_vocabulary
from ..domain import rules
from ..domain.workflow import ANNULEE, CENTRE, EN_PREPARATION, VALIDEE, WARNING_PENDING, Decision, Facts, decide
from ..models import (Agrement, Candidate, CandidateGrant, Centre, Control, Counter, Enrolment, ExamSession,
                      Relaxation, Site, Titre, Transition, Warning)
from . import catalogue, jury

DEFAULT_END_HOUR = time(17, 0)


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- scope ---------------------------------------------------------------------------------------------------------
def scope_clause(principal):
    """I4 as a WHERE clause on sessions: centre users see their centres' sessions, agents their territory."""
    if principal.role in CENTRE:
        if not principal.sirets:
            return false()
        return ExamSession.centre_id.in_(select(Centre.centre_id).where(Centre.siret.in_(principal.sirets)))
    return territory_clause(principal, ExamSession.departement, ExamSession.region)


def territory_clause(principal, departement, region):
    """I4 for an agent, on any table carrying a département and a région (sessions, counts, sites)."""
    if principal.national:
        return true()
    clauses = []
    if principal.regions:
        clauses.append(region.in_(principal.regions))
    if principal.departements:
        clauses.append(departement.in_(principal.departements))
    return or_(*clauses) if clauses else false()


def get_visible(session: Session, principal, session_id: str, *, lock: bool = False) -> ExamSession:
    """The session if the caller may see it (404 otherwise). `lock`: for a change — read afresh and held until the
    transaction ends, so that of two concurrent requests for one step the second sees the first's result."""
    try:
        uuid.UUID(session_id)
    except ValueError:
        raise NotFound("Session introuvable.") from None
    if lock:
        s = lock_for_update(session, ExamSession, session_id, scope_clause(principal))
    else:
        s = session.scalar(select(ExamSession).where(ExamSession.id == session_id, scope_clause(principal)))
    if s is None:
        raise refusal(session, ExamSession, session_id, "session", NotFound("Session introuvable."))  # I4, traced
    return s


# --- creation (S1, S2) -------------------------------------------------------------------------------------------
def create_session(session: Session, principal, data: dict, rt) -> ExamSession:
    site = session.get(Site, data["site_id"])
    centre = session.get(Centre, site.centre_id) if site else None
    if site is None or centre is None or not centre.siret or not principal.covers_siret(centre.siret):
        raise NotFound("Site introuvable.")
    if site.closed_at is not None:
        raise Conflict(f"Le site « {site.name} » est fermé depuis le {_fr(site.closed_at)}.", code="site_closed")
    titre = catalogue.current_version(session, data["titre_code"], data.get("titre_version"))
    if titre is None:
        raise ApiError(422, "Certaines données sont invalides.",
                       errors={"titre_code": ["Ce titre (ou cette version) n'est pas au catalogue."]})
    kind = "CCS" if titre.kind == "CCS" else "TITRE"
    if data.get("ccp_code"):
        if data["ccp_code"] not in {c["code"] for c in titre.ccps}:
            raise ApiError(422, "Certaines données sont invalides.",
                           errors={"ccp_code": [f"Ce CCP n'appartient pas au titre {titre.code}."]})
        kind = "CCP"
    today = clock.today()
    starts_on = data.get("starts_on") or (rules.paris_day(data["starts_at"]) if data.get("starts_at") else today)
    starts_at = data.get("starts_at") or rules.at_eight(starts_on)  # S2: 08:00, never the creation time
    ends_on = data.get("ends_on") or starts_on
    ends_at = datetime.combine(ends_on, DEFAULT_END_HOUR, tzinfo=PARIS)
    convocation_at = data.get("convocation_at") or rules.at_eight(starts_on)  # S2: first day, 08:00
    errors = {}
    if starts_on < today:
        errors["starts_on"] = ["La date de début ne peut pas être passée."]
    if ends_on < starts_on:
        errors["ends_on"] = ["La date de fin ne peut pas précéder la date de début."]
    if rules.paris_day(convocation_at) > starts_on:
        errors["convocation_at"] = ["La convocation ne peut pas être postérieure au début de la session."]
    if errors:
        raise ApiError(422, "Certaines données sont invalides.", errors=errors)
    _check_agrement(session, site, centre, titre, starts_on, ends_on, today)

    s = ExamSession(
        id=str(uuid.uuid4()), public_id=_public_id(session, kind, today), kind=kind, titre_code=titre.code,
        titre_version=titre.version_date, ccp_code=data.get("ccp_code"), site_id=site.site_id,
        centre_id=centre.centre_id, departement=site.departement, region=site.region,
        site_commune_code=site.commune_code, status=EN_PREPARATION, starts_at=starts_at, ends_at=ends_at,
        convocation_at=convocation_at, under_relaxation=False, created_at=clock.now(), created_by=principal.label,
    )
    session.add(s)
    session.flush()
    _record_transition(session, principal, s, "creer", None, None, None)
    rt.audit.record(session, entity_type="session", entity_id=s.id, action="create", actor=principal.label,
                    actor_role=principal.role, after=session_fields(s))
    rt.outbox.record(session, "session.created", event_payload(session, s))
    return s


def offers(session: Session, principal) -> list[dict]:
    """S1, for the new-session form: the (site, titre) pairs of the caller's centres whose agrément is granted and
    valid today, open sites only, from the projections (one query; the creation checks S1 in full)."""
    today = clock.today()
    rows = session.execute(
        select(Site, Agrement).join(Agrement, Agrement.site_id == Site.site_id)
        .join(Centre, Centre.centre_id == Site.centre_id)
        .where(Centre.siret.in_(principal.sirets or []), Site.closed_at.is_(None), Agrement.status == "accorde",
               or_(Agrement.valid_from.is_(None), Agrement.valid_from <= today),
               or_(Agrement.valid_until.is_(None), Agrement.valid_until >= today))
        .order_by(Site.name, Agrement.titre_code))
    return [{"site_id": site.site_id, "site": site.name, "titre_code": a.titre_code, "valid_until": a.valid_until}
            for site, a in rows]


def _check_agrement(session, site: Site, centre: Centre, titre: Titre, first: date, last: date, today: date) -> None:
    """S1: a valid agrément of the site for the titre over the session; after the titre's end of validity, only
    during the prolongation (12 months, 24 for CFA/CRP) and for a site that held the agrément until the end."""
    agrements = list(session.scalars(select(Agrement).where(
        Agrement.site_id == site.site_id, Agrement.titre_code == titre.code,
        Agrement.status.in_(("accorde", "termine")))))
    eov = titre.end_of_validity
    if eov is not None and last > eov:
        limit = rules.last_session_day(eov, centre.type_centre, titre.prolongation_until)
        months = rules.prolongation_months(centre.type_centre)
        if today > limit or last > limit:
            raise Conflict(f"Le titre {titre.code} n'est plus valide depuis le {_fr(eov)} et sa période de "
                           f"prolongation ({months} mois pour ce centre) s'achève le {_fr(limit)}.",
                           code="S1_prolongation")
        if not any((a.valid_from is None or a.valid_from <= eov) and (a.valid_until is None or a.valid_until >= eov)
                   for a in agrements):
            raise Conflict(f"Ce site ne détenait pas d'agrément pour le titre {titre.code} jusqu'à sa fin de "
                           f"validité : pas de session pendant la prolongation.", code="S1_agrement")
        return
    granted = [a for a in agrements if a.status == "accorde"]
    if not granted:
        raise Conflict(f"Ce site ne détient pas d'agrément valide pour le titre {titre.code}.", code="S1_agrement")
    if not any((a.valid_from is None or a.valid_from <= first) and (a.valid_until is None or a.valid_until >= last)
               for a in granted):
        spans = ", ".join(f"du {_fr(a.valid_from) if a.valid_from else '…'} au "
                          f"{_fr(a.valid_until) if a.valid_until else '…'}" for a in granted)
        raise Conflict(f"La session sort de la période de l'agrément ({spans}).", code="S1_agrement_periode")


def _public_id(session: Session, kind: str, today: date) -> str:
    """S2: the id users see, e.g. TITRE_B_2023_470415 (type, series B, year, number)."""
    counter = session.scalar(select(Counter).where(Counter.name == "session_public_id").with_for_update())
    counter.value += 1
    return f"{kind}_B_{today.year}_{counter.value:06d}"


# --- the workflow ------------------------------------------------------------------------------------------------
def open_relaxation(session: Session, today: date) -> Relaxation | None:
    return session.scalars(select(Relaxation).where(Relaxation.starts_on <= today, Relaxation.ends_on >= today,
                                                    Relaxation.closed_at.is_(None))
                           .order_by(Relaxation.id).limit(1)).first()


def facts_for(session: Session, s: ExamSession, **inputs) -> Facts:
    today = clock.today()
    relaxation = open_relaxation(session, today)
    centre = session.get(Centre, s.centre_id)
    known = dict(
        status=s.status, departement=s.departement, region=s.region,
        centre_siret=centre.siret if centre else None, starts_on=rules.paris_day(s.starts_at),
        ends_on=rules.paris_day(s.ends_at), today=today, real_end_date=s.real_end_date,
        relaxation_id=relaxation.id if relaxation else None,
        jury_problems=lambda: jury.jury_problems(session, s),
    )
    return Facts(**{**known, **inputs})  # the action's input (a new date...) is what the conditions judge


def check(session: Session, principal, s: ExamSession, action: str, **inputs) -> Decision:
    decision = decide(action, principal, facts_for(session, s, **inputs))
    if not decision.allowed:
        refused = ApiError(decision.status, decision.reason, code=decision.code)
        raise refused.outside_scope("session", s.id) if decision.code == "out_of_scope" else refused  # I4
    return decision


def step(session: Session, principal, s: ExamSession, action: str, rt, *, reason: str | None = None,
         **inputs) -> ExamSession:
    """A status change of the table (demander_dte, envoyer_convocations, valider, annuler, finaliser…)."""
    from ..domain.workflow import WORKFLOW

    decision = check(session, principal, s, action, reason=reason, **inputs)
    before = session_fields(s)
    previous = s.status
    s.status = WORKFLOW[action].to_status or s.status
    if s.status == VALIDEE:
        s.validated_at, s.validated_by = clock.now(), principal.label
    _after_step(session, principal, s, action, previous, reason, decision, before, rt)
    return s


def _after_step(session, principal, s, action, previous, reason, decision: Decision, before, rt) -> None:
    relaxation_id = None
    if decision.waived:  # S4: done under a relaxation period: recorded and shown to the UD
        relaxation_id = open_relaxation(session, clock.today()).id
        s.under_relaxation = True
        reason = " ".join(filter(None, [reason, "Délai levé (période d'assouplissement) :", *decision.waived]))
    session.flush()
    _record_transition(session, principal, s, action, previous, reason, relaxation_id)
    rt.audit.record(session, entity_type="session", entity_id=s.id, action=action, actor=principal.label,
                    actor_role=principal.role, before=before, after=session_fields(s), reason=reason)
    if s.status != previous:
        _resolve_warnings(session, s)
        payload = event_payload(session, s, previous=previous, reason=reason)
        rt.outbox.record(session, "session.status_changed", payload)
        if s.status == ANNULEE:
            rt.outbox.record(session, "session.cancelled", payload)
        if s.status == VALIDEE:
            rt.outbox.record(session, "session.validated", validated_payload(session, s))


def _resolve_warnings(session: Session, s: ExamSession) -> None:
    """B2: the session moved on: its warnings about an earlier step are resolved."""
    done = [kind for kind, statuses in WARNING_PENDING.items() if s.status not in statuses]
    session.execute(delete(Warning).where(Warning.session_id == s.id, Warning.kind.in_(done)))


def _record_transition(session, principal, s, action, previous, reason, relaxation_id) -> None:
    session.add(Transition(session_id=s.id, action=action, from_status=previous, to_status=s.status,
                           actor=principal.label, actor_role=principal.role, at=clock.now(), reason=reason,
                           relaxation_id=relaxation_id))


def request_dte(session: Session, principal, s: ExamSession, candidate_count: int, rt) -> ExamSession:
    """S4: a DTE request may name 0 candidates (material already received under VALCE)."""
    s.dte_requested_at, s.dte_candidate_count = clock.now(), candidate_count
    return step(session, principal, s, "demander_dte", rt, reason=f"DTE demandé pour {candidate_count} candidat(s).")


def change_dates(session: Session, principal, s: ExamSession, data: dict, rt, *, postpone: bool) -> ExamSession:
    """S5: the centre edits the dates while `en préparation`; the UD postpones (report) a session not started."""
    new_start = data.get("starts_at") or s.starts_at
    new_end = data.get("ends_at") or s.ends_at
    action = "reporter" if postpone else "modifier_dates"
    decision = check(session, principal, s, action, new_starts_on=rules.paris_day(new_start),
                     new_ends_on=rules.paris_day(new_end), reason=data.get("reason") or (None if postpone else "-"))
    before = session_fields(s)
    shift = new_start - s.starts_at
    s.starts_at, s.ends_at = new_start, new_end
    s.convocation_at = data.get("convocation_at") or s.convocation_at + shift
    _after_step(session, principal, s, action, s.status, data.get("reason"), decision, before, rt)
    rt.outbox.record(session, "session.postponed", event_payload(session, s, reason=data.get("reason")))
    return s


def move_end_date(session: Session, principal, s: ExamSession, new_end: date, reason: str, rt) -> ExamSession:
    """S9: an administrator moves the end date (one session of a mass operation)."""
    new_ends_at = datetime.combine(new_end, DEFAULT_END_HOUR, tzinfo=PARIS)
    decision = check(session, principal, s, "deplacer_date_fin", new_ends_on=new_end, reason=reason)
    before = session_fields(s)
    s.ends_at = new_ends_at
    _after_step(session, principal, s, "deplacer_date_fin", s.status, reason, decision, before, rt)
    rt.outbox.record(session, "session.postponed", event_payload(session, s, reason=reason))
    return s


def enter_real_end(session: Session, principal, s: ExamSession, day: date, rt) -> ExamSession:
    decision = check(session, principal, s, "saisir_date_fin_reelle", real_end_date=day)
    before = session_fields(s)
    s.real_end_date = day
    _after_step(session, principal, s, "saisir_date_fin_reelle", s.status, None, decision, before, rt)
    return s


# --- candidates --------------------------------------------------------------------------------------------------
def enrol(session: Session, principal, s: ExamSession, candidate_id: int, rt) -> Enrolment:
    check(session, principal, s, "inscrire_candidat")
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or not may_enrol(session, principal, candidate_id):
        # I4: a person the centre may not see is answered as an unknown number (its existence is not revealed);
        # the attempt on a real person is traced.
        refused = ApiError(422, "Certaines données sont invalides.",
                           errors={"candidate_id": ["Aucun candidat CERES ne porte ce numéro."]})
        raise refused.outside_scope("candidate", candidate_id) if candidate is not None else refused
    if candidate.merged_into is not None:
        raise ApiError(422, "Certaines données sont invalides.", errors={"candidate_id": [
            f"Ce dossier a été fusionné : utilisez le numéro {candidate.merged_into}."]})
    enrolment = session.get(Enrolment, (s.id, candidate_id))
    if enrolment is not None and enrolment.state != "retire":
        raise Conflict("Ce candidat est déjà inscrit à la session.", code="already_enrolled")
    if enrolment is None:
        enrolment = Enrolment(session_id=s.id, candidate_id=candidate_id, ccps_obtained=[])
        session.add(enrolment)
    enrolment.state, enrolment.enrolled_at = "inscrit", clock.now()
    _trace_candidate(session, principal, s, candidate_id, "inscrire_candidat", rt)
    _emit_enrolment(session, s, enrolment, rt)
    return enrolment


def may_enrol(session: Session, principal, candidate_id: int) -> bool:
    """I4/C1: a centre enrols only the people it may see — records it created, or found by its duplicate check
    with their exact identity (candidates' grants); agents act within their territory (the session's scope)."""
    if principal.role not in CENTRE:
        return True
    return session.scalar(select(CandidateGrant.candidate_id).where(
        CandidateGrant.candidate_id == candidate_id, CandidateGrant.siret.in_(sorted(principal.sirets)))) is not None


def set_candidate_state(session: Session, principal, s: ExamSession, candidate_id: int, action: str, rt) -> None:
    check(session, principal, s, action)
    enrolment = session.get(Enrolment, (s.id, candidate_id))
    if enrolment is None or enrolment.state == "retire":
        raise NotFound("Ce candidat n'est pas inscrit à la session.")
    enrolment.state = "retire" if action == "retirer_candidat" else "absent"
    _trace_candidate(session, principal, s, candidate_id, action, rt)
    _emit_enrolment(session, s, enrolment, rt)


def _emit_enrolment(session, s: ExamSession, enrolment: Enrolment, rt) -> None:
    """In the enrolment's transaction (outbox): the candidates service learns of it at once, not at the session's
    next status change (I4: the centre reads the record of whom it enrols, no longer of whom it withdrew)."""
    rt.outbox.record(session, "session.enrolment_changed", {
        **_session_facts(s), "candidate_id": enrolment.candidate_id, "state": enrolment.state})


def _trace_candidate(session, principal, s, candidate_id, action, rt) -> None:
    rt.audit.record(session, entity_type="session", entity_id=s.id, action=action, actor=principal.label,
                    actor_role=principal.role, after={"candidate_id": candidate_id})


def enter_results(session: Session, principal, s: ExamSession, results: list[dict], rt) -> ExamSession:
    """S8: one decision per candidate (titre, partiel with the CCPs obtained, ajourné, absent); then the session
    goes to `résultats saisis` if S6 (real end date) and S7 (jury) hold. Refused: nothing is written."""
    check(session, principal, s, "saisir_resultats")  # scope, role, status, S6, S7 before reading the results
    titre = session.get(Titre, (s.titre_code, s.titre_version))
    all_ccps = [c["code"] for c in titre.ccps] if titre else []
    enrolments = {e.candidate_id: e for e in session.scalars(
        select(Enrolment).where(Enrolment.session_id == s.id, Enrolment.state != "retire"))}
    errors = {}
    for index, result in enumerate(results):
        problem = _result_problem(result, enrolments.get(result["candidate_id"]), all_ccps)
        if problem:
            errors[str(index)] = {"decision": [problem]}
    if errors:
        raise ApiError(422, "Certains résultats sont invalides.", errors={"results": errors})
    given = {r["candidate_id"]: r for r in results}
    for candidate_id, enrolment in enrolments.items():
        if candidate_id in given:
            enrolment.decision = given[candidate_id]["decision"]
            enrolment.ccps_obtained = (all_ccps if enrolment.decision == "titre"
                                       else list(given[candidate_id]["ccps_obtained"]))
    undecided = sum(1 for e in enrolments.values() if e.decision is None)
    session.flush()
    return step(session, principal, s, "saisir_resultats", rt, undecided_candidates=undecided)


def _result_problem(result: dict, enrolment: Enrolment | None, all_ccps: list[str]) -> str | None:
    decision, ccps = result["decision"], result["ccps_obtained"]
    if enrolment is None:
        return "Ce candidat n'est pas inscrit à la session."
    if enrolment.state == "absent" and decision != "absent":
        return "Ce candidat a été marqué absent."
    if decision == "partiel":
        if not ccps:
            return "Une réussite partielle nomme les CCP obtenus."
        unknown = sorted(set(ccps) - set(all_ccps))
        if unknown:
            return f"CCP inconnus pour ce titre : {', '.join(unknown)}."
        if set(ccps) == set(all_ccps):
            return "Tous les CCP sont obtenus : la décision est l'obtention du titre."
    elif decision in ("ajourne", "absent") and ccps:
        return "Aucun CCP n'est obtenu avec cette décision."
    return None


# --- views and payloads ------------------------------------------------------------------------------------------
def session_fields(s: ExamSession) -> dict:
    return {"status": s.status, "starts_at": s.starts_at, "ends_at": s.ends_at, "convocation_at": s.convocation_at,
            "real_end_date": s.real_end_date, "centre_id": s.centre_id, "site_id": s.site_id,
            "dte_candidate_count": s.dte_candidate_count}


def _candidate_ids(session: Session, s: ExamSession) -> list[int]:
    return sorted(session.scalars(select(Enrolment.candidate_id).where(Enrolment.session_id == s.id,
                                                                         Enrolment.state != "retire")))


def _session_facts(s: ExamSession) -> dict:
    return {"session_id": s.id, "public_id": s.public_id, "titre_code": s.titre_code,
            "titre_version": s.titre_version.isoformat(), "site_id": s.site_id, "centre_id": s.centre_id,
            "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "status": s.status}


def event_payload(session: Session, s: ExamSession, *, previous: str | None = None, reason: str | None = None):
    return {**_session_facts(s), "previous_status": previous, "candidate_ids": _candidate_ids(session, s),
            "reason": reason}


def validated_payload(session: Session, s: ExamSession) -> dict:
    """Everything printing needs (P1, P10): titre version, site commune, each candidate's decision and CCPs."""
    results = [{"candidate_id": e.candidate_id, "decision": e.decision, "ccps_obtained": list(e.ccps_obtained or [])}
               for e in session.scalars(select(Enrolment).where(Enrolment.session_id == s.id,
                                                                 Enrolment.state != "retire")
                                        .order_by(Enrolment.candidate_id))]
    return {"session_id": s.id, "public_id": s.public_id, "titre_code": s.titre_code,
            "titre_version": s.titre_version.isoformat(), "site_id": s.site_id,
            "site_commune_code": s.site_commune_code, "centre_id": s.centre_id,
            "ends_on": (s.real_end_date or rules.paris_day(s.ends_at)).isoformat(),
            "validated_by": s.validated_by, "validated_at": s.validated_at.isoformat(), "results": results}


def alerts(s: ExamSession) -> list[str]:
    """S6: the two reminders to enter the real end date before the results."""
    if s.status == "convocations_envoyees" and s.real_end_date is None:
        out = ["Saisissez la date réelle de fin de session avant de saisir les résultats."]
        if clock.now() >= s.ends_at:
            out.append("La session est terminée : la date réelle de fin est nécessaire pour saisir les résultats.")
        return out
    return []


def history(session: Session, s: ExamSession) -> list[Transition]:
    return list(session.scalars(select(Transition).where(Transition.session_id == s.id).order_by(Transition.id)))


# What the session's history shows from its audit trail beside the workflow steps: who was enrolled, withdrawn or
# marked absent, the jury's changes, a transfer of the site; and for agents only, the controls (S10).
TRAIL_ACTIONS = frozenset({"inscrire_candidat", "retirer_candidat", "marquer_absent", "jury_add", "jury_remove",
                           "site_transferred"})
CONTROL_ACTIONS = frozenset({"controle_programme", "controle_realise", "controle_annule"})


def timeline(session: Session, rt, principal, s: ExamSession) -> list[dict]:
    """The workflow steps (Transition) and the other changes of the session's trail, in time order."""
    shown = TRAIL_ACTIONS | (CONTROL_ACTIONS if principal.role not in CENTRE else frozenset())
    items = [{"action": t.action, "from": t.from_status, "to": t.to_status, "by": t.actor, "role": t.actor_role,
              "at": t.at, "reason": t.reason, "assouplissement": t.relaxation_id} for t in history(session, s)]
    trail = [row for row in rt.audit.history(session, "session", s.id) if row["action"] in shown]
    candidate_ids = {_changed(row, "candidate_id") for row in trail} - {None}
    jure_ids = {_changed(row, "jure_id") for row in trail} - {None}
    names = {c.candidate_id: f"{c.nom} {c.prenoms}" for c in session.scalars(
        select(Candidate).where(Candidate.candidate_id.in_(candidate_ids)))} if candidate_ids else {}
    jures = {j.id: f"{j.prenom} {j.nom}" for j in session.scalars(
        select(jury.Jure).where(jury.Jure.id.in_(jure_ids)))} if jure_ids else {}
    control_ids = {_changed(row, "control_id") for row in trail if row["action"] in CONTROL_ACTIONS} - {None}
    controls = {c.id: c for c in session.scalars(select(Control).where(Control.id.in_(control_ids)))} \
        if control_ids else {}
    for row in trail:
        candidate_id, jure_id = _changed(row, "candidate_id"), _changed(row, "jure_id")
        if candidate_id is not None:
            subject = f"{names.get(candidate_id, 'candidat')} (n° {candidate_id})"
        elif row["action"] in CONTROL_ACTIONS:  # the trail keeps what changed; the control says what it is
            c = controls.get(_changed(row, "control_id"))
            subject = f"contrôle {controls_vocabulary.KINDS[c.kind]} du {_fr(c.planned_on)}" if c else "contrôle"
        else:
            subject = jures.get(jure_id, jure_id)
        items.append({"action": row["action"], "from": None, "to": None, "by": row["actor"],
                      "role": row["actor_role"], "at": row["at"], "reason": row["reason"], "assouplissement": None,
                      "sujet": subject})
    return sorted(items, key=lambda item: _instant(item["at"]))


def _instant(moment: datetime) -> datetime:
    """SQLite reads the audit's UTC moments back naive: compare every moment as an aware one."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _changed(row: dict, key: str):
    """The value a trail row is about: after a change, else before it (a removal)."""
    before, after = (row["changes"] or {}).get(key, [None, None])
    return after if after is not None else before


def candidates_view(session: Session, s: ExamSession) -> list[dict]:
    rows = session.execute(select(Enrolment, Candidate).outerjoin(
        Candidate, Candidate.candidate_id == Enrolment.candidate_id).where(Enrolment.session_id == s.id)
        .order_by(Enrolment.candidate_id))
    return [{"candidate_id": e.candidate_id, "nom": c.nom if c else None, "prenoms": c.prenoms if c else None,
             "state": e.state, "decision": e.decision, "ccps_obtained": e.ccps_obtained or []} for e, c in rows]


def reassign_site_sessions(session: Session, site_id: str, to_centre_id: str) -> list[ExamSession]:
    moved = list(session.scalars(select(ExamSession).where(ExamSession.site_id == site_id,
                                                             ExamSession.centre_id != to_centre_id)))
    if moved:
        session.execute(update(ExamSession).where(ExamSession.id.in_([m.id for m in moved]))
                        .values(centre_id=to_centre_id))
    return moved

