"""Fixtures of the sessions service's tests: one migrated runtime per module (real PostgreSQL), events fed through
the real handlers, tokens from the `issuer`, a fixed clock, and a small world (centre, site, agrément, titre)."""
from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ceres_shared.config import BusSettings, Settings
from ceres_shared.events import make_envelope
from ceres_sessions import clock, handlers
from ceres_sessions.app import create_app
from ceres_sessions.bootstrap import bootstrap

DEMO = Path(__file__).parents[1] / "ceres_sessions" / "data" / "titres_demo.json"
_sirets = itertools.count(1)


@pytest.fixture(scope="module")
def rt(infra, amqp_url, issuer):
    """A sessions runtime on a database of its own, shared by the tests of one module (each test makes its own
    centres and sites, so they do not see each other's sessions unless they mean to)."""
    settings = Settings(service="sessions", database_url=infra.new_database(f"sess{uuid.uuid4().hex[:6]}"),
                        bus=BusSettings(url=amqp_url, exchange=f"s{uuid.uuid4().hex[:8]}.events"), jwks_url=None)
    runtime = bootstrap(settings, jwks=issuer.jwks())
    runtime.upgrade_database()
    yield runtime
    runtime.stop_background()
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def client(rt):
    return create_app(rt).test_client()


@pytest.fixture
def frozen():
    """Fix the service clock: frozen(2024, 1, 15) -> that day, 10:00 UTC."""

    def fix(*ymd, hour=10):
        clock.fix(datetime(*ymd, hour, 0, tzinfo=timezone.utc))

    yield fix
    clock.fix(None)


def feed(rt, event_type: str, payload: dict) -> None:
    """Deliver an event as the consumer would: validated envelope, the service's handlers, one transaction."""
    env = make_envelope(event_type, payload, producer="test")
    with rt.session_factory.begin() as session:
        for handler in handlers.HANDLERS[event_type]:
            handler(session, env)


def auth(issuer, role: str, **scope) -> dict:
    return {"Authorization": f"Bearer {issuer.issue(f'{role}-{uuid.uuid4().hex[:6]}', role, scope=scope)}"}


def new_siret() -> str:
    """A fresh valid SIRET (Luhn) per call."""
    from stdnum import luhn

    body = f"{(uuid.uuid4().int % 10**12):012d}{next(_sirets) % 10}"
    return body + luhn.calc_check_digit(body)


class World:
    """A centre with one site in a département, an agrément, and the tokens of the people around it."""

    def __init__(self, rt, client, issuer, *, dep="01", region="84", type_centre=None, titre="TP-00463",
                 agrement=(date(2019, 1, 1), date(2028, 9, 26))):
        self.rt, self.client, self.issuer = rt, client, issuer
        self.siret = new_siret()
        self.centre_id, self.site_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.dep, self.region, self.titre = dep, region, titre
        feed(rt, "centre.registered", {"centre_id": self.centre_id, "siret": self.siret, "siren": self.siret[:9],
                                       "raison_sociale": "Centre test", "adresse": "1 rue", "commune_code": "01053",
                                       "type_centre": type_centre})
        feed(rt, "site.created", {"site_id": self.site_id, "centre_id": self.centre_id, "name": "Site test",
                                  "adresse": "1 rue", "commune_code": f"{dep}053", "departement": dep,
                                  "region": region, "zone": "metro"})
        if agrement:
            feed(rt, "agrement.granted", {"agrement_id": str(uuid.uuid4()), "site_id": self.site_id,
                                          "centre_id": self.centre_id, "titre_code": titre,
                                          "titre_version": "2018-09-20", "valid_from": agrement[0].isoformat(),
                                          "valid_until": agrement[1].isoformat() if agrement[1] else None,
                                          "status": "accorde"})
        self.centre = auth(issuer, "centre", sirets=[self.siret])
        self.ud = auth(issuer, "ud", departements=[dep])
        self.other_ud = auth(issuer, "ud", departements=["99" if dep != "99" else "98"])
        self.dreets = auth(issuer, "dreets", regions=[region])
        self.admin = auth(issuer, "admin")
        self.dgefp = auth(issuer, "dgefp")
        self.service = auth(issuer, "service", national=True)

    def create(self, **body):
        body = {"site_id": self.site_id, "titre_code": self.titre, **body}
        return self.client.post("/sessions", json={k: v.isoformat() if isinstance(v, date) else v
                                                   for k, v in body.items()}, headers=self.centre)

    def session(self, **body) -> dict:
        response = self.create(**body)
        assert response.status_code == 201, response.json
        return response.json

    def post(self, session_id: str, path: str, who: dict, body: dict | None = None):
        return self.client.post(f"/sessions/{session_id}/{path}", json=body or {}, headers=who)

    def candidate(self, nom="DUPONT") -> int:
        cid = next(_candidates)
        feed(self.rt, "candidate.registered", {"candidate_id": cid, "genre": "F", "nom_naissance": nom,
                                               "prenoms": ["Marie"], "birth_date": "1990-03-01",
                                               "birth_country_label": "FRANCE"})
        # I4: created by this world's centre, which may therefore enrol it.
        feed(self.rt, "candidate.shared", {"candidate_id": cid, "siret": self.siret, "reason": "created"})
        return cid


_candidates = itertools.count(int(uuid.uuid4().int % 10**6) * 100)


@pytest.fixture(scope="module")
def catalogue(rt, client, issuer):
    """The demo catalogue, imported once per module by DGEFP through the API."""
    response = client.post("/titres/import", data=DEMO.read_bytes(), content_type="application/json",
                           headers=auth(issuer, "dgefp"))
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def world(rt, client, issuer, catalogue):
    def make(**kw) -> World:
        return World(rt, client, issuer, **kw)

    return make
