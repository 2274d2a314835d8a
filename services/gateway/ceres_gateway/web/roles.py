"""What each role sees: the menu shows only what the role may do. The services decide (policy + scope on the
record); this map mirrors their policies so that nobody is offered a page that would only answer « refusé »."""
from __future__ import annotations

from dataclasses import dataclass

AGENTS = frozenset({"ud", "dreets", "deets", "dgefp", "admin"})
CENTRES = frozenset({"centre", "gestionnaire"})

ROLE_LABELS = {
    "ud": "Agent d'unité départementale (UD)",
    "dreets": "Agent DREETS",
    "deets": "Agent DEETS",
    "dgefp": "DGEFP",
    "admin": "Administrateur",
    "centre": "Utilisateur de centre",
    "gestionnaire": "Gestionnaire de centre",
    "afpa": "Afpa",
}


@dataclass(frozen=True)
class MenuEntry:
    endpoint: str
    label: str
    roles: frozenset[str]


MENU = (
    MenuEntry("web.dashboard", "Tableau de bord", AGENTS | CENTRES),
    MenuEntry("web.search", "Centres et sites", AGENTS | CENTRES),  # E6, limited to the caller's scope
    MenuEntry("web.register_centre", "Enregistrer un centre", AGENTS),  # E2
    MenuEntry("web.agent_sessions", "Sessions", AGENTS),  # S5, S8: the scope's sessions
    MenuEntry("web.agent_printing_board", "Impressions", AGENTS),  # P1-P9
    MenuEntry("web.agent_agrements", "Agréments", AGENTS),  # E7 (decided by the DREETS)
    MenuEntry("web.agent_titres", "Titres", frozenset({"dgefp", "admin"})),  # catalogue
    MenuEntry("web.agent_relaxations", "Assouplissements", frozenset({"admin"})),  # S4
    MenuEntry("web.agent_mass", "Opérations de masse", frozenset({"admin"})),  # S9
    MenuEntry("web.centre_sessions", "Sessions du centre", CENTRES),  # S1-S8
    MenuEntry("web.centre_home", "Mon centre", CENTRES),  # I2, I3: attach, members, invitations
    MenuEntry("web.verify", "Vérifier un diplôme", frozenset()),  # B1: everyone, signed in or not
)


def menu_for(role: str | None) -> list[MenuEntry]:
    return [e for e in MENU if not e.roles or (role is not None and role in e.roles)]


def may(role: str | None, endpoint: str) -> bool:
    return any(e.endpoint == endpoint for e in menu_for(role))


@dataclass(frozen=True)
class DemoProfile:
    key: str
    label: str
    description: str
    role: str
    name: str
    departements: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sirets: tuple[str, ...] = ()


# The demo's people, matching the services' demo data (centres in Ain, Rhône, Paris, La Réunion).
DEMO_PROFILES = (
    DemoProfile("ud01", "Agent UD de l'Ain (01)", "Unité départementale : centres et sessions de l'Ain.", "ud",
                "Claire Martin (UD 01)", departements=("01",)),
    DemoProfile("dreets84", "Agent DREETS Auvergne-Rhône-Alpes (84)", "Région 84 : agréments, transferts.",
                "dreets", "Karim Benali (DREETS 84)", regions=("84",)),
    DemoProfile("dgefp", "DGEFP", "Niveau national : catalogue des titres, opérations de masse.", "dgefp",
                "Sophie Durand (DGEFP)"),
    DemoProfile("admin", "Administrateur", "Toutes les opérations, au niveau national.", "admin",
                "Admin CERES"),
    DemoProfile("centre", "Centre de formation (GRETA de l'Ain)", "Sessions et candidats du centre.",
                "gestionnaire", "Julie Petit (GRETA 01)", sirets=("30012845100014",)),
)
DEMO_BY_KEY = {p.key: p for p in DEMO_PROFILES}
