"""session.validated crossing the real RabbitMQ: the sessions runtime's relay publishes it, and it waits in the
printing service's queue (declared by the publisher from the subscriptions)."""
from __future__ import annotations

import json
import time

from kombu import Connection
from sqlalchemy import select

from ceres_shared.bus.topology import ServiceQueues
from ceres_sessions.app import create_app

from .conftest import DEMO, World, auth
from .test_session_walk import walk_to_validee


def test_session_validated_crosses_the_broker_to_printing(make_runtime, issuer, frozen, amqp_url):
    rt = make_runtime("sessions")
    client = create_app(rt).test_client()
    assert client.post("/titres/import", data=DEMO.read_bytes(), content_type="application/json",
                       headers=auth(issuer, "dgefp")).status_code == 200
    sid, c1, c2 = walk_to_validee(World(rt, client, issuer), frozen)
    rt.start_background()
    t = rt.tables.outbox
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the relay declares the queues, then publishes with confirms
        with rt.engine.connect() as db:
            if db.scalar(select(t.c.published_at).where(t.c.event_type == "session.validated")):
                break
        time.sleep(0.1)
    printing = ServiceQueues(rt.settings.bus, "printing", ()).queues()[0]
    deadline = time.monotonic() + 20
    found = None
    with Connection(amqp_url) as conn:
        queue = printing(conn.default_channel)
        while found is None and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.1)
                continue
            body = json.loads(message.body)
            if body["type"] == "session.validated" and body["payload"]["session_id"] == sid:
                found = body
    assert found is not None, "session.validated never reached the printing queue"
    assert found["producer"] == "sessions"
    assert {r["candidate_id"] for r in found["payload"]["results"]} == {c1, c2}
