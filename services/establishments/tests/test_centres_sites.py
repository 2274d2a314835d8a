"""Centres (E1, E2, E3) and sites (E4) over HTTP, on PostgreSQL, with the fake company register on loopback."""
from __future__ import annotations

import json

from sqlalchemy import select, text

from ceres_establishments.models import CENTRE_DE_REPRISE_ID, Centre
from ceres_establishments.service_layer.centres import centre_id_for

from est_data import AIN_SIRET, GRETA_SIRET, LYON_SIRET, REUNION_SIRET, UNKNOWN_SIRET

NATIONAL = {"national": True}


def outbox(runtime, event_type: str) -> list[dict]:
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT body FROM outbox WHERE event_type = :t ORDER BY id"), {"t": event_type})
        return [json.loads(r[0])["payload"] for r in rows]


def history(client, headers, kind, entity_id) -> list[dict]:
    response = client.get(f"/history/{kind}/{entity_id}", headers=headers)
    assert response.status_code == 200
    return response.json


def count_centres(runtime) -> int:
    with runtime.session_factory() as s:
        return len(s.scalars(select(Centre.id)).all())


def test_e1_centre_de_reprise_exists_from_the_first_migration(est, as_):
    _, client = est
    found = client.get("/centres/by-siret/00000000000000", headers=as_("dgefp"))
    assert found.status_code == 200
    assert found.json["id"] == CENTRE_DE_REPRISE_ID and found.json["raison_sociale"] == "Centre de reprise"
    assert found.json["commune_label"] == "Le Plessis-Robinson"


def test_e1_siret_checked_field_by_field(est, as_):
    runtime, client = est
    before = count_centres(runtime)
    cases = {
        "30012845100015": "clé de contrôle",
        "3001284510001": "14 chiffres",
        "ABCDEFGHIJKLMN": "14 chiffres",
        "00000000000000": "réservé au centre de reprise",
    }
    for siret, message in cases.items():
        response = client.post("/centres", json={"siret": siret}, headers=as_("ud", departements=["01"]))
        assert response.status_code == 422, siret
        assert response.mimetype == "application/problem+json"
        assert message in response.json["errors"]["siret"][0]
    assert count_centres(runtime) == before


def test_e2_register_by_siret_fills_from_the_register(est, as_, register_api):
    runtime, client = est
    agent = as_("ud", departements=["01"])
    preview = client.get(f"/centres/registration-preview?siret={GRETA_SIRET}", headers=agent)
    assert preview.status_code == 200
    assert preview.json["raison_sociale"] == "GRETA DU BUGEY ET DU PAYS DE GEX"
    assert preview.json["adresse"] == "1 PLACE DE LA MAIRIE" and preview.json["commune_code"] == "01033"
    assert any(GRETA_SIRET in r for r in register_api.requests)

    created = client.post("/centres", json={"siret": GRETA_SIRET, "type_centre": "GRETA"}, headers=agent)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["id"] == centre_id_for(GRETA_SIRET) and body["siren"] == GRETA_SIRET[:9]
    assert (body["commune_label"], body["departement"], body["region"]) == ("Valserhône", "01", "84")
    event = outbox(runtime, "centre.registered")[-1]
    assert event["siret"] == GRETA_SIRET and event["commune_code"] == "01033" and event["type_centre"] == "GRETA"
    trail = history(client, agent, "centre", body["id"])
    assert trail[0]["action"] == "register" and trail[0]["changes"]["siret"] == [None, GRETA_SIRET]

    again = client.post("/centres", json={"siret": GRETA_SIRET}, headers=agent)
    assert again.status_code == 409 and "déjà enregistré" in again.json["detail"]


def test_e1_la_poste_exception_is_accepted(est, as_):
    _, client = est
    response = client.post("/centres", json={"siret": "35600000048315"}, headers=as_("dgefp"))
    assert response.status_code == 201, response.json
    assert response.json["departement"] == "75"


def test_e2_unknown_siret_404_and_nothing_created(est, as_):
    runtime, client = est
    before = count_centres(runtime)
    response = client.post("/centres", json={"siret": UNKNOWN_SIRET}, headers=as_("dreets", regions=["84"]))
    assert response.status_code == 404
    assert response.json["detail"] == "Aucun établissement ne correspond à ce SIRET dans le répertoire des entreprises."
    assert count_centres(runtime) == before


def test_e2_register_down_or_unreadable_is_a_clear_error(est, as_, register_api):
    runtime, client = est
    before = count_centres(runtime)
    agent = as_("dgefp")
    try:
        register_api.mode = "down"
        down = client.post("/centres", json={"siret": "85062341400016"}, headers=agent)
        assert down.status_code == 503 and "ne répond pas" in down.json["detail"]
        register_api.mode = "slow"
        slow = client.get("/centres/registration-preview?siret=85062341400016", headers=agent)
        assert slow.status_code == 503
        register_api.mode = "garbage"
        garbage = client.post("/centres", json={"siret": "85062341400016"}, headers=agent)
        assert garbage.status_code == 502 and "illisible" in garbage.json["detail"]
    finally:
        register_api.mode = "ok"
    assert count_centres(runtime) == before


def test_e2_registration_is_for_agents_only(est, as_):
    _, client = est
    centre_user = as_("gestionnaire", sirets=[AIN_SIRET])
    assert client.post("/centres", json={"siret": "85062341400016"}, headers=centre_user).status_code == 403
    assert client.post("/centres", json={"siret": "85062341400016"}).status_code == 401


def test_e3_centre_record_edited_by_a_competent_agent_with_traceability(est, as_):
    runtime, client = est
    centre_id = centre_id_for(AIN_SIRET)
    ud01 = as_("ud", departements=["01"])
    version = client.get(f"/centres/{centre_id}", headers=ud01).json["version"]
    changes = {"type_centre": "CFA", "reseau": "Réseau des GRETA", "representant": "Mme Dupont",
               "commentaires": "Contrôle sur place en 2024.", "adresse": "14 rue des Casernes", "version": version}
    response = client.patch(f"/centres/{centre_id}", json=changes, headers=ud01)
    assert response.status_code == 200, response.json
    assert response.json["reseau"] == "Réseau des GRETA" and response.json["version"] == version + 1
    trail = history(client, ud01, "centre", centre_id)[-1]
    assert trail["action"] == "update" and trail["actor"].startswith("ud:")
    assert trail["changes"]["adresse"] == ["12 RUE DES CASERNES", "14 rue des Casernes"]
    assert outbox(runtime, "centre.updated")[-1]["type_centre"] == "CFA"

    stale = client.patch(f"/centres/{centre_id}", json={"reseau": "X", "version": version}, headers=ud01)
    assert stale.status_code == 409
    moved = client.patch(f"/centres/{centre_id}", json={"commune_code": "01283", "code_postal": "01100"},
                         headers=ud01)
    assert moved.status_code == 200 and moved.json["commune_label"] == "Oyonnax"


def test_e3_invalid_fields_are_reported_one_by_one(est, as_):
    _, client = est
    response = client.patch(f"/centres/{centre_id_for(AIN_SIRET)}", headers=as_("ud", departements=["01"]), json={
        "raison_sociale": "", "commune_code": "ABCDE", "type_centre": "ECOLE", "reseau": "x" * 121,
        "inconnu": 1})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"raison_sociale", "commune_code", "type_centre", "reseau", "inconnu"}
    assert errors["reseau"] == ["120 caractères au plus."] and errors["inconnu"] == ["Champ inconnu."]
    unknown = client.patch(f"/centres/{centre_id_for(AIN_SIRET)}", json={"commune_code": "01999"},
                           headers=as_("ud", departements=["01"]))
    assert unknown.status_code == 422 and "Commune inconnue" in unknown.json["errors"]["commune_code"][0]


def test_e3_scope_refusals(est, as_):
    _, client = est
    ain = centre_id_for(AIN_SIRET)
    assert client.patch(f"/centres/{ain}", json={"reseau": "X"}, headers=as_("ud", departements=["69"])).status_code == 403
    assert client.get(f"/centres/{ain}", headers=as_("ud", departements=["75"])).status_code == 403
    assert client.get(f"/centres/{ain}", headers=as_("centre", sirets=[LYON_SIRET])).status_code == 403
    assert client.get(f"/centres/{ain}", headers=as_("centre", sirets=[AIN_SIRET])).status_code == 200
    reprise = client.patch(f"/centres/{CENTRE_DE_REPRISE_ID}", json={"reseau": "X"}, headers=as_("ud",
                           departements=["92"]))
    assert reprise.status_code == 403
    assert client.get("/centres/nope", headers=as_("dgefp")).json["detail"] == "Ce centre n'existe pas dans CERES."


def test_e4_site_commune_decides_ud_and_dreets(est, as_):
    runtime, client = est
    centre_id = centre_id_for(REUNION_SIRET)
    deets = as_("deets", regions=["04"])
    created = client.post(f"/centres/{centre_id}/sites", headers=deets, json={
        "name": "Antenne du Tampon", "adresse": "3 rue Hubert Delisle", "commune_code": "97422",
        "code_postal": "97430"})
    assert created.status_code == 201, created.json
    site = created.json
    assert (site["departement"], site["region"], site["zone"], site["commune_label"]) == ("974", "04", "drom",
                                                                                          "Le Tampon")
    assert outbox(runtime, "site.created")[-1]["zone"] == "drom"

    bad = client.post(f"/centres/{centre_id}/sites", headers=deets, json={
        "name": "", "adresse": "x", "commune_code": "97499", "siret": "123"})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"name", "siret"}
    unknown = client.post(f"/centres/{centre_id}/sites", headers=deets, json={
        "name": "X", "adresse": "x", "commune_code": "97499"})
    assert unknown.status_code == 422 and "commune_code" in unknown.json["errors"]
    wrong_cp = client.post(f"/centres/{centre_id}/sites", headers=deets, json={
        "name": "X", "adresse": "x", "commune_code": "97422", "code_postal": "97400"})
    assert wrong_cp.status_code == 422 and "Le Tampon" in wrong_cp.json["errors"]["code_postal"][0]
    elsewhere = client.post(f"/centres/{centre_id}/sites", headers=as_("ud", departements=["01"]), json={
        "name": "X", "adresse": "x", "commune_code": "97422"})
    assert elsewhere.status_code == 403


def test_e4_edit_and_close_a_site(est, as_):
    runtime, client = est
    deets = as_("deets", regions=["04"])
    site = client.post(f"/centres/{centre_id_for(REUNION_SIRET)}/sites", headers=deets, json={
        "name": "Antenne de Saint-Paul", "adresse": "1 rue du Port", "commune_code": "97415"}).json
    edited = client.patch(f"/sites/{site['id']}", json={"representant": "M. Hoarau", "version": site["version"]},
                          headers=deets)
    assert edited.status_code == 200 and edited.json["representant"] == "M. Hoarau"
    assert client.patch(f"/sites/{site['id']}", json={"commune_code": "01053"}, headers=deets).status_code == 403
    closed = client.post(f"/sites/{site['id']}/close", json={"closed_at": "2024-06-30", "reason": "Déménagement"},
                         headers=deets)
    assert closed.status_code == 200 and closed.json["closed_at"] == "2024-06-30"
    assert outbox(runtime, "site.closed")[-1]["closed_at"] == "2024-06-30"
    again = client.post(f"/sites/{site['id']}/close", json={}, headers=deets)
    assert again.status_code == 409 and "fermé depuis le 30/06/2024" in again.json["detail"]
    actions = [h["action"] for h in history(client, deets, "site", site["id"])]
    assert actions == ["create", "update", "close"]
