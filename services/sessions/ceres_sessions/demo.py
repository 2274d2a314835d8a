"""Demo data of the sessions service (embedded mode only). At start (`seed`): the titres catalogue and the jurés
with their habilitations. Then, once establishments' and candidates' events have brought the demo sites, agréments
and candidates (demo_worker.py waits for them): sessions at every step of the workflow, each step done by the role
that does it — the centre creates, enrols, composes the jury, asks for the DTE, convokes, enters the results; the
UD (the DEETS overseas) validates — through the same use cases as the API. Idempotent: a site whose demo sessions
exist is left alone; a juré whose e-mail exists is not created again.

Past dates: results need a session that has ended, and the service refuses to create a session in the past (S2) or
to enter a real end date in the future (S6). So each past step runs with the service's clock (clock.fix) set to the
day that step would have happened, then released: the deadlines (S4), the transitions' dates and the history read
as in real life, and no rule is bypassed. The clock is the process's, so the few milliseconds of each step are the
only moments it is not today; this happens once, in embedded mode, right after the first start."""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from ceres_shared.auth import Principal
from ceres_shared.errors import ApiError

from . import clock
from .domain import rules
from .domain.workflow import CONVOCATIONS_ENVOYEES, DTE_ENVOYEE, EN_PREPARATION, RESULTATS_SAISIS, STATUSES, VALIDEE
from .models import Agrement, Candidate, CandidateGrant, Centre, ExamSession, Jure, Site, Titre
from .service_layer import catalogue, controls, jury, sessions

log = logging.getLogger(__name__)
CATALOGUE = Path(__file__).parent / "data" / "titres_demo.json"
SYSTEM = Principal(subject="demo", role="dgefp", national=True)
DEMO_SUBJECT = "demo-seed"
# Who created a session of the demo (the centre's principal label): how a later start knows a site is done.
DEMO_CREATOR = f"centre:{DEMO_SUBJECT}"


def site_id_for(centre_siret: str, n: int) -> str:
    """Establishments' deterministic site ids (the demo services agree on them without asking)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:site:{centre_siret}:{n}"))


# --- jurés (S7) ----------------------------------------------------------------------------------------------------
# civilité, nom, prénom, e-mail, département, région; each habilité for TP-00463 and TP-00391.
JURES = [
    ("Mme", "FAURE", "Claire", "claire.faure@jury.ceres.demo", "69", "84"),
    ("M", "BONNET", "Pierre", "pierre.bonnet@jury.ceres.demo", "01", "84"),
    ("Mme", "GIRAUD", "Nathalie", "nathalie.giraud@jury.ceres.demo", "69", "84"),
    ("M", "LAMBERT", "Olivier", "olivier.lambert@jury.ceres.demo", "75", "11"),
    ("Mme", "MOREL", "Isabelle", "isabelle.morel@jury.ceres.demo", "75", "11"),
    ("M", "HOARAU", "Jean-Claude", "jean-claude.hoarau@jury.ceres.demo", "974", "04"),
    ("Mme", "FONTAINE", "Marie-Paule", "marie-paule.fontaine@jury.ceres.demo", "974", "04"),
]
HABILITATIONS = ("TP-00463", "TP-00391")
# S7: this juré trained this candidate and may not sit on their jury (the jury is composed around it).
CONFLICT = ("claire.faure@jury.ceres.demo", "CHEVALIER", "a été sa formatrice en 2023")


# --- sessions ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One demo session: where it is left, its first day (days from today), its length, and its candidates with the
    jury's decision (titre, partiel with the numbers of the CCPs obtained, ajourne, absent) when it has results."""

    titre_code: str
    status: str
    start: int
    candidates: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    days: int = 3
    # S10: a control on site on the session's second day, with its outcome when the session is past.
    control: str | None = None  # conforme, observations, non_conforme, or "" for one only planned


def _c(*names: str) -> tuple:
    return tuple((name, "", ()) for name in names)


# (centre SIRET, site number) -> sessions. Ain, Rhône, Paris and La Réunion (P6: documents sent to the DEETS).
SITES: dict[tuple[str, int], list[Plan]] = {
    ("30012845100014", 1): [  # Bourg-en-Bresse (01)
        Plan("TP-00463", EN_PREPARATION, 150, _c("ROUSSEAU")),
        Plan("TP-00463", DTE_ENVOYEE, 100, _c("DUBOIS", "LEFEBVRE")),
        Plan("TP-00463", CONVOCATIONS_ENVOYEES, 21, _c("BENALI", "NGUYEN"), control=""),
        Plan("TP-00463", RESULTATS_SAISIS, -20, (("CHEVALIER", "titre", ()), ("DUBOIS", "partiel", (2,))),
             control="non_conforme"),
        Plan("TP-00463", VALIDEE, -75, (("ROUSSEAU", "titre", ()), ("CHEVALIER", "partiel", (1,)),
                                        ("DUBOIS", "ajourne", ()), ("LEFEBVRE", "absent", ()))),
    ],
    ("41822976100014", 1): [  # Lyon 3e (69)
        Plan("TP-00463", EN_PREPARATION, 120),
        Plan("TP-00463", DTE_ENVOYEE, 95, _c("CHEVALIER")),
        # Ended weeks ago, results still not entered: the B2 "results overdue" warning.
        Plan("TP-00463", CONVOCATIONS_ENVOYEES, -40, _c("MARTIN", "NGUYEN")),
        Plan("TP-00463", RESULTATS_SAISIS, -25, (("LEFEBVRE", "titre", ()), ("MARTIN", "partiel", (1,)),
                                                 ("NGUYEN", "ajourne", ()))),
        Plan("TP-00463", VALIDEE, -60, (("BENALI", "titre", ()), ("GRONDIN", "partiel", (2,)),
                                        ("DUBOIS", "absent", ())), control="observations"),
    ],
    ("41822976100014", 2): [  # Villeurbanne (69)
        Plan("TP-00463", EN_PREPARATION, 130),
        Plan("TP-00463", RESULTATS_SAISIS, -12, (("MARTIN", "titre", ()), ("BENALI", "ajourne", ()))),
    ],
    ("52231548000015", 1): [  # Paris 11e (75); TP-00391 is in its prolongation (S1)
        Plan("TP-00391", EN_PREPARATION, 60),
        Plan("TP-00391", CONVOCATIONS_ENVOYEES, 30, _c("MARTIN")),
        Plan("TP-00391", VALIDEE, -90, (("MARTIN", "partiel", (1, 2)), ("BENALI", "titre", ()),
                                        ("LEFEBVRE", "ajourne", ()), ("DUBOIS", "absent", ()))),
    ],
    ("63840117400013", 1): [  # Saint-Denis (974)
        Plan("TP-00463", EN_PREPARATION, 140),
        Plan("TP-00463", DTE_ENVOYEE, 100, _c("GRONDIN")),
        Plan("TP-00463", CONVOCATIONS_ENVOYEES, 25, _c("NGUYEN")),
        Plan("TP-00463", RESULTATS_SAISIS, -20, (("GRONDIN", "titre", ()), ("NGUYEN", "partiel", (1,)))),
        Plan("TP-00463", VALIDEE, -45, (("PAYET", "titre", ()), ("GRONDIN", "partiel", (1,)),
                                        ("NGUYEN", "ajourne", ()), ("BENALI", "absent", ()))),
    ],
}


def seed(rt) -> None:
    rows = catalogue.parse_import(CATALOGUE.read_bytes(), "application/json")
    with rt.session_factory.begin() as session:
        counts = catalogue.import_titres(session, SYSTEM, rows, rt)
    log.info("demo catalogue: %s", counts)
    seed_jures(rt)


def seed_jures(rt) -> None:
    """The jurés, created and habilités by their DREETS (the DEETS overseas), as the jurés' screens do."""
    today = clock.today()
    with rt.session_factory.begin() as session:
        for civilite, nom, prenom, email, departement, region in JURES:
            if session.scalar(select(Jure.id).where(Jure.email == email)) is not None:
                continue
            agent = Principal(subject=DEMO_SUBJECT, role="deets" if departement.startswith("97") else "dreets",
                              regions=frozenset({region}))
            jure = jury.create_jure(session, agent, {
                "civilite": civilite, "nom": nom, "prenom": prenom, "email": email, "departement": departement,
                "region": region, "competences": [], "commentaires": "Juré de démonstration."}, rt)
            for code in HABILITATIONS:
                # Habilité until the titre's end of validity: S7 then extends it by 24 months by itself.
                until = _end_of_validity(session, code) or rules.add_months(today, 36)
                jury.add_habilitation(session, agent, jure, {
                    "titre_code": code, "valid_from": date(today.year - 2, 1, 1), "valid_until": until}, rt)


def _end_of_validity(session, code: str) -> date | None:
    return session.scalar(select(Titre.end_of_validity).where(Titre.code == code)
                          .order_by(Titre.version_date.desc()).limit(1))


# --- the sessions' seeding, called by demo_worker.DemoSeeder until it returns True -------------------------------------
def seed_sessions(rt, attempted: set[str]) -> tuple[bool, int]:
    """Seeds each demo site whose projections have arrived: (every site seeded or tried, how many sites now)."""
    done, seeded = True, 0
    for (siret, n), plans in SITES.items():
        site_id = site_id_for(siret, n)
        if site_id in attempted:
            continue
        with rt.session_factory() as session:
            if session.scalar(select(ExamSession.id).where(ExamSession.site_id == site_id,
                                                           ExamSession.created_by == DEMO_CREATOR).limit(1)):
                attempted.add(site_id)  # seeded by an earlier start
                continue
            if not _ready(session, site_id, siret, plans):
                done = False
                continue
        _seed_site(rt, site_id, plans)
        attempted.add(site_id)
        seeded += 1
    return done, seeded


def _ready(session, site_id: str, siret: str, plans: list[Plan]) -> bool:
    """The site, its centre, the agréments and the candidates the plans need are all in the projections."""
    site = session.get(Site, site_id)
    centre = session.get(Centre, site.centre_id) if site else None
    if centre is None or centre.siret != siret:
        return False
    titres = {p.titre_code for p in plans}
    granted = set(session.scalars(select(Agrement.titre_code).where(Agrement.site_id == site_id,
                                                                     Agrement.status == "accorde")))
    names = {name for p in plans for name, _, _ in p.candidates}
    people = _people(session, names)
    shared = set(session.scalars(select(CandidateGrant.candidate_id).where(  # I4: the centre may enrol them
        CandidateGrant.siret == siret, CandidateGrant.candidate_id.in_(list(people.values())))))
    return titres <= granted and names <= set(people) and set(people.values()) <= shared


def _people(session, names) -> dict[str, int]:
    return {c.nom: c.candidate_id for c in session.scalars(select(Candidate).where(
        Candidate.nom.in_(sorted(names)), Candidate.merged_into.is_(None)).order_by(Candidate.candidate_id))}


def _seed_site(rt, site_id: str, plans: list[Plan]) -> None:
    """All the site's sessions in one transaction (a crash leaves none, so the next start seeds the site again).
    A plan a rule refuses (e.g. a titre past its prolongation, S1) is logged and left out, the others kept."""
    refused: set[int] = set()
    while True:
        try:
            with rt.session_factory.begin() as session:
                for index, plan in enumerate(plans):
                    if index in refused:
                        continue
                    try:
                        _play(rt, session, site_id, plan)
                    except ApiError as error:
                        log.info("demo session %s/%s on site %s left out: %s %s", plan.titre_code, plan.status,
                                 site_id, error.detail, error.errors or "")
                        refused.add(index)
                        raise _Again from error
            log.info("demo sessions of site %s: %d seeded", site_id, len(plans) - len(refused))
            return
        except _Again:
            continue


class _Again(Exception):
    """Roll the site's transaction back and play its plans again without the refused one."""


@contextmanager
def _on(day: date, today: date):
    """The service's clock on `day` at 10:00 (Paris) for one past step; today's steps keep the real clock."""
    if day >= today:
        yield
        return
    # In UTC, like the real clock: the moments the service stamps (created, DTE, validated) are stored alike.
    clock.fix(datetime.combine(day, time(10, 0), tzinfo=clock.PARIS).astimezone(timezone.utc))
    try:
        yield
    finally:
        clock.fix(None)


def _reached(plan: Plan, status: str) -> bool:
    return STATUSES.index(plan.status) >= STATUSES.index(status)


def _play(rt, session, site_id: str, plan: Plan) -> ExamSession:
    """One session from its creation to `plan.status`, each step on the day it would have been done."""
    today = clock.today()
    site = session.get(Site, site_id)
    centre = session.get(Centre, site.centre_id)
    people = _people(session, {name for name, _, _ in plan.candidates})
    start = today + timedelta(days=plan.start)
    end = start + timedelta(days=plan.days - 1)
    gestionnaire = Principal(subject=DEMO_SUBJECT, role="centre", name=centre.raison_sociale,
                             sirets=frozenset({centre.siret}))
    # S4: created four months ahead, DTE a week later (deadline: 3 months ahead), convocations five weeks ahead
    # (deadline: 1 month); a session left en préparation was created today.
    created = today if plan.status == EN_PREPARATION else min(today, rules.add_months(start, -4))
    dte_day = min(today, created + timedelta(days=7))
    convocation_day = max(dte_day, min(today, rules.add_months(start, -1) - timedelta(days=7)))
    with _on(created, today):
        s = sessions.create_session(session, gestionnaire, {
            "site_id": site_id, "titre_code": plan.titre_code, "starts_on": start, "ends_on": end}, rt)
        for name, _, _ in plan.candidates:
            sessions.enrol(session, gestionnaire, s, people[name], rt)
        if _reached(plan, DTE_ENVOYEE):
            _compose_jury(rt, session, gestionnaire, s)
    if _reached(plan, DTE_ENVOYEE):
        with _on(dte_day, today):
            sessions.request_dte(session, gestionnaire, s, len(plan.candidates), rt)
    if _reached(plan, CONVOCATIONS_ENVOYEES):
        with _on(convocation_day, today):
            sessions.step(session, gestionnaire, s, "envoyer_convocations", rt)
    if _reached(plan, RESULTATS_SAISIS):
        with _on(end + timedelta(days=1), today):  # S6 then S8, the day after the session
            sessions.enter_real_end(session, gestionnaire, s, end, rt)
            for name, decision, _ in plan.candidates:
                if decision == "absent":
                    sessions.set_candidate_state(session, gestionnaire, s, people[name], "marquer_absent", rt)
            sessions.enter_results(session, gestionnaire, s, _results(session, s, plan, people), rt)
    if _reached(plan, VALIDEE):
        with _on(min(today, end + timedelta(days=8)), today):
            sessions.step(session, _validator(site), s, "valider", rt)
    if plan.control is not None:
        _control(rt, session, _validator(site), s, start + timedelta(days=1), plan.control, today)
    return s


CONTROL_FINDINGS = {"observations": "Émargement du deuxième jour incomplet ; corrigé sur place.",
                    "non_conforme": "Plateau technique incomplet : une épreuve s'est tenue sans l'équipement prévu."}


def _control(rt, session, agent: Principal, s: ExamSession, day: date, outcome: str, today: date) -> None:
    """S10: planned a month before the session, its outcome recorded on the day when the session is past."""
    with _on(min(today, day - timedelta(days=30)), today):
        planned = controls.plan(session, agent, s.id, "sur_place", day, rt)
    if outcome and day <= today:
        with _on(day, today):
            controls.record_outcome(session, agent, planned.id, outcome, CONTROL_FINDINGS.get(outcome), rt)


def _compose_jury(rt, session, principal, s: ExamSession) -> None:
    """S7: the first two jurés habilités over the session, of its région, without conflict with its candidates."""
    for jure in jury.jures_to_convoke(session, s)[:jury.MIN_JURES]:
        sessions.check(session, principal, s, "composer_jury")
        jury.add_to_jury(session, s, jure)
        rt.audit.record(session, entity_type="session", entity_id=s.id, action="jury_add", actor=principal.label,
                        actor_role=principal.role, after={"jure_id": jure.id})


def _results(session, s: ExamSession, plan: Plan, people: dict[str, int]) -> list[dict]:
    titre = session.get(Titre, (s.titre_code, s.titre_version))
    ccps = [c["code"] for c in titre.ccps]
    return [{"candidate_id": people[name], "decision": decision,
             "ccps_obtained": [ccps[i - 1] for i in numbers] if decision == "partiel" else []}
            for name, decision, numbers in plan.candidates]


def _validator(site: Site) -> Principal:
    """S8: the UD of the site's département validates; overseas, the DEETS of the région."""
    if site.departement.startswith("97"):
        return Principal(subject=DEMO_SUBJECT, role="deets", regions=frozenset({site.region}))
    return Principal(subject=DEMO_SUBJECT, role="ud", departements=frozenset({site.departement}))


def seed_conflicts(rt) -> bool:
    """S7's conflict of interest, once the candidate has arrived; True when recorded (or already there)."""
    email, name, nature = CONFLICT
    with rt.session_factory.begin() as session:
        jure = session.scalar(select(Jure).where(Jure.email == email))
        candidate_id = _people(session, {name}).get(name)
        if jure is None or candidate_id is None:
            return False
        agent = Principal(subject=DEMO_SUBJECT, role="dreets", regions=frozenset({jure.region}))
        jury.add_conflict(session, agent, jure, {"candidate_id": candidate_id, "nature": nature}, rt)
    return True
