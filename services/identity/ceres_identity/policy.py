"""Who may do what in the identity service: action -> roles. Scope checks on the record stay in the use cases
(I4: an agent's département / région for a centre; I3: a gestionnaire's company for invitations)."""
from ceres_shared.auth import AGENT_ROLES, CENTRE_ROLES

PEOPLE = AGENT_ROLES | CENTRE_ROLES | {"afpa"}

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
    "me.read": PEOPLE,
    "centre.attach": CENTRE_ROLES,
    "accounts.search": CENTRE_ROLES,
    "invitations.manage": CENTRE_ROLES,
    "invitations.accept": CENTRE_ROLES,
    "members.read": CENTRE_ROLES | AGENT_ROLES,
    "members.manage": CENTRE_ROLES,
    "activation_code.read": AGENT_ROLES,
    "activation_code.regenerate": AGENT_ROLES,
    "agents.manage": frozenset({"admin"}),
    "clients.manage": frozenset({"admin"}),
    "keys.rotate": frozenset({"admin"}),
}
