"""Marshmallow schemas at the HTTP edge (French messages for every invalid value)."""
from __future__ import annotations

from datetime import date

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from ceres_shared.openapi import UtcDateTime
from ceres_shared.validation import VISIBLE, VISIBLE_LINES

from .domain.rules import AGREMENT_STATUSES, TYPES_CENTRE, agrement_valid_on

SIRET = validate.Regexp(r"^\d{14}$", error="Le SIRET doit comporter 14 chiffres.")
COMMUNE = validate.Regexp(r"^\d[0-9AB]\d{3}$", error="Code commune INSEE attendu (5 caractères, ex. 01053).")
CP = validate.Regexp(r"^\d{5}$", error="Code postal attendu (5 chiffres).")


def text(max_len: int, *, multiline: bool = False, **kw):
    """A free text users type: no invisible or control character (C5), line breaks only where lines are kept."""
    return fields.Str(validate=[validate.Length(max=max_len, error=f"{max_len} caractères au plus."),
                                VISIBLE_LINES if multiline else VISIBLE], **kw)


def required_text(max_len: int, required: bool = True):
    return fields.Str(required=required, validate=[validate.Length(min=1, max=max_len,
                      error=f"Entre 1 et {max_len} caractères."), VISIBLE])


class Strict(Schema):
    class Meta:
        unknown = RAISE


class RegisterCentreIn(Strict):
    siret = fields.Str(required=True, validate=validate.Length(max=14, error=SIRET.error))
    type_centre = fields.Str(allow_none=True, validate=validate.OneOf(TYPES_CENTRE))
    reseau = text(120, allow_none=True)
    representant = text(200, allow_none=True)
    commentaires = text(4000, multiline=True, allow_none=True)


class SiretQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    siret = fields.Str(required=True)


class CentreUpdateIn(Strict):
    siret = fields.Str(validate=SIRET)
    raison_sociale = required_text(250, required=False)
    adresse = required_text(300, required=False)
    code_postal = fields.Str(allow_none=True, validate=CP)
    commune_code = fields.Str(validate=COMMUNE)
    type_centre = fields.Str(allow_none=True, validate=validate.OneOf(TYPES_CENTRE))
    reseau = text(120, allow_none=True)
    representant = text(200, allow_none=True)
    commentaires = text(4000, multiline=True, allow_none=True)
    version = fields.Int(load_default=None)


class CentreOut(Schema):
    id = fields.Str()
    siret = fields.Str()
    siren = fields.Str()
    raison_sociale = fields.Str()
    adresse = fields.Str()
    code_postal = fields.Str(allow_none=True)
    commune_code = fields.Str(allow_none=True)
    commune_label = fields.Str(allow_none=True)
    departement = fields.Str(allow_none=True)
    region = fields.Str(allow_none=True)
    type_centre = fields.Str(allow_none=True)
    reseau = fields.Str(allow_none=True)
    representant = fields.Str(allow_none=True)
    commentaires = fields.Str(allow_none=True)
    version = fields.Int()


class CompanyOut(Schema):
    siret = fields.Str()
    siren = fields.Str()
    raison_sociale = fields.Str()
    adresse = fields.Str()
    code_postal = fields.Str(allow_none=True)
    commune_code = fields.Str(allow_none=True)
    commune_label = fields.Str(allow_none=True)
    active = fields.Bool()


class SiteIn(Strict):
    name = required_text(250)
    adresse = required_text(300)
    commune_code = fields.Str(required=True, validate=COMMUNE)
    code_postal = fields.Str(allow_none=True, validate=CP)
    representant = text(200, allow_none=True)
    siret = fields.Str(allow_none=True, validate=SIRET)


class SiteUpdateIn(SiteIn):
    name = required_text(250, required=False)
    adresse = required_text(300, required=False)
    commune_code = fields.Str(validate=COMMUNE)
    version = fields.Int(load_default=None)

    class Meta:
        unknown = RAISE


class SiteOut(Schema):
    id = fields.Str()
    centre_id = fields.Str()
    name = fields.Str()
    adresse = fields.Str()
    code_postal = fields.Str(allow_none=True)
    commune_code = fields.Str()
    commune_label = fields.Str(allow_none=True)
    departement = fields.Str()
    region = fields.Str()
    zone = fields.Str()
    representant = fields.Str(allow_none=True)
    siret = fields.Str(allow_none=True)
    closed_at = fields.Date(allow_none=True)
    version = fields.Int()


class CloseSiteIn(Strict):
    closed_at = fields.Date(load_default=None)
    reason = text(1000, multiline=True, load_default=None)


class TransferIn(Strict):
    siret = fields.Str(required=True, validate=validate.Length(max=14, error=SIRET.error))
    version = fields.Int(load_default=None)


class TransferPreviewOut(Schema):
    site = fields.Nested(SiteOut)
    from_centre = fields.Nested(CentreOut)
    to_centre = fields.Nested(CentreOut)
    site_version = fields.Int()
    agrements = fields.Method("_agrement_ids")

    def _agrement_ids(self, obj):
        return [a.id for a in obj["agrements"]]


class SearchQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.Str(required=True, validate=validate.Length(min=1, max=200, error="Entre 1 et 200 caractères."))
    type = fields.Str(load_default=None, validate=validate.OneOf(("CENTRE", "SITE")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000, error="Page invalide."))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))


class AgrementRequestIn(Strict):
    titre_code = fields.Str(required=True, validate=validate.Regexp(r"^(TP|CCS)-\d{5}$",
                                                                     error="Code titre attendu (ex. TP-00463)."))
    titre_version = fields.Date(load_default=None)
    reason = text(2000, multiline=True, load_default=None)


class DecisionIn(Strict):
    valid_from = fields.Date(load_default=None)
    valid_until = fields.Date(load_default=None)
    reason = text(2000, multiline=True, load_default=None)

    @validates_schema
    def _order(self, data, **_):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("La date de fin précède la date de début.", "valid_until")


class DecisionOut(Schema):
    action = fields.Str()
    status = fields.Str()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    reason = fields.Str(allow_none=True)
    by = fields.Str()
    at = UtcDateTime()


class AgrementListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.Str(load_default="en_instruction", validate=validate.OneOf(
        AGREMENT_STATUSES, error="Statut inconnu : " + ", ".join(AGREMENT_STATUSES) + "."))
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000, error="Page invalide."))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))


class _SiteBrief(Schema):
    id = fields.Str()
    name = fields.Str()
    commune_label = fields.Str(allow_none=True)
    departement = fields.Str()
    region = fields.Str()


class _CentreBrief(Schema):
    id = fields.Str()
    siret = fields.Str()
    raison_sociale = fields.Str()


class AgrementListItem(Schema):
    id = fields.Str()
    titre_code = fields.Str()
    titre_version = fields.Date()
    titre_libelle = fields.Str(allow_none=True)
    status = fields.Str()
    requested_at = UtcDateTime()
    updated_at = UtcDateTime()
    site = fields.Nested(_SiteBrief)
    centre = fields.Nested(_CentreBrief)


class AgrementListOut(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    status = fields.Str()
    agrements = fields.List(fields.Nested(AgrementListItem))


class AgrementOut(Schema):
    id = fields.Str()
    site_id = fields.Str()
    titre_code = fields.Str()
    titre_version = fields.Date()
    status = fields.Str(validate=validate.OneOf(AGREMENT_STATUSES))
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    valid_today = fields.Method("_valid_today")
    decisions = fields.List(fields.Nested(DecisionOut))

    def _valid_today(self, obj) -> bool:
        return agrement_valid_on(obj.status, obj.valid_from, obj.valid_until, date.today())
