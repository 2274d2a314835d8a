"""Two accounts attaching one centre with its activation code at the same time (I2) (issue 12): the first becomes
its gestionnaire, the second is told the code is used — on PostgreSQL and on SQLite (embedded mode). The requests
overlap (ceres_shared.testing.concurrency.race)."""
from __future__ import annotations

import pytest

from ceres_shared.testing.concurrency import BACKENDS, race, settings_on
from ceres_identity.app import create_app
from ceres_identity.bootstrap import bootstrap
from ceres_identity.context import configure
from ceres_identity.testing import Portal, bearer, config_for_tests, register_centre

SIRET = "35600000000048"


@pytest.fixture(scope="module", params=BACKENDS)
def portal(request, infra, issuer, smtp, tmp_path_factory):
    runtime = bootstrap(settings_on(request.param, "identity", infra, tmp_path_factory), jwks=issuer.jwks())
    runtime.upgrade_database()
    configure(runtime, config_for_tests(smtp.url), keyring=issuer)
    register_centre(runtime, SIRET, commune_code="01053")
    yield Portal(runtime, create_app(runtime).test_client(), smtp)
    runtime.engine.dispose()


def test_i2_two_attaches_with_one_code_one_gestionnaire_the_other_told_the_code_is_used(portal, issuer):
    dgefp = bearer(issuer.issue("dgefp-agent", "dgefp", scope={"national": True}, name="Agent DGEFP"))
    code = portal.client.get(f"/centres/{SIRET}/activation-code", headers=dgefp).json["code"]
    headers = []
    for email in ("premier@example.fr", "second@example.fr"):
        portal.register_and_activate(email)
        headers.append(bearer(portal.tokens(email)["access_token"]))
    one, two = (create_app(portal.runtime).test_client() for _ in range(2))
    first, second = race(portal.runtime,
                         lambda: one.post("/me/centres", json={"siret": SIRET, "code": code}, headers=headers[0]),
                         lambda: two.post("/me/centres", json={"siret": SIRET, "code": code}, headers=headers[1]))
    assert (first.status_code, second.status_code) == (201, 409), (first.json, second.json)
    assert first.json["role"] == "gestionnaire"
    assert second.json["detail"].startswith("Ce code d'activation a déjà été utilisé.")
