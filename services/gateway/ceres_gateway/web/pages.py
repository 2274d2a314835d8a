"""Home, each role's dashboard, and the public diploma verification (B1)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import redirect, request, url_for

from .blueprint import api, bp, client, current_user, login_required, page
from .client import ServiceError
from .roles import AGENTS, CENTRES

# P8, as printing checks numbers: a CERES number (« D2022-7KQ4-M9XZ ») or the original number of a pre-CERES
# diploma reprinted (« 2009/01.234 »): letters and digits, single separators - / . between them, 24 at most.
DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]+(?:[-/.][A-Z0-9]+)*")
DOCUMENT_NUMBER_MAX = 24


def is_document_number(number: str) -> bool:
    return len(number) <= DOCUMENT_NUMBER_MAX and DOCUMENT_NUMBER.fullmatch(number) is not None
PARIS = ZoneInfo("Europe/Paris")


@bp.route("/")
def home():
    return redirect(url_for("web.dashboard" if current_user() else "web.login"))


def _tiles(role: str) -> tuple[list[dict], list[str]]:
    """Counts of the user's scope from the services that publish them; a service that cannot answer is named,
    never shown as zero."""
    tiles, unavailable = [], []
    if role in AGENTS:
        try:
            board = api("GET", "printing", "/dashboard").data or {}
            # P9: validated sessions with no print request yet / with part of them requested; each opens its list.
            tiles.append({"label": "Sessions validées sans demande d'impression",
                          "count": board.get("sessions_sans_demande", 0),
                          "url": url_for("web.agent_printing_board", suivi="sans_demande")})
            tiles.append({"label": "Sessions aux impressions partielles", "count": board.get("sessions_partielles", 0),
                          "url": url_for("web.agent_printing_board", suivi="partielles")})
        except ServiceError as exc:
            if exc.status not in (403,):
                unavailable.append("impressions")
    return tiles, unavailable


WARNING_KINDS = {"dte": "Demande de DTE", "convocations": "Convocations", "results": "Résultats en retard",
                 "habilitation": "Habilitation d'un juré", "prolongation": "Fin de prolongation d'un titre"}


CONTROL_FIGURES = (("programmes", "Contrôles programmés à venir"), ("en_retard", "Contrôles au résultat à saisir"),
                   ("realises", "Contrôles réalisés"), ("non_conformes", "Contrôles non conformes"))


def _sessions_board(role: str) -> dict | None:
    """S10 and B2 from the sessions service, for the user's scope: each count becomes a link to the list it counts
    (the agents' list or the centre's, filtered alike), each warning a link to its session. None: unavailable."""
    try:
        board = api("GET", "sessions", "/tableau-de-bord").data
    except ServiceError as exc:
        if exc.status == 403:
            return {}
        return None
    agent = role in AGENTS
    listing = "web.agent_sessions" if agent else "web.centre_sessions"
    showing = "web.agent_session" if agent else "web.centre_session"
    since = board["depuis"]
    statuses = [dict(row, url=url_for(listing, statut=row["status"], du=since)) for row in board["par_statut"]]
    total = sum(row["count"] for row in statuses)
    figures = [
        {"id": "total", "label": "Sessions", "count": total, "url": url_for(listing, du=since)},
        {"id": "dte", "label": "Demandes de DTE envoyées", "count": board["demandes_dte"],
         "url": url_for(listing, du=since, dte="1")},
        {"id": "assouplissement", "label": "Sessions avec des étapes sous assouplissement (S4)",
         "count": board["sessions_sous_assouplissement"], "url": url_for(listing, du=since, assouplissement="1")},
    ]
    today = datetime.now(PARIS).date().isoformat()  # a warning due before today is overdue
    warnings = [dict(w, label=WARNING_KINDS.get(w["kind"], w["kind"]), overdue=w["due_date"] < today,
                     url=url_for(showing, session_id=w["session_id"]) if w.get("session_id") else None)
                for w in board["alertes"]]
    follow = board["agrements_a_suivre"]
    for group in ("expirant", "retires_avec_sessions"):
        for a in follow[group]["agrements"]:
            # The withdrawn agrément's sessions still planned; an agent opens the site's agréments (E7).
            a["url"] = (url_for(listing, site=a["site_id"], titre=a["titre_code"]) if group == "retires_avec_sessions"
                        else url_for("web.agent_site_agrements", site_id=a["site_id"]) if agent else None)
    controls = board.get("controles")  # agents only (S10); each count opens its list
    if controls is not None:
        controls = [{"id": view, "label": label, "count": controls[view],
                     "url": url_for("web.agent_controls", vue=view)} for view, label in CONTROL_FIGURES]
    return {"since": since, "statuses": statuses, "total": total, "figures": figures, "warnings": warnings,
            "agrements": follow, "controls": controls}


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    role = current_user()["role"]
    tiles, unavailable = _tiles(role)
    sessions = _sessions_board(role) if role in AGENTS | CENTRES else {}
    if sessions is None:
        unavailable.insert(0, "sessions")
    return page("dashboard.html", tiles=tiles, unavailable=unavailable, sessions=sessions or None)


@bp.route("/verification", methods=["GET"])
@bp.route("/verification/<path:number>", methods=["GET"])  # an original number may hold slashes (P8)
def verify(number: str | None = None):
    """B1: anyone checks a diploma with the number and the code printed on it (or scans its QR code, which opens
    this page with both filled in)."""
    number = (number or request.args.get("numero", "")).strip().upper()  # numbers are printed in capitals
    code = request.args.get("code", "").strip()
    form = {"numero": number, "code": code}
    if not number and not code:
        return page("verify.html", form=form)
    errors = {}
    if not number:
        errors["numero"] = ["Saisissez le numéro imprimé en haut à droite du document."]
    elif not is_document_number(number):
        errors["numero"] = ["Numéro invalide : saisissez-le tel qu'il est imprimé sur le document (lettres et "
                            "chiffres, séparés au besoin par un tiret, une barre oblique ou un point ; 24 caractères "
                            "au plus)."]
    if not code:
        errors["code"] = ["Saisissez le code de vérification imprimé sous le QR code."]
    if errors:
        return page("verify.html", 422, form=form, errors=errors, error_detail="Le formulaire est incomplet.")
    try:
        facts = client().call("GET", "printing", f"/verification/{number}", params={"code": code}).data
    except ServiceError as exc:
        if exc.status == 404:
            return page("verify.html", 404, form=form, result={"genuine": False,
                        "message": "Document non authentique : ce numéro et ce code ne correspondent à aucun "
                                   "document délivré."})
        return page("verify.html", 503, form=form, error_detail=exc.detail)
    return page("verify.html", form=form, result=facts)
