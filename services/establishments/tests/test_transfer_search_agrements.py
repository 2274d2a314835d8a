"""Site transfer (E5), search (E6), agréments (E7) and the titres projection, over HTTP on PostgreSQL; the transfer
seen by a consumer of `site.transferred` on the real RabbitMQ."""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from ceres_shared.bus.consumer import EventConsumer
from ceres_shared.db import make_engine, new_metadata
from ceres_shared.events import make_envelope
from ceres_shared.platform_tables import PlatformTables
from ceres_establishments.app import create_app
from ceres_establishments.models import CENTRE_DE_REPRISE_ID
from ceres_establishments.service_layer.agrements import agrement_id_for
from ceres_establishments.service_layer.centres import centre_id_for
from ceres_establishments.service_layer.sites import UNKNOWN_TARGET, site_id_for

from est_data import AIN_SIRET, LYON_SIRET, PARIS_SIRET, REUNION_SIRET

MISPLACED = site_id_for("00000000000000", 1)
LYON_SITE = site_id_for(LYON_SIRET, 1)


def outbox(runtime, event_type):
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT body FROM outbox WHERE event_type = :t ORDER BY id"), {"t": event_type})
        return [json.loads(r[0])["payload"] for r in rows]


# -- E5 ----------------------------------------------------------------------------------------------------------
def test_e5_scope_is_the_site_location_not_the_centre_address(est, as_):
    _, client = est
    ud69 = as_("ud", departements=["69"])
    refused = client.post(f"/sites/{MISPLACED}/transfer", json={"siret": AIN_SIRET}, headers=ud69)
    assert refused.status_code == 403  # an UD of 69 cannot move a site in 01
    preview = client.get(f"/sites/{MISPLACED}/transfer-preview?siret={AIN_SIRET}", headers=ud69)
    assert preview.status_code == 403
    centre_user = as_("gestionnaire", sirets=[AIN_SIRET])
    assert client.post(f"/sites/{MISPLACED}/transfer", json={"siret": AIN_SIRET}, headers=centre_user).status_code == 403


def test_e5_unknown_target_has_the_exact_message(est, as_):
    _, client = est
    response = client.get(f"/sites/{MISPLACED}/transfer-preview?siret=78184280200048",
                          headers=as_("ud", departements=["01"]))
    assert response.status_code == 404
    assert response.json["detail"] == "Le siret saisi ne correspond pas à un centre enregistré dans CERES"
    assert response.json["errors"]["siret"] == [UNKNOWN_TARGET]
    malformed = client.post(f"/sites/{MISPLACED}/transfer", json={"siret": "1234"},
                            headers=as_("ud", departements=["01"]))
    assert malformed.status_code == 422 and "siret" in malformed.json["errors"]


def test_e5_transfer_from_the_centre_de_reprise_with_confirmation(est, as_, amqp_url, infra):
    runtime, client = est
    ud01 = as_("ud", departements=["01"])  # the centre de reprise is in 92: only the site's location counts
    preview = client.get(f"/sites/{MISPLACED}/transfer-preview?siret={AIN_SIRET}", headers=ud01)
    assert preview.status_code == 200, preview.json
    target = preview.json["to_centre"]
    assert target["raison_sociale"] == "CENTRE DE FORMATION DU REVERMONT"
    assert target["adresse"] and target["commune_label"]
    assert preview.json["from_centre"]["siret"] == "00000000000000"
    agrement_ids = preview.json["agrements"]
    assert agrement_ids == [agrement_id_for(MISPLACED, "TP-00391")]

    seen, consumer = _consumer_of_site_transferred(runtime, infra)
    runtime.start_background()  # the relay publishes the outbox to RabbitMQ
    worker = threading.Thread(target=consumer.run, daemon=True)
    worker.start()
    try:
        done = client.post(f"/sites/{MISPLACED}/transfer",
                           json={"siret": AIN_SIRET, "version": preview.json["site_version"]}, headers=ud01)
        assert done.status_code == 200, done.json
        assert done.json["centre_id"] == centre_id_for(AIN_SIRET)
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop()
        runtime.stop_background()
        worker.join(10)
    assert seen, "site.transferred never reached the consumer"
    event = seen[0]
    assert (event["site_id"], event["from_centre_id"], event["to_centre_id"]) == (
        MISPLACED, CENTRE_DE_REPRISE_ID, centre_id_for(AIN_SIRET))
    assert event["agrement_ids"] == agrement_ids and event["by"].startswith("ud:")

    # the agréments moved with the site
    moved = client.get(f"/agrements/{agrement_ids[0]}", headers=as_("centre", sirets=[AIN_SIRET]))
    assert moved.status_code == 200 and moved.json["site_id"] == MISPLACED
    sites = client.get(f"/centres/{centre_id_for(AIN_SIRET)}/sites", headers=ud01).json
    assert MISPLACED in [s["id"] for s in sites]
    trail = client.get(f"/history/site/{MISPLACED}", headers=ud01).json[-1]
    assert trail["action"] == "transfer" and "00000000000000" in trail["reason"]
    assert client.get(f"/history/agrement/{agrement_ids[0]}", headers=ud01).json[-1]["action"] == "transfer"

    same = client.post(f"/sites/{MISPLACED}/transfer", json={"siret": AIN_SIRET}, headers=ud01)
    assert same.status_code == 409 and same.json["detail"] == "Le site est déjà rattaché à ce centre."
    stale = client.post(f"/sites/{MISPLACED}/transfer",
                        json={"siret": "00000000000000", "version": preview.json["site_version"]}, headers=ud01)
    assert stale.status_code == 409 and "quelqu'un d'autre" in stale.json["detail"]


def _consumer_of_site_transferred(runtime, infra):
    """Identity's side of the contract: a consumer with its own database and inbox on the same exchange."""
    engine = make_engine(infra.new_database(f"idc{uuid.uuid4().hex[:6]}"))
    metadata = new_metadata()
    tables = PlatformTables(metadata)
    metadata.create_all(engine)
    seen: list[dict] = []
    consumer = EventConsumer("identity", engine, tables, runtime.settings.bus,
                             {"site.transferred": [lambda session, env: seen.append(env.payload)]},
                             runtime.subscriptions)
    return seen, consumer


def test_e5_concurrent_transfers_one_wins(est, as_):
    runtime, client = est
    headers = as_("dreets", regions=["84"])
    site = client.post(f"/centres/{centre_id_for(LYON_SIRET)}/sites", headers=headers, json={
        "name": "Plateau de Vénissieux", "adresse": "2 rue du Parc", "commune_code": "69259"}).json
    site_id, version = site["id"], site["version"]
    app = create_app(runtime)

    def attempt(siret):
        return app.test_client().post(f"/sites/{site_id}/transfer", json={"siret": siret, "version": version},
                                      headers=headers)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(attempt, [AIN_SIRET, "00000000000000"]))
    assert sorted(r.status_code for r in results) == [200, 409]


def test_e5_closed_site_cannot_be_transferred(est, as_):
    _, client = est
    dgefp = as_("dgefp")
    site = client.post(f"/centres/{centre_id_for(PARIS_SIRET)}/sites", headers=dgefp, json={
        "name": "Annexe République", "adresse": "1 place de la République", "commune_code": "75103"}).json
    client.post(f"/sites/{site['id']}/close", json={}, headers=dgefp)
    response = client.post(f"/sites/{site['id']}/transfer", json={"siret": AIN_SIRET}, headers=dgefp)
    assert response.status_code == 409 and "fermé" in response.json["detail"]


# -- E6 ----------------------------------------------------------------------------------------------------------
def test_e6_search_words_ignore_accents_and_case(est, as_):
    _, client = est
    dgefp = as_("dgefp")
    for q in ("lycée de l'est", "LYCEE DE L EST", "lycee-de-l-est"):
        found = client.get("/search", query_string={"q": q}, headers=dgefp).json
        assert found["counts"] == {"CENTRE": 1, "SITE": 2}, q
        assert found["centres"][0]["siret"] == REUNION_SIRET
    commune = client.get("/search", query_string={"q": "villeurbanne"}, headers=dgefp).json
    assert [s["name"] for s in commune["sites"]] == ["Institut lyonnais — Villeurbanne"]
    assert commune["sites"][0]["centre"]["siret"] == LYON_SIRET


def test_e6_siret_and_siren(est, as_):
    _, client = est
    dgefp = as_("dgefp")
    by_siret = client.get("/search", query_string={"q": REUNION_SIRET}, headers=dgefp).json
    assert by_siret["kind"] == "siret" and by_siret["counts"]["CENTRE"] == 1
    by_siren = client.get("/search", query_string={"q": REUNION_SIRET[:9]}, headers=dgefp).json
    assert by_siren["kind"] == "siren"
    assert {s["centre"]["siret"] for s in by_siren["sites"]} == {REUNION_SIRET}
    assert by_siren["counts"]["SITE"] >= 2


def test_e6_counts_pages_and_scope(est, as_):
    _, client = est
    everything = client.get("/search", query_string={"q": "l", "per_page": 2}, headers=as_("dgefp")).json
    assert everything["counts"]["SITE"] > 2 and len(everything["sites"]) == 2
    page2 = client.get("/search", query_string={"q": "l", "per_page": 2, "page": 2, "type": "SITE"},
                       headers=as_("dgefp")).json
    assert page2["centres"] == [] and page2["sites"][0]["id"] not in {s["id"] for s in everything["sites"]}
    ud974 = client.get("/search", query_string={"q": "l"}, headers=as_("ud", departements=["974"])).json
    assert ud974["sites"] and {s["departement"] for s in ud974["sites"]} == {"974"}
    assert {c["siret"] for c in ud974["centres"]} == {REUNION_SIRET}
    mine = client.get("/search", query_string={"q": "l"}, headers=as_("centre", sirets=[LYON_SIRET])).json
    assert {c["siret"] for c in mine["centres"]} == {LYON_SIRET}
    assert {s["centre"]["siret"] for s in mine["sites"]} == {LYON_SIRET}
    bad = client.get("/search", query_string={"q": "  ", "per_page": 500}, headers=as_("dgefp"))
    assert bad.status_code == 422 and "per_page" in bad.json["errors"]


# -- E7 ----------------------------------------------------------------------------------------------------------
def _publish_titre(runtime, code, version, end, kind="TP", ccs_of=None):
    envelope = make_envelope("titre.published", {
        "code": code, "version_date": version, "libelle": f"Titre {code}", "kind": kind, "level": 3,
        "nsf_codes": ["214r"], "end_of_validity": end, "ccs_of": ccs_of}, producer="sessions")
    with runtime.session_factory() as session:
        for handler in runtime.handlers["titre.published"]:
            handler(session, envelope)
        session.commit()


def test_e7_titres_projection_then_request_grant_within_validity(est, as_):
    runtime, client = est
    _publish_titre(runtime, "TP-01234", "2020-01-01", "2026-12-31")
    centre_user = as_("gestionnaire", sirets=[LYON_SIRET])
    requested = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "TP-01234"}, headers=centre_user)
    assert requested.status_code == 201, requested.json
    agrement = requested.json
    assert agrement["status"] == "en_instruction" and agrement["valid_today"] is False
    dup = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "TP-01234"}, headers=centre_user)
    assert dup.status_code == 409

    dreets = as_("dreets", regions=["84"])
    url = f"/agrements/{agrement['id']}"
    assert client.post(f"{url}/grant", json={"valid_from": "2024-01-01", "valid_until": "2026-12-31"},
                       headers=as_("ud", departements=["69"])).status_code == 403  # E7: decided by the DREETS
    assert client.post(f"{url}/grant", json={"valid_from": "2024-01-01", "valid_until": "2026-12-31"},
                       headers=as_("dreets", regions=["11"])).status_code == 403
    beyond = client.post(f"{url}/grant", json={"valid_from": "2024-01-01", "valid_until": "2027-06-30"},
                         headers=dreets)
    assert beyond.status_code == 422
    assert "fin de validité du titre (31/12/2026)" in beyond.json["errors"]["valid_until"][0]
    reversed_ = client.post(f"{url}/grant", json={"valid_from": "2025-01-01", "valid_until": "2024-01-01"},
                            headers=dreets)
    assert reversed_.status_code == 422 and "précède" in reversed_.json["errors"]["valid_until"][0]
    granted = client.post(f"{url}/grant", json={"valid_from": "2024-01-01", "valid_until": "2026-12-31"},
                          headers=dreets)
    assert granted.status_code == 200 and granted.json["status"] == "accorde"
    event = outbox(runtime, "agrement.granted")[-1]
    assert event["agrement_id"] == agrement["id"] and event["centre_id"] == centre_id_for(LYON_SIRET)

    no_reason = client.post(f"{url}/withdraw", json={}, headers=dreets)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    withdrawn = client.post(f"{url}/withdraw", json={"reason": "Contrôle défavorable"}, headers=dreets)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "retire"
    again = client.post(f"{url}/grant", json={"valid_from": "2024-01-01", "valid_until": "2025-01-01"},
                        headers=dreets)
    assert again.status_code == 409 and again.json["detail"] == "Action impossible : l'agrément est retiré."
    seen = client.get(url, headers=centre_user).json
    assert [d["action"] for d in seen["decisions"]] == ["request", "grant", "withdraw"]
    assert outbox(runtime, "agrement.withdrawn")[-1]["status"] == "retire"


def test_e7_refuse_end_ccs_and_unknown_titre(est, as_):
    runtime, client = est
    _publish_titre(runtime, "TP-02222", "2021-01-01", None)
    _publish_titre(runtime, "CCS-00111", "2021-01-01", None, kind="CCS", ccs_of="TP-02222")
    dreets = as_("dreets", regions=["84"])
    ccs = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "CCS-00111"}, headers=dreets)
    assert ccs.status_code == 409 and "suppose l'agrément du titre TP-02222" in ccs.json["detail"]
    tp = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "TP-02222"}, headers=dreets).json
    refused = client.post(f"/agrements/{tp['id']}/refuse", json={"reason": "Plateau technique absent"},
                          headers=dreets)
    assert refused.status_code == 200 and outbox(runtime, "agrement.refused")[-1]["status"] == "refuse"
    tp = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "TP-02222"}, headers=dreets).json
    client.post(f"/agrements/{tp['id']}/instruct", json={"reason": "Visite le 12/03"}, headers=dreets)
    client.post(f"/agrements/{tp['id']}/grant", json={"valid_from": "2024-01-01", "valid_until": "2030-01-01"},
                headers=dreets)
    assert client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "CCS-00111"},
                       headers=dreets).status_code == 201
    ended = client.post(f"/agrements/{tp['id']}/end", json={"valid_until": "2025-06-30"}, headers=dreets)
    assert ended.status_code == 200 and ended.json["valid_until"] == "2025-06-30"
    assert outbox(runtime, "agrement.ended")[-1]["status"] == "termine"
    unknown = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "TP-99999"}, headers=dreets)
    assert unknown.status_code == 422 and "Titre inconnu" in unknown.json["errors"]["titre_code"][0]
    bad = client.post(f"/sites/{LYON_SITE}/agrements", json={"titre_code": "00463"}, headers=dreets)
    assert bad.status_code == 422


def test_e7_centre_sees_whether_each_agrement_is_valid(est, as_):
    _, client = est
    site = site_id_for(PARIS_SIRET, 1)
    listed = client.get(f"/sites/{site}/agrements", headers=as_("centre", sirets=[PARIS_SIRET]))
    assert listed.status_code == 200
    assert [(a["titre_code"], a["status"], a["valid_today"]) for a in listed.json] == [("TP-00391", "accorde", True)]
    assert client.get(f"/sites/{site}/agrements", headers=as_("centre", sirets=[LYON_SIRET])).status_code == 403
