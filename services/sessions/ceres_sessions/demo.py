"""Demo data of the sessions service (embedded mode, `seed-demo`): the titres catalogue, then — once the demo
sites have arrived by establishments' events — a few sessions. Idempotent: run again, nothing is duplicated;
sessions are created on a later start when the site projections were not there yet."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from ceres_shared.auth import Principal
from ceres_shared.errors import ApiError

from . import clock
from .domain import rules
from .models import Agrement, Centre, ExamSession, Site
from .service_layer import catalogue, sessions

log = logging.getLogger(__name__)
CATALOGUE = Path(__file__).parent / "data" / "titres_demo.json"
SYSTEM = Principal(subject="demo", role="dgefp", national=True)


def seed(rt) -> None:
    rows = catalogue.parse_import(CATALOGUE.read_bytes(), "application/json")
    with rt.session_factory.begin() as session:
        counts = catalogue.import_titres(session, SYSTEM, rows, rt)
    log.info("demo catalogue: %s", counts)
    _seed_sessions(rt)


def _seed_sessions(rt) -> None:
    """One session per demo site that holds an agrément, created as the centre would; skipped quietly while the
    establishments' events have not arrived."""
    with rt.session_factory() as session:
        sites = session.execute(select(Site, Centre).join(Centre, Centre.centre_id == Site.centre_id)).all()
        existing = set(session.scalars(select(ExamSession.site_id)))
    for site, centre in sites:
        if site.site_id in existing or not centre.siret:
            continue
        principal = Principal(subject="demo", role="centre", sirets=frozenset({centre.siret}))
        try:
            with rt.session_factory.begin() as session:
                agrement = session.scalars(select(Agrement).where(Agrement.site_id == site.site_id,
                                                                  Agrement.status == "accorde").limit(1)).first()
                if agrement is None:
                    continue
                sessions.create_session(session, principal, {
                    "site_id": site.site_id, "titre_code": agrement.titre_code,
                    "starts_on": rules.add_months(clock.today(), 4)}, rt)
        except ApiError as refused:  # e.g. the agrément does not cover the date: the demo goes on
            log.info("demo session for site %s skipped: %s", site.site_id, refused.detail)
