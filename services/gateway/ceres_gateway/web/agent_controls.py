"""Controls of sessions (S10 « suivi des contrôles »), agents only: the lists the dashboard's counts open, planning
a control from a session's page, recording its outcome once its date has come, cancelling it after a confirmation.
The sessions service checks the role and the territory of each; the pages only offer what the role may do."""
from __future__ import annotations

import math

from flask import flash, redirect, request, url_for

from .agent_printing import page_arg
from .agent_sessions import _session, confirm_with_reason
from .blueprint import api, as_menu, bp, current_user, form_error, page
from .client import ServiceError

PER_PAGE = 20
KINDS = (("sur_place", "Sur place, pendant la session"), ("sur_pieces", "Sur pièces, à partir du début de la session"))
OUTCOMES = (("conforme", "Conforme"), ("observations", "Conforme avec observations"),
            ("non_conforme", "Non conforme"))
VIEWS = {"programmes": "Contrôles programmés à venir", "en_retard": "Contrôles programmés dont la date est passée",
         "realises": "Contrôles réalisés (12 derniers mois)",
         "non_conformes": "Contrôles non conformes (12 derniers mois)"}
WRITERS = frozenset({"ud", "dreets", "deets", "admin"})  # the sessions service's control.write


@bp.app_template_global("controles_modifiables")
def may_write() -> bool:
    user = current_user()
    return bool(user) and user["role"] in WRITERS


@bp.route("/agent/controles")
@as_menu("web.agent_controls")
def agent_controls():
    """The scope's controls, one list per count of the dashboard (S10), a page at a time."""
    view = request.args.get("vue", "programmes")
    if view not in VIEWS:
        return page("agent/controls.html", 422, views=VIEWS, view="programmes", found=None, page_number=1, pages=1,
                    error_detail="Cette liste n'existe pas : choisissez-en une ci-dessous.")
    page_number = page_arg()
    found = api("GET", "sessions", "/controles", params={"vue": view, "page": page_number, "per_page": PER_PAGE}).data
    pages = max(1, math.ceil(found["total"] / PER_PAGE))
    if page_number > pages:
        return redirect(url_for("web.agent_controls", vue=view, page=pages))
    return page("agent/controls.html", views=VIEWS, view=view, found=found, page_number=page_number, pages=pages)


@bp.route("/agent/sessions/<session_id>/controles", methods=["GET", "POST"])
@as_menu("web.agent_controls")
def agent_plan_control(session_id: str):
    """Plans a control of the session: on site (during the session) or on the documents."""
    s = _session(session_id)
    form = {k: request.form.get(k, "").strip() for k in ("kind", "planned_on")}
    context = {"s": s, "form": form, "kinds": KINDS}
    if not may_write():
        return page("agent/control_plan.html", 403, error_detail="Votre rôle permet de consulter les contrôles, "
                                                                  "pas d'en programmer.", **context)
    if request.method == "GET":
        return page("agent/control_plan.html", **context)
    errors = {}
    if not form["kind"]:
        errors["kind"] = ["Choisissez : sur place ou sur pièces."]
    if not form["planned_on"]:
        errors["planned_on"] = ["Saisissez la date du contrôle."]
    if errors:
        return page("agent/control_plan.html", 422, errors=errors, error_detail="Le formulaire est incomplet.",
                    **context)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/controles", json=form)
    except ServiceError as exc:
        return form_error("agent/control_plan.html", exc, **context)
    flash(f"Le contrôle de la session {s['public_id']} est programmé.", "success")
    return redirect(url_for("web.agent_session", session_id=session_id, _anchor="controles"))


def _control(control_id: int) -> dict:
    return api("GET", "sessions", f"/controles/{control_id}").data


@bp.route("/agent/controles/<int:control_id>", methods=["GET", "POST"])
@as_menu("web.agent_controls")
def agent_control(control_id: int):
    """A control; while it is programmed and its date has come, the form of its outcome."""
    control = _control(control_id)
    form = {k: request.form.get(k, "").strip() for k in ("outcome", "observations")}
    context = {"c": control, "form": form, "outcomes": OUTCOMES}
    if request.method == "GET":
        return page("agent/control.html", **context)
    if not may_write():
        return page("agent/control.html", 403, error_detail="Votre rôle ne permet pas de saisir un résultat.",
                    **context)
    if not form["outcome"]:
        return page("agent/control.html", 422, errors={"outcome": ["Choisissez le résultat du contrôle."]},
                    error_detail="Le formulaire est incomplet.", **context)
    try:
        api("POST", "sessions", f"/controles/{control_id}/resultat",
            json={"outcome": form["outcome"], "observations": form["observations"] or None})
    except ServiceError as exc:
        return form_error("agent/control.html", exc, **context)
    flash("Le résultat du contrôle est enregistré.", "success")
    return redirect(url_for("web.agent_control", control_id=control_id))


@bp.route("/agent/controles/<int:control_id>/annulation", methods=["GET", "POST"])
@as_menu("web.agent_controls")
def agent_cancel_control(control_id: int):
    """Cancelling cannot be undone: a page that says so, and the reason is required."""
    control = _control(control_id)
    if not may_write():
        return page("agent/control_cancel.html", 403, error_detail="Votre rôle ne permet pas d'annuler un contrôle.",
                    c=control, form={})
    return confirm_with_reason("agent/control_cancel.html", f"/controles/{control_id}/annulation",
                               "Saisissez le motif de l'annulation.", "Le contrôle est annulé.",
                               url_for("web.agent_session", session_id=control["session_id"], _anchor="controles"),
                               c=control)
