"""`make run`'s demo shows real work for every role: on a first start the sessions service waits for the demo sites,
agréments and candidates to arrive by events, then plays sessions through the workflow (S1–S8); the dashboards of
the UDs and the DGEFP count them (S10, B2), printing builds the validated sessions' documents by itself (P1, P9,
overseas to the DEETS: P6), and the candidates' certification path shows the jury's decisions. A second start
changes nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from ceres_sessions import demo
from ceres_shared.config import embedded_port

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: the sibling test module by its path
from test_embedded_platform import free_port_block  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Département of each demo site (establishments' demo data).
DEPARTEMENT = {("30012845100014", 1): "01", ("41822976100014", 1): "69", ("41822976100014", 2): "69",
               ("52231548000015", 1): "75", ("63840117400013", 1): "974"}
WAIT = 60  # seconds for the events to cross the filesystem bus and the seeding to finish


def expected_counts(departements: set[str] | None) -> Counter:
    return Counter(plan.status for site, plans in demo.SITES.items() for plan in plans
                   if departements is None or DEPARTEMENT[site] in departements)


def wait_for(check, what: str, timeout: float = WAIT, show=lambda: None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout:.0f} s ({show()})"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo") / "var"
    base = free_port_block()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL", "JWKS_URL")}
    env.update(CERES_VAR_DIR=str(var), CERES_PORT_BASE=str(base), PORT=str(base))
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_platform.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        first_line = proc.stdout.readline()
        assert first_line.startswith("CERES est prêt"), first_line + str(var / "log")
        yield {"url": f"http://127.0.0.1:{base}", "var": var}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def token(gateway: str, role: str, **scope) -> dict:
    """Demo tokens come from identity's own port: the gateway never routes /dev/* (M7)."""
    identity = f"http://127.0.0.1:{embedded_port('identity', int(gateway.rsplit(':', 1)[1]))}"
    answer = requests.post(f"{identity}/dev/tokens", json={"subject": f"test-{role}", "role": role, **scope},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def board(gateway: str, auth: dict) -> dict:
    answer = requests.get(f"{gateway}/api/sessions/tableau-de-bord", headers=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def per_status(body: dict) -> Counter:
    return Counter({row["status"]: row["count"] for row in body["par_statut"] if row["count"]})


@pytest.fixture(scope="module")
def seeded(platform):
    """Waits until the DGEFP's dashboard counts every demo session (the last site seeded)."""
    gateway = platform["url"]
    national = token(gateway, "dgefp")
    wait_for(lambda: per_status(board(gateway, national)) == expected_counts(None),
             "every demo session in the DGEFP's dashboard",
             show=lambda: f"{per_status(board(gateway, national))}, logs in {platform['var'] / 'log'}")
    return platform


def test_s10_each_ud_and_the_dgefp_see_their_demo_sessions_at_every_step(seeded):
    gateway = seeded["url"]
    for scope, departements in (({"departements": ["01"]}, {"01"}), ({"departements": ["69"]}, {"69"})):
        counts = per_status(board(gateway, token(gateway, "ud", **scope)))
        assert counts == expected_counts(departements)
        assert set(counts) == {"en_preparation", "demande_dte_envoyee", "convocations_envoyees", "resultats_saisis",
                               "validee"}
    national = board(gateway, token(gateway, "dgefp"))
    assert per_status(national)["validee"] >= 2
    assert national["demandes_dte"] == sum(n for s, n in expected_counts(None).items() if s != "en_preparation")
    # B2: the Lyon session ended weeks ago without results is flagged for the UD of the Rhône, not for the Ain.
    assert "results" in {w["kind"] for w in board(gateway, token(gateway, "ud", departements=["69"]))["alertes"]}
    assert "results" not in {w["kind"] for w in board(gateway, token(gateway, "ud", departements=["01"]))["alertes"]}
    # S10: the demo's controls, each in its territory: one to come and one not compliant in the Ain, one done in Lyon.
    assert board(gateway, token(gateway, "ud", departements=["01"]))["controles"] == {
        "programmes": 1, "en_retard": 0, "realises": 1, "non_conformes": 1}
    assert board(gateway, token(gateway, "ud", departements=["69"]))["controles"] == {
        "programmes": 0, "en_retard": 0, "realises": 1, "non_conformes": 0}
    # S8: what the UD of the Rhône has to validate.
    to_validate = requests.get(f"{gateway}/api/sessions/sessions", params={"status": "resultats_saisis"},
                               headers=token(gateway, "ud", departements=["69"]), timeout=10)
    assert to_validate.status_code == 200, to_validate.text
    listed = to_validate.json()["sessions"]
    assert len(listed) == expected_counts({"69"})["resultats_saisis"]
    assert {s["departement"] for s in listed} == {"69"}


def printing_board(gateway: str, auth: dict) -> dict:
    answer = requests.get(f"{gateway}/api/printing/dashboard", headers=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_p9_the_ud_of_the_validated_session_has_documents_to_print_and_p6_overseas_go_to_the_deets(seeded):
    gateway = seeded["url"]
    ud01 = token(gateway, "ud", departements=["01"])
    wait_for(lambda: printing_board(gateway, ud01)["sessions_sans_demande"] > 0, "P9 count of the UD 01")
    assert printing_board(gateway, ud01)["sessions_sans_demande"] == expected_counts({"01"})["validee"]
    # A UD elsewhere sees none of the Ain's (scope, I4).
    assert printing_board(gateway, token(gateway, "ud", departements=["13"]))["sessions_sans_demande"] == 0

    deets = token(gateway, "deets", regions=["04"])
    wait_for(lambda: printing_board(gateway, deets)["sessions_sans_demande"] > 0, "P9 count of the DEETS 04")
    listed = requests.get(f"{gateway}/api/printing/sessions", params={"progress": "sans_demande"}, headers=deets,
                          timeout=10).json()["sessions"]
    assert [s["departement"] for s in listed] == ["974"]
    session_id = listed[0]["session_id"]
    base = f"{gateway}/api/printing/sessions/{session_id}/candidates"
    candidates = wait_for(lambda: requests.get(base, headers=deets, timeout=10).json()["candidates"],
                          "the 974 session's candidates")
    laureate = next(c for c in candidates if c["decision"] == "titre")
    assert laureate["documents"], laureate
    # P3 then P6: the DEETS checks the data and sends it to print; the documents are posted to the DEETS.
    cid = laureate["candidate_id"]

    def verify():  # printing answers 409 while its copies of the titre or the candidate are still on their way
        answer = requests.post(f"{base}/{cid}/verification", json={"conformes": True}, headers=deets, timeout=10)
        assert answer.status_code in (200, 409), answer.text
        return answer if answer.status_code == 200 else None

    wait_for(verify, "P3 verification of the 974 laureate")
    sent = requests.post(f"{base}/{cid}/print-requests", json={"kind": "initial"}, headers=deets, timeout=10)
    assert sent.status_code == 201, sent.text
    assert {item["routed_to"] for item in sent.json()["items"]} == {"deets"}
    assert all("DEETS de La Réunion" in item["addressee"] for item in sent.json()["items"])


def test_the_candidates_service_shows_a_demo_candidates_certification_path(seeded):
    gateway = seeded["url"]
    auth = token(gateway, "dgefp")
    found = requests.get(f"{gateway}/api/candidates/candidates", params={"q": "CHEVALIER Henri"}, headers=auth,
                         timeout=10).json()["results"]
    cid = found[0]["id"]

    # His three demo sessions: Ain, validated, partiel with the first CCP (S8); Ain, results entered, not validated
    # yet; Lyon, DTE asked. (Statuses are not compared: the candidates' projection keeps the last event it
    # applied, and the filesystem bus may deliver a burst of one session's events out of order.)
    def path():
        return requests.get(f"{gateway}/api/candidates/candidates/{cid}", headers=auth, timeout=10).json()["parcours"]

    def complete():
        current = path()
        decided = [s for s in current["sessions"] if s["decision"]]
        return current if len(current["sessions"]) == 3 and decided else None

    found = wait_for(complete, "CHEVALIER's three sessions and the jury's decision in his path", show=path)
    decided = [s for s in found["sessions"] if s["decision"]]
    assert [(s["decision"], s["ccps_obtained"], s["titre_code"]) for s in decided] == \
        [("partiel", ["TP-00463-CCP1"], "TP-00463")]
    assert [c["ccp"] for c in found["ccps_obtenus"]] == ["TP-00463-CCP1"]
    assert found["titres_obtenus"] == []  # his titre is in the session still to validate


def test_a_second_start_changes_nothing(seeded, monkeypatch):
    """What a start runs — the catalogue and jurés (seed) and the seeder — against the platform's own database."""
    from ceres_shared.config import load_settings
    from ceres_sessions.bootstrap import bootstrap
    from ceres_sessions.demo_worker import DemoSeeder
    from ceres_sessions.models import ExamSession, Jure, Transition

    monkeypatch.setenv("CERES_VAR_DIR", str(seeded["var"]))
    for name in ("DATABASE_URL", "AMQP_URL"):
        monkeypatch.delenv(name, raising=False)
    rt = bootstrap(load_settings("sessions"))
    assert rt.settings.embedded

    def snapshot():
        with rt.session_factory() as session:
            outbox = rt.tables.outbox
            return (session.scalar(select(func.count()).select_from(ExamSession)),
                    session.scalar(select(func.count()).select_from(Transition)),
                    session.scalar(select(func.count()).select_from(Jure)),
                    # every event but the deadline scanner's (B2), which may find a new day's deadlines
                    session.scalar(select(func.count()).select_from(outbox).where(
                        outbox.c.event_type != "session.deadline_approaching")))

    before = snapshot()
    demo.seed(rt)
    seeder = DemoSeeder(rt, interval=0.1, patience=5)
    seeder.run()
    assert seeder.finished.is_set()
    assert snapshot() == before
    assert before[0] == sum(len(plans) for plans in demo.SITES.values())
    rt.engine.dispose()
