"""Demo data (embedded mode, `flask seed-demo`): one agent of each profile, with known passwords, and the Afpa's
machine client. Idempotent: an existing email or client id is left as it is."""
from __future__ import annotations

from sqlalchemy import select

from ceres_shared.auth import Principal

from .models import Account, Client
from .service_layer.agents import create_agent
from .service_layer.clients import create_client

DEMO_PASSWORD = "Ceres-demo-2024!"
# email, profile, nom, prénom, départements, régions — every one logs in with DEMO_PASSWORD.
DEMO_ACCOUNTS = [
    ("admin@ceres.demo", "admin", "ADMIN", "Alice", [], []),
    ("dgefp@ceres.demo", "dgefp", "NATIONAL", "Denis", [], []),
    ("ud01@ceres.demo", "ud", "AIN", "Ursule", ["01"], []),
    ("ud69@ceres.demo", "ud", "RHONE", "Ulysse", ["69"], []),
    ("dreets84@ceres.demo", "dreets", "AURA", "Diane", [], ["84"]),
    ("deets974@ceres.demo", "deets", "REUNION", "Dorian", [], ["04"]),
    ("afpa@ceres.demo", "afpa", "OPERATEUR", "Anne", [], []),
]
DEMO_CLIENT = ("afpa-demo", "afpa-demo-secret-2024", "Afpa — intégration (démo)", "afpa")

SYSTEM = Principal(subject="demo-seed", role="admin", name="Données de démonstration", national=True)


def seed(runtime) -> None:
    with runtime.session_factory() as session:
        for email, profile, nom, prenom, deps, regs in DEMO_ACCOUNTS:
            if session.scalar(select(Account.id).where(Account.email == email)):
                continue
            create_agent(runtime, session, SYSTEM, {"email": email, "civilite": "Mme", "nom": nom, "prenom": prenom,
                                                    "profile": profile, "departements": deps, "regions": regs},
                         password=DEMO_PASSWORD)
        client_id, secret, name, role = DEMO_CLIENT
        if session.get(Client, client_id) is None:
            create_client(runtime, session, SYSTEM, name, role, client_id=client_id, secret=secret)
