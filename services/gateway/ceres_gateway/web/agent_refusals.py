"""National administration (DGEFP, administrators): the refused attempts to read or change a record outside their
author's scope (I4), as each service traced them (GET /refus-de-perimetre), one service at a time, newest first,
filtered by day and author, a page at a time. The services decide who may read them."""
from __future__ import annotations

import math

from flask import redirect, request, url_for

from .agent_printing import page_arg
from .blueprint import api, as_menu, bp, page
from .client import ServiceError

PER_PAGE = 20
SERVICES = {"sessions": "Sessions et jurys", "candidates": "Candidats", "establishments": "Centres et sites",
            "printing": "Impressions", "identity": "Comptes et codes d'activation"}
RECORD_LABELS = {"session": "session", "controle": "contrôle", "jure": "juré", "candidate": "candidat",
                 "site": "site", "centre": "centre"}
FILTERS = ("du", "au", "auteur")


@bp.route("/agent/refus-de-perimetre")
@as_menu("web.agent_scope_refusals")
def agent_scope_refusals():
    service = request.args.get("service", "sessions")
    form = {key: request.args.get(key, "").strip() for key in FILTERS}
    context = {"services": SERVICES, "service": service, "form": form, "labels": RECORD_LABELS}
    if service not in SERVICES:
        return page("agent/scope_refusals.html", 422, found=None, service="sessions", page_number=1, pages=1,
                    error_detail="Ce service n'existe pas : choisissez-en un ci-dessous.",
                    **{k: v for k, v in context.items() if k != "service"})
    number = page_arg()
    chosen = {k: v for k, v in form.items() if v}
    params = {"page": number, "per_page": PER_PAGE, **chosen}
    try:
        answer = api("GET", service, "/refus-de-perimetre", params=params)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return page("agent/scope_refusals.html", 422, found=None, page_number=1, pages=1, errors=exc.errors,
                    error_detail="Les filtres sont invalides : corrigez les champs signalés.", **context)
    total = int(answer.headers.get("X-Total-Count", 0))
    pages = max(1, math.ceil(total / PER_PAGE))
    if number > pages:
        return redirect(url_for("web.agent_scope_refusals", service=service, page=pages, **chosen))
    return page("agent/scope_refusals.html", found=answer.data, total=total, page_number=number, pages=pages,
                page_args={"service": service, **chosen}, **context)
