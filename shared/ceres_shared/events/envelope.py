"""The envelope every event travels in: id, type, version, occurred_at, producer, correlation id, payload."""
from __future__ import annotations

import json
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
        return json.dumps(_ENVELOPE.dump(self), separators=(",", ":"), ensure_ascii=False)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer envelope may add fields; old consumers ignore them

    id = fields.UUID(required=True)
    type = fields.Str(required=True, validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)+$"))
    version = fields.Int(required=True, validate=validate.Range(min=1))
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
    """Parse and validate a received message; raises InvalidEvent with the reason."""
    try:
        data = json.loads(body) if isinstance(body, (bytes, str)) else body
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidEvent("envelope is not an object")
    try:
        env = _ENVELOPE.load(data)
    except ValidationError as exc:
        raise InvalidEvent("envelope does not validate", exc.messages) from exc
    try:
        payload = validate_payload(env["type"], env["version"], env["payload"])
    except ValidationError as exc:
        raise InvalidEvent(f"payload of {env['type']} v{env['version']} does not validate", exc.messages) from exc
    return Envelope(
        id=str(env["id"]),
        type=env["type"],
        version=env["version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        correlation_id=env.get("correlation_id"),
        payload=payload,
    )
