"""The bodies the printing endpoints build themselves (dicts), documented for the OpenAPI document (L9): used only
by `@blp.alt_response(..., success=True)`, never to dump."""
from __future__ import annotations

from marshmallow import fields

from ceres_shared.openapi import Described, UtcDateTime


def _nstr():
    return fields.Str(allow_none=True)


def _when():
    return UtcDateTime(allow_none=True)


class Page(Described):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()


class Dashboard(Described):
    sessions_sans_demande = fields.Int()
    sessions_partielles = fields.Int()


class SessionSummary(Described):
    session_id = fields.Str()
    public_id = fields.Str()
    titre_code = fields.Str()
    titre_version = fields.Date()
    departement = fields.Str()
    region = fields.Str()
    validated_at = _when()
    candidates_with_documents = fields.Int()
    requested = fields.Int()


class SessionPage(Page):
    sessions = fields.List(fields.Nested(SessionSummary))


class CandidacyState(Described):
    candidate_id = fields.Int()
    holder = _nstr()
    birth_date = fields.Date(allow_none=True)
    decision = _nstr()
    verified_at = _when()
    initial_request_at = _when()
    last_request_at = _when()
    duplicata_count = fields.Int()
    mentions = fields.List(fields.Str())
    documents = fields.List(fields.Dict())
    requests = fields.List(fields.Dict())
    items = fields.List(fields.Dict())
    pnd = fields.Bool()


class SessionCandidates(Described):
    session = fields.Nested(SessionSummary)
    candidates = fields.List(fields.Nested(CandidacyState))


class CandidateDetail(CandidacyState):
    previous = fields.Int(allow_none=True)
    next = fields.Int(allow_none=True)


class PrintRequested(CandidateDetail):
    request_id = fields.Int()
    kind = fields.Str()


class ReprintRecorded(CandidacyState):
    session_id = fields.Str()


class ReprintSummary(Described):
    number = fields.Str()
    candidate_id = fields.Int()
    holder = fields.Str()
    birth_date = fields.Date()
    titre_code = fields.Str()
    titre_version = fields.Date()
    titre = fields.Str()
    issued_on = fields.Date()
    departement = fields.Str()
    region = fields.Str()


class ReprintPage(Page):
    sort = fields.Str()
    reprints = fields.List(fields.Dict())


class BatchOut(Described):
    id = fields.Str()
    status = fields.Str()
    created_at = UtcDateTime()
    documents = fields.Int()
    sha256 = _nstr()
    size = fields.Int()
    acknowledged_at = _when()


class Batches(Described):
    batches = fields.List(fields.Nested(BatchOut))


class StatusResults(Described):
    results = fields.List(fields.Dict())


class Verification(Described):
    genuine = fields.Bool()
    message = fields.Str(metadata={"description": "Quand le document n'est pas authentique"})


class PndPage(Page):
    pnd = fields.List(fields.Dict())
