"""The envelope's hand-written encoder and parser (the consumer's hot path) against EnvelopeSchema, the contract.

Property tests: whatever a message holds, the parser accepts it only if the schema does, and then both read the
same envelope; what the encoder writes, the schema reads back unchanged.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from marshmallow import ValidationError

from ceres_shared.events import EnvelopeSchema, InvalidEvent, make_envelope, parse_envelope
from ceres_shared.events.envelope import _check_envelope

SCHEMA = EnvelopeSchema()

def good_fields():
    return {
        "id": st.uuids().map(str),
        "type": st.sampled_from(["session.validated", "site.transferred", "a.b", "centre_x.y_z.w"]),
        "version": st.integers(min_value=1, max_value=10**6),
        "occurred_at": st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-4))]),
        ).map(lambda d: d.isoformat()),
        "producer": st.text(min_size=1, max_size=64),
        "correlation_id": st.none() | st.text(max_size=128),
        "payload": st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    }


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=70),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["", "1", " 7 ", "0", "-3", "1.5", "not-a-uuid", "2024-13-01T00:00:00", "a.", ".b", "A.b",
                     "2024-05-01T10:00:00", "2024-05-01T10:00:00Z", "x" * 65, "c" * 129]),
)


@st.composite
def messages(draw):
    """A valid envelope, then some fields replaced by odd values or removed."""
    data = {name: draw(strategy) for name, strategy in good_fields().items()}
    for name in draw(st.sets(st.sampled_from(sorted(data)), max_size=3)):
        if draw(st.booleans()):
            data[name] = draw(ODD_VALUES)
        else:
            del data[name]
    return data


def schema_reading(data):
    try:
        return SCHEMA.load(data), None
    except ValidationError as exc:
        return None, exc.messages


@settings(max_examples=400, deadline=None)
@given(messages())
def test_the_parser_accepts_exactly_what_the_schema_accepts_and_reads_the_same(data):
    expected, schema_errors = schema_reading(data)
    env, errors = _check_envelope(data)
    if schema_errors:
        assert errors, f"schema refused {schema_errors} but the parser accepted"
        assert set(errors) == set(schema_errors)
        return
    assert not errors, f"parser refused {errors} but the schema accepted"
    assert env.id == str(expected["id"])
    assert env.type == expected["type"]
    assert env.version == expected["version"]
    assert env.occurred_at == expected["occurred_at"]
    assert env.occurred_at.utcoffset() == expected["occurred_at"].utcoffset()
    assert env.producer == expected["producer"]
    assert env.correlation_id == expected.get("correlation_id")
    assert env.payload == expected["payload"]


def test_the_encoder_writes_what_the_schema_reads_back():
    env = make_envelope("site.transferred", _transfer_payload(), producer="establishments", correlation_id="c-1")
    document = json.loads(env.to_json())
    assert document == json.loads(json.dumps(SCHEMA.dump(env)))
    again = parse_envelope(env.to_json())
    assert again == env


def test_a_naive_moment_is_read_as_utc_and_a_bad_payload_is_refused_with_its_fields():
    env = make_envelope("site.transferred", _transfer_payload(), producer="establishments")
    document = json.loads(env.to_json())
    document["occurred_at"] = "2026-11-22T10:00:00"
    assert parse_envelope(json.dumps(document)).occurred_at == datetime(2026, 11, 22, 10, tzinfo=timezone.utc)
    document["payload"] = {"site_id": 5}
    with pytest.raises(InvalidEvent) as caught:
        parse_envelope(json.dumps(document))
    assert caught.value.reason == "payload of site.transferred v1 does not validate"
    assert "site_id" in caught.value.errors


def test_not_json_and_not_an_object_are_refused():
    with pytest.raises(InvalidEvent, match="not JSON"):
        parse_envelope(b"\xff{")
    with pytest.raises(InvalidEvent, match="not an object"):
        parse_envelope("[1, 2]")


def _transfer_payload():
    from ceres_shared.events.registry import contract_for

    fields = contract_for("site.transferred", 1)().fields
    sample = {}
    for name, field in fields.items():
        if not field.required:
            continue
        kind = type(field).__name__
        sample[name] = {
            "UUID": str(uuid.uuid4()), "Str": "73282932000074", "String": "73282932000074", "Int": 1,
            "Integer": 1, "Date": "2026-11-22", "DateTime": "2026-11-22T10:00:00+00:00",
            "AwareDateTime": "2026-11-22T10:00:00+00:00", "Bool": True, "Boolean": True,
        }.get(kind, "x")
    return sample
