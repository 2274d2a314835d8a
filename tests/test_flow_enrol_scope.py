"""H2 and M1 across services, through the real outbox relays and RabbitMQ: the candidates service decides which
centre may enrol a person (created under its SIRET, or matched exactly by its duplicate check) and tells the
sessions service (`candidate.shared`); the sessions service refuses any other enrolment by a centre, with the
answer it gives to a number no one holds; once enrolled, the centre reads the record at once (I4,
`session.enrolment_changed`, no status change needed), and no longer once it withdrew the person."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from ceres_candidates.app import create_app as candidates_app
from ceres_sessions import clock
from ceres_sessions.app import create_app as sessions_app
from ceres_sessions.models import Candidate as SessionsCandidate, CandidateGrant

DEMO = Path(__file__).parents[1] / "services" / "sessions" / "ceres_sessions" / "data" / "titres_demo.json"
UNKNOWN_NUMBER = {"candidate_id": ["Aucun candidat CERES ne porte ce numéro."]}


def bearer(issuer, role, **scope):
    return {"Authorization": f"Bearer {issuer.issue(f'{role}-{uuid.uuid4().hex[:4]}', role, scope=scope)}"}


def wait_for(predicate, timeout=30.0, what="the effect"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} never came")


def count(runtime, model, *where) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_centre_enrols_only_whom_the_candidates_service_shares_with_it(make_runtime, issuer):
    exchange = f"flow{uuid.uuid4().hex[:6]}.events"
    est = make_runtime("establishments", exchange=exchange)
    cand = make_runtime("candidates", exchange=exchange)
    ses = make_runtime("sessions", exchange=exchange)
    candidates, sessions = candidates_app(cand).test_client(), sessions_app(ses).test_client()
    ours = {"centre_id": str(uuid.uuid4()), "siret": "30012845100014"}
    theirs = {"centre_id": str(uuid.uuid4()), "siret": "41822976100014"}
    site_id = str(uuid.uuid4())
    with est.session_factory.begin() as s:
        for centre in (ours, theirs):
            est.outbox.record(s, "centre.registered", {**centre, "siren": centre["siret"][:9], "raison_sociale": "C",
                                                       "adresse": "1 rue", "commune_code": "01053"})
        est.outbox.record(s, "site.created", {"site_id": site_id, "centre_id": ours["centre_id"], "name": "Site",
                                              "adresse": "2 rue", "commune_code": "01053", "departement": "01",
                                              "region": "84", "zone": "metro"})
        est.outbox.record(s, "agrement.granted", {"agrement_id": str(uuid.uuid4()), "site_id": site_id,
                                                  "centre_id": ours["centre_id"], "titre_code": "TP-00463",
                                                  "titre_version": "2018-09-20", "valid_from": "2019-01-01",
                                                  "valid_until": "2028-09-26", "status": "accorde"})
    for runtime in (est, cand, ses):
        runtime.start_background()
    assert sessions.post("/titres/import", data=DEMO.read_bytes(), content_type="application/json",
                         headers=bearer(issuer, "dgefp")).status_code == 200
    us, them = bearer(issuer, "centre", sirets=[ours["siret"]]), bearer(issuer, "centre", sirets=[theirs["siret"]])
    clock.fix(datetime(2024, 1, 15, 10, tzinfo=timezone.utc))
    try:
        created = wait_for(lambda: (r := sessions.post("/sessions", json={
            "site_id": site_id, "titre_code": "TP-00463", "starts_on": "2024-06-03"}, headers=us))
            .status_code == 201 and r, what="the site in sessions")
    finally:
        clock.fix(None)
    enrol = f"/sessions/{created.json['id']}/candidats"

    # Another centre registers a person: it may enrol them, we may not — not even once sessions knows the person.
    person = {"genre": "F", "nom_naissance": "Quintavalle", "prenoms": ["Béatrice"], "birth_date": "1987-09-24",
              "birth_commune_code": "01053", "centre_siret": theirs["siret"],
              "address": {"lines": ["2 rue du Lac"], "code_postal": "01000", "commune_code": "01053"}}
    made = candidates.post("/candidates", json=person, headers=them)
    assert made.status_code == 201, made.json
    cid = made.json["id"]
    wait_for(lambda: count(ses, SessionsCandidate, SessionsCandidate.candidate_id == cid)
             and count(ses, CandidateGrant, CandidateGrant.candidate_id == cid), what="the person and its grant")
    refused = sessions.post(enrol, json={"candidate_id": cid}, headers=us)
    unknown = sessions.post(enrol, json={"candidate_id": cid + 10_000}, headers=us)
    assert refused.status_code == unknown.status_code == 422
    assert refused.json["errors"] == unknown.json["errors"] == UNKNOWN_NUMBER
    assert "QUINTAVALLE" not in refused.get_data(as_text=True).upper()
    assert candidates.get(f"/candidates/{cid}", headers=us).status_code == 404

    # Our duplicate check with a typo in the date: told a record exists, masked; still no enrolment.
    check = {k: person[k] for k in ("nom_naissance", "prenoms", "birth_date", "birth_commune_code")}
    near = candidates.post("/candidates/duplicates", json={**check, "birth_date": "1987-09-21",
                                                           "birth_country_code": "99100"}, headers=us)
    assert [(d["id"], d["masked"], d["birth_year"]) for d in near.json["duplicates"]] == [(None, True, 1987)]
    assert "Béatrice" not in near.get_data(as_text=True)
    time.sleep(1.0)  # nothing is on its way to sessions: still refused a moment later
    assert sessions.post(enrol, json={"candidate_id": cid}, headers=us).json["errors"] == UNKNOWN_NUMBER

    # The exact identity: we typed everything, we learn the number, and sessions lets us enrol the person.
    exact = candidates.post("/candidates/duplicates", json={**check, "birth_country_code": "99100"}, headers=us)
    assert [(d["id"], d["exact"]) for d in exact.json["duplicates"]] == [(cid, True)]
    assert candidates.get(f"/candidates/{cid}", headers=us).status_code == 404  # matched, not yet enrolled
    done = wait_for(lambda: (r := sessions.post(enrol, json={"candidate_id": cid}, headers=us))
                    .status_code == 201 and r, what="the grant in sessions")
    assert [c["candidate_id"] for c in done.json["candidats"]] == [cid]

    # I4 at once (session.enrolment_changed, no status change): we read the record of whom we enrolled, with the
    # session in its path; withdrawn, we no longer do.
    record = wait_for(lambda: (r := candidates.get(f"/candidates/{cid}", headers=us)).status_code == 200 and r,
                      what="the enrolment in candidates")
    assert [(s["session_id"], s["enrolled"]) for s in record.json["parcours"]["sessions"]] == [
        (created.json["id"], True)]
    assert sessions.get(f"/sessions/{created.json['id']}", headers=us).json["status"] == "en_preparation"
    assert sessions.delete(f"{enrol}/{cid}", headers=us).status_code == 200
    wait_for(lambda: candidates.get(f"/candidates/{cid}", headers=us).status_code == 404,
             what="the withdrawal in candidates")
    assert candidates.get(f"/candidates/{cid}", headers=them).status_code == 200  # its creator still reads it
