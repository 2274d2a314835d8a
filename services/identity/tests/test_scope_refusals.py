"""A refused reading of a centre's activation code by an agent of another territory is traced (I4, issue 12) and
listed for the national administration; an unknown SIRET is not."""
from __future__ import annotations

from ceres_shared.testing.audit import scope_refusals
from ceres_identity.testing import bearer, register_centre

SIRET = "48765432100013"


def test_out_of_territory_code_reading_is_traced_unknown_sirets_are_not(portal, issuer):
    register_centre(portal.runtime, SIRET, commune_code="01053")
    lyon = bearer(issuer.issue("ud-69-code", "ud", scope={"departements": ["69"]}, name="Noé Girard"))
    assert portal.client.get(f"/centres/{SIRET}/activation-code", headers=lyon).status_code == 403
    assert portal.client.get("/centres/12345678900011/activation-code", headers=lyon).status_code == 404
    total, rows = scope_refusals(portal.client, bearer(issuer.issue("dgefp-1", "dgefp")), auteur="ud:ud-69-code")
    assert total == 1
    assert (rows[0]["entity_type"], rows[0]["entity_id"], rows[0]["endpoint"], rows[0]["status"]) == (
        "centre", SIRET, "/centres/<siret>/activation-code", 403)
    assert portal.client.get("/refus-de-perimetre", headers=lyon).status_code == 403
