"""Sessions: creation, reading, every workflow step, candidates, jury."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import case, func, select

from ceres_shared.auth import AGENT_ROLES, current_principal, require
from ceres_shared.web import db, runtime

from ..clock import PARIS
from ..domain.workflow import STATUS_LABELS, available_actions
from ..models import ExamSession
from ..service_layer import controls as controls_uc
from ..service_layer import jury as jury_uc
from ..service_layer import sessions as uc
from . import responses as doc
from .common import plain
from .schemas import DatesChange, DteRequest, Enrol, JuryAdd, RealEnd, Reason, Results, SessionCreate, SessionQuery

blp = Blueprint("sessions", __name__, url_prefix="/sessions", description="Sessions d'examen (règles S1 à S8)")


class ParisDateTime(fields.DateTime):
    """Dates and times as the French users read them (Europe/Paris), whatever the database returns."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.astimezone(PARIS).isoformat()


class SessionOut(Schema):
    id = fields.Str()
    public_id = fields.Str()
    kind = fields.Str()
    titre_code = fields.Str()
    titre_version = fields.Date()
    ccp_code = fields.Str(allow_none=True)
    site_id = fields.Str()
    centre_id = fields.Str()
    departement = fields.Str()
    region = fields.Str()
    status = fields.Str()
    status_label = fields.Function(lambda s: STATUS_LABELS[s.status])
    starts_at = ParisDateTime()
    ends_at = ParisDateTime()
    convocation_at = ParisDateTime()
    real_end_date = fields.Date(allow_none=True)
    dte_requested_at = ParisDateTime(allow_none=True)
    dte_candidate_count = fields.Int(allow_none=True)
    under_relaxation = fields.Bool()
    validated_at = ParisDateTime(allow_none=True)
    validated_by = fields.Str(allow_none=True)


_OUT = SessionOut()


class SessionDetail(SessionOut, doc.SessionExtras):
    """A session as its endpoints answer (_detail): documentation only."""


def _detail(s: ExamSession) -> dict:
    session, principal = db(), current_principal()
    body = _OUT.dump(s)
    body["alertes"] = uc.alerts(s)  # S6
    body["actions"] = available_actions(principal, uc.facts_for(session, s))
    body["candidats"] = uc.candidates_view(session, s)
    body["jury"] = [{"id": j.id, "nom": j.nom, "prenom": j.prenom} for j in jury_uc.jury_of(session, s.id)]
    body["historique"] = plain(uc.timeline(session, runtime(), principal, s))
    if principal.role in AGENT_ROLES:  # a centre is not told of the controls of its sessions (S10)
        body["controles"] = plain([controls_uc.as_dict(c) for c in controls_uc.of_session(session, s.id)])
    return body


def _done(s: ExamSession, status: int = 200):
    db().commit()
    return _detail(s), status


def _sort_key(sort: str):
    """The whitelisted column (schemas.SORTS); statuses in their workflow order (S3), not alphabetically."""
    name = sort.removeprefix("-")
    column = (case({status: rank for rank, status in enumerate(STATUS_LABELS)}, value=ExamSession.status)
              if name == "status" else getattr(ExamSession, name))
    return column.desc() if sort.startswith("-") else column.asc()


@blp.route("")
@blp.alt_response(200, schema=doc.SessionPage, success=True)
@require("session.read")
@blp.arguments(SessionQuery, location="query")
def list_sessions(query: dict):
    """Sessions of the caller's scope (I4), newest first unless sorted otherwise; the dashboard's counts open this
    list (S10)."""
    session = db()
    stmt = select(ExamSession).where(uc.scope_clause(current_principal()))
    if query["status"]:
        stmt = stmt.where(ExamSession.status == query["status"])
    if query["starts_from"]:
        stmt = stmt.where(ExamSession.starts_at >= uc.rules.at_eight(query["starts_from"]).replace(hour=0))
    for name in ("site_id", "titre_code"):  # the dashboard's agréments to follow open their sessions
        if query[name]:
            stmt = stmt.where(getattr(ExamSession, name) == query[name])
    if query["starts_to"]:
        stmt = stmt.where(ExamSession.starts_at <= uc.rules.at_eight(query["starts_to"]).replace(hour=23))
    if query["dte_requested"] is not None:
        requested = ExamSession.dte_requested_at.is_not(None)
        stmt = stmt.where(requested if query["dte_requested"] else ~requested)
    if query["under_relaxation"] is not None:
        stmt = stmt.where(ExamSession.under_relaxation.is_(query["under_relaxation"]))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    order = [_sort_key(query["sort"])]
    if query["sort"].removeprefix("-") != "starts_at":
        order.append(ExamSession.starts_at.desc())  # ties: newest first, as unsorted
    page = session.scalars(stmt.order_by(*order, ExamSession.id)
                           .offset((query["page"] - 1) * query["per_page"]).limit(query["per_page"]))
    return {"total": total, "page": query["page"], "sort": query["sort"],
            "sessions": _OUT.dump(list(page), many=True)}


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.create")
@blp.arguments(SessionCreate)
def create(data: dict):
    s = uc.create_session(db(), current_principal(), data, runtime())
    return _done(s, 201)


@blp.route("/offres")
@blp.alt_response(200, schema=doc.Offer(many=True), success=True)
@require("session.create")
def offers():
    """S1: where the caller's centres may hold a session today (site and titre of a valid agrément)."""
    return plain(uc.offers(db(), current_principal()))


@blp.route("/<session_id>")
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.read")
def read(session_id: str):
    return _detail(uc.get_visible(db(), current_principal(), session_id))


def _load(session_id: str) -> ExamSession:
    """The session to change, locked until the request commits (concurrent steps: the second one waits)."""
    return uc.get_visible(db(), current_principal(), session_id, lock=True)


@blp.route("/<session_id>/dates", methods=["PATCH"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(DatesChange)
def change_dates(data: dict, session_id: str):
    """S5: the centre's edit of the dates ("informations pratiques"), only while en préparation."""
    s = uc.change_dates(db(), current_principal(), _load(session_id), data, runtime(), postpone=False)
    return _done(s)


@blp.route("/<session_id>/report", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(DatesChange)
def postpone(data: dict, session_id: str):
    """S5: the UD's postponement of a session not yet started (the status stays)."""
    s = uc.change_dates(db(), current_principal(), _load(session_id), data, runtime(), postpone=True)
    return _done(s)


@blp.route("/<session_id>/demande-dte", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(DteRequest)
def request_dte(data: dict, session_id: str):
    s = uc.request_dte(db(), current_principal(), _load(session_id), data["candidate_count"], runtime())
    return _done(s)


def _step(action: str, session_id: str, reason: str | None = None):
    s = uc.step(db(), current_principal(), _load(session_id), action, runtime(), reason=reason)
    return _done(s)


@blp.route("/<session_id>/convocations", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def send_convocations(session_id: str):
    return _step("envoyer_convocations", session_id)


@blp.route("/<session_id>/validation", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def validate(session_id: str):
    return _step("valider", session_id)


@blp.route("/<session_id>/annulation", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(Reason)
def cancel(data: dict, session_id: str):
    return _step("annuler", session_id, data.get("reason"))


@blp.route("/<session_id>/finalisation", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def finalise(session_id: str):
    return _step("finaliser", session_id)


@blp.route("/<session_id>/date-fin-reelle", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(RealEnd)
def real_end(data: dict, session_id: str):
    s = uc.enter_real_end(db(), current_principal(), _load(session_id), data["real_end_date"], runtime())
    return _done(s)


@blp.route("/<session_id>/resultats", methods=["PUT"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(Results)
def results(data: dict, session_id: str):
    s = uc.enter_results(db(), current_principal(), _load(session_id), data["results"], runtime())
    return _done(s)


@blp.route("/<session_id>/candidats", methods=["POST"])
@blp.alt_response(201, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(Enrol)
def enrol(data: dict, session_id: str):
    s = _load(session_id)
    uc.enrol(db(), current_principal(), s, data["candidate_id"], runtime())
    return _done(s, 201)


@blp.route("/<session_id>/candidats/<int:candidate_id>", methods=["DELETE"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def withdraw(session_id: str, candidate_id: int):
    s = _load(session_id)
    uc.set_candidate_state(db(), current_principal(), s, candidate_id, "retirer_candidat", runtime())
    return _done(s)


@blp.route("/<session_id>/candidats/<int:candidate_id>/absence", methods=["POST"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def absent(session_id: str, candidate_id: int):
    s = _load(session_id)
    uc.set_candidate_state(db(), current_principal(), s, candidate_id, "marquer_absent", runtime())
    return _done(s)


@blp.route("/<session_id>/jury", methods=["POST"])
@blp.alt_response(201, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
@blp.arguments(JuryAdd)
def add_jure(data: dict, session_id: str):
    session, principal, s = db(), current_principal(), _load(session_id)
    uc.check(session, principal, s, "composer_jury")
    jure = session.get(jury_uc.Jure, data["jure_id"])
    if jure is None:
        from ceres_shared.errors import ApiError

        raise ApiError(422, "Certaines données sont invalides.", errors={"jure_id": ["Juré inconnu."]})
    jury_uc.add_to_jury(session, s, jure)  # S7
    runtime().audit.record(session, entity_type="session", entity_id=s.id, action="jury_add", actor=principal.label,
                           actor_role=principal.role, after={"jure_id": jure.id})
    return _done(s, 201)


@blp.route("/<session_id>/jury/<jure_id>", methods=["DELETE"])
@blp.alt_response(200, schema=SessionDetail, success=True, description="La session, avec son détail")
@require("session.act")
def remove_jure(session_id: str, jure_id: str):
    session, principal, s = db(), current_principal(), _load(session_id)
    uc.check(session, principal, s, "composer_jury")
    jury_uc.remove_from_jury(session, s, jure_id)
    runtime().audit.record(session, entity_type="session", entity_id=s.id, action="jury_remove",
                           actor=principal.label, actor_role=principal.role, before={"jure_id": jure_id})
    return _done(s)


@blp.route("/<session_id>/jures-a-convoquer")
@blp.alt_response(200, schema=doc.ConvocableJure(many=True), success=True)
@require("session.read")
def to_convoke(session_id: str):
    """S7: jurés habilités over the whole session (with the 24-month extension), without conflict."""
    s = uc.get_visible(db(), current_principal(), session_id)
    return [{"id": j.id, "civilite": j.civilite, "nom": j.nom, "prenom": j.prenom, "email": j.email}
            for j in jury_uc.jures_to_convoke(db(), s)]
