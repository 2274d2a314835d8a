"""One migrated candidates runtime per test module (PostgreSQL, this run's RabbitMQ), with the communes
referential loaded from INSEE's excerpt (département 01, with communes that no longer exist)."""
from __future__ import annotations

from pathlib import Path

import pytest

import json
from types import SimpleNamespace

from sqlalchemy import select

from ceres_shared.communes import Referential, import_insee
from ceres_shared.events import validate_payload
from ceres_shared.testing.plugin import build_runtime

INSEE_EXCERPT = Path(__file__).parent / "fixtures" / "v_commune_depuis_1943.excerpt.csv"


@pytest.fixture(scope="module")
def communes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("communes")
    import_insee(INSEE_EXCERPT, folder)
    return Referential.from_files(folder)


@pytest.fixture(scope="module")
def rt(infra, amqp_url, issuer, communes):
    runtime = build_runtime(infra, amqp_url, issuer, "candidates")
    runtime.communes = communes
    yield runtime
    runtime.stop_background()
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def client(rt):
    from ceres_candidates.app import create_app

    return create_app(rt).test_client()


@pytest.fixture(scope="module")
def tokens(issuer):
    """Authorization headers per caller."""

    def bearer(subject, role, **scope):
        return {"Authorization": f"Bearer {issuer.issue(subject, role, scope=scope, ttl=3600)}"}

    return {
        "ud01": bearer("ud-01", "ud", departements=["01"]),
        "ud69": bearer("ud-69", "ud", departements=["69"]),
        "dgefp": bearer("dgefp-1", "dgefp", national=True),
        "centre": bearer("centre-a", "centre", sirets=["11111111111111"]),
        "centre_b": bearer("centre-b", "centre", sirets=["22222222222222"]),
        "afpa": bearer("afpa-1", "afpa"),
    }



def person(nom, prenoms, birth_date, commune="01053", **extra):
    body = {"genre": "M", "nom_naissance": nom, "prenoms": prenoms, "birth_date": birth_date,
            "birth_commune_code": commune,
            "address": {"lines": ["12 rue des Lilas"], "code_postal": "01000", "commune_code": "01053"}}
    if commune is None:
        body.pop("birth_commune_code")
    body.update(extra)
    return body


def outbox_events(rt, event_type, **payload_match):
    """Outbox rows of that type whose payload has those values, each payload validated by its contract."""
    table = rt.tables.outbox
    with rt.engine.connect() as conn:
        rows = conn.execute(select(table.c.body).where(table.c.event_type == event_type).order_by(table.c.id)).all()
    found = []
    for (body,) in rows:
        env = json.loads(body) if isinstance(body, str) else body
        payload = env["payload"]
        if all(payload.get(k) == v for k, v in payload_match.items()):
            validate_payload(event_type, env["version"], payload)  # raises if it breaks the contract
            found.append(payload)
    return found


@pytest.fixture(scope="session")
def h():
    """Builders: h.person(...) a request body, h.outbox_events(rt, type, **match) validated payloads."""
    return SimpleNamespace(person=person, outbox_events=outbox_events)
