"""S10 agréments to follow and B2 results overdue, over HTTP on the real database, with a fixed clock."""
from __future__ import annotations

import uuid
from datetime import date

from ceres_sessions.service_layer import dashboard

from .conftest import feed
from .test_rules import _convoked
from .test_session_walk import outbox


def _agrement(w, until: date, status: str = "accorde", agrement_id: str | None = None) -> str:
    agrement_id = agrement_id or str(uuid.uuid4())
    event = {"accorde": "agrement.granted", "retire": "agrement.withdrawn"}[status]
    feed(w.rt, event, {"agrement_id": agrement_id, "site_id": w.site_id, "centre_id": w.centre_id,
                       "titre_code": w.titre, "titre_version": "2018-09-20", "valid_from": "2019-01-01",
                       "valid_until": until.isoformat(), "status": status})
    return agrement_id


def _to_follow(w, who) -> dict:
    return w.client.get("/tableau-de-bord", headers=who).json["agrements_a_suivre"]


def test_S10_agrements_ending_within_six_months_or_withdrawn_with_sessions_planned(world, frozen):
    frozen(2024, 1, 15)
    ending = world(dep="11", region="76", agrement=None)
    soon = _agrement(ending, date(2024, 6, 30))  # within 6 months: to renew
    withdrawn = world(dep="12", region="76", agrement=None)
    later = _agrement(withdrawn, date(2024, 9, 30))  # beyond 6 months: nothing to do yet
    quiet = world(dep="13", region="93", agrement=None)
    _agrement(quiet, date(2020, 1, 1), "retire")  # withdrawn, no session planned: nothing to follow

    s = withdrawn.session(starts_on=date(2024, 5, 2))
    ud11 = _to_follow(ending, ending.ud)
    assert ud11["horizon_mois"] == 6
    assert [a["agrement_id"] for a in ud11["expirant"]["agrements"]] == [soon] and ud11["expirant"]["count"] == 1
    assert "prend fin le 30/06/2024" in ud11["expirant"]["agrements"][0]["message"]
    assert ud11["retires_avec_sessions"]["count"] == 0
    assert _to_follow(withdrawn, withdrawn.ud)["expirant"]["count"] == 0

    _agrement(withdrawn, date(2024, 9, 30), "retire", agrement_id=later)  # withdrawn after the session was made
    ud12 = _to_follow(withdrawn, withdrawn.ud)["retires_avec_sessions"]
    assert ud12["count"] == 1
    item = ud12["agrements"][0]
    assert item["agrement_id"] == later and item["sessions_programmees"] == 1
    assert "1 session(s) encore programmée(s)" in item["message"]
    listed = withdrawn.client.get(item["liste"], headers=withdrawn.ud).json
    assert [x["id"] for x in listed["sessions"]] == [s["id"]]
    # Scope (I4): the centre sees its own agréments, another territory none, the DREETS its région, DGEFP all.
    assert _to_follow(withdrawn, withdrawn.centre)["retires_avec_sessions"]["count"] == 1
    assert _to_follow(ending, ending.centre)["retires_avec_sessions"]["count"] == 0
    assert _to_follow(quiet, quiet.ud) == {"horizon_mois": 6, "expirant": {"count": 0, "agrements": []},
                                           "retires_avec_sessions": {"count": 0, "agrements": []}}
    region = _to_follow(ending, ending.dreets)
    assert (region["expirant"]["count"], region["retires_avec_sessions"]["count"]) == (1, 1)
    national = _to_follow(ending, ending.dgefp)
    assert {later} <= {a["agrement_id"] for a in national["retires_avec_sessions"]["agrements"]}
    # Once the session is cancelled nothing is planned on the withdrawn agrément any more.
    assert withdrawn.post(s["id"], "annulation", withdrawn.ud, {"reason": "Agrément retiré"}).status_code == 200
    assert _to_follow(withdrawn, withdrawn.ud)["retires_avec_sessions"]["count"] == 0


def test_B2_results_overdue_after_15_days_until_acted_upon(rt, world, frozen):
    w = world(dep="14", region="28")
    sid = _convoked(w, frozen)  # 03/06/2024 - 05/06/2024, convocations sent
    frozen(2024, 6, 20)  # 15 days after the planned end: not yet overdue
    dashboard.scan(rt)
    assert not [a for a in _alerts(w) if a["session_id"] == sid and a["kind"] == "results"]
    frozen(2024, 6, 21)
    assert dashboard.scan(rt) >= 1
    overdue = [a for a in _alerts(w) if a["session_id"] == sid and a["kind"] == "results"]
    assert len(overdue) == 1 and overdue[0]["due_date"] == "2024-06-20"
    assert "résultats en retard" in overdue[0]["message"] and "date réelle non saisie : 05/06/2024" in \
        overdue[0]["message"]
    assert {"session_id": sid, "deadline": "results", "due_date": "2024-06-20"} in outbox(
        rt, "session.deadline_approaching")
    assert dashboard.scan(rt) == 0  # raised once
    # The real end date entered (earlier than planned): the warning is dated from it.
    assert w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-06-04"}).status_code == 200
    dashboard.scan(rt)
    dates = {a["due_date"] for a in _alerts(w) if a["session_id"] == sid and a["kind"] == "results"}
    assert dates == {"2024-06-19", "2024-06-20"}
    frozen(2024, 9, 1)  # still shown while the results are missing, however old
    assert [a for a in _alerts(w) if a["session_id"] == sid and a["kind"] == "results"]
    assert not [a for a in _alerts(w, w.other_ud) if a["session_id"] == sid]  # another UD does not see it (I4)
    assert w.post(sid, "annulation", w.ud, {"reason": "Session non tenue"}).status_code == 200
    assert not [a for a in _alerts(w) if a["session_id"] == sid]  # acted upon: gone


def _alerts(w, who=None) -> list[dict]:
    return w.client.get("/tableau-de-bord", headers=who or w.ud).json["alertes"]
