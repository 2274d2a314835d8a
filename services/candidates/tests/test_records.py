"""Candidate records over HTTP: C2 fields and events, C3 birth communes (INSEE excerpt), C4 drafts, C5 checks,
P7 address changes, who sees what, traced reads, GDPR export."""
from __future__ import annotations


def test_C2_record_with_every_field_and_registered_event(client, rt, tokens, h):
    body = h.person("Martin-Durand", ["Élodie", "Anne"], "1988-07-14", nom_usage="Lefèvre", genre="F",
                  email="elodie@example.fr", phone="06 12 34 56 78", formation="CAP fleuriste",
                  emploi="Demandeuse d'emploi", vae=True)
    r = client.post("/candidates", json=body, headers=tokens["ud01"])
    assert r.status_code == 201, r.json
    rec = r.json
    assert isinstance(rec["id"], int) and rec["status"] == "brouillon"
    assert rec["birth_commune_label"] == "Bourg-en-Bresse" and rec["birth_country_label"] == "FRANCE"
    assert rec["address"] == {"lines": ["12 rue des Lilas"], "code_postal": "01000", "commune_code": "01053",
                              "commune_label": "Bourg-en-Bresse", "country": "FRANCE"}
    assert (rec["email"], rec["phone"], rec["vae"], rec["nom_usage"]) == (
        "elodie@example.fr", "06 12 34 56 78", True, "Lefèvre")
    assert rec["parcours"] == {"sessions": [], "titres_obtenus": [], "ccps_obtenus": [], "documents": []}
    [event] = h.outbox_events(rt, "candidate.registered", candidate_id=rec["id"])
    assert event["prenoms"] == ["Élodie", "Anne"] and event["genre"] == "F"
    assert event["birth_commune_code"] == "01053" and event["address"]["commune_label"] == "Bourg-en-Bresse"


def test_C2_ceres_ids_come_from_a_sequence_and_are_never_reused(client, tokens, h):
    a = client.post("/candidates", json=h.person("Sequence", ["Un"], "1980-01-01"), headers=tokens["ud01"]).json
    b = client.post("/candidates", json=h.person("Sequence", ["Deux"], "1980-01-02"), headers=tokens["ud01"]).json
    assert b["id"] > a["id"]
    merged = client.post(f"/candidates/{a['id']}/merge", json={"merged_id": b["id"], "reason": "test"},
                         headers=tokens["ud01"])
    assert merged.status_code == 200, merged.json
    c = client.post("/candidates", json=h.person("Sequence", ["Trois"], "1980-01-03"), headers=tokens["ud01"]).json
    assert c["id"] > b["id"]


def test_C2_bad_input_is_answered_field_by_field_in_french(client, tokens, h):
    r = client.post("/candidates", json={"genre": "X", "prenoms": [], "birth_date": "31/02/1990",
                                         "email": "pas-un-mail"}, headers=tokens["ud01"])
    assert r.status_code == 422
    errors = r.json["errors"]
    assert errors["nom_naissance"] == ["Ce champ est obligatoire."]
    assert errors["genre"] == ["M ou F attendu."]
    assert errors["birth_date"] == ["Date invalide (format attendu : AAAA-MM-JJ)."]
    assert errors["email"] == ["Adresse électronique invalide."]
    assert "prenoms" in errors


def test_C3_born_in_a_commune_that_no_longer_exists_is_accepted_with_its_name_of_the_time(client, rt, tokens, h):
    # Arbignieu (01015) existed until 2016, then became Arboys en Bugey (INSEE excerpt).
    r = client.post("/candidates", json=h.person("Arbignieu", ["Jules"], "2010-05-04", commune="01015"),
                    headers=tokens["ud01"])
    assert r.status_code == 201, r.json
    assert (r.json["birth_commune_code"], r.json["birth_commune_label"]) == ("01015", "Arbignieu")
    [event] = h.outbox_events(rt, "candidate.registered", candidate_id=r.json["id"])
    assert event["birth_commune_label"] == "Arbignieu"
    # Béon (01039) existed until 2023, so nobody is born there in 2012... but in 1995, yes.
    assert client.post("/candidates", json=h.person("Beonnais", ["Paul"], "1995-03-02", commune="01039"),
                       headers=tokens["ud01"]).status_code == 201


def test_C3_commune_that_did_not_exist_on_the_birth_date_is_refused(client, tokens, h):
    r = client.post("/candidates", json=h.person("Tardif", ["Léo"], "2024-02-01", commune="01039"),
                    headers=tokens["ud01"])
    assert r.status_code == 422
    assert r.json["errors"] == {"birth_commune_code": [
        "Aucune commune de code « 01039 » n'existait le 01/02/2024 dans le référentiel des communes."]}
    unknown = client.post("/candidates", json=h.person("Inconnu", ["Léo"], "1990-02-01", commune="01999"),
                          headers=tokens["ud01"])
    assert unknown.status_code == 422 and "birth_commune_code" in unknown.json["errors"]


def test_C3_born_abroad_takes_an_insee_country_and_no_commune(client, rt, tokens, h):
    r = client.post("/candidates", json=h.person("Benali", ["Karim"], "1985-11-30", commune=None,
                                               birth_country_code="99350"), headers=tokens["ud01"])
    assert r.status_code == 201, r.json
    assert (r.json["birth_country_label"], r.json["birth_commune_code"]) == ("MAROC", None)
    [event] = h.outbox_events(rt, "candidate.registered", candidate_id=r.json["id"])
    assert event["birth_country_code"] == "99350" and event["birth_commune_label"] is None
    both = client.post("/candidates", json=h.person("Benali", ["Sami"], "1985-11-30", birth_country_code="99350"),
                       headers=tokens["ud01"])
    assert both.json["errors"] == {"birth_commune_code": [
        "Une commune de naissance ne se saisit que pour une personne née en France."]}
    unknown = client.post("/candidates", json=h.person("X", ["Y"], "1985-11-30", commune=None,
                                                     birth_country_code="99999"), headers=tokens["ud01"])
    assert unknown.status_code == 422 and "birth_country_code" in unknown.json["errors"]


def test_C3_address_commune_must_exist_today(client, tokens, h):
    body = h.person("Adresse", ["Ancienne"], "1990-01-01")
    body["address"]["commune_code"] = "01003"  # Amareins, gone since 1974
    r = client.post("/candidates", json=body, headers=tokens["ud01"])
    assert r.status_code == 422
    assert list(r.json["errors"]["address"]) == ["commune_code"]


def test_C4_validated_record_is_read_only_until_reopened(client, tokens, h):
    rec = client.post("/candidates", json=h.person("Brouillon", ["Anaïs"], "1992-04-05"),
                      headers=tokens["ud01"]).json
    url = f"/candidates/{rec['id']}"
    ok = client.post(f"{url}/validation", headers=tokens["ud01"])
    assert ok.status_code == 200 and ok.json["status"] == "valide"
    refused = client.patch(url, json={"prenoms": ["Anaïs", "Marie"]}, headers=tokens["ud01"])
    assert refused.status_code == 409
    assert refused.json["detail"] == "Le dossier est validé : revenez à l'état brouillon pour le modifier."
    assert client.post(f"{url}/brouillon", headers=tokens["ud01"]).json["status"] == "brouillon"
    changed = client.patch(url, json={"prenoms": ["Anaïs", "Marie"]}, headers=tokens["ud01"])
    assert changed.status_code == 200 and changed.json["prenoms"] == ["Anaïs", "Marie"]
    assert client.post(f"{url}/validation", headers=tokens["ud01"]).json["status"] == "valide"


def test_C5_validation_answers_each_problem_on_its_field(client, tokens, h):
    rec = client.post("/candidates", json=h.person("MARIACH1", ["Colette", "Jo#"], "2019-06-01", commune=None),
                      headers=tokens["ud01"]).json
    r = client.post(f"/candidates/{rec['id']}/validation", headers=tokens["ud01"])
    assert r.status_code == 422
    assert r.json["detail"] == "Le dossier ne peut pas être validé : corrigez les champs signalés."
    errors = r.json["errors"]
    assert errors["nom_naissance"] == ["Le nom de naissance contient des caractères non autorisés : « 1 »."]
    assert errors["prenoms"] == ["Le prénom n° 2 contient des caractères non autorisés : « # »."]
    assert errors["birth_date"][0].startswith("Année de naissance incohérente : le candidat aurait")
    assert errors["birth_commune_code"] == [
        "La commune de naissance est obligatoire pour une personne née en France."]
    assert client.get(f"/candidates/{rec['id']}", headers=tokens["ud01"]).json["status"] == "brouillon"


def test_C5_impossible_birth_dates(client, tokens, h):
    future = client.post("/candidates", json=h.person("Futur", ["Zoé"], "2090-01-01", commune=None),
                         headers=tokens["ud01"])
    assert future.status_code == 422
    assert future.json["errors"]["birth_date"] == ["Date de naissance impossible : elle est dans le futur."]
    old = client.post("/candidates", json=h.person("Ancien", ["Zoé"], "1901-01-01", commune=None),
                      headers=tokens["ud01"]).json
    problems = client.post(f"/candidates/{old['id']}/validation", headers=tokens["ud01"]).json["errors"]
    assert problems["birth_date"][0].startswith("Année de naissance incohérente")


def test_P7_address_change_after_printing_emits_candidate_updated(client, rt, tokens, h):
    rec = client.post("/candidates", json=h.person("Postal", ["Rémi"], "1979-09-09"), headers=tokens["ud01"]).json
    url = f"/candidates/{rec['id']}"
    client.post(f"{url}/validation", headers=tokens["ud01"])
    client.post(f"{url}/brouillon", headers=tokens["ud01"])
    new = {"lines": ["3 place de la Mairie", "Bâtiment B"], "code_postal": "01350", "commune_code": "01015"}
    r = client.patch(url, json={"address": new}, headers=tokens["ud01"])
    assert r.status_code == 200, r.json
    [event] = h.outbox_events(rt, "candidate.updated", candidate_id=rec["id"])
    assert event["address"]["lines"] == ["3 place de la Mairie", "Bâtiment B"]
    assert event["address"]["commune_label"] == "Arboys en Bugey"
    history = client.get(f"{url}/history", headers=tokens["ud01"]).json["entries"]
    change = [e for e in history if e["action"] == "update"][0]
    assert change["changes"]["address_code_postal"] == ["01000", "01350"]
    assert change["actor"] == "ud:ud-01"


def test_I4_who_sees_what(client, tokens, h):
    by_centre = client.post("/candidates", json=h.person("Centrea", ["Inès"], "1999-12-12", address=None),
                            headers=tokens["centre"])
    assert by_centre.status_code == 201, by_centre.json
    rec = by_centre.json
    assert rec["created_by_siret"] == "11111111111111"
    url = f"/candidates/{rec['id']}"
    assert client.get(url, headers=tokens["centre"]).status_code == 200
    assert client.get(url, headers=tokens["centre_b"]).status_code == 404  # another centre
    assert client.get(url, headers=tokens["ud01"]).status_code == 404  # no address, no session in 01 yet
    assert client.get(url, headers=tokens["dgefp"]).status_code == 200  # national
    assert client.get(url, headers=tokens["afpa"]).status_code == 403
    lives_in_01 = client.post("/candidates", json=h.person("Habitant", ["Yann"], "1990-10-10"),
                              headers=tokens["dgefp"]).json
    assert client.get(f"/candidates/{lives_in_01['id']}", headers=tokens["ud01"]).status_code == 200
    assert client.get(f"/candidates/{lives_in_01['id']}", headers=tokens["ud69"]).status_code == 404
    found = client.get("/candidates", query_string={"q": "habitant yann"}, headers=tokens["ud69"]).json
    assert found["results"] == []
    assert client.post("/candidates", json=h.person("Autre", ["Centre"], "1990-01-01", centre_siret="22222222222222"),
                       headers=tokens["centre"]).status_code == 403


def test_reads_by_agents_are_traced_and_gdpr_export(client, tokens, h):
    rec = client.post("/candidates", json=h.person("Lecture", ["Noé"], "1991-01-01"), headers=tokens["ud01"]).json
    client.get(f"/candidates/{rec['id']}", headers=tokens["ud01"])
    export = client.get(f"/candidates/{rec['id']}/export", headers=tokens["ud01"])
    assert export.status_code == 200
    assert export.headers["Content-Disposition"] == f'attachment; filename="candidat-{rec["id"]}.json"'
    data = export.json
    assert data["candidate"]["nom_naissance"] == "Lecture"
    actions = [e["action"] for e in data["history"]]
    assert actions == ["create", "read", "export"]
    assert all(e["actor"] == "ud:ud-01" for e in data["history"])
    assert client.get(f"/candidates/{rec['id']}/export", headers=tokens["centre"]).status_code == 403


def test_demo_seed_is_idempotent_with_ids_1_to_n(make_runtime, h):
    from ceres_candidates.demo import PEOPLE, seed

    demo_rt = make_runtime("candidates")
    seed(demo_rt)
    seed(demo_rt)
    with demo_rt.session_factory() as session:
        from sqlalchemy import select

        from ceres_candidates.models import Candidate

        rows = session.scalars(select(Candidate).order_by(Candidate.id)).all()
    assert [c.id for c in rows] == list(range(1, len(PEOPLE) + 1))
    henri = rows[0]
    assert (henri.nom_naissance, henri.prenoms, henri.birth_date.isoformat(), henri.birth_commune_label) == (
        "CHEVALIER", ["Henri"], "1990-03-01", "Lyon")
    assert rows[2].birth_departement == "974"  # born in a DROM
    assert rows[3].birth_country_label == "MAROC" and rows[3].birth_commune_code is None
    assert len(h.outbox_events(demo_rt, "candidate.registered")) == len(PEOPLE)
