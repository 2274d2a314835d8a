"""Who may do what in the sessions service: action -> roles. The workflow steps are checked by the workflow table
(domain/workflow.py) on the record, with the caller's scope; this map only opens the endpoints."""
from ceres_shared.auth import AGENT_ROLES, CENTRE_ROLES

from .domain.workflow import WORKFLOW

WORKFLOW_ROLES = frozenset().union(*(action.roles for action in WORKFLOW.values()))
JURY_MANAGERS = frozenset({"ud", "deets", "dreets", "admin"})

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
    "titre.read": AGENT_ROLES | CENTRE_ROLES | {"afpa", "service"},
    "titre.write": frozenset({"dgefp", "admin"}),
    "session.read": AGENT_ROLES | CENTRE_ROLES | {"service"},
    "session.create": CENTRE_ROLES,  # S1
    "session.act": WORKFLOW_ROLES,  # then the table decides, on the session, within scope
    "jure.read": JURY_MANAGERS | {"dgefp"},
    "jure.write": JURY_MANAGERS,
    "relaxation.read": AGENT_ROLES,
    "relaxation.write": frozenset({"admin"}),  # S4
    "mass.run": frozenset({"admin"}),  # S9
    "dashboard.read": AGENT_ROLES | CENTRE_ROLES,  # S10
    "control.read": AGENT_ROLES,  # S10: never the centres
    "control.write": frozenset({"ud", "dreets", "deets", "admin"}),  # within their territory
}
