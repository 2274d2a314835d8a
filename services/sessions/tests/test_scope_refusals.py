"""A refused attempt on a record outside the caller's scope is traced (I4, issue 12): who, when, which record,
which endpoint and method, the answer — kept although the request is rolled back, on PostgreSQL and on SQLite —
and listed for the national administration by GET /refus-de-perimetre (paged, filtered, X-Total-Count). An
unknown id is not a scope refusal."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ceres_shared.testing.audit import scope_refusals as _refusals

from .conftest import auth
from .test_concurrency import rt  # noqa: F401 - the runtime on PostgreSQL and on SQLite


def test_reads_and_steps_out_of_scope_are_traced_and_listed_for_the_national_administration(rt, client, world,
                                                                                            frozen, issuer):
    w = world(dep="01")
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    stranger = f"ud-69-{uuid.uuid4().hex[:6]}"
    intruder = {"Authorization": "Bearer " + issuer.issue(stranger, "ud", scope={"departements": ["69"]},
                                                          name="Paul Curieux")}
    admin = auth(issuer, "admin")
    before, _ = _refusals(client, admin, auteur=f"ud:{stranger}")
    assert before == 0
    assert client.get(f"/sessions/{sid}", headers=intruder).status_code == 404
    cancelled = client.post(f"/sessions/{sid}/annulation", json={"reason": "Essai"}, headers=intruder)
    assert cancelled.status_code == 404 and cancelled.json["detail"] == "Session introuvable."
    assert client.get(f"/history/session/{sid}", headers=intruder).status_code == 404
    # An unknown id and a malformed one are not scope refusals: nothing to trace.
    assert client.get(f"/sessions/{uuid.uuid4()}", headers=intruder).status_code == 404
    assert client.get("/sessions/pas-un-id", headers=intruder).status_code == 404

    total, listed = _refusals(client, auth(issuer, "dgefp"), auteur=f"ud:{stranger}")
    assert total == 3 and len(listed) == 3
    trail, newest, oldest = listed
    assert (trail["endpoint"], trail["entity_type"], trail["entity_id"]) == (
        "/history/<entity_type>/<entity_id>", "session", sid)
    assert (newest["method"], newest["endpoint"], newest["path"]) == (
        "POST", "/sessions/<session_id>/annulation", f"/sessions/{sid}/annulation")
    assert (oldest["method"], oldest["endpoint"]) == ("GET", "/sessions/<session_id>")
    for row in listed:
        assert (row["actor"], row["actor_name"], row["actor_role"]) == (f"ud:{stranger}", "Paul Curieux", "ud")
        assert (row["entity_type"], row["entity_id"], row["status"]) == ("session", sid, 404)
        assert datetime.fromisoformat(row["at"]) > datetime.now(timezone.utc) - timedelta(minutes=5)
    # The session did not change, and its own history does not show the refusals.
    assert client.get(f"/sessions/{sid}", headers=w.ud).json["status"] == "en_preparation"
    assert [h["action"] for h in client.get(f"/history/session/{sid}", headers=w.ud).json] == ["create"]

    # Paged and filtered by day.
    total, page = _refusals(client, admin, auteur=f"ud:{stranger}", per_page=1, page=2)
    assert total == 3 and [r["method"] for r in page] == ["POST"]
    today = datetime.now(ZoneInfo("Europe/Paris")).date()  # the days users name
    assert _refusals(client, admin, auteur=f"ud:{stranger}", du=today.isoformat(), au=today.isoformat())[0] == 3
    assert _refusals(client, admin, auteur=f"ud:{stranger}", au=(today - timedelta(days=1)).isoformat())[0] == 0
    # Only the national administration reads them.
    assert client.get("/refus-de-perimetre", headers=w.ud).status_code == 403
    assert client.get("/refus-de-perimetre", headers=w.dreets).status_code == 403
    assert client.get("/refus-de-perimetre").status_code == 401
    bad = client.get("/refus-de-perimetre", query_string={"per_page": 1000, "du": "hier"}, headers=admin)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"per_page", "du"}


def test_the_refusals_endpoint_is_documented(rt, client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/refus-de-perimetre"]["get"]
    assert "X-Total-Count" in operation["responses"]["200"]["headers"]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page", "du", "au", "auteur"}
