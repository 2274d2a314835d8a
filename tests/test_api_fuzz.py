"""schemathesis against every service's own OpenAPI document, with all its checks (no 5xx; status code, content
type, headers and body as documented; valid data accepted, invalid data refused; 405 and Allow for other methods;
protected operations refusing an anonymous call): each generated case is sent as a national administrator (to reach
the handlers) and anonymously (the auth paths), to the service's Flask app on a real PostgreSQL database.
Bounded: EXAMPLES per operation for the random (fuzzing) phase, valid and invalid, beside the schema's examples
and the deterministic edge cases of the coverage phase: ~5,900 cases (3 to ~200 an operation, median ~30) sent
twice each, about 90 s of CPU for the five services."""
from __future__ import annotations

import importlib
import logging

import pytest
import schemathesis

from ceres_shared.testing.plugin import build_runtime

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")
EXAMPLES = 6

CONFIG = schemathesis.Config.from_dict({
    # Unknown query parameters and headers are ignored by design (webargs); unknown body fields are refused, as
    # shared/tests/test_web.py checks: no extra parameters generated, so that "accepted" means accepted.
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none", "mode": "all",
                   "allow-extra-parameters": False},
    "suppress-health-check": ["all"],
    # A schema-valid request may still break a rule no JSON Schema can state (a SIRET's check digit, a date after
    # another, a record that must exist, no control character in a name...): a French 422 with `errors` is then the
    # right answer. Every other rejection of valid data still fails; invalid data must always be rejected.
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422",
                                                                   "429"]}},
})


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32.5 reads and renames `request.node._nodeid` (one name per operation), an attribute pytest 9.2
    # replaced by `_id`: give it one to read. Each operation is still reported as a subtest under its label.
    request.node._nodeid = request.node.nodeid


def _schema_fixture(service: str):
    @pytest.fixture(scope="module", name=f"{service}_api")
    def fixture(infra, amqp_url, issuer):
        runtime = build_runtime(infra, amqp_url, issuer, service)
        app = importlib.import_module(f"ceres_{service}.app").create_app(runtime)
        # One log line per request would bury pytest's report.
        logging.disable(logging.INFO)
        try:
            yield schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)
        finally:
            logging.disable(logging.NOTSET)
            runtime.stop_background()
            runtime.engine.dispose()

    return fixture


def _conformance_test(service: str):
    @schemathesis.pytest.from_fixture(f"{service}_api").parametrize()
    def test(case, issuer):
        admin = {"Authorization": "Bearer " + issuer.issue("fuzz-admin", "admin", ttl=3600)}
        case.call_and_validate(headers=admin)
        case.call_and_validate()

    test.__name__ = f"test_{service}_api_conforms"
    return test


for _service in SERVICES:
    globals()[f"{_service}_api"] = _schema_fixture(_service)
    globals()[f"test_{_service}_api_conforms"] = _conformance_test(_service)
