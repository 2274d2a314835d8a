"""A refused read or change of a centre or site outside the agent's territory is traced (I4, issue 12) and listed
for the national administration; an unknown id is not."""
from __future__ import annotations

import uuid

from ceres_shared.testing.audit import scope_refusals
from ceres_establishments.service_layer.centres import centre_id_for
from ceres_establishments.service_layer.sites import site_id_for

from est_data import LYON_SIRET

LYON_3E = site_id_for(LYON_SIRET, 1)


def test_out_of_territory_reads_and_changes_are_traced_unknown_ids_are_not(est, as_, issuer):
    _, client = est
    subject = f"ud75-{uuid.uuid4().hex[:6]}"
    paris = {"Authorization": "Bearer " + issuer.issue(subject, "ud", scope={"departements": ["75"]},
                                                       name="Ursule Dupin")}
    assert client.get(f"/sites/{LYON_3E}", headers=paris).status_code == 403
    assert client.patch(f"/centres/{centre_id_for(LYON_SIRET)}", json={"reseau": "Autre"},
                        headers=paris).status_code == 403
    assert client.get(f"/sites/{uuid.uuid4()}", headers=paris).status_code == 404
    total, rows = scope_refusals(client, as_("admin"), auteur=f"ud:{subject}")
    assert total == 2
    assert [(r["entity_type"], r["entity_id"], r["method"], r["status"], r["actor_name"]) for r in rows] == [
        ("centre", centre_id_for(LYON_SIRET), "PATCH", 403, "Ursule Dupin"),
        ("site", LYON_3E, "GET", 403, "Ursule Dupin")]
    assert client.get("/refus-de-perimetre", headers=paris).status_code == 403
