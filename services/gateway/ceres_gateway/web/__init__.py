"""The web pages served by the gateway: server-rendered, DSFR, French, accessible; they call the services'
HTTP APIs with the signed-in user's token. `register(app, urls, http)` mounts them beside /api/…"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from . import assets, formatting, security
from .blueprint import SessionExpired, bp, page
from .client import ServiceClient, ServiceError

log = logging.getLogger(__name__)


def _is_page_request() -> bool:
    return not request.path.startswith("/api/") and request.path not in ("/healthz", "/readyz", "/metrics")


def _shown_by_get(path: str) -> bool:
    """Whether a GET of this path of the site opens a page (not a POST-only action, nor nothing)."""
    try:
        current_app.url_map.bind(request.host).match(path, method="GET")
    except RequestRedirect:
        return True
    except (MethodNotAllowed, NotFound):
        return False
    return True


def _parent_page(path: str) -> str:
    """The nearest parent of `path` that opens a page by GET (…/jury/<id>/retrait → …/jury), else the dashboard."""
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        if _shown_by_get("/".join(parts)):
            return "/".join(parts)
    return url_for("web.dashboard")


def _page_of_the_form(path: str) -> str:
    """A form was sent to `path`: the page that showed it — the page the browser came from when it is one of ours
    and opens by GET (Referrer-Policy same-origin sends it), else the nearest parent page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith("/api/") \
            and _shown_by_get(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return _parent_page(path)


def _pass_retry_after(response):
    """L6: a page refused because a service said to wait (429) tells the browser how long, as the service did;
    the page shows the service's French message with the wait."""
    wait = g.get("retry_after")
    if response.status_code == 429 and wait:
        response.headers.setdefault("Retry-After", wait)
    return response


def register(app: Flask, urls: dict[str, str], http: requests.Session, timeout: float = 30.0,
             embedded: bool = False) -> None:
    from . import auth_views, establishments, pages  # noqa: F401  (their routes join the blueprint)
    from . import centre_account, centre_sessions  # noqa: F401  (the centres' journeys: I1-I3, S1-S8)
    from . import agent_routes  # noqa: F401  (the agents' journeys: sessions, printing, agréments, pilotage)

    security.configure(app, embedded)
    formatting.install(app)
    app.extensions["ceres_web_client"] = ServiceClient(urls, http, timeout)
    if absent := assets.missing():
        log.warning("web assets missing (%s): run %s", ", ".join(absent), assets.INSTALL_COMMAND)

    app.register_blueprint(bp)
    app.after_request(security.add_headers)
    app.after_request(_pass_retry_after)

    @app.errorhandler(SessionExpired)
    def _expired(_exc):
        session.clear()
        if request.method == "GET":
            back = request.full_path.rstrip("?")
            flash("Votre session a expiré : veuillez vous reconnecter.", "info")
        else:  # the form was not sent: after signing in, the page that shows it again (its address takes no GET)
            back = _page_of_the_form(request.path)
            flash("Votre session a expiré : veuillez vous reconnecter, puis envoyer à nouveau le formulaire.", "info")
        return redirect(url_for("web.login", suivant=back))

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        # A service refused or failed outside a form: say it in the page, with the service's own words.
        status = exc.status if exc.status in (403, 404, 409) else 503
        title = {403: "Accès refusé", 404: "Introuvable", 409: "Action impossible"}.get(status, "Service indisponible")
        return page("error.html", status, title=title, message=exc.detail)

    # /api/… keeps its problem+json handler (errors.install); a person in a browser gets a page in French.
    api_handler = app.error_handler_spec[None][None].get(HTTPException)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not _is_page_request() and api_handler is not None:
            return api_handler(exc)
        status = exc.code or 500
        if status == 405 and request.method == "GET":
            # An action's address opened as a page (a sign-in that came back to it): the page above it, which
            # shows its form (not the referrer: after a sign-in it is the sign-in page).
            return redirect(_parent_page(request.path))
        if status == 400 and exc.description == "csrf":
            return page("error.html", 400, title="Formulaire expiré",
                        message="Le formulaire a expiré ou ne vient pas de CERES. Rechargez la page et réessayez.")
        titles = {403: ("Accès refusé", "Votre rôle ne permet pas d'ouvrir cette page."),
                  404: ("Page introuvable", "L'adresse demandée n'existe pas ou plus."),
                  405: ("Action impossible", "Cette adresse ne s'utilise pas ainsi."),
                  413: ("Envoi trop volumineux", "Le formulaire envoyé dépasse la taille autorisée.")}
        title, message = titles.get(status, ("Erreur", "La demande n'a pas pu aboutir."))
        return page("error.html", status, title=title, message=message)
