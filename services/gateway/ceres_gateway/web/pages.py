"""Home, each role's dashboard, and the public diploma verification (B1)."""
from __future__ import annotations

import re

from flask import redirect, request, url_for

from .blueprint import api, bp, client, current_user, login_required, page
from .client import ServiceError
from .roles import AGENTS

DOCUMENT_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,24}$")


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
            # P9: validated sessions with no print request yet / with part of them requested.
            tiles.append({"label": "Sessions validées sans demande d'impression",
                          "count": board.get("sessions_sans_demande", 0)})
            tiles.append({"label": "Sessions aux impressions partielles", "count": board.get("sessions_partielles", 0)})
        except ServiceError as exc:
            if exc.status not in (403,):
                unavailable.append("impressions")
    return tiles, unavailable


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    tiles, unavailable = _tiles(current_user()["role"])
    return page("dashboard.html", tiles=tiles, unavailable=unavailable)


@bp.route("/verification", methods=["GET"])
@bp.route("/verification/<number>", methods=["GET"])
def verify(number: str | None = None):
    """B1: anyone checks a diploma with the number and the code printed on it (or scans its QR code, which opens
    this page with both filled in)."""
    number = (number or request.args.get("numero", "")).strip()
    code = request.args.get("code", "").strip()
    form = {"numero": number, "code": code}
    if not number and not code:
        return page("verify.html", form=form)
    errors = {}
    if not DOCUMENT_NUMBER.match(number):
        errors["numero"] = ["Saisissez le numéro imprimé sur le document (lettres, chiffres et tirets)."]
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
