"""Who may do what in the establishments service: action -> roles. The scope check on the record (département,
région, SIRET) is done in the use cases (service_layer/access.py)."""
from ceres_shared.auth import AGENT_ROLES, CENTRE_ROLES

DECIDERS = frozenset({"dreets", "deets", "dgefp", "admin"})  # E7: agréments are decided by the DREETS

POLICY: dict[str, frozenset[str]] = {
    "history.read": AGENT_ROLES,
    "centre.read": AGENT_ROLES | CENTRE_ROLES,
    "centre.register": AGENT_ROLES,  # E2, whatever the centre's address (seed 000)
    "centre.update": AGENT_ROLES,  # E3
    "site.read": AGENT_ROLES | CENTRE_ROLES,
    "site.write": AGENT_ROLES,  # E4, within the agent's territory
    "site.transfer": AGENT_ROLES,  # E5, agent competent for the site's location
    "search": AGENT_ROLES | CENTRE_ROLES,  # E6, results limited to the caller's scope
    "agrement.read": AGENT_ROLES | CENTRE_ROLES,
    "agrement.request": AGENT_ROLES | CENTRE_ROLES,
    "agrement.decide": DECIDERS,
}
