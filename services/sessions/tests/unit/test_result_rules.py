"""S8: what a jury decision may say of a candidate's CCPs (the check behind « saisir les résultats»), no server."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ceres_sessions.service_layer.sessions import _result_problem

CCPS = ["CCP1", "CCP2", "CCP3"]
ENROLLED, ABSENT = SimpleNamespace(state="inscrit"), SimpleNamespace(state="absent")


@pytest.mark.parametrize("decision,ccps,enrolment,problem", [
    ("titre", [], ENROLLED, None),
    ("partiel", ["CCP1", "CCP3"], ENROLLED, None),
    ("ajourne", [], ENROLLED, None),
    ("absent", [], ABSENT, None),
    ("absent", [], ENROLLED, None),
    ("titre", [], None, "Ce candidat n'est pas inscrit à la session."),
    ("titre", [], ABSENT, "Ce candidat a été marqué absent."),
    ("partiel", [], ENROLLED, "Une réussite partielle nomme les CCP obtenus."),
    ("partiel", ["CCP1", "CCP9", "CCP0"], ENROLLED, "CCP inconnus pour ce titre : CCP0, CCP9."),
    ("partiel", ["CCP3", "CCP2", "CCP1"], ENROLLED,
     "Tous les CCP sont obtenus : la décision est l'obtention du titre."),
    ("ajourne", ["CCP1"], ENROLLED, "Aucun CCP n'est obtenu avec cette décision."),
    ("absent", ["CCP1"], ABSENT, "Aucun CCP n'est obtenu avec cette décision."),
])
def test_S8_decisions_and_ccps(decision, ccps, enrolment, problem):
    assert _result_problem({"decision": decision, "ccps_obtained": ccps}, enrolment, CCPS) == problem
