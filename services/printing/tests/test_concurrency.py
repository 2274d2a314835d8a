"""Two concurrent receptions of one batch by the Afpa (P6) (issue 12): both answer « reçu », the reception is
recorded once — on PostgreSQL and on SQLite (embedded mode). The requests overlap
(ceres_shared.testing.concurrency.race)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from ceres_shared.testing.concurrency import BACKENDS, race, settings_on
from ceres_printing.app import create_app
from ceres_printing.bootstrap import bootstrap
from ceres_printing.config import PrintingConfig
from ceres_printing.models import Batch

from .conftest import FixedClock


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, infra, issuer, tmp_path_factory):
    runtime = bootstrap(settings_on(request.param, "printing", infra, tmp_path_factory), jwks=issuer.jwks(),
                        printing=PrintingConfig(public_base_url="https://ceres.test/api/printing", render_workers=0,
                                                clock=FixedClock(datetime(2022, 11, 29, 9, tzinfo=timezone.utc))))
    runtime.upgrade_database()
    yield runtime
    runtime.engine.dispose()


def test_p6_two_receptions_of_one_batch_are_recorded_once(backend, afpa_headers):
    rt = backend
    archive = b"PK-lot"
    with rt.session_factory.begin() as db:
        db.add(Batch(id="LOT-CONC-1", created_at=datetime(2022, 11, 29, tzinfo=timezone.utc), status="ready",
                     item_count=1, sha256=hashlib.sha256(archive).hexdigest(), archive=archive))
    one, two = create_app(rt).test_client(), create_app(rt).test_client()
    body = {"sha256": hashlib.sha256(archive).hexdigest()}
    url = "/afpa/batches/LOT-CONC-1/acknowledgement"
    first, second = race(rt, lambda: one.post(url, json=body, headers=afpa_headers),
                         lambda: two.post(url, json=body, headers=afpa_headers))
    assert (first.status_code, second.status_code) == (200, 200)  # idempotent: the second is told it is received
    assert first.json["status"] == second.json["status"] == "acknowledged"
    assert [e["action"] for e in rt.audit.history(rt.session_factory(), "batch", "LOT-CONC-1")] == ["acknowledge"]
