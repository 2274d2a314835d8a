"""The whole platform for browser tests that cross services: the five services on their own PostgreSQL databases,
talking over this run's RabbitMQ (relays and consumers running), each on a real server on loopback, the gateway in
front, with the services' demo data. Import it from a test module with `webplatform = load_webplatform()` style:
the tests folder is not a package (pytest runs with --import-mode=importlib), so add this folder to sys.path.

Browser helpers (Checker, launch_browser, demo_login, serve_all) come from test_web_journeys: one copy of each."""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web_journeys import Checker, browser, closer, demo_login, launch_browser, menu_labels, serve_all  # noqa: E402,F401

SERVICES = ("identity", "establishments", "sessions", "candidates", "printing")


class FullPlatform:
    def __init__(self, url: str, urls: dict[str, str], runtimes: dict):
        self.url = url
        self.urls = urls
        self.runtimes = runtimes


def paris_today():
    """The day the pages show: the services count days in Paris, which is tomorrow for an hour or two each night."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Paris")).date()


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    """Events travel through outbox, relay, RabbitMQ and consumer: poll until `check()` is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}", pytrace=False)


def count_rows(runtime, model, *where) -> int:
    from sqlalchemy import func, select

    with runtime.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def start_full_platform(infra, amqp_url, issuer) -> tuple[FullPlatform, callable]:
    """Returns (platform, closer). Demo data: establishments' centres, sites and agréments; sessions' titres
    catalogue; candidates' people. Waits until sessions and printing hold their projections of them."""
    from ceres_establishments.adapters.company_register import DEMO_FILE, ApiCompanyRegister
    from ceres_establishments.adapters.fake_recherche_entreprises import FakeRechercheEntreprises

    from ceres_gateway.app import create_app as create_gateway
    from ceres_shared.config import BusSettings, Settings
    from ceres_shared.testing.plugin import build_runtime

    env = {"IDENTITY_KEYS_DIR": str(issuer.directory),  # identity signs with the ring the runtimes trust
           "IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "1024"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    exchange = f"webf{uuid.uuid4().hex[:8]}.events"

    from ceres_identity import demo as identity_demo
    from ceres_identity.bootstrap import bootstrap as identity_bootstrap

    runtimes = {"identity": identity_bootstrap(Settings(
        service="identity", database_url=infra.new_database(f"idwf{uuid.uuid4().hex[:4]}"),
        bus=BusSettings(url=amqp_url, exchange=exchange), jwks_url=None, embedded=True))}
    runtimes["identity"].upgrade_database()
    for name in SERVICES[1:]:
        runtimes[name] = build_runtime(infra, amqp_url, issuer, name, exchange=exchange)
    printing = runtimes["printing"]
    printing.printing.batch_max_wait_s = 1.0  # batches by time: a second here
    printing.printing.batch_poll_s = 0.2

    register = FakeRechercheEntreprises(json.loads(Path(DEMO_FILE).read_text(encoding="utf-8"))["results"])
    register.__enter__()
    runtimes["establishments"].company_register = ApiCompanyRegister(register.url)
    for runtime in runtimes.values():
        runtime.start_background()

    from ceres_candidates import demo as candidates_demo
    from ceres_establishments import demo as establishments_demo
    from ceres_sessions import demo as sessions_demo

    identity_demo.seed(runtimes["identity"])
    establishments_demo.seed(runtimes["establishments"])
    candidates_demo.seed(runtimes["candidates"])
    sessions_demo.seed(runtimes["sessions"])  # catalogue now; its demo sessions wait for the sites (none yet)

    from ceres_identity.app import create_app as identity_app
    from ceres_candidates.app import create_app as candidates_app
    from ceres_establishments.app import create_app as establishments_app
    from ceres_printing.app import create_app as printing_app
    from ceres_sessions.app import create_app as sessions_app

    apps = {"identity": identity_app, "establishments": establishments_app, "sessions": sessions_app,
            "candidates": candidates_app, "printing": printing_app}
    urls, stop_services = serve_all({name: apps[name](runtimes[name]) for name in SERVICES})
    gateway, stop_gateway = serve_all({"gateway": create_gateway(urls, timeout=15)})
    printing.printing.public_base_url = gateway["gateway"]

    from ceres_printing import models as pm
    from ceres_sessions import models as sm

    wait_for(lambda: count_rows(runtimes["sessions"], sm.Agrement) >= 7 and count_rows(
        runtimes["sessions"], sm.Candidate) >= 9 and count_rows(runtimes["sessions"], sm.CandidateGrant) >= 36,
        what="sessions' projections of sites, agréments and candidates (and which centres may enrol them)")
    wait_for(lambda: count_rows(runtimes["printing"], pm.CandidateCopy) >= 9 and count_rows(
        runtimes["printing"], pm.TitreCopy) >= 2 and count_rows(runtimes["printing"], pm.SiteCopy) >= 7,
        what="printing's copies of candidates, titres and sites")

    return FullPlatform(gateway["gateway"], urls, runtimes), closer(
        stop_gateway, stop_services, register, runtimes, saved)

