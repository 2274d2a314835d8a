"""I4 (issue 12, H2; issue 15): `session.enrolment_changed` opens the record to the session's centre at once and
closes it on a withdrawal — through the consumer, its inbox making a redelivered event change nothing twice, and
tolerant of a session or a person this service does not know."""
from __future__ import annotations

import random
import uuid

from ceres_shared.events import make_envelope

from .test_duplicates_and_path import deliver, enrol_event


class Delivery:
    """An AMQP delivery as the consumer gets it (the same envelope may come twice)."""

    def __init__(self, env):
        self.body, self.delivery_tag, self.channel = env.to_json().encode(), 1, self

    def basic_ack(self, *args, **kwargs):
        pass

    ack = basic_ack


def enrolment_event(session_id, candidate_id, state, centre_id, status="en_preparation"):
    return enrol_event(session_id, candidate_id, state, status, site=f"site-{centre_id}", centre=centre_id)


def a_centre(rt, issuer):
    centre_id, siret = f"c-{uuid.uuid4().hex[:8]}", "".join(random.choices("0123456789", k=14))
    deliver(rt, "centre.registered", {"centre_id": centre_id, "siret": siret, "siren": siret[:9],
                                      "raison_sociale": "Centre", "adresse": "1 rue", "commune_code": "01053"})
    token = issuer.issue(f"centre-{centre_id}", "centre", scope={"sirets": [siret]}, ttl=600)
    return centre_id, {"Authorization": f"Bearer {token}"}


def test_an_enrolment_event_opens_the_record_to_the_centre_and_a_withdrawal_closes_it(client, rt, tokens, issuer, h):
    rec = client.post("/candidates", json=h.person("Inscrite", ["Odile"], "1984-04-04"), headers=tokens["dgefp"]).json
    url, sid = f"/candidates/{rec['id']}", f"s-{uuid.uuid4().hex[:8]}"
    centre_id, us = a_centre(rt, issuer)
    consumer = rt.make_consumer()
    assert client.get(url, headers=us).status_code == 404

    enrolled = Delivery(make_envelope("session.enrolment_changed",
                                      enrolment_event(sid, rec["id"], "inscrit", centre_id), producer="sessions"))
    assert consumer.process([enrolled]).handled == 1
    seen = client.get(url, headers=us)
    assert seen.status_code == 200, "the centre reads the record of whom it enrolled, with no status change"
    assert [(s["session_id"], s["enrolled"], s["status"]) for s in seen.json["parcours"]["sessions"]] == [
        (sid, True, "en_preparation")]

    withdrawn = Delivery(make_envelope("session.enrolment_changed",
                                       enrolment_event(sid, rec["id"], "retire", centre_id), producer="sessions"))
    assert consumer.process([withdrawn]).handled == 1
    assert client.get(url, headers=us).status_code == 404, "withdrawn: the centre no longer reads the record"
    path = client.get(url, headers=tokens["dgefp"]).json["parcours"]["sessions"]
    assert [(s["session_id"], s["enrolled"]) for s in path] == [(sid, False)]  # the line stays in the path

    again = consumer.process([enrolled])  # the inbox: a redelivered enrolment changes nothing
    assert (again.handled, again.duplicates) == (0, 1)
    assert client.get(url, headers=us).status_code == 404

    for state, readable in (("inscrit", True), ("absent", True), ("retire", False)):  # absent stays on the list
        later = enrolment_event(sid, rec["id"], state, centre_id, "convocations_envoyees")
        deliver(rt, "session.enrolment_changed", later)
        assert (client.get(url, headers=us).status_code == 200) is readable, state
    lines = client.get(url, headers=tokens["dgefp"]).json["parcours"]["sessions"]
    assert [(s["status"], s["enrolled"]) for s in lines] == [("convocations_envoyees", False)]  # one line, updated


def test_an_enrolment_event_of_unknown_ids_is_handled_and_opens_nothing(client, rt, tokens, issuer, h):
    rec = client.post("/candidates", json=h.person("Etrangere", ["Paule"], "1975-05-05"), headers=tokens["dgefp"]).json
    centre_id, us = a_centre(rt, issuer)
    unknown_centre = f"c-{uuid.uuid4().hex[:8]}"  # no centre.registered: its SIRET is not known yet
    consumer = rt.make_consumer()
    for payload in (enrolment_event(f"s-{uuid.uuid4().hex[:8]}", 2_000_000_000, "inscrit", centre_id),
                    enrolment_event(f"s-{uuid.uuid4().hex[:8]}", 2_000_000_001, "retire", centre_id),
                    enrolment_event(f"s-{uuid.uuid4().hex[:8]}", rec["id"], "inscrit", unknown_centre)):
        outcome = consumer.process([Delivery(make_envelope("session.enrolment_changed", payload,
                                                           producer="sessions"))])
        assert (outcome.handled, outcome.dead, outcome.retried) == (1, 0, 0), payload
    assert client.get(f"/candidates/{rec['id']}", headers=us).status_code == 404
    assert client.get("/candidates/2000000000", headers=us).status_code == 404
