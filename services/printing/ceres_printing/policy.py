"""Who may do what in the printing service: action -> roles. Scope checks on the record stay in the use cases."""
from ceres_shared.auth import AGENT_ROLES

# The agents who handle a session's documents (P1-P5); DGEFP reads nationally.
HANDLING_AGENTS = frozenset({"ud", "deets", "dreets", "admin"})

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
    "print.read": AGENT_ROLES,
    "print.verify": HANDLING_AGENTS,
    "print.request": HANDLING_AGENTS,
    "afpa.feed": frozenset({"afpa"}),
}
