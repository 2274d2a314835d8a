"""Who may do what in the identity service: action -> roles. Scope checks on the record stay in the handlers."""
from ceres_shared.auth import AGENT_ROLES

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
}
