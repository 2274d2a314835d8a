"""A site is created only on a centre the caller may act on (I4, E4): the commune in the agent's territory is not
enough, the centre must be theirs too (its address or one of its sites in the territory; a centre user: its own
SIRET). Refusals say so in French (403) and write nothing — no site, no audit entry, no event. And a link to one
site opens the page of the centre's sites that holds it (`site=`)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from ceres_shared.auth import Principal
from ceres_shared.errors import Forbidden
from ceres_establishments.service_layer import sites as site_cases
from ceres_establishments.service_layer.access import OUT_OF_SCOPE
from ceres_establishments.service_layer.centres import centre_id_for

from est_data import AIN_SIRET, LYON_SIRET, PARIS_SIRET

NOT_ALLOWED = "Vous n'avez pas les droits pour cette action."


def written(runtime) -> tuple[int, int, int]:
    """Sites, audit entries and outbox events: what a creation would add."""
    with runtime.engine.connect() as conn:
        # a refusal itself is traced (issue 12): not an entry of the records' trail
        return tuple(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                     for table in ("sites", "audit_log WHERE action <> 'refus_perimetre'", "outbox"))


def new_site(commune: str = "01053") -> dict:
    return {"name": f"Annexe {uuid.uuid4().hex[:6]}", "adresse": "1 rue de la Gare", "commune_code": commune}


def test_e4_an_agent_of_another_territory_cannot_add_a_site_to_the_centre_even_in_its_own(est, as_):
    """The UD of the Rhône types a commune of the Rhône for the Paris centre, which has nothing in the Rhône."""
    runtime, client = est
    before = written(runtime)
    refused = client.post(f"/centres/{centre_id_for(PARIS_SIRET)}/sites", json=new_site("69383"),
                          headers=as_("ud", departements=["69"]))
    assert refused.status_code == 403, refused.json
    assert refused.json["detail"] == OUT_OF_SCOPE == "Ce site ou ce centre est hors de votre périmètre."
    assert refused.json["type"].endswith("#out_of_scope")
    assert written(runtime) == before
    # the same agent on a centre of its territory: created (the check refuses the centre, not the agent)
    lyon = client.post(f"/centres/{centre_id_for(LYON_SIRET)}/sites", json=new_site("69383"),
                       headers=as_("ud", departements=["69"]))
    assert lyon.status_code == 201, lyon.json


def test_e4_a_centre_user_of_another_centre_is_refused_and_nothing_is_written(est, as_):
    runtime, client = est
    before = written(runtime)
    for role in ("centre", "gestionnaire"):
        refused = client.post(f"/centres/{centre_id_for(AIN_SIRET)}/sites", json=new_site(),
                              headers=as_(role, sirets=[LYON_SIRET]))
        assert refused.status_code == 403 and refused.json["detail"] == NOT_ALLOWED, refused.json
    assert written(runtime) == before


@pytest.mark.parametrize("principal", [
    Principal(subject="ud69", role="ud", departements=frozenset({"69"})),
    Principal(subject="other-centre", role="gestionnaire", sirets=frozenset({LYON_SIRET})),
], ids=["agent-of-another-territory", "user-of-another-centre"])
def test_e4_the_use_case_itself_checks_the_centre(est, principal):
    """Whatever the policy map says of the role, the use case refuses a centre that is not the caller's, before
    reading the commune (an unknown one would otherwise answer 422 and tell the centre exists)."""
    runtime, _ = est
    before = written(runtime)
    with runtime.session_factory() as session:
        with pytest.raises(Forbidden) as refused:
            site_cases.create_site(runtime, session, principal, centre_id_for(PARIS_SIRET), new_site("99999"))
        session.rollback()
    assert refused.value.detail == OUT_OF_SCOPE
    assert written(runtime) == before


def test_a_link_to_one_site_opens_the_page_holding_it(est, as_):
    _, client = est
    centre = centre_id_for(AIN_SIRET)
    dgefp = as_("dgefp", national=True)
    for i in range(5):
        made = client.post(f"/centres/{centre}/sites", headers=dgefp, json={**new_site(), "name": f"Page {i}"})
        assert made.status_code == 201, made.json
    whole = client.get(f"/centres/{centre}/sites", headers=dgefp).json
    assert len(whole) >= 6
    for index, wanted in enumerate(whole):
        answer = client.get(f"/centres/{centre}/sites", query_string={"site": wanted["id"], "per_page": 2},
                            headers=dgefp)
        assert answer.status_code == 200
        assert answer.headers["X-Page"] == str(index // 2 + 1)
        assert wanted["id"] in [s["id"] for s in answer.json]
        assert [s["id"] for s in answer.json] == [s["id"] for s in whole[index // 2 * 2:index // 2 * 2 + 2]]
    # a site of another centre, or unknown: the page asked for, as without `site`
    other = client.get(f"/centres/{centre_id_for(LYON_SIRET)}/sites", headers=dgefp).json[0]["id"]
    for stranger in (other, "nope"):
        answer = client.get(f"/centres/{centre}/sites", query_string={"site": stranger, "page": 2, "per_page": 2},
                            headers=dgefp)
        assert answer.headers["X-Page"] == "2" and [s["id"] for s in answer.json] == [s["id"] for s in whole[2:4]]


def test_a_site_out_of_the_agents_scope_is_not_located(est, as_):
    """The UD of the Ain asks for the page of a Réunion site of a centre it sees: its own page 1, nothing told."""
    _, client = est
    centre = centre_id_for(AIN_SIRET)
    dgefp = as_("dgefp", national=True)
    made = client.post(f"/centres/{centre}/sites", headers=dgefp, json={**new_site("97422"), "name": "AAA Réunion"})
    assert made.status_code == 201, made.json
    ud01 = as_("ud", departements=["01"])
    answer = client.get(f"/centres/{centre}/sites", query_string={"site": made.json["id"], "per_page": 2},
                        headers=ud01)
    assert answer.status_code == 200 and answer.headers["X-Page"] == "1"
    assert made.json["id"] not in [s["id"] for s in answer.json]
    assert all(s["departement"] == "01" for s in answer.json)


def test_e5_only_the_national_level_adds_a_site_to_the_centre_de_reprise(est, as_):
    """The centre de reprise holds the sites no real centre took; a new site belongs to its centre (as for
    update_centre, reprise_national). The UD of the Ain sees it (its misplaced site is in the Ain) but is refused."""
    from ceres_establishments.models import CENTRE_DE_REPRISE_ID

    runtime, client = est
    before = written(runtime)
    refused = client.post(f"/centres/{CENTRE_DE_REPRISE_ID}/sites", json=new_site("01053"),
                          headers=as_("ud", departements=["01"]))
    assert refused.status_code == 403, refused.json
    assert refused.json["detail"].startswith("Seule l'administration nationale ajoute un site au centre de reprise")
    assert written(runtime) == before
    national = client.post(f"/centres/{CENTRE_DE_REPRISE_ID}/sites", json=new_site("01053"), headers=as_("admin"))
    assert national.status_code == 201, national.json
