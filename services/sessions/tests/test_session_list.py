"""The sessions list the web pages and the dashboard open (I4, S10): sorting by a whitelisted column, pages, the
DTE and relaxation filters; and S5's centre edit that cannot move a start into the past. Over HTTP, real database."""
from __future__ import annotations

from datetime import date


def _listed(w, who, **params) -> dict:
    answer = w.client.get("/sessions", query_string=params, headers=who)
    assert answer.status_code == 200, answer.json
    return answer.json


def _ids(w, who, **params) -> list[str]:
    return [s["public_id"] for s in _listed(w, who, per_page=50, **params)["sessions"]]


def test_list_sorted_by_each_column_both_ways_statuses_in_workflow_order_and_pages(world, frozen):
    frozen(2024, 1, 15)
    ain, jura = world(dep="21", region="27"), world(dep="39", region="27")
    early = ain.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 7, 10))  # ends after middle
    late = ain.session(starts_on=date(2024, 9, 2), ends_on=date(2024, 9, 3))
    middle = jura.session(starts_on=date(2024, 7, 1), ends_on=date(2024, 7, 2))
    assert ain.post(early["id"], "demande-dte", ain.centre, {"candidate_count": 0}).status_code == 200
    assert ain.post(late["id"], "annulation", ain.ud, {"reason": "Salle fermée"}).status_code == 200
    dreets = ain.dreets  # région 27 sees both départements, and nothing of the other tests
    ids = {s["id"]: s["public_id"] for s in (early, late, middle)}
    e, l, m = ids[early["id"]], ids[late["id"]], ids[middle["id"]]

    assert _ids(ain, dreets) == [l, m, e]  # default: newest start first
    assert _listed(ain, dreets)["sort"] == "-starts_at"
    assert _ids(ain, dreets, sort="starts_at") == [e, m, l]
    assert _ids(ain, dreets, sort="ends_at") == [m, e, l]
    assert _ids(ain, dreets, sort="-ends_at") == [l, e, m]
    assert _ids(ain, dreets, sort="public_id") == sorted([e, l, m])
    assert _ids(ain, dreets, sort="-public_id") == sorted([e, l, m], reverse=True)
    # Same département: the newest start first among equals.
    assert _ids(ain, dreets, sort="departement") == [l, e, m]
    assert _ids(ain, dreets, sort="-departement") == [m, l, e]
    # S3's order, not the alphabet: en préparation, demande de DTE envoyée, ..., annulée.
    assert _ids(ain, dreets, sort="status") == [m, e, l]
    assert _ids(ain, dreets, sort="-status") == [l, e, m]
    assert _ids(ain, dreets, sort="titre_code") == [l, m, e]  # one titre: ties by newest start

    # Pages follow the chosen order, without a row twice or missing.
    pages = [_listed(ain, dreets, sort="starts_at", per_page=2, page=n)["sessions"] for n in (1, 2)]
    assert [s["public_id"] for s in pages[0] + pages[1]] == [e, m, l] and len(pages[1]) == 1

    # I4 still holds under any order: the centre of Ain sees its two sessions only.
    assert _ids(ain, ain.centre, sort="-status") == [l, e]


def test_unknown_sort_refused_in_french_422(world):
    w = world()
    for bad in ("created_by", "-id", "starts_at;drop table sessions", "--starts_at"):
        answer = w.client.get("/sessions", query_string={"sort": bad}, headers=w.centre)
        assert answer.status_code == 422, (bad, answer.json)
        assert answer.json["detail"] == "Certaines données sont invalides."
        assert answer.json["errors"]["sort"] == [
            "Tri inconnu : colonnes possibles public_id, titre_code, departement, starts_at, ends_at, status "
            "(précédées de « - » pour l'ordre décroissant)."]


def test_dte_and_relaxation_filters_open_what_the_dashboard_counts_s10(world, frozen):
    frozen(2024, 1, 15)
    w = world(dep="40", region="75")
    asked = w.session(starts_on=date(2024, 6, 3))
    w.session(starts_on=date(2024, 6, 10))
    relaxed = w.session(starts_on=date(2024, 2, 20))  # too late for the DTE, but for a relaxation period
    assert w.post(asked["id"], "demande-dte", w.centre, {"candidate_count": 2}).status_code == 200
    opened = w.client.post("/assouplissements", json={"starts_on": "2024-01-15", "ends_on": "2024-01-15",
                                                      "reason": "Test des filtres"}, headers=w.admin)
    assert opened.status_code == 201
    assert w.post(relaxed["id"], "demande-dte", w.centre, {"candidate_count": 0}).status_code == 200
    frozen(2024, 1, 16)  # the period is over: nothing else is relaxed

    assert set(_ids(w, w.ud, dte_requested="true")) == {asked["public_id"], relaxed["public_id"]}
    assert len(_ids(w, w.ud, dte_requested="false")) == 1
    assert _ids(w, w.ud, under_relaxation="true") == [relaxed["public_id"]]
    board = w.client.get("/tableau-de-bord", headers=w.ud).json
    assert board["demandes_dte"] == 2 and board["sessions_sous_assouplissement"] == 1  # what the lists show
    bad = w.client.get("/sessions", query_string={"dte_requested": "peut-être"}, headers=w.ud)
    assert bad.status_code == 422 and "dte_requested" in bad.json["errors"]


def test_S5_centre_cannot_move_the_start_into_the_past(world, frozen):
    frozen(2024, 1, 15)
    w = world()
    s = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 4))
    past = w.client.patch(f"/sessions/{s['id']}/dates", json={"starts_at": "2024-01-10T08:00:00+01:00"},
                          headers=w.centre)
    assert past.status_code == 409
    assert past.json["detail"] == ("Impossible de modifier les dates de la session : La nouvelle date de début ne "
                                   "peut pas être passée.")
    assert w.client.get(f"/sessions/{s['id']}", headers=w.centre).json["starts_at"].startswith("2024-06-03")
    # The end alone may still move while the start (unchanged) is kept.
    moved = w.client.patch(f"/sessions/{s['id']}/dates", json={"ends_at": "2024-06-07T17:00:00+02:00"},
                           headers=w.centre)
    assert moved.status_code == 200 and moved.json["ends_at"].startswith("2024-06-07")


def test_S1_offers_are_the_callers_sites_with_an_agrement_valid_today(world, frozen):
    frozen(2024, 1, 15)
    valid = world(dep="26", region="84")
    expired = world(dep="26", region="84", agrement=(date(2019, 1, 1), date(2023, 12, 31)))
    offered = valid.client.get("/sessions/offres", headers=valid.centre)
    assert offered.status_code == 200
    assert offered.json == [{"site_id": valid.site_id, "site": "Site test", "titre_code": "TP-00463",
                             "valid_until": "2028-09-26"}]
    assert expired.client.get("/sessions/offres", headers=expired.centre).json == []  # ended before today
    assert valid.client.get("/sessions/offres", headers=valid.ud).status_code == 403  # a centre's form only
