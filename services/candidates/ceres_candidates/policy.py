"""Who may do what in the candidates service: action -> roles. Scope checks on the record stay in the use cases
(service_layer/access.py)."""
from ceres_shared.auth import AGENT_ROLES, CENTRE_ROLES

READERS = AGENT_ROLES | CENTRE_ROLES | {"service"}
EDITORS = AGENT_ROLES | CENTRE_ROLES

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
    "candidate.read": READERS,
    "candidate.search": READERS,
    "candidate.create": EDITORS,
    "candidate.update": EDITORS,
    "candidate.validate": EDITORS,
    "candidate.reopen": EDITORS,
    "candidate.merge": AGENT_ROLES,  # C1: merging is an agent's decision
    "candidate.export": AGENT_ROLES,  # GDPR access request, answered by the administration
    "candidate.history": AGENT_ROLES,
    "commune.read": READERS,  # the referential (C3) is public data, but the lookup is for the platform's users
}
