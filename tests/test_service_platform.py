"""What every service gets from the platform, checked on each of them over real HTTP semantics (Flask test
client on the real app) with its real PostgreSQL database and RabbitMQ: probes, OpenAPI, problem+json errors,
token verification and permissions, traceability."""
from __future__ import annotations

import importlib

import pytest
from sqlalchemy import text

from ceres_shared.config import BusSettings
from ceres_shared.keyring import KeyRing
from ceres_shared.web import db

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")


def app_for(runtime):
    return importlib.import_module(f"ceres_{runtime.service}.app").create_app(runtime)


@pytest.fixture(params=SERVICES)
def service(request, make_runtime):
    runtime = make_runtime(request.param)
    return runtime, app_for(runtime).test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_probes_openapi_and_metrics(service):
    runtime, client = service
    assert client.get("/healthz").json == {"status": "ok", "service": runtime.service}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}
    spec = client.get("/openapi.json").json
    assert spec["info"]["title"].startswith("CERES")
    assert "/history/{entity_type}/{entity_id}" in spec["paths"]
    metrics = client.get("/metrics")
    assert b"ceres_http_requests_total" in metrics.data


def test_readyz_reports_an_unreachable_broker(make_runtime):
    runtime = make_runtime("sessions")
    runtime.settings = type(runtime.settings)(
        **{**runtime.settings.__dict__, "bus": BusSettings(url="amqp://guest:guest@127.0.0.1:1/")}
    )
    response = app_for(runtime).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["broker"].startswith("error")


def test_errors_are_problem_json_in_french_with_correlation_id(service):
    _, client = service
    missing = client.get("/nowhere", headers={"X-Correlation-ID": "abc-123"})
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert missing.json["detail"] == "La ressource demandée n'existe pas."
    assert missing.json["correlation_id"] == "abc-123"
    assert missing.headers["X-Correlation-ID"] == "abc-123"
    wrong_method = client.delete("/healthz")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    huge = client.post("/history/x/1", data=b"x" * (3 * 1024 * 1024), content_type="application/json")
    assert huge.status_code == 413
    assert huge.json["title"] == "Requête trop volumineuse"


def test_history_requires_a_valid_token_and_an_agent_role(service, issuer, tmp_path):
    runtime, client = service
    url = "/history/centre/42"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer not-a-jwt"}).json["detail"] == "Jeton invalide."
    forged = KeyRing(tmp_path / "other")  # right shape, wrong key
    forged_token = forged.issue("u1", "ud", scope={"departements": ["01"]})
    assert client.get(url, headers=bearer(forged_token)).status_code == 401
    expired = issuer.issue("u1", "ud", scope={"departements": ["01"]}, ttl=-60)
    assert client.get(url, headers=bearer(expired)).json["detail"].startswith("Votre session a expiré")
    other_audience = issuer.issue("u1", "ud", audience="somebody-else")
    assert client.get(url, headers=bearer(other_audience)).status_code == 401
    centre_user = issuer.issue("u2", "centre", scope={"sirets": ["12345678200010"]})
    assert client.get(url, headers=bearer(centre_user)).status_code == 403

    with runtime.session_factory.begin() as session:
        runtime.audit.record(session, entity_type="centre", entity_id="42", action="update", actor="ud:u1",
                             actor_role="ud", before={"raison_sociale": "A", "ville": "Bourg"},
                             after={"raison_sociale": "B", "ville": "Bourg"}, reason="correction")
    local_agent = issuer.issue("u1", "ud", scope={"departements": ["01"]})
    if runtime.history_access is None:  # the platform cannot tell where the record is: national agents only
        assert client.get(url, headers=bearer(local_agent)).status_code == 404
    agent = issuer.issue("u9", "dgefp")
    history = client.get(url, headers=bearer(agent))
    assert history.status_code == 200
    assert len(history.json) == 1
    entry = history.json[0]
    assert entry["changes"] == {"raison_sociale": ["A", "B"]}
    assert entry["actor"] == "ud:u1" and entry["reason"] == "correction"


def test_migrations_go_down_and_up_again(make_runtime):
    from alembic import command
    from sqlalchemy import inspect

    from ceres_shared.migrations import alembic_config

    for name in SERVICES:
        runtime = make_runtime(name)
        assert {"outbox", "inbox", "audit_log"} <= set(inspect(runtime.engine).get_table_names())
        command.downgrade(alembic_config(runtime), "base")
        assert "outbox" not in inspect(runtime.engine).get_table_names()
        runtime.upgrade_database()
        assert "outbox" in inspect(runtime.engine).get_table_names()


def test_a_number_beyond_the_database_range_is_bad_input_not_a_crash(make_runtime, issuer):
    """Found by tests/test_api_fuzz.py: an id past PostgreSQL's integer range reached the database. Record ids are
    now bounded in the route (1 to 2**31 - 1, documented, L9): beyond, no record can exist, so 404; a value the
    schemas let through and the database refuses is still a 422, not a crash."""
    runtime = make_runtime("candidates")
    app = app_for(runtime)

    @app.get("/test-out-of-range")
    def out_of_range():
        db().execute(text("SELECT CAST(:n AS INTEGER)"), {"n": "11664972458308"})
        return "", 204

    client = app.test_client()
    response = client.get("/candidates/11664972458308", headers=bearer(issuer.issue("a1", "admin")))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    response = client.get("/test-out-of-range")
    assert response.status_code == 422
    assert response.json["detail"] == "Une valeur dépasse les limites acceptées."


def test_a_service_may_not_subscribe_to_an_event_it_does_not_handle(make_runtime):
    """Bound but unhandled, every such event would end in the dead-letter queue: the worker refuses to start."""
    runtime = make_runtime("printing", migrate=False)
    runtime.handlers.pop("site.closed")
    with pytest.raises(ValueError, match="site.closed"):
        runtime.make_consumer()
