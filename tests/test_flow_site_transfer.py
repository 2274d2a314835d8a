"""Architecture flow 2 (seed 000, E5): establishments publishes `site.transferred` through its real outbox relay
and RabbitMQ; the sessions service re-homes the site's sessions; the new centre's users see them, the old
centre's no longer do."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ceres_sessions import clock
from ceres_sessions.app import create_app

DEMO = Path(__file__).parents[1] / "services" / "sessions" / "ceres_sessions" / "data" / "titres_demo.json"


def bearer(issuer, role, **scope):
    return {"Authorization": f"Bearer {issuer.issue(f'{role}-1', role, scope=scope)}"}


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("the effect never came")


def test_site_transferred_rehomes_sessions_to_the_new_centre(make_runtime, issuer):
    exchange = f"flow{uuid.uuid4().hex[:6]}.events"
    est = make_runtime("establishments", exchange=exchange)
    sessions = make_runtime("sessions", exchange=exchange)
    client = create_app(sessions).test_client()
    old = {"centre_id": str(uuid.uuid4()), "siret": "00000000000000"}  # the centre de reprise (E1)
    new = {"centre_id": str(uuid.uuid4()), "siret": "78184280200048"}
    site_id = str(uuid.uuid4())
    with est.session_factory.begin() as s:
        for centre, name in ((old, "Centre de reprise"), (new, "Bon centre")):
            est.outbox.record(s, "centre.registered", {**centre, "siren": centre["siret"][:9],
                                                       "raison_sociale": name, "adresse": "1 rue",
                                                       "commune_code": "92060"})
        est.outbox.record(s, "site.created", {"site_id": site_id, "centre_id": old["centre_id"], "name": "Site",
                                              "adresse": "2 rue", "commune_code": "44184", "departement": "44",
                                              "region": "52", "zone": "metro"})
        est.outbox.record(s, "agrement.granted", {"agrement_id": str(uuid.uuid4()), "site_id": site_id,
                                                  "centre_id": old["centre_id"], "titre_code": "TP-00463",
                                                  "titre_version": "2018-09-20", "valid_from": "2019-01-01",
                                                  "valid_until": "2028-09-26", "status": "accorde"})
    est.start_background()
    sessions.start_background()
    assert client.post("/titres/import", data=DEMO.read_bytes(), content_type="application/json",
                       headers=bearer(issuer, "dgefp")).status_code == 200
    old_user = bearer(issuer, "centre", sirets=[old["siret"]])
    new_user = bearer(issuer, "centre", sirets=[new["siret"]])
    clock.fix(datetime(2024, 1, 15, 10, tzinfo=timezone.utc))
    try:
        created = wait_for(lambda: (r := client.post("/sessions", json={
            "site_id": site_id, "titre_code": "TP-00463", "starts_on": "2024-06-03"}, headers=old_user))
            .status_code == 201 and r)
    finally:
        clock.fix(None)
    session_id = created.json["id"]
    assert client.get("/sessions", headers=new_user).json["total"] == 0

    with est.session_factory.begin() as s:
        est.outbox.record(s, "site.transferred", {"site_id": site_id, "from_centre_id": old["centre_id"],
                                                  "to_centre_id": new["centre_id"], "by": "dreets:agent-44",
                                                  "at": datetime.now(timezone.utc).isoformat()})

    seen = wait_for(lambda: client.get(f"/sessions/{session_id}", headers=new_user).status_code == 200)
    assert seen
    listed = client.get("/sessions", headers=new_user).json
    assert [s["id"] for s in listed["sessions"]] == [session_id]
    assert client.get(f"/sessions/{session_id}", headers=old_user).status_code == 404
    ud = bearer(issuer, "ud", departements=["44"])
    trace = client.get(f"/history/session/{session_id}", headers=ud).json[-1]
    assert trace["action"] == "site_transferred" and trace["actor"] == "dreets:agent-44"
