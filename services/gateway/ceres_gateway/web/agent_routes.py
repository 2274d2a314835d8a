"""The agents' journeys (UD, DREETS/DEETS, DGEFP, administrator): importing this module adds their routes to the
web blueprint."""
from . import agent_admin, agent_agrements, agent_candidates, agent_controls  # noqa: F401
from . import agent_printing, agent_refusals, agent_sessions  # noqa: F401
