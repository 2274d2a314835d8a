"""M3: a small JSON body nested hundreds of levels deep is refused with a French 400 by every service, before
anything parses or walks it; and whatever an error is, the log line it writes stays bounded."""
from __future__ import annotations

import importlib
import io
import json
import logging

import pytest

from ceres_shared import logs
from ceres_shared.config import BusSettings, Settings
from ceres_shared.web import MAX_JSON_DEPTH, _unstorable_text, nesting_depth

# One POST endpoint of each service, the role allowed there, and a public one (no token) where there is one.
ENDPOINTS = {
    "candidates": ("/candidates", "admin"),
    "sessions": ("/jures", "admin"),
    "establishments": ("/centres", "admin"),
    "printing": ("/reprints/check", "admin"),
    "identity": ("/agents", "admin"),
}
DEEP = "[" * 500 + "]" * 500  # 1 KB


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture(scope="module", params=sorted(ENDPOINTS))
def service_client(request, tmp_path_factory, issuer):
    """The service's real app (its factory, its blueprints) on a SQLite file, as in embedded mode."""
    service = request.param
    settings = Settings(service=service, database_url=f"sqlite:///{tmp_path_factory.mktemp(service)}/db.sqlite",
                        bus=BusSettings(url="memory://"), jwks_url=None)
    runtime = importlib.import_module(f"ceres_{service}.bootstrap").bootstrap(settings, jwks=issuer.jwks())
    app = importlib.import_module(f"ceres_{service}.app").create_app(runtime)
    yield service, app.test_client()
    runtime.engine.dispose()


@pytest.mark.parametrize("body", [DEEP, deep_object(500), json.dumps({"a": json.loads("[" * 40 + "]" * 40)})])
def test_a_deeply_nested_body_is_a_french_400_in_every_service(service_client, issuer, body):
    service, client = service_client
    path, role = ENDPOINTS[service]
    token = issuer.issue("admin-1", role, scope={"national": True}, ttl=600)
    response = client.post(path, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "Le corps de la requête est trop imbriqué."


def test_anonymous_deep_bodies_never_crash(service_client):
    service, client = service_client
    path, _ = ENDPOINTS[service]
    assert client.post(path, data=DEEP, content_type="application/json").status_code == 401
    if service == "identity":  # a public endpoint reads the body of anyone
        response = client.post("/auth/login", data=deep_object(500), content_type="application/json")
        assert response.status_code == 400
        assert response.json["detail"] == "Le corps de la requête est trop imbriqué."


def test_depth_is_counted_outside_strings_without_recursion():
    assert nesting_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth(b'["\\"[[[", "\\\\", [[]]]') == 3
    assert nesting_depth(b'"[[[[[[[[ unterminated') == 0
    assert nesting_depth(("[" * 200_000).encode()) == 200_000
    assert nesting_depth(b'{"a": 1}') == 1 <= MAX_JSON_DEPTH


def test_the_storable_text_walk_is_iterative():
    deep = ["\x00"]
    for _ in range(50_000):
        deep = [deep]
    assert _unstorable_text({"ok": "x", "bad": deep}) == "bad"
    assert _unstorable_text(deep) == "_schema"


def test_an_error_writes_a_bounded_log_line():
    """An unhandled error deep in recursion once wrote a 95 KB line: the traceback and message are clipped."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs._BoundedJsonFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("ceres.test.bounded")
    logger.addHandler(handler)
    logger.propagate = False

    # Two functions calling each other, as the old walk over a body did: Python folds no repetition of them.
    def ping(n):
        return pong(n + 1) if n < 600 else 1 / 0

    def pong(n):
        return ping(n + 1)

    try:
        try:
            ping(0)
        except ZeroDivisionError:
            logger.exception("unhandled error %s", "x" * 50_000)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert line.count("\n") == 1  # one JSON line
    record = json.loads(line)
    assert len(line) < logs.MAX_MESSAGE + logs.MAX_TRACE + 500
    assert record["exc_info"].rstrip().endswith("ZeroDivisionError: division by zero")  # the end is kept
    assert "caractères coupés" in record["message"] and "caractères coupés" in record["exc_info"]
