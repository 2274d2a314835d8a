"""A refused read of a validated session outside the agent's territory is traced (I4, issue 12) and listed for the
national administration; an unknown id is not."""
from __future__ import annotations

from ceres_shared.testing.audit import scope_refusals
from ceres_printing import samples

from .conftest import bearer, deliver


def test_out_of_territory_session_read_is_traced_unknown_ids_are_not(rt, client, issuer):
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("site-paris-refus"))
    deliver(rt, "candidate.registered", samples.candidate(4101, "REFUS"))
    deliver(rt, "session.validated",
            samples.session_validated("sess-refus", "site-paris-refus", [(4101, "titre", [])]))
    lyon = bearer(issuer.issue("ud-69-refus", "ud", scope={"departements": ["69"]}, name="Léa Martin", ttl=3600))
    admin = bearer(issuer.issue("admin-1", "admin", ttl=3600))
    assert client.get("/sessions/sess-refus/candidates", headers=lyon).status_code == 403
    assert client.get("/sessions/sess-inconnue/candidates", headers=lyon).status_code == 404
    total, rows = scope_refusals(client, admin, auteur="ud:ud-69-refus")
    assert total == 1
    assert (rows[0]["entity_type"], rows[0]["entity_id"], rows[0]["status"], rows[0]["actor_name"]) == (
        "session", "sess-refus", 403, "Léa Martin")
    assert client.get("/refus-de-perimetre", headers=lyon).status_code == 403
