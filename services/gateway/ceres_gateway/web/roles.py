"""What each role sees: the menu shows only what the role may do. The services decide (policy + scope on the
record); this map mirrors their policies so that nobody is offered a page that would only answer « refusé »."""
from __future__ import annotations

from dataclasses import dataclass

AGENTS = frozenset({"ud", "dreets", "deets", "dgefp", "admin"})
CENTRES = frozenset({"centre", "gestionnaire"})
DECIDERS = frozenset({"dreets", "deets", "dgefp", "admin"})  # E7: establishments' agrement.decide
AFPA = frozenset({"afpa"})  # printing's afpa.feed: the batches, their acknowledgement, the documents' fate

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
    MenuEntry("web.agent_controls", "Contrôles", AGENTS),  # S10: sessions' control.read (planned by UD/DREETS/DEETS)
    MenuEntry("web.agent_printing_board", "Impressions", AGENTS),  # P1-P9
    MenuEntry("web.agent_pnd", "Plis non distribués", AGENTS),  # P7: the scope's PNDs, to correct the address
    # P8: printing's print.request (the DGEFP reads, does not request prints)
    MenuEntry("web.agent_reprints", "Réimpressions", frozenset({"ud", "dreets", "deets", "admin"})),
    MenuEntry("web.agent_agrements", "Agréments", AGENTS),  # E7 (decided by the DREETS)
    MenuEntry("web.agent_agrements_queue", "Agréments à instruire", DECIDERS),  # E7: the scope's queue
    MenuEntry("web.agent_titres", "Titres", frozenset({"dgefp", "admin"})),  # catalogue
    MenuEntry("web.agent_relaxations", "Assouplissements", frozenset({"admin"})),  # S4
    MenuEntry("web.agent_mass", "Opérations de masse", frozenset({"admin"})),  # S9
    MenuEntry("web.agent_accounts", "Comptes agents", frozenset({"admin"})),  # I4: identity's agents.manage
    # I4: the services' refused attempts outside their author's scope (audit.scope_refusals)
    MenuEntry("web.agent_scope_refusals", "Refus de périmètre", frozenset({"dgefp", "admin"})),
    MenuEntry("web.afpa_batches", "Lots à imprimer", AFPA),  # P6: download, acknowledge
    MenuEntry("web.afpa_statuses", "Sort des plis", AFPA),  # B3, P7: printed, posted, PND, delivered
    MenuEntry("web.centre_sessions", "Sessions du centre", CENTRES),  # S1-S8
    MenuEntry("web.centre_home", "Mon centre", CENTRES),  # I2, I3: attach, members, invitations
    MenuEntry("web.verify", "Vérifier un diplôme", frozenset()),  # B1: everyone, signed in or not
)


def menu_for(role: str | None) -> list[MenuEntry]:
    return [e for e in MENU if not e.roles or (role is not None and role in e.roles)]


def may(role: str | None, endpoint: str) -> bool:
    return any(e.endpoint == endpoint for e in menu_for(role))


def landing_for(role: str | None) -> str:
    """The page a role opens on signing in: the dashboard, or the Afpa's batches (it has no dashboard)."""
    return "web.afpa_batches" if role in AFPA else "web.dashboard"


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


# The demo's people, matching the services' demo data (centres in Ain, Rhône, Paris, La Réunion) and identity's
# demo accounts (ud01, ud69, dreets84, deets974, dgefp, admin, afpa @ceres.demo).
DEMO_PROFILES = (
    DemoProfile("ud01", "Agent UD de l'Ain (01)", "Unité départementale : centres et sessions de l'Ain.", "ud",
                "Claire Martin (UD 01)", departements=("01",)),
    DemoProfile("ud69", "Agent UD du Rhône (69)", "Unité départementale : sessions du Rhône, résultats à valider.",
                "ud", "Ulysse Rhône (UD 69)", departements=("69",)),
    DemoProfile("dreets84", "Agent DREETS Auvergne-Rhône-Alpes (84)", "Région 84 : agréments, transferts.",
                "dreets", "Karim Benali (DREETS 84)", regions=("84",)),
    DemoProfile("deets974", "Agent DEETS de La Réunion (04)",
                "Région d'outre-mer 04 : agréments, documents envoyés à la DEETS (P6).", "deets",
                "Dorian Payet (DEETS 974)", regions=("04",)),
    DemoProfile("dgefp", "DGEFP", "Niveau national : catalogue des titres, opérations de masse.", "dgefp",
                "Sophie Durand (DGEFP)"),
    DemoProfile("admin", "Administrateur", "Toutes les opérations, au niveau national.", "admin",
                "Admin CERES"),
    DemoProfile("centre", "Centre de formation (GRETA de l'Ain)", "Sessions et candidats du centre.",
                "gestionnaire", "Julie Petit (GRETA 01)", sirets=("30012845100014",)),
    DemoProfile("afpa", "Opérateur Afpa", "Lots de documents à imprimer, accusés de réception, sort des plis.",
                "afpa", "Anne Opérateur (Afpa)"),
)
DEMO_BY_KEY = {p.key: p for p in DEMO_PROFILES}
