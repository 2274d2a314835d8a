"""The envelope every event travels in: id, type, version, occurred_at, producer, correlation id, payload."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .registry import validate_payload


class InvalidEvent(Exception):
    """A message that cannot be an event of ours: it goes to the dead-letter queue without retries."""

    def __init__(self, reason: str, errors: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or {}


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: str | None
    payload: dict

    def to_json(self) -> str:
        # Written by hand, not by EnvelopeSchema.dump: this runs once per event on the hot path (the schema
        # took ~60 µs per event); tests check both give the same document.
        return _ENCODER.encode(
            {
                "id": self.id,
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at.isoformat(),
                "producer": self.producer,
                "correlation_id": self.correlation_id,
                "payload": self.payload,
            }
        )


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class EnvelopeSchema(Schema):
    """The envelope's contract, as documentation and as the reference the fast parser below is tested against."""

    class Meta:
        unknown = EXCLUDE  # a newer envelope may add fields; old consumers ignore them

    id = fields.UUID(required=True)
    type = fields.Str(required=True, validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)+$"))
    version = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    producer = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    correlation_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=128))
    payload = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()


def make_envelope(
    event_type: str, payload: dict, *, producer: str, version: int = 1, correlation_id: str | None = None
) -> Envelope:
    """Build an envelope after validating the payload against its contract (the producer fails fast)."""
    clean = validate_payload(event_type, version, payload)
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        version=version,
        occurred_at=datetime.now(timezone.utc),
        producer=producer,
        correlation_id=correlation_id,
        payload=clean,
    )


def parse_envelope(body: bytes | str | dict) -> Envelope:
    """Parse and validate a received message; raises InvalidEvent with the reason.

    The envelope is checked by hand (same rules and messages as EnvelopeSchema, property-tested against it):
    the consumer does this for every message and the schema cost more than the rest of the parsing.
    """
    try:
        data = json.loads(body) if isinstance(body, (bytes, str)) else body
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidEvent("envelope is not an object")
    env, errors = _check_envelope(data)
    if errors:
        raise InvalidEvent("envelope does not validate", errors)
    try:
        payload = validate_payload(env.type, env.version, env.payload)
    except ValidationError as exc:
        raise InvalidEvent(f"payload of {env.type} v{env.version} does not validate", exc.messages) from exc
    return Envelope(env.id, env.type, env.version, env.occurred_at, env.producer, env.correlation_id, payload)


_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
_MISSING = "Missing data for required field."


def _uuid(value):
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value)), None
    except (TypeError, ValueError, AttributeError):
        return None, "Not a valid UUID."


def _event_type(value):
    if not isinstance(value, str):
        return None, "Not a valid string."
    return (value, None) if _TYPE.match(value) else (None, "String does not match expected pattern.")


def _version(value):
    # A JSON integer, as the schema's strict Int: booleans, fractions and strings are refused.
    if not isinstance(value, int) or isinstance(value, bool):
        return None, "Not a valid integer."
    return (value, None) if value >= 1 else (None, "Must be greater than or equal to 1.")


def _moment(value):
    moment = _as_aware_datetime(value)
    return (moment, None) if moment is not None else (None, "Not a valid datetime.")


def _text(low: int, high: int, message: str):
    def check(value):
        if not isinstance(value, str):
            return None, "Not a valid string."
        return (value, None) if low <= len(value) <= high else (None, message)

    return check


def _mapping(value):
    return (value, None) if isinstance(value, dict) else (None, "Not a valid mapping type.")


# name -> (required, check); the same rules and messages as EnvelopeSchema.
_FIELDS = {
    "id": (True, _uuid),
    "type": (True, _event_type),
    "version": (True, _version),
    "occurred_at": (True, _moment),
    "producer": (True, _text(1, 64, "Length must be between 1 and 64.")),
    "correlation_id": (False, _text(0, 128, "Longer than maximum length 128.")),
    "payload": (True, _mapping),
}


def _check_envelope(data: dict) -> tuple[Envelope | None, dict]:
    values: dict = {}
    errors: dict[str, list[str]] = {}
    for name, (required, check) in _FIELDS.items():
        raw = data.get(name)
        if raw is None:
            if required:
                errors[name] = [_MISSING if name not in data else "Field may not be null."]
            values[name] = None
            continue
        values[name], error = check(raw)
        if error:
            errors[name] = [error]
    if errors:
        return None, errors
    return Envelope(**values), {}


def _as_aware_datetime(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
