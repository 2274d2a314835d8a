"""Idempotent retries (issue 12: the gateway cut during a validation, the retry answered 409): a workflow step sent
twice with the same Idempotency-Key is applied once and answered twice alike; the same key with another body is a
422, and keys are per caller and endpoint."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ceres_sessions.models import Transition

KEY = "Idempotency-Key"


def steps(rt, session_id: str) -> int:
    with rt.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Transition).where(Transition.session_id == session_id))


def prepared(w, frozen) -> str:
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    for nom in ("DURAND", "PETIT"):
        assert w.post(sid, "candidats", w.centre, {"candidate_id": w.candidate(nom)}).status_code == 201
    return sid


def test_a_step_sent_again_with_its_key_answers_the_same_and_is_applied_once(world, frozen, rt, client):
    w = world()
    sid = prepared(w, frozen)
    before = steps(rt, sid)
    headers = {**w.centre, KEY: "formulaire-8c1f0e"}
    first = client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 2}, headers=headers)
    assert first.status_code == 200, first.json
    again = client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 2}, headers=headers)
    assert again.status_code == 200 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert steps(rt, sid) == before + 1  # one history entry
    # Without the key, the same step again is refused as before (the session has moved on).
    assert client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 2}, headers=w.centre).status_code == 409


def test_the_same_key_with_another_body_is_refused(world, frozen, rt, client):
    w = world()
    sid = prepared(w, frozen)
    headers = {**w.centre, KEY: "cle-reutilisee"}
    assert client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 2}, headers=headers).status_code == 200
    other = client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 1}, headers=headers)
    assert other.status_code == 422
    # Another query string is another call (a dry run, then the real one), not a reuse of the key.
    assert client.post(f"/sessions/{sid}/demande-dte?x=1", json={"candidate_count": 1},
                       headers=headers).status_code != 422
    assert other.json["detail"] == ("Cette clé d'idempotence a déjà servi pour une autre demande : envoyez une "
                                    "nouvelle clé.")


def test_refusals_are_kept_too_and_keys_belong_to_their_caller(world, frozen, rt, client):
    w = world()
    sid = prepared(w, frozen)
    headers = {**w.centre, KEY: "refus-1"}
    refused = client.post(f"/sessions/{sid}/validation", headers=headers, json={})
    assert refused.status_code in (403, 409)
    assert client.post(f"/sessions/{sid}/validation", headers=headers, json={}).json == refused.json
    created = client.post("/jures", json={"civilite": "Mme", "nom": "MARTIN", "prenom": "Claire",
                                          "departement": w.dep, "region": w.region}, headers={**w.ud, KEY: "jure-1"})
    assert created.status_code == 201
    replay = client.post("/jures", json={"civilite": "Mme", "nom": "MARTIN", "prenom": "Claire",
                                         "departement": w.dep, "region": w.region}, headers={**w.ud, KEY: "jure-1"})
    assert replay.status_code == 201 and replay.json["id"] == created.json["id"]
    # Another caller's request with the same key is its own.
    other_ud = client.post("/jures", json={"civilite": "Mme", "nom": "MARTIN", "prenom": "Claire",
                                           "departement": w.dep, "region": w.region},
                           headers={**w.dreets, KEY: "jure-1"})
    assert other_ud.status_code == 201 and other_ud.json["id"] != created.json["id"]


def test_a_bad_key_is_a_400(world, frozen, client):
    w = world()
    sid = prepared(w, frozen)
    for key in ("x" * 101, "clé-accentuée"):
        answer = client.post(f"/sessions/{sid}/demande-dte", json={"candidate_count": 2},
                             headers={**w.centre, KEY: key})
        assert answer.status_code == 400, key


def test_a_retry_while_the_first_runs_is_a_409_and_a_dead_claim_does_not_block(world, frozen, rt, client, issuer):
    from datetime import datetime, timedelta, timezone

    from ceres_shared import idempotency
    from sqlalchemy import insert

    w = world()
    sid = prepared(w, frozen)
    subject = f"centre-claims-{sid[:8]}"
    token = issuer.issue(subject, "centre", scope={"sirets": [w.siret]})
    path, body = f"/sessions/{sid}/candidats", b'{"candidate_id": %d}' % w.candidate("CLAIM")
    keys = rt.tables.idempotency

    def claimed(key: str, age: timedelta) -> None:
        with rt.engine.begin() as conn:
            conn.execute(insert(keys).values(
                id=idempotency._digest(f"centre:{subject}", f"POST {path}?", key),
                request_hash=idempotency._digest("POST", path, b"", body), created_at=datetime.now(timezone.utc) - age))

    def send(key: str):
        return client.post(path, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}", KEY: key})

    claimed("en-cours", timedelta(seconds=5))
    running = send("en-cours")
    assert running.status_code == 409 and "en cours de traitement" in running.json["detail"]
    claimed("mort", timedelta(minutes=10))  # its request died unanswered: the retry runs
    again = send("mort")
    assert again.status_code == 201, again.json
    assert "Idempotent-Replayed" not in again.headers and send("mort").headers["Idempotent-Replayed"] == "true"
