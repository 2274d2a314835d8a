"""Events the identity service consumes: event type -> handlers (each runs inside the inbox transaction)."""
from ceres_shared.bus.consumer import Handler

HANDLERS: dict[str, list[Handler]] = {}
