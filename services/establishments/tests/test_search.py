"""E6 search beyond the basics: words match the beginning of words, SIREN reaches sites by their own SIRET, counts
stop at a cap (« plus de 10 000 ») with pages still in name order, odd input is a 422 never a 5xx, and the SQLite
fallback of embedded mode answers exactly as PostgreSQL does."""
from __future__ import annotations

import pytest

from ceres_shared.config import BusSettings, Settings
from ceres_establishments import demo
from ceres_establishments.app import create_app
from ceres_establishments.bootstrap import bootstrap
from ceres_establishments.service_layer import search as search_module

from est_data import AIN_SIRET, LYON_SIRET, OYONNAX_SIRET, REUNION_SIRET

QUERIES = ("lyon", "LYCÉE de l'Est", "saint", "villeurbanne", "69100", "bourg en bresse", "l", "d",
           AIN_SIRET, AIN_SIRET[:9], OYONNAX_SIRET, REUNION_SIRET[:9], "zzz", "onnais")


def _found(client, headers, q, **params):
    response = client.get("/search", query_string={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_e6_words_match_word_beginnings(est, as_):
    _, client = est
    dgefp = as_("dgefp")
    lyon = _found(client, dgefp, "lyon")  # "Institut lyonnais", "Lyon 3e"
    assert {c["siret"] for c in lyon["centres"]} == {LYON_SIRET}
    assert lyon["counts"] == {"CENTRE": 1, "SITE": 2}
    inside = _found(client, dgefp, "onnais")  # inside a word: not a word of the name
    assert inside["counts"] == {"CENTRE": 0, "SITE": 0} and inside["centres"] == inside["sites"] == []
    both = _found(client, dgefp, "saint pierre")  # every word must match
    assert [s["name"] for s in both["sites"]] == ["Lycée de l'Est — Saint-Pierre"]
    postcode = _found(client, dgefp, "69100")
    assert [s["name"] for s in postcode["sites"]] == ["Institut lyonnais — Villeurbanne"]
    # results are written exactly as the records' own endpoints write them
    site = postcode["sites"][0]
    assert {k: v for k, v in site.items() if k != "centre"} == client.get(f"/sites/{site['id']}", headers=dgefp).json
    assert lyon["centres"][0] == client.get(f"/centres/{lyon['centres'][0]['id']}", headers=dgefp).json


def test_e6_siren_and_siret_reach_sites_by_their_own_siret(est, as_):
    _, client = est
    dgefp = as_("dgefp")
    # The misplaced site (centre de reprise) carries a SIRET of the Ain company: its SIREN finds it too.
    by_siren = _found(client, dgefp, AIN_SIRET[:9])
    assert {c["siret"] for c in by_siren["centres"]} == {AIN_SIRET}
    assert {s["siret"] for s in by_siren["sites"]} >= {OYONNAX_SIRET}
    assert {s["centre"]["siret"] for s in by_siren["sites"]} == {AIN_SIRET, "00000000000000"}
    by_siret = _found(client, dgefp, OYONNAX_SIRET)
    assert by_siret["counts"] == {"CENTRE": 0, "SITE": 1}
    assert by_siret["sites"][0]["centre"]["siret"] == "00000000000000"
    spaced = _found(client, dgefp, f"{AIN_SIRET[:3]} {AIN_SIRET[3:6]} {AIN_SIRET[6:9]}")
    assert spaced["kind"] == "siren" and spaced["counts"] == by_siren["counts"]


def test_e6_counts_stop_at_the_cap_and_pages_stay_in_name_order(est, as_, monkeypatch):
    _, client = est
    dgefp = as_("dgefp")
    exact = _found(client, dgefp, "l", per_page=100)
    names = [s["name"] for s in exact["sites"]]
    assert exact["counts_capped"] == {"CENTRE": False, "SITE": False}
    assert names == sorted(names) and len(names) == exact["counts"]["SITE"] >= 4
    monkeypatch.setattr(search_module, "COUNT_CAP", 2)  # the 10 000 of production, at the demo's scale
    capped = _found(client, dgefp, "l", per_page=2, type="SITE")
    assert capped["counts"]["SITE"] == 2 and capped["counts_capped"]["SITE"] is True
    assert capped["count_labels"]["SITE"] == "plus de 2"  # « plus de 10 000 » in production
    assert search_module.count_label(3803, False) == "3\u202f803"
    # past the cap, the page is still the first names of ALL matches, not of an arbitrary capped subset
    assert [s["name"] for s in capped["sites"]] == names[:2]
    second = _found(client, dgefp, "l", per_page=1, page=2, type="SITE")
    assert [s["name"] for s in second["sites"]] == names[1:2]
    beyond = _found(client, dgefp, "l", per_page=1, page=3, type="SITE")
    assert beyond["sites"] == []  # pages end where counting ends


@pytest.mark.parametrize("q", ["&|!", "a:* | b", "'", "(", "-", "::", "\\", "%_", "—", "l'", "é"])
def test_e6_odd_input_is_a_french_422_or_a_result_never_a_5xx(est, as_, q):
    _, client = est
    response = client.get("/search", query_string={"q": q}, headers=as_("dgefp"))
    assert response.status_code in (200, 422), response.data
    if response.status_code == 422:
        assert response.json["errors"]["q"] == ["Saisissez un SIRET, un SIREN ou des mots du nom ou de la commune."]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, issuer):
    """The same demo on SQLite (embedded mode's database)."""
    folder = tmp_path_factory.mktemp("est-sqlite")
    settings = Settings(service="establishments", database_url=f"sqlite:///{folder / 'establishments.db'}",
                        bus=BusSettings(url="amqp://guest:guest@127.0.0.1:1/"), jwks_url=None)
    runtime = bootstrap(settings, jwks=issuer.jwks())
    runtime.upgrade_database()
    demo.seed(runtime)
    yield create_app(runtime).test_client()
    runtime.engine.dispose()


def _summary(found):
    return (found["kind"], found["counts"], [c["siret"] for c in found["centres"]],
            [(s["name"], s["centre"]["siret"]) for s in found["sites"]])


@pytest.mark.parametrize("who", [("dgefp", {}), ("ud", {"departements": ["01"]}),
                                 ("centre", {"sirets": [LYON_SIRET]})])
def test_e6_sqlite_fallback_answers_as_postgresql(est, embedded, as_, who):
    _, pg = est
    role, scope = who
    headers = as_(role, **scope)
    for q in QUERIES:
        assert _summary(_found(embedded, headers, q)) == _summary(_found(pg, headers, q)), q
