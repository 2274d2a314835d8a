"""The sites of a centre over HTTP, a page at a time (the « centre de reprise » holds thousands): `page`/`per_page`
optional, the body still a list (SiteOut), the total in `X-Total-Count`; the scope (I4) filtered by the service, so
the pages and the total are the agent's own."""
from __future__ import annotations

import pytest

from ceres_establishments.service_layer.centres import centre_id_for

from est_data import REUNION_SIRET


@pytest.fixture(scope="module")
def centre(est, as_):
    """The Réunion centre with five more sites in La Réunion and two in the Ain."""
    _, client = est
    centre_id = centre_id_for(REUNION_SIRET)
    dgefp = as_("dgefp", national=True)
    for i in range(5):
        created = client.post(f"/centres/{centre_id}/sites", headers=dgefp, json={
            "name": f"Pagination Tampon {i}", "adresse": "3 rue Hubert Delisle", "commune_code": "97422",
            "code_postal": "97430"})
        assert created.status_code == 201, created.json
    for i in range(2):
        created = client.post(f"/centres/{centre_id}/sites", headers=dgefp, json={
            "name": f"Pagination Bourg {i}", "adresse": "1 place de la Grenouillère", "commune_code": "01053",
            "code_postal": "01000"})
        assert created.status_code == 201, created.json
    return centre_id


def sites(client, headers, centre_id, **params):
    answer = client.get(f"/centres/{centre_id}/sites", query_string=params, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer


def test_sites_by_pages_keep_the_list_and_count_in_a_header(est, as_, centre):
    _, client = est
    dgefp = as_("dgefp", national=True)
    whole = sites(client, dgefp, centre)
    names = [site["name"] for site in whole.json]
    assert isinstance(whole.json, list) and names == sorted(names)  # as before: every site, by name
    assert int(whole.headers["X-Total-Count"]) == len(names) >= 7 and "X-Page" not in whole.headers
    first = sites(client, dgefp, centre, page=1, per_page=3)
    assert [site["name"] for site in first.json] == names[:3]
    assert (first.headers["X-Total-Count"], first.headers["X-Page"], first.headers["X-Per-Page"]) == (
        str(len(names)), "1", "3")
    second = sites(client, dgefp, centre, page=2, per_page=3)
    assert [site["name"] for site in second.json] == names[3:6]
    assert sites(client, dgefp, centre, page=100, per_page=3).json == []


def test_sites_pages_are_the_agents_scope(est, as_, centre):
    _, client = est
    ud01 = as_("ud", departements=["01"])
    ain = sites(client, ud01, centre, per_page=1)
    assert ain.headers["X-Total-Count"] == "2" and [s["name"] for s in ain.json] == ["Pagination Bourg 0"]
    assert [s["name"] for s in sites(client, ud01, centre, page=2, per_page=1).json] == ["Pagination Bourg 1"]
    reunion = sites(client, as_("deets", regions=["04"]), centre, per_page=100)
    assert all(s["departement"] == "974" for s in reunion.json)
    assert int(reunion.headers["X-Total-Count"]) == len(reunion.json) >= 5


def test_sites_paging_bounds(est, as_, centre):
    _, client = est
    too_many = client.get(f"/centres/{centre}/sites", query_string={"per_page": 101},
                          headers=as_("dgefp", national=True))
    assert too_many.status_code == 422 and "Entre 1 et 100." in str(too_many.json)
    assert client.get(f"/centres/{centre}/sites", query_string={"page": 0},
                      headers=as_("dgefp", national=True)).status_code == 422
