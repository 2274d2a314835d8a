"""Fixtures of the establishments tests: one migrated PostgreSQL database per module with the demo data, the fake
"API Recherche d'entreprises" on loopback as the company register, tokens from the `issuer`."""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from ceres_shared.communes import build
from ceres_shared.config import BusSettings, Settings
from ceres_establishments.adapters.company_register import DEMO_FILE, ApiCompanyRegister
from ceres_establishments.adapters.fake_recherche_entreprises import FakeRechercheEntreprises, company
from ceres_establishments.app import create_app
from ceres_establishments.bootstrap import bootstrap
from ceres_establishments import demo

sys.path.insert(0, str(Path(__file__).parent))  # est_data, imported by the test modules



@pytest.fixture(scope="session", autouse=True)
def communes_referential():
    build()  # the real Etalab package via npm, once; a no-op when var/communes is already built


@pytest.fixture(scope="module")
def register_api():
    companies = json.loads(DEMO_FILE.read_text(encoding="utf-8"))["results"]
    companies.append(company("356000000", "LA POSTE", [
        dict(nic="48315", adresse="9 RUE DU COLONEL PIERRE AVIA", code_postal="75015", commune="75115",
             libelle_commune="Paris 15e Arrondissement")]))
    with FakeRechercheEntreprises(companies) as fake:
        yield fake


@pytest.fixture(scope="module")
def est(infra, amqp_url, issuer, register_api):
    """(runtime, test client) on a fresh database seeded with the demo, the register being the fake API."""
    settings = Settings(service="establishments", database_url=infra.new_database(f"est{uuid.uuid4().hex[:6]}"),
                        bus=BusSettings(url=amqp_url, exchange=f"s{uuid.uuid4().hex[:8]}.events",
                                        retry_base_ms=50, max_attempts=3), jwks_url=None)
    register = ApiCompanyRegister(register_api.url, timeout=(0.5, 1.0), retries=1, backoff=0.01)
    runtime = bootstrap(settings, jwks=issuer.jwks(), company_register=register)
    runtime.upgrade_database()
    demo.seed(runtime)
    yield runtime, create_app(runtime).test_client()
    runtime.stop_background()
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def as_(issuer):
    """as_("ud", departements=["01"]) -> Authorization headers."""
    def headers(role: str, **scope) -> dict:
        token = issuer.issue(f"{role}-{uuid.uuid4().hex[:6]}", role, scope=scope)
        return {"Authorization": f"Bearer {token}"}

    return headers
