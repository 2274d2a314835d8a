"""The agent's workflow over HTTP (P1-P5, P9), scope (I4) and traceability."""
from __future__ import annotations

import io

import pdfplumber
import pytest

from ceres_printing import samples

from .conftest import bearer, deliver

SESSION = "sess-wf"


@pytest.fixture(scope="module", autouse=True)
def session_validated(rt):
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("site-wf", departement="75", region="11"))
    for cid, nom in ((1001, "CHEVALIER"), (1002, "MARIACHI"), (1003, "MARTIN"), (1004, "ABSENT")):
        deliver(rt, "candidate.registered", samples.candidate(cid, nom))
    deliver(rt, "session.validated", samples.session_validated(SESSION, "site-wf", [
        (1001, "titre", []), (1002, "partiel", ["CCP-02"]), (1003, "ajourne", []), (1004, "absent", [])]))
    # A second session of the same scope, never requested, and one elsewhere (outside the UD's scope).
    deliver(rt, "session.validated", samples.session_validated("sess-wf-2", "site-wf", [(1003, "titre", [])]))
    deliver(rt, "site.created", samples.site("site-69", departement="69", region="84", commune_code="69123"))
    deliver(rt, "session.validated", samples.session_validated("sess-69", "site-69", [(1001, "titre", [])],
                                                               commune_code="69123"))


def base(cid: int) -> str:
    return f"/sessions/{SESSION}/candidates/{cid}"


def test_p1_candidates_with_their_documents_and_previous_next(client, ud75):
    listing = client.get(f"/sessions/{SESSION}/candidates", headers=ud75)
    assert listing.status_code == 200
    kinds = {c["candidate_id"]: [d["kind"] for d in c["documents"]] for c in listing.json["candidates"]}
    assert kinds == {1001: ["diplome", "lettre_diplome"], 1002: ["livret", "lettre_livret"],
                     1003: ["notification_echec"], 1004: []}
    first = client.get(base(1001), headers=ud75).json
    assert first["previous"] is None and first["next"] == 1002
    assert first["holder"] == "Monsieur CHEVALIER Henri"
    assert client.get(base(1002), headers=ud75).json["previous"] == 1001


def test_scope_i4_other_departement_is_refused(client, issuer, ud75):
    assert client.get("/sessions/sess-69/candidates", headers=ud75).status_code == 403
    ud69 = bearer(issuer.issue("agent-69", "ud", scope={"departements": ["69"]}))
    assert client.get(f"/sessions/{SESSION}/candidates", headers=ud69).status_code == 403
    dreets = bearer(issuer.issue("dreets-11", "dreets", scope={"regions": ["11"]}))
    assert client.get(f"/sessions/{SESSION}/candidates", headers=dreets).status_code == 200
    centre = bearer(issuer.issue("c1", "centre", scope={"sirets": ["12345678901234"]}))
    assert client.get(f"/sessions/{SESSION}/candidates", headers=centre).status_code == 403
    dgefp = bearer(issuer.issue("dg", "dgefp"))
    assert client.post(base(1001) + "/verification", json={"conformes": True}, headers=dgefp).status_code == 403
    assert client.get("/sessions/nope/candidates", headers=ud75).status_code == 404


def test_p1_p2_preview_is_a_pdf_of_the_document(client, ud75):
    number = client.get(base(1003), headers=ud75).json["documents"][0]["number"]
    pdf = client.get(f"{base(1003)}/documents/{number}/preview", headers=ud75)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        assert number in doc.pages[0].extract_text()
    assert client.get(f"{base(1001)}/documents/{number}/preview", headers=ud75).status_code == 404


def test_p3_verify_then_send_opens_the_next_candidate(client, ud75, rt):
    refused = client.post(base(1001) + "/print-requests", json={"kind": "initial"}, headers=ud75)
    assert refused.status_code == 409 and "Données vérifiées et conformes" in refused.json["detail"]
    bad = client.post(base(1001) + "/verification", json={"conformes": False}, headers=ud75)
    assert bad.status_code == 422 and "conformes" in bad.json["errors"]
    bad_kind = client.post(base(1001) + "/print-requests", json={"kind": "triple"}, headers=ud75)
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json["errors"]
    assert client.post(base(1001) + "/verification", json={"conformes": True}, headers=ud75).status_code == 200
    sent = client.post(base(1001) + "/print-requests", json={"kind": "initial"}, headers=ud75)
    assert sent.status_code == 201, sent.json
    assert sent.json["next"] == 1002
    assert sent.json["mentions"] == ["Demande d'impression initiale transmise le 29/11/2022"]  # P4
    again = client.post(base(1001) + "/print-requests", json={"kind": "initial"}, headers=ud75)
    assert again.status_code == 409 and again.json["type"].endswith("already_requested")
    absent = client.post(base(1004) + "/verification", json={"conformes": True}, headers=ud75)
    assert absent.status_code == 200
    assert client.post(base(1004) + "/print-requests", json={}, headers=ud75).status_code == 409
    history = client.get(f"/history/candidacy/{SESSION}:1001", headers=ud75).json
    actions = [h["action"] for h in (history["entries"] if isinstance(history, dict) else history)]
    assert actions == ["verify", "print_initial"]


def test_p4_attestation_only_for_the_admitted_after_the_first_request(client, ud75):
    pdf = client.get(base(1001) + "/attestation", headers=ud75)
    assert pdf.status_code == 200
    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        text = " ".join(doc.pages[0].extract_text().split())
    assert "Attestation de réussite à la session d'examen du titre professionnel d'Ouvrier du paysage" in text
    assert "le titre professionnel d'Ouvrier du paysage (TP-00463) (20/09/2018)" in text
    assert "Candidat n° 1001" in text
    assert client.get(base(1002) + "/attestation", headers=ud75).status_code == 409  # partiel
    assert client.get(f"/sessions/sess-wf-2/candidates/1003/attestation", headers=ud75).status_code == 409


def test_p5_duplicata_after_seven_days_and_a_new_verification(client, ud75, clock):
    early = client.post(base(1001) + "/print-requests", json={"kind": "duplicata"}, headers=ud75)
    assert early.status_code == 409 and early.json["type"].endswith("duplicata_too_early")
    assert "7 jours" in early.json["detail"]
    clock.advance(days=7)
    unverified = client.post(base(1001) + "/print-requests", json={"kind": "duplicata"}, headers=ud75)
    assert unverified.status_code == 409 and unverified.json["type"].endswith("not_verified_again")
    client.post(base(1001) + "/verification", json={"conformes": True}, headers=ud75)
    ok = client.post(base(1001) + "/print-requests", json={"kind": "duplicata"}, headers=ud75)
    assert ok.status_code == 201 and ok.json["duplicata_count"] == 1
    assert ok.json["mentions"][1] == "Duplicata demandé le 06/12/2022 (1)"
    clock.advance(days=1)
    client.post(base(1001) + "/verification", json={"conformes": True}, headers=ud75)
    assert client.post(base(1001) + "/print-requests", json={"kind": "duplicata"},
                       headers=ud75).status_code == 409  # 7 days after the *last* request


def test_p9_dashboard_counts_and_lists_per_scope(client, ud75, issuer):
    board = client.get("/dashboard", headers=ud75).json
    # sess-wf is partly requested (1 of 3 with documents), sess-wf-2 has none; sess-69 is outside the scope.
    assert board == {"sessions_sans_demande": 1, "sessions_partielles": 1}
    listed = client.get("/sessions?progress=sans_demande", headers=ud75).json["sessions"]
    assert [s["session_id"] for s in listed] == ["sess-wf-2"]
    partial = client.get("/sessions?progress=partielles", headers=ud75).json["sessions"]
    assert partial[0]["session_id"] == SESSION and partial[0]["requested"] == 1
    assert partial[0]["candidates_with_documents"] == 3
    national = client.get("/dashboard", headers=bearer(issuer.issue("dg", "dgefp"))).json
    assert national == {"sessions_sans_demande": 2, "sessions_partielles": 1}
    assert client.get("/sessions?progress=toutes", headers=ud75).status_code == 422
