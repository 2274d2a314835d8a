"""A refused read or change of a person's record outside the caller's scope is traced (I4, issue 12) and listed
for the national administration; an unknown id is not."""
from __future__ import annotations

from ceres_shared.testing.audit import scope_refusals


def test_out_of_scope_reads_and_changes_are_traced_unknown_ids_are_not(client, tokens, h):
    created = client.post("/candidates", json=h.person("Périmètre", ["Anne"], "1979-09-09"), headers=tokens["ud01"])
    assert created.status_code == 201, created.json
    cid = created.json["id"]
    before, _ = scope_refusals(client, tokens["dgefp"], auteur="ud:ud-69")
    assert client.get(f"/candidates/{cid}", headers=tokens["ud69"]).status_code == 404
    assert client.post(f"/candidates/{cid}/validation", headers=tokens["ud69"]).status_code == 404
    assert client.get("/candidates/999999999", headers=tokens["ud69"]).status_code == 404
    total, rows = scope_refusals(client, tokens["dgefp"], auteur="ud:ud-69")
    assert total == before + 2
    assert [(r["entity_type"], r["entity_id"], r["method"], r["endpoint"], r["status"]) for r in rows[:2]] == [
        ("candidate", str(cid), "POST", "/candidates/<int:candidate_id>/validation", 404),
        ("candidate", str(cid), "GET", "/candidates/<int:candidate_id>", 404)]
    assert client.get("/refus-de-perimetre", headers=tokens["ud01"]).status_code == 403
