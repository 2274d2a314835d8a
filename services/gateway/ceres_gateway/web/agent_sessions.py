"""Agents' pages on exam sessions, through the sessions API: the list of the scope's sessions with filters and
pages, a session with its history, and the UD's steps — validate the results or annul (S8), postpone (S5). The
service decides (workflow table, scope); the page offers only the actions it lists for the caller."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from ceres_shared.documents.french import date_numeric_fr

from .blueprint import allowed, api, bp, current_user, form_error, page
from .client import ServiceError
from .establishments import _int_arg
from .roles import AGENTS

PARIS = ZoneInfo("Europe/Paris")
PER_PAGE = 20
# S3, as users read them (the service sends the label with each session; the filter needs them all).
STATUSES = (("en_preparation", "en préparation"), ("demande_dte_envoyee", "demande de DTE envoyée"),
            ("convocations_envoyees", "convocations envoyées"), ("resultats_saisis", "résultats saisis"),
            ("validee", "validée"), ("finalisee", "finalisée"), ("annulee", "annulée"))
STATUS_LABELS = dict(STATUSES)
ACTION_LABELS = {"creer": "création", "demander_dte": "demande de DTE", "envoyer_convocations": "convocations",
                 "saisir_resultats": "saisie des résultats", "valider": "validation", "annuler": "annulation",
                 "reporter": "report", "modifier_dates": "modification des dates", "finaliser": "finalisation",
                 "saisir_date_fin_reelle": "date réelle de fin", "deplacer_date_fin": "date de fin déplacée",
                 "inscrire_candidat": "inscription d'un candidat", "retirer_candidat": "retrait d'un candidat",
                 "marquer_absent": "candidat absent", "composer_jury": "jury", "jury_add": "juré désigné",
                 "jury_remove": "juré retiré du jury", "site_transferred": "site transféré à un autre centre",
                 "controle_programme": "contrôle programmé", "controle_realise": "contrôle réalisé",
                 "controle_annule": "contrôle annulé"}
DECISIONS = {"titre": "titre obtenu", "partiel": "réussite partielle", "ajourne": "ajourné", "absent": "absent"}


@bp.app_template_filter("jour")
def day_fr(value) -> str:
    """ISO date or date-time → 15/01/2024 (Paris day), as French users read it."""
    return date_numeric_fr(value) if value else "—"


@bp.app_template_filter("jour_heure")
def moment_fr(value) -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment.astimezone(PARIS) if moment.tzinfo else moment).strftime("%d/%m/%Y à %H:%M")


def _date_arg(name: str, errors: dict) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        errors[name] = ["Saisissez une date valide (jj/mm/aaaa)."]
        return None


# The lists' sortable columns: the page's key -> the sessions API's (a whitelist there too, 422 otherwise).
SORTS = {"session": "public_id", "titre": "titre_code", "departement": "departement", "debut": "starts_at",
         "fin": "ends_at", "statut": "status"}
DEFAULT_SORT = {"tri": "debut", "ordre": "desc"}  # newest start first, as the service lists by default
FLAGS = {"dte": "dte_requested", "assouplissement": "under_relaxation"}  # S10's counts open these lists
SITE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
TITRE_CODE = re.compile(r"^(TP|CCS)-\d{5}$")


def list_request(columns: tuple[str, ...]) -> tuple[dict, dict, dict, dict]:
    """The list's filters, order and page from the query string: (filters, sort, the API's parameters, errors).
    Every value is checked against what the page offers; the service checks again."""
    errors: dict = {}
    statut = request.args.get("statut", "")
    if statut and statut not in STATUS_LABELS:
        errors["statut"] = ["Choisissez un statut de la liste."]
    filters = {"statut": statut if statut in STATUS_LABELS else "", "du": _date_arg("du", errors),
               "au": _date_arg("au", errors)}
    if filters["du"] and filters["au"] and filters["au"] < filters["du"]:
        errors["au"] = ["La fin de la période ne peut pas précéder son début."]
    for flag in FLAGS:
        raw = request.args.get(flag, "")
        if raw not in ("", "1"):
            errors[flag] = ["Cochez la case ou laissez-la vide."]
        filters[flag] = "1" if raw == "1" else ""
    # The site, the titre and the order come from links, not fields: their errors head the page ("_").
    for name, pattern in (("site", SITE_ID), ("titre", TITRE_CODE)):
        raw = request.args.get(name, "").strip()
        if raw and not pattern.match(raw):
            errors["_"] = ["Le filtre par site ou par titre est invalide : ouvrez la liste depuis le tableau de bord."]
        filters[name] = raw if pattern.match(raw) else ""
    sort = {"tri": request.args.get("tri", DEFAULT_SORT["tri"]), "ordre": request.args.get("ordre", "")}
    if sort["tri"] not in columns:
        errors.setdefault("_", []).append("Ce tri n'existe pas : choisissez une colonne du tableau.")
        sort["tri"] = DEFAULT_SORT["tri"]
    if sort["ordre"] not in ("asc", "desc"):
        sort["ordre"] = DEFAULT_SORT["ordre"] if sort["tri"] == DEFAULT_SORT["tri"] else "asc"
    params = {"sort": ("-" if sort["ordre"] == "desc" else "") + SORTS[sort["tri"]]}
    for key, name in (("statut", "status"), ("du", "starts_from"), ("au", "starts_to"), ("site", "site_id"),
                      ("titre", "titre_code")):
        if filters[key]:
            params[name] = filters[key]
    for flag, name in FLAGS.items():
        if filters[flag]:
            params[name] = "true"
    return filters, sort, params, errors


def list_page(template: str, columns: tuple[str, ...], **context):
    """A sessions list (the agents' and the centre's): filtered, sorted by a column header, a page at a time."""
    filters, sort, params, errors = list_request(columns)
    context.update(filters=filters, sort=sort, statuses=STATUSES, found=None,
                   args={k: v for k, v in filters.items() if v})
    if errors:
        return page(template, 422, errors=errors, error_detail="Les filtres ou le tri demandés sont invalides.",
                    **context)
    page_number = _int_arg("page", 1)
    try:
        found = api("GET", "sessions", "/sessions", params={**params, "page": page_number, "per_page": PER_PAGE}).data
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return form_error(template, exc, **context)
    pages = max(1, math.ceil(found["total"] / PER_PAGE))
    if page_number > pages:  # a page past the end (the list shrank): the last one
        return redirect(url_for(request.endpoint, **context["args"], **sort, page=pages))
    context.update(found=found, page_number=page_number, pages=pages)
    return page(template, **context)


@bp.route("/agent/sessions")
@allowed(*AGENTS)
def agent_sessions():
    """The scope's sessions (I4), newest start first or by the column chosen, filtered by status, start dates, DTE
    and relaxation (the dashboard's counts, S10), a page at a time."""
    return list_page("agent/sessions.html", tuple(SORTS))


def _session(session_id: str) -> dict:
    return api("GET", "sessions", f"/sessions/{session_id}").data


OPEN = frozenset({"en_preparation", "demande_dte_envoyee", "convocations_envoyees"})


def offered_actions(s: dict, role: str) -> set[str]:
    """The service lists the steps it would take now; those that need a reason (annul, postpone: S5, S8) are never
    listed without one, so the page offers them from the same table's statuses — the service checks again."""
    offered = set(s.get("actions") or ())
    if role in ("ud", "deets", "admin") and s["status"] in OPEN | {"resultats_saisis"}:
        offered.add("annuler")
    if role in ("ud", "deets") and _not_postponable(s) is None:
        offered.add("reporter")
    return offered


@bp.route("/agent/sessions/<session_id>")
@allowed(*AGENTS)
def agent_session(session_id: str):
    s = _session(session_id)
    s["actions"] = offered_actions(s, current_user()["role"])
    return page("agent/session.html", s=s, action_labels=ACTION_LABELS, status_labels=STATUS_LABELS,
                decisions=DECISIONS, print_endpoint="web.agent_print_session")


@bp.route("/agent/sessions/<session_id>/validation", methods=["GET", "POST"])
@allowed(*AGENTS)
def agent_validate_session(session_id: str):
    """S8: the UD validates the results after a confirmation page (then the printing workflow opens, P1)."""
    s = _session(session_id)
    if request.method == "GET":
        return page("agent/session_confirm.html", s=s, step="validation", decisions=DECISIONS)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/validation")
    except ServiceError as exc:
        return form_error("agent/session_confirm.html", exc, s=s, step="validation", decisions=DECISIONS)
    flash(f"La session {s['public_id']} est validée : ses documents sont préparés pour l'impression.", "success")
    return redirect(url_for("web.agent_session", session_id=session_id))


def confirm_with_reason(template: str, path: str, missing: str, done: str, then: str, **context):
    """An irreversible step: GET shows the confirmation page, POST needs a reason (said next to its field when
    missing), then asks the service at `path`; its refusal comes back on the page, its success as `done`."""
    form = {"reason": request.form.get("reason", "").strip()}
    context["form"] = form
    if request.method == "GET":
        return page(template, **context)
    if not form["reason"]:
        return page(template, 422, errors={"reason": [missing]}, error_detail="Le motif est obligatoire.", **context)
    try:
        api("POST", "sessions", path, json=form)
    except ServiceError as exc:
        return form_error(template, exc, **context)
    flash(done, "success")
    return redirect(then)


@bp.route("/agent/sessions/<session_id>/annulation", methods=["GET", "POST"])
@allowed(*AGENTS)
def agent_cancel_session(session_id: str):
    """S8: annulling is irreversible: a page that says so, and the reason is required."""
    s = _session(session_id)
    return confirm_with_reason("agent/session_confirm.html", f"/sessions/{session_id}/annulation",
                               "Saisissez le motif de l'annulation.", f"La session {s['public_id']} est annulée.",
                               url_for("web.agent_session", session_id=session_id), s=s, step="annulation",
                               decisions=DECISIONS)


def _aware(day: str, hour: time) -> str | None:
    try:
        return datetime.combine(date.fromisoformat(day), hour, tzinfo=PARIS).isoformat()
    except ValueError:
        return None


def _not_postponable(s: dict) -> str | None:
    """Why the page offers no postponement (S5), in the users' words; the service decides again on submit."""
    if s["status"] not in OPEN:
        return (f"Seule une session en préparation, à la demande de DTE envoyée ou aux convocations envoyées se "
                f"reporte : celle-ci est « {s['status_label']} ».")
    if date.fromisoformat(s["starts_at"][:10]) <= date.today():
        return "La session a déjà commencé : elle ne peut plus être reportée."
    return None


@bp.route("/agent/sessions/<session_id>/report", methods=["GET", "POST"])
@allowed(*AGENTS)
def agent_postpone_session(session_id: str):
    """S5: the UD postpones a session not started (the status stays): new dates and a reason. The hours of the
    session stay (08:00 unless the centre chose another, S2)."""
    s = _session(session_id)
    form = {k: request.form.get(k, "").strip() for k in ("starts_at", "ends_at", "reason")}
    starts, ends = (datetime.fromisoformat(s[k]).astimezone(PARIS) for k in ("starts_at", "ends_at"))
    context = {"s": s, "form": form, "hours": (starts.time(), ends.time()), "blocked": _not_postponable(s)}
    if request.method == "GET":
        form.update(starts_at=starts.date().isoformat(), ends_at=ends.date().isoformat())
        return page("agent/session_report.html", **context)
    errors = {}
    body = {"reason": form["reason"] or None}
    for name, hour in (("starts_at", starts.time()), ("ends_at", ends.time())):
        body[name] = _aware(form[name], hour) if form[name] else None
        if body[name] is None:
            errors[name] = ["Saisissez une date valide (jj/mm/aaaa)."]
    if not form["reason"]:
        errors["reason"] = ["Saisissez le motif du report."]
    if errors:
        return page("agent/session_report.html", 422, errors=errors,
                    error_detail="Certaines données sont manquantes ou invalides.", **context)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/report", json=body)
    except ServiceError as exc:
        return form_error("agent/session_report.html", exc, **context)
    flash(f"La session {s['public_id']} est reportée du {day_fr(body['starts_at'])} au "
          f"{day_fr(body['ends_at'])}.", "success")
    return redirect(url_for("web.agent_session", session_id=session_id))
