"""Property-based fuzzing of every service's API from its own OpenAPI document (schemathesis strategies run
with Hypothesis): whatever the input — unknown fields, wrong types, odd strings — no endpoint answers 5xx.
Each case is sent as a national administrator (to reach the handlers) and anonymously (the auth paths)."""
from __future__ import annotations

import importlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from ceres_shared.testing.plugin import build_runtime

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")
EXAMPLES_PER_OPERATION = 10


@pytest.mark.parametrize("service", SERVICES)
def test_api_never_answers_5xx(service, infra, amqp_url, issuer):
    runtime = build_runtime(infra, amqp_url, issuer, service)
    try:
        app = importlib.import_module(f"ceres_{service}.app").create_app(runtime)
        schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
        admin = {"Authorization": "Bearer " + issuer.issue("fuzz-admin", "admin", ttl=3600)}
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, "the OpenAPI document lists no operation"
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case):
                case.call_and_validate(headers=admin, checks=[not_a_server_error])
                case.call_and_validate(checks=[not_a_server_error])

            fuzz()
    finally:
        runtime.stop_background()
        runtime.engine.dispose()
