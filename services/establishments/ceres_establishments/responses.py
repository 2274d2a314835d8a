"""The bodies the establishments endpoints build themselves, documented for the OpenAPI document (L9): used only by
`@blp.alt_response(..., success=True)`, never to dump."""
from __future__ import annotations

from marshmallow import fields

from ceres_shared.openapi import Described

from . import schemas as s


class SiteCentre(Described):
    id = fields.Str()
    siret = fields.Str()
    raison_sociale = fields.Str()


class SiteFound(s.SiteOut, Described):
    centre = fields.Nested(SiteCentre)


class SearchResults(Described):
    query = fields.Str()
    kind = fields.Str()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
    counts_capped = fields.Dict(keys=fields.Str(), values=fields.Bool())
    count_labels = fields.Dict(keys=fields.Str(), values=fields.Str())
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    centres = fields.List(fields.Nested(s.CentreOut))
    sites = fields.List(fields.Nested(SiteFound))
