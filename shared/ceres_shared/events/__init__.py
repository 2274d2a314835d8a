"""Event contracts: the envelope and one versioned marshmallow schema per event type."""
from .envelope import Envelope, EnvelopeSchema, InvalidEvent, make_envelope, parse_envelope
from .registry import contract_for, known_types, register, validate_payload

__all__ = [
    "Envelope",
    "EnvelopeSchema",
    "InvalidEvent",
    "make_envelope",
    "parse_envelope",
    "contract_for",
    "known_types",
    "register",
    "validate_payload",
]
