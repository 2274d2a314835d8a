"""L6: every 429 problem+json carries Retry-After — the wait a handler gave (TooManyRequests), or a default one
for a 429 raised without it (werkzeug's own)."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import TooManyRequests as WerkzeugTooManyRequests

from ceres_shared import errors


def make_app() -> Flask:
    app = Flask(__name__)
    errors.install(app)

    @app.route("/wait")
    def wait():
        raise errors.TooManyRequests("Trop de tentatives. Veuillez réessayer dans 4 secondes.", retry_after=4)

    @app.route("/werkzeug")
    def werkzeug_429():
        raise WerkzeugTooManyRequests()

    return app


def test_L6_a_429_says_how_long_to_wait_in_the_header_and_the_body():
    client = make_app().test_client()
    told = client.get("/wait")
    assert told.status_code == 429 and told.mimetype == "application/problem+json"
    assert told.headers["Retry-After"] == "4" and told.json["retry_after"] == 4
    assert told.json["detail"] == "Trop de tentatives. Veuillez réessayer dans 4 secondes."
    untold = client.get("/werkzeug")
    assert untold.status_code == 429 and untold.headers["Retry-After"] == str(errors.DEFAULT_RETRY_AFTER)
    assert untold.json["detail"] == "Trop de requêtes : veuillez réessayer dans une minute."
