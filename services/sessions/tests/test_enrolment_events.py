"""I4 (issue 12, H2; issue 15): each enrolment change — enrolled, withdrawn, marked absent, enrolled again — is told
to the other services at once by `session.enrolment_changed`, written to the outbox in the change's own
transaction (not only at the session's next status change); a refused change writes nothing."""
from __future__ import annotations

from datetime import date

from ceres_shared.events import contract_for

from .test_rules import _convoked
from .test_session_walk import outbox


def _ours(rt, sid) -> list[dict]:
    return [e for e in outbox(rt, "session.enrolment_changed") if e["session_id"] == sid]


def test_enrolment_changes_are_events_with_the_session_facts(world, frozen):
    w = world(dep="24", region="75")
    sid = _convoked(w, frozen)
    stays, leaves = w.candidate("MARTIN"), w.candidate("BERNARD")
    frozen(2024, 4, 2)
    for cid in (stays, leaves):
        assert w.post(sid, "candidats", w.centre, {"candidate_id": cid}).status_code == 201
    assert w.client.delete(f"/sessions/{sid}/candidats/{leaves}", headers=w.centre).status_code == 200
    assert w.client.delete(f"/sessions/{sid}/candidats/{leaves}", headers=w.centre).status_code == 404  # nothing
    assert w.post(sid, "candidats", w.centre, {"candidate_id": leaves}).status_code == 201  # back again
    assert w.post(sid, "candidats", w.centre, {"candidate_id": stays}).status_code == 409  # already: nothing
    frozen(2024, 6, 4)
    assert w.post(sid, f"candidats/{stays}/absence", w.centre).status_code == 200

    events = _ours(w.rt, sid)
    assert [(e["candidate_id"], e["state"]) for e in events] == [
        (stays, "inscrit"), (leaves, "inscrit"), (leaves, "retire"), (leaves, "inscrit"), (stays, "absent")]
    session = w.client.get(f"/sessions/{sid}", headers=w.centre).json
    for e in events:
        assert (e["public_id"], e["site_id"], e["centre_id"], e["titre_code"], e["titre_version"]) == (
            session["public_id"], w.site_id, w.centre_id, "TP-00463", "2018-09-20")
        assert e["status"] == "convocations_envoyees" and e["starts_at"] and e["ends_at"]
        contract_for("session.enrolment_changed", 1)().load(e)  # the registered contract accepts it


def test_a_refused_enrolment_writes_no_event(world, frozen):
    w, other = world(), world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    theirs = other.candidate("DURAND")  # shared with the other centre only (I4)
    assert w.post(sid, "candidats", w.centre, {"candidate_id": theirs}).status_code == 422
    assert w.client.delete(f"/sessions/{sid}/candidats/{theirs}", headers=w.centre).status_code == 404
    assert _ours(w.rt, sid) == []
