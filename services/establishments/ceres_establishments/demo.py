"""Demo data (embedded mode, `flask seed-demo`): the centre de reprise holding one misplaced site, four centres in
Ain, Rhône, Paris and La Réunion with their sites, granted agréments for TP-00463 and TP-00391, and requests still
« en cours d'instruction » for the DREETS 84 and the DEETS of La Réunion to decide (E7). Idempotent, with
deterministic ids so that other services agree on them. Seeded through the same use cases as the API."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

from ceres_shared.auth import Principal

from .adapters.company_register import FileCompanyRegister
from .models import CENTRE_DE_REPRISE_ID, Agrement, Site, Titre
from .service_layer import agrements, centres, sites

SYSTEM = Principal(subject="demo", role="admin", name="Données de démonstration", national=True)

# siret -> type de centre, sites (n, name, adresse, commune, code postal, own siret)
CENTRES = {
    "30012845100014": ("GRETA", [(1, "Revermont — Bourg-en-Bresse", "12 rue des Casernes", "01053", "01000", None)]),
    "41822976100014": ("CFA", [
        (1, "Institut lyonnais — Lyon 3e", "25 cours Gambetta", "69383", "69003", None),
        (2, "Institut lyonnais — Villeurbanne", "8 rue Francis de Pressensé", "69266", "69100", "41822976100022"),
    ]),
    "52231548000015": ("ASSOCIATION", [(1, "Aide à domicile — Voltaire", "40 boulevard Voltaire", "75111", "75011",
                                        None)]),
    "63840117400013": ("LP", [
        (1, "Lycée de l'Est — Saint-Denis", "2 rue de Paris", "97411", "97400", None),
        (2, "Lycée de l'Est — Saint-Pierre", "15 rue des Bons Enfants", "97416", "97410", "63840117400021"),
    ]),
}
# The misplaced site (seed 000): its SIRET is the Ain centre's Oyonnax establishment; to be transferred there.
MISPLACED = (1, "Ateliers du Haut-Bugey — Oyonnax", "4 avenue de la Gare", "01283", "01100", "30012845100022")
TITRES = [
    ("TP-00463", date(2018, 9, 20), "Ouvrier du paysage", date(2028, 9, 20)),
    ("TP-00391", date(2021, 3, 15), "Assistant(e) de vie aux familles", date(2027, 3, 15)),
]
# site -> titres granted: (centre siret, site n) -> codes
GRANTED = {("41822976100014", 1): ["TP-00463"], ("41822976100014", 2): ["TP-00463"],
           ("30012845100014", 1): ["TP-00463"], ("52231548000015", 1): ["TP-00391"],
           ("63840117400013", 1): ["TP-00391", "TP-00463"], ("00000000000000", 1): ["TP-00391"]}
# requests left « en cours d'instruction » (E7): Lyon 3e and Bourg-en-Bresse (région 84), Saint-Pierre (région 04)
PENDING = {("41822976100014", 1): ["TP-00391"], ("30012845100014", 1): ["TP-00391"],
           ("63840117400013", 2): ["TP-00391"]}


def _ensure_titres(session) -> None:
    # Normally from the sessions service's titre.* events; the demo must not wait for them.
    for code, version, libelle, end in TITRES:
        if session.get(Titre, (code, version)) is None:
            session.add(Titre(code=code, version_date=version, libelle=libelle, kind="TP", end_of_validity=end,
                              updated_at=datetime.now(timezone.utc)))


def _ensure_site(rt, session, centre_id, centre_siret, spec) -> None:
    n, name, adresse, commune, cp, siret = spec
    site_id = sites.site_id_for(centre_siret, n)
    if session.get(Site, site_id) is None:
        sites.create_site(rt, session, SYSTEM, centre_id, {
            "name": name, "adresse": adresse, "commune_code": commune, "code_postal": cp, "siret": siret,
        }, site_id=site_id)


def seed(runtime) -> None:
    register = FileCompanyRegister()
    with runtime.session_factory() as session:
        _ensure_titres(session)
        for siret, (kind, specs) in CENTRES.items():
            if centres.find_by_siret(session, siret) is None:
                centres.register_centre(runtime, register, session, SYSTEM, siret, {"type_centre": kind})
            for spec in specs:
                _ensure_site(runtime, session, centres.centre_id_for(siret), siret, spec)
        _ensure_site(runtime, session, CENTRE_DE_REPRISE_ID, "00000000000000", MISPLACED)
        session.flush()
        today = date.today()
        for (siret, n), codes in GRANTED.items():
            site_id = sites.site_id_for(siret, n)
            for code in codes:
                agrement_id = agrements.agrement_id_for(site_id, code)
                if session.scalar(select(Agrement.id).where(Agrement.id == agrement_id)):
                    continue
                agrements.request_agrement(runtime, session, SYSTEM, site_id, code, None, agrement_id=agrement_id)
                end = next(t[3] for t in TITRES if t[0] == code)
                agrements.decide(runtime, session, SYSTEM, agrement_id, "grant",
                                 valid_from=date(today.year - 1, 1, 1), valid_until=end)
        for (siret, n), codes in PENDING.items():
            site_id = sites.site_id_for(siret, n)
            for code in codes:
                agrement_id = agrements.agrement_id_for(site_id, code)
                if session.scalar(select(Agrement.id).where(Agrement.id == agrement_id)) is None:
                    agrements.request_agrement(runtime, session, SYSTEM, site_id, code, None, agrement_id=agrement_id,
                                               reason="Demande du centre (démonstration)")
        session.commit()
