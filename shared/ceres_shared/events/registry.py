"""Which schema validates which (event type, version). Producers and consumers share this one map."""
from __future__ import annotations

from marshmallow import Schema, ValidationError

_CONTRACTS: dict[tuple[str, int], type[Schema]] = {}
_INSTANCES: dict[tuple[str, int], Schema] = {}  # schemas keep no per-call state; building one is costly


class UnknownEventType(ValidationError):
    pass


def register(event_type: str, version: int = 1):
    """Class decorator: the schema is the contract of that event type and version."""

    def decorate(schema_cls: type[Schema]) -> type[Schema]:
        key = (event_type, version)
        if key in _CONTRACTS and _CONTRACTS[key] is not schema_cls:
            raise ValueError(f"contract {event_type} v{version} registered twice")
        _CONTRACTS[key] = schema_cls
        return schema_cls

    return decorate


def contract_for(event_type: str, version: int) -> type[Schema]:
    from . import contracts  # noqa: F401 - registers the platform's contracts on first use

    try:
        return _CONTRACTS[(event_type, version)]
    except KeyError:
        raise UnknownEventType({"type": [f"no contract for {event_type} v{version}"]}) from None


def validate_payload(event_type: str, version: int, payload: dict) -> dict:
    """Validate and return the JSON-ready payload; raises ValidationError naming the bad fields."""
    schema = _INSTANCES.get((event_type, version))
    if schema is None:
        schema = _INSTANCES[(event_type, version)] = contract_for(event_type, version)()
    loaded = schema.load(payload)
    return schema.dump(loaded)


def known_types() -> list[tuple[str, int]]:
    from . import contracts  # noqa: F401

    return sorted(_CONTRACTS)
