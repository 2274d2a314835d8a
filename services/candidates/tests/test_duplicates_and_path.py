"""C1 duplicates and merges, and the certification path built from the sessions and printing events (one of
them through the real RabbitMQ)."""
from __future__ import annotations

import time
import uuid

from ceres_shared.events import make_envelope
from ceres_candidates.handlers import HANDLERS


def deliver(rt, event_type, payload):
    """Run this service's handlers on an event, as the consumer does (inside one transaction)."""
    env = make_envelope(event_type, payload, producer="sessions")
    with rt.session_factory() as session, session.begin():
        for handler in HANDLERS[event_type]:
            handler(session, env)


def session_event(session_id, candidate_ids, status="en_preparation", site="site-bourg", centre="centre-a"):
    return {"session_id": session_id, "public_id": f"TITRE_B_2024_{session_id[-6:]}", "titre_code": "TP-00463",
            "titre_version": "2018-09-20", "site_id": site, "centre_id": centre,
            "starts_at": "2024-03-04T08:00:00+01:00", "ends_at": "2024-03-08T17:00:00+01:00", "status": status,
            "candidate_ids": candidate_ids}


def enrol_event(session_id, candidate_id, state="inscrit", status="en_preparation", site="site-bourg",
                centre="centre-a"):
    """session.enrolment_changed, as the sessions service sends it at each enrolment, withdrawal or absence."""
    facts = {k: v for k, v in session_event(session_id, [], status, site, centre).items() if k != "candidate_ids"}
    return {**facts, "candidate_id": candidate_id, "state": state}


def test_C1_same_person_with_accents_case_hyphens_swapped_names_and_typos_is_refused(client, tokens, h):
    first = client.post("/candidates", json=h.person("Chevalier-Dubois", ["Henri", "Paul"], "1990-03-01"),
                        headers=tokens["ud01"])
    assert first.status_code == 201
    first_id = first.json["id"]
    for nom, prenoms in (("CHEVALIER DUBOIS", ["Henri", "Paul"]),  # case, hyphen
                         ("chevallier-dubois", ["paul", "henri"]),  # typo, swapped first names
                         ("Chévalier Dubois", ["Henry", "Paul"])):  # accent, sound-alike
        r = client.post("/candidates", json=h.person(nom, prenoms, "1990-03-01"), headers=tokens["ud01"])
        assert r.status_code == 409, (nom, r.json)
        assert r.json["type"] == "about:blank#probable_duplicate"
        assert [d["id"] for d in r.json["duplicates"]] == [first_id]
        assert r.json["duplicates"][0]["birth_place"] == "Bourg-en-Bresse"
    # One typed digit in the birth date, same names: still found.
    typo = client.post("/candidates", json=h.person("Chevalier-Dubois", ["Henri", "Paul"], "1990-03-07"),
                       headers=tokens["ud01"])
    assert typo.status_code == 409
    check = client.post("/candidates/duplicates", json={"nom_naissance": "chevalier dubois",
                                                        "prenoms": ["Paul", "Henri"], "birth_date": "1990-03-01"},
                        headers=tokens["centre"])
    # M1: the centre may not see this record (an UD created it): told it exists, masked, without its number.
    assert check.json["duplicates"] == [{"id": None, "nom_naissance": "C.", "nom_usage": None, "prenoms": ["H."],
                                         "birth_date": None, "birth_year": 1990, "birth_place": None,
                                         "status": None, "score": None, "masked": True, "exact": False}]
    # The exact identity (birth place included): the centre typed everything, it learns the number only.
    exact = client.post("/candidates/duplicates", json={
        "nom_naissance": "chevalier dubois", "prenoms": ["Henri", "Paul"], "birth_date": "1990-03-01",
        "birth_country_code": "99100", "birth_commune_code": "01053"}, headers=tokens["centre"])
    assert [(d["id"], d["exact"], d["status"]) for d in exact.json["duplicates"]] == [(first_id, True, None)]


def test_C1_different_people_are_not_flagged(client, tokens, h):
    client.post("/candidates", json=h.person("Jumeau", ["Lucas"], "2001-08-08"), headers=tokens["ud01"])
    twin = client.post("/candidates", json=h.person("Jumeau", ["Hugo"], "2001-08-08"), headers=tokens["ud01"])
    assert twin.status_code == 201
    other_day = client.post("/candidates", json=h.person("Jumeau", ["Lucas"], "1975-02-11"), headers=tokens["ud01"])
    assert other_day.status_code == 201
    other_place = client.post("/candidates", json=h.person("Jumeau", ["Lucas"], "2001-08-08", commune="01033"),
                              headers=tokens["ud01"])
    assert other_place.status_code == 201


def test_C1_agent_may_create_anyway_with_a_reason_traced_centre_may_not(client, tokens, h):
    body = h.person("Homonyme", ["Jean"], "1970-01-01")
    first = client.post("/candidates", json=body, headers=tokens["ud01"]).json
    assert client.post("/candidates", json={**body, "duplicate_reason": "autre personne"},
                       headers=tokens["centre"]).status_code == 403
    forced = client.post("/candidates", json={**body, "duplicate_reason": "Pièce d'identité vérifiée : autre personne"},
                         headers=tokens["ud01"])
    assert forced.status_code == 201
    assert forced.json["duplicate_reason"] == "Pièce d'identité vérifiée : autre personne"
    [created] = client.get(f"/candidates/{forced.json['id']}/history", headers=tokens["ud01"]).json["entries"][:1]
    assert created["reason"] == f"Doublon probable de {first['id']} : Pièce d'identité vérifiée : autre personne"


def test_C1_merge_keeps_paths_and_histories_redirects_and_emits_candidate_merged(client, rt, tokens, h):
    keep = client.post("/candidates", json=h.person("Fusion", ["Marc"], "1984-06-06"), headers=tokens["ud01"]).json
    dup = client.post("/candidates", json={**h.person("FUSSION", ["Marc"], "1984-06-06", email="marc@example.fr"),
                                           "duplicate_reason": "saisi deux fois"}, headers=tokens["ud01"]).json
    deliver(rt, "session.created", session_event("s-merge-1", []))  # the real service lists no one at creation
    deliver(rt, "session.enrolment_changed", enrol_event("s-merge-1", dup["id"]))
    deliver(rt, "session.validated", {
        "session_id": "s-merge-1", "public_id": "TITRE_B_2024_merge1", "titre_code": "TP-00463",
        "titre_version": "2018-09-20", "site_id": "site-bourg", "site_commune_code": "01053",
        "centre_id": "centre-a", "ends_on": "2024-03-08", "validated_by": "ud:ud-01",
        "validated_at": "2024-03-20T10:00:00+01:00",
        "results": [{"candidate_id": dup["id"], "decision": "partiel", "ccps_obtained": ["CCP1"]}]})
    r = client.post(f"/candidates/{keep['id']}/merge", json={"merged_id": dup["id"], "reason": "même personne"},
                    headers=tokens["ud01"])
    assert r.status_code == 200, r.json
    merged = r.json
    assert merged["email"] == "marc@example.fr"  # blank fields taken over
    assert merged["merged_from"] == [dup["id"]]
    [path] = merged["parcours"]["sessions"]
    assert (path["session_id"], path["decision"], path["recorded_for_candidate"]) == ("s-merge-1", "partiel", dup["id"])
    assert merged["parcours"]["ccps_obtenus"] == [{"ccp": "CCP1", "titre_code": "TP-00463", "session_id": "s-merge-1"}]
    # The merged record redirects; it cannot be changed; it is not found by search.
    redirect = client.get(f"/candidates/{dup['id']}", headers=tokens["ud01"])
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith(f"/candidates/{keep['id']}")
    assert client.patch(f"/candidates/{dup['id']}", json={"phone": "0102030405"},
                        headers=tokens["ud01"]).status_code == 409
    ids = [m["id"] for m in client.get("/candidates", query_string={"q": "fusion marc"},
                                       headers=tokens["ud01"]).json["results"]]
    assert keep["id"] in ids and dup["id"] not in ids
    # Both histories, from the survivor.
    history = client.get(f"/candidates/{keep['id']}/history", headers=tokens["ud01"]).json["entries"]
    assert {(e["candidate_id"], e["action"]) for e in history} >= {
        (keep["id"], "create"), (dup["id"], "create"), (dup["id"], "merged_into"), (keep["id"], "merge")}
    assert h.outbox_events(rt, "candidate.merged", merged_id=dup["id"]) == [
        {"surviving_id": keep["id"], "merged_id": dup["id"]}]
    # Later events naming the old id land on the survivor.
    deliver(rt, "session.created", session_event("s-merge-2", []))
    deliver(rt, "session.enrolment_changed", enrol_event("s-merge-2", dup["id"]))
    again = client.get(f"/candidates/{keep['id']}", headers=tokens["ud01"]).json
    assert [s["session_id"] for s in again["parcours"]["sessions"]] == ["s-merge-1", "s-merge-2"]
    assert client.post(f"/candidates/{keep['id']}/merge", json={"merged_id": dup["id"], "reason": "encore"},
                       headers=tokens["ud01"]).status_code == 409
    assert client.post(f"/candidates/{keep['id']}/merge", json={"merged_id": dup["id"], "reason": "doublon"},
                       headers=tokens["centre"]).status_code == 403


def test_certification_path_and_centre_scope_from_events_through_rabbitmq(client, rt, tokens, h):
    """Sessions' and printing's events, published by the relay to RabbitMQ and consumed by this service."""
    rec = client.post("/candidates", json=h.person("Parcours", ["Léa"], "1993-02-02", address=None),
                      headers=tokens["dgefp"]).json
    url = f"/candidates/{rec['id']}"
    assert client.get(url, headers=tokens["centre_b"]).status_code == 404
    assert client.get(url, headers=tokens["ud01"]).status_code == 404
    sid = f"s-{uuid.uuid4().hex[:8]}"
    with rt.session_factory() as session, session.begin():
        for event_type, payload in (
            ("centre.registered", {"centre_id": "centre-b", "siret": "22222222222222", "siren": "222222222",
                                   "raison_sociale": "Centre B", "adresse": "1 rue", "commune_code": "01053"}),
            ("site.created", {"site_id": "site-b", "centre_id": "centre-b", "name": "Site B", "adresse": "1 rue",
                              "commune_code": "01053", "departement": "01", "region": "84", "zone": "metro"}),
            ("titre.published", {"code": "TP-00463", "version_date": "2018-09-20", "libelle": "Ouvrier du paysage",
                                 "kind": "TP", "level": 3, "nsf_codes": ["214r"]}),
            ("session.created", session_event(sid, [], site="site-b", centre="centre-b")),
            ("session.enrolment_changed", enrol_event(sid, rec["id"], site="site-b", centre="centre-b")),
            ("session.validated", {
                "session_id": sid, "public_id": "TITRE_B_2024_1", "titre_code": "TP-00463",
                "titre_version": "2018-09-20", "site_id": "site-b", "site_commune_code": "01053",
                "centre_id": "centre-b", "validated_by": "ud:ud-01", "validated_at": "2024-03-20T10:00:00+01:00",
                "results": [{"candidate_id": rec["id"], "decision": "titre", "ccps_obtained": ["CCP1", "CCP2"]}]}),
            ("print.requested", {"candidate_id": rec["id"], "document_number": f"D-{sid}",
                                 "document_type": "diplome", "status": "requested", "session_id": sid}),
        ):
            rt.outbox.record(session, event_type, payload)
    rt.start_background()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            seen = client.get(url, headers=tokens["centre_b"])
            if seen.status_code == 200 and seen.json["parcours"]["documents"]:
                break
            time.sleep(0.2)
    finally:
        rt.stop_background()
    assert seen.status_code == 200, "the centre of the session sees its candidate"
    path = seen.json["parcours"]
    assert path["titres_obtenus"][0]["titre_libelle"] == "Ouvrier du paysage"
    assert [c["ccp"] for c in path["ccps_obtenus"]] == ["CCP1", "CCP2"]
    assert path["documents"][0]["status"] == "requested"
    assert client.get(url, headers=tokens["ud01"]).status_code == 200  # session held in 01
    assert client.get(url, headers=tokens["ud69"]).status_code == 404
