"""Architecture flows 3 and 4 on the real broker and databases, over real HTTP:
3. `session.validated` → printing builds the documents → the agent verifies and sends → a batch (worker) → the
   fake Afpa downloads, checks and reports each document's fate (B3);
4. P7: the Afpa reports a PND → the address is corrected in candidates (`candidate.updated`) → printing resends the
   same documents, no duplicata → the Afpa delivers.
Events come from the real producer runtimes (sessions, candidates, establishments) through their outboxes."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlparse

import pytest
import requests
from werkzeug.serving import make_server

from ceres_printing import samples
from ceres_printing.afpa_simulator import AfpaSimulator
from ceres_printing.app import create_app

SESSION = "flow-session-1"


def wait_for(check, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def publish(runtime, event_type, payload):
    with runtime.session_factory.begin() as session:
        runtime.outbox.record(session, event_type, payload)


@pytest.fixture
def platform(make_runtime, issuer):
    exchange = f"flow-{uuid.uuid4().hex[:8]}.events"
    producers = {name: make_runtime(name, exchange=exchange) for name in ("establishments", "sessions", "candidates")}
    printing = make_runtime("printing", exchange=exchange)
    printing.printing.batch_max_wait_s = 1.0  # batches by time: a second in this test
    printing.printing.batch_poll_s = 0.2
    server = make_server("127.0.0.1", 0, create_app(printing), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    printing.printing.public_base_url = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    printing.start_background()
    for runtime in producers.values():
        runtime.start_background()
    yield {**producers, "printing": printing, "base": base}
    server.shutdown()


def test_validated_session_to_afpa_and_back_with_a_pnd_resent(platform, issuer):
    est, ses, cand, base = platform["establishments"], platform["sessions"], platform["candidates"], platform["base"]
    publish(est, "site.created", samples.site("flow-site", departement="75", region="11"))
    publish(ses, "titre.published", samples.TITRE)
    for cid, nom, prenom, genre in ((3001, "CHEVALIER", "Henri", "M"), (3002, "MARIACHI", "Colette", "F"),
                                    (3003, "MARTIN", "Paul", "M")):
        publish(cand, "candidate.registered", samples.candidate(cid, nom, prenom, genre))
    publish(ses, "session.validated", samples.session_validated(
        SESSION, "flow-site", [(3001, "titre", []), (3002, "partiel", ["CCP-01"]), (3003, "ajourne", [])],
        validated_at=datetime.now(timezone.utc)))

    agent = requests.Session()
    agent.headers["Authorization"] = "Bearer " + issuer.issue("agent-75", "ud", scope={"departements": ["75"]},
                                                              ttl=3600)
    listing = wait_for(lambda: (r := agent.get(f"{base}/sessions/{SESSION}/candidates")).ok
                       and all(c["holder"] for c in r.json()["candidates"]) and r.json(), what="documents built")
    assert [len(c["documents"]) for c in listing["candidates"]] == [2, 2, 1]
    assert agent.get(f"{base}/dashboard").json() == {"sessions_sans_demande": 1, "sessions_partielles": 0}

    # P3: verify and send each candidate in turn, following « next ».
    current, sent = 3001, []
    while current is not None:
        url = f"{base}/sessions/{SESSION}/candidates/{current}"
        number = agent.get(url).json()["documents"][0]["number"]
        assert agent.get(f"{url}/documents/{number}/preview").headers["Content-Type"] == "application/pdf"
        assert agent.post(f"{url}/verification", json={"conformes": True}).status_code == 200
        answer = agent.post(f"{url}/print-requests", json={"kind": "initial"})
        assert answer.status_code == 201, answer.text
        sent.append(current)
        current = answer.json()["next"]
    assert sent == [3001, 3002, 3003]
    assert agent.get(f"{base}/dashboard").json() == {"sessions_sans_demande": 0, "sessions_partielles": 0}

    henri = agent.get(f"{base}/sessions/{SESSION}/candidates/3001").json()
    lost = {d["number"] for d in henri["documents"]}
    afpa = AfpaSimulator(base, issuer.issue("afpa-client", "afpa", ttl=3600), pnd=lost)
    received = []  # the worker batches by time: the requests may travel in one batch or several

    def all_received():
        received.extend(afpa.run_once())
        return sum(len(b.documents) for b in received) >= 5

    wait_for(all_received, what="the batches built by the worker")
    documents = [d for batch in received for d in batch.documents]
    assert len(documents) == 5 and {d["routed_to"] for d in documents} == {"candidat"}

    # B1: the diploma's printed link opens the public page, which confirms it; a tampered code does not.
    diploma = next(d for d in documents if d["document_type"] == "diplome")
    links = [u for batch in received for u in batch.links.get(diploma["file"], []) if diploma["document_number"] in u]
    assert urlparse(links[0]).netloc == urlparse(base).netloc
    page = requests.get(links[0], headers={"Accept": "application/json"}, timeout=10)
    assert page.status_code == 200 and page.json()["holder"] == "Monsieur CHEVALIER Henri"
    tampered = requests.get(links[0][:-2] + ("AA" if not links[0].endswith("AA") else "BB"), timeout=10)
    assert tampered.status_code == 404 and "non authentique" in tampered.text

    henri = agent.get(f"{base}/sessions/{SESSION}/candidates/3001").json()
    assert henri["pnd"] is True and {i["status"] for i in henri["items"]} == {"pnd"}
    colette = agent.get(f"{base}/sessions/{SESSION}/candidates/3002").json()
    assert {i["status"] for i in colette["items"]} == {"delivered"}

    # P7: the agent corrects the address in candidates; printing resends, the Afpa delivers this time.
    publish(cand, "candidate.updated", samples.candidate(3001, "CHEVALIER", "Henri", street="8 avenue Foch"))
    afpa.pnd.clear()
    resent = wait_for(lambda: afpa.run_once(), what="the resend batch")
    assert {d["document_number"] for b in resent for d in b.documents} == lost
    assert {d["request_kind"] for b in resent for d in b.documents} == {"resend"}
    assert resent[0].documents[0]["address"]["lines"] == ["8 avenue Foch"]
    henri = agent.get(f"{base}/sessions/{SESSION}/candidates/3001").json()
    assert henri["pnd"] is False and henri["duplicata_count"] == 0
    assert [r["kind"] for r in henri["requests"]] == ["initial", "resend"]
    assert [i["status"] for i in henri["items"]] == ["pnd", "pnd", "delivered", "delivered"]
