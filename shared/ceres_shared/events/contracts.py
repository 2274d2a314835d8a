"""Version 1 contracts of the platform's events (see ../shared/architecture.md).

Payloads exclude unknown fields: adding a field is backwards compatible and keeps the version; removing or
changing one needs a new version, registered beside the old one until every consumer reads it.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from .registry import register

SIRET = validate.Regexp(r"^\d{14}$", error="SIRET: 14 chiffres attendus")
SIREN = validate.Regexp(r"^\d{9}$", error="SIREN: 9 chiffres attendus")
COMMUNE = validate.Regexp(r"^(\d[0-9AB]\d{3})$", error="code commune INSEE attendu")
ZONES = ("metro", "drom", "com")
DECISIONS = ("titre", "partiel", "ajourne", "absent")
SESSION_STATUSES = (
    "en_preparation",
    "demande_dte_envoyee",
    "convocations_envoyees",
    "resultats_saisis",
    "validee",
    "finalisee",
    "annulee",
)
DOCUMENT_STATUSES = ("requested", "printed", "posted", "pnd", "delivered")


class Payload(Schema):
    class Meta:
        unknown = EXCLUDE


# --- establishments -------------------------------------------------------------------------------------------
class CentrePayload(Payload):
    centre_id = fields.Str(required=True)
    siret = fields.Str(required=True, validate=SIRET)
    siren = fields.Str(required=True, validate=SIREN)
    raison_sociale = fields.Str(required=True, validate=validate.Length(min=1, max=250))
    adresse = fields.Str(required=True)
    code_postal = fields.Str(load_default=None, allow_none=True)
    commune_code = fields.Str(required=True, allow_none=True)
    commune_label = fields.Str(load_default=None, allow_none=True)
    type_centre = fields.Str(load_default=None, allow_none=True)


register("centre.registered")(CentrePayload)
register("centre.updated")(CentrePayload)


class SitePayload(Payload):
    site_id = fields.Str(required=True)
    centre_id = fields.Str(required=True)
    name = fields.Str(required=True)
    adresse = fields.Str(required=True)
    code_postal = fields.Str(load_default=None, allow_none=True)
    commune_code = fields.Str(required=True)
    commune_label = fields.Str(load_default=None, allow_none=True)
    departement = fields.Str(required=True, validate=validate.Length(min=2, max=3))
    region = fields.Str(required=True, validate=validate.Length(min=2, max=3))
    zone = fields.Str(required=True, validate=validate.OneOf(ZONES))
    closed_at = fields.Date(load_default=None, allow_none=True)


for _name in ("site.created", "site.updated", "site.closed"):
    register(_name)(SitePayload)


@register("site.transferred")
class SiteTransferredPayload(Payload):
    site_id = fields.Str(required=True)
    from_centre_id = fields.Str(required=True)
    to_centre_id = fields.Str(required=True)
    agrement_ids = fields.List(fields.Str(), load_default=list)
    by = fields.Str(required=True)
    at = fields.AwareDateTime(required=True)


class AgrementPayload(Payload):
    agrement_id = fields.Str(required=True)
    site_id = fields.Str(required=True)
    centre_id = fields.Str(required=True)
    titre_code = fields.Str(required=True)
    titre_version = fields.Date(required=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)
    status = fields.Str(
        required=True, validate=validate.OneOf(("en_instruction", "accorde", "refuse", "retire", "termine"))
    )


for _name in ("agrement.granted", "agrement.refused", "agrement.withdrawn", "agrement.ended"):
    register(_name)(AgrementPayload)


# --- sessions: titres catalogue --------------------------------------------------------------------------------
class CcpSchema(Payload):
    code = fields.Str(required=True)
    libelle = fields.Str(required=True)


class TitrePayload(Payload):
    code = fields.Str(required=True, validate=validate.Regexp(r"^(TP|CCS)-\d{5}$"))
    version_date = fields.Date(required=True)
    libelle = fields.Str(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(("TP", "CCS")))
    level = fields.Int(required=True, validate=validate.Range(min=3, max=8))
    nsf_codes = fields.List(fields.Str(), required=True)
    rncp = fields.Str(load_default=None, allow_none=True)
    jo_date = fields.Date(load_default=None, allow_none=True)
    end_of_validity = fields.Date(load_default=None, allow_none=True)
    prolongation_until = fields.Date(load_default=None, allow_none=True)  # S1: a prolongation decided by DGEFP
    ccps = fields.List(fields.Nested(CcpSchema), load_default=list)
    ccs_of = fields.Str(load_default=None, allow_none=True)


register("titre.published")(TitrePayload)
register("titre.updated")(TitrePayload)


# --- candidates ------------------------------------------------------------------------------------------------
class PostalAddress(Payload):
    lines = fields.List(fields.Str(), required=True, validate=validate.Length(min=1, max=4))
    code_postal = fields.Str(required=True)
    commune_code = fields.Str(load_default=None, allow_none=True)
    commune_label = fields.Str(required=True)
    country = fields.Str(load_default="FRANCE")


class CandidatePayload(Payload):
    candidate_id = fields.Int(required=True)
    genre = fields.Str(required=True, validate=validate.OneOf(("M", "F")))
    nom_naissance = fields.Str(required=True)
    nom_usage = fields.Str(load_default=None, allow_none=True)
    prenoms = fields.List(fields.Str(), required=True, validate=validate.Length(min=1))
    birth_date = fields.Date(required=True)
    birth_country_code = fields.Str(load_default=None, allow_none=True)
    birth_country_label = fields.Str(required=True)
    birth_commune_code = fields.Str(load_default=None, allow_none=True)
    birth_commune_label = fields.Str(load_default=None, allow_none=True)
    address = fields.Nested(PostalAddress, load_default=None, allow_none=True)


register("candidate.registered")(CandidatePayload)
register("candidate.updated")(CandidatePayload)


@register("candidate.merged")
class CandidateMergedPayload(Payload):
    surviving_id = fields.Int(required=True)
    merged_id = fields.Int(required=True)


@register("candidate.shared")
class CandidateSharedPayload(Payload):
    """I4/C1: this centre (SIRET) may enrol the person — it created the record, or its duplicate check gave the
    exact identity of an existing one."""
    candidate_id = fields.Int(required=True)
    siret = fields.Str(required=True, validate=SIRET)
    reason = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(("created", "exact_match")))


# --- sessions --------------------------------------------------------------------------------------------------
class SessionFacts(Payload):
    session_id = fields.Str(required=True)
    public_id = fields.Str(required=True)
    titre_code = fields.Str(required=True)
    titre_version = fields.Date(required=True)
    site_id = fields.Str(required=True)
    centre_id = fields.Str(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(load_default=None, allow_none=True)
    status = fields.Str(required=True, validate=validate.OneOf(SESSION_STATUSES))


class SessionPayload(SessionFacts):
    previous_status = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(SESSION_STATUSES))
    candidate_ids = fields.List(fields.Int(), load_default=list)
    reason = fields.Str(load_default=None, allow_none=True)


for _name in ("session.created", "session.status_changed", "session.postponed", "session.cancelled"):
    register(_name)(SessionPayload)


@register("session.enrolment_changed")
class EnrolmentChangedPayload(SessionFacts):
    """One candidate enrolled, withdrawn or marked absent, with the session's facts (I4: the candidates service
    knows at once which centre sees the record)."""
    candidate_id = fields.Int(required=True)
    state = fields.Str(required=True, validate=validate.OneOf(("inscrit", "retire", "absent")))


class CandidateResult(Payload):
    candidate_id = fields.Int(required=True)
    decision = fields.Str(required=True, validate=validate.OneOf(DECISIONS))
    ccps_obtained = fields.List(fields.Str(), load_default=list)


@register("session.validated")
class SessionValidatedPayload(Payload):
    session_id = fields.Str(required=True)
    public_id = fields.Str(required=True)
    titre_code = fields.Str(required=True)
    titre_version = fields.Date(required=True)
    site_id = fields.Str(required=True)
    site_commune_code = fields.Str(required=True)
    centre_id = fields.Str(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    validated_by = fields.Str(required=True)
    validated_at = fields.AwareDateTime(required=True)
    results = fields.List(fields.Nested(CandidateResult), required=True)


@register("session.deadline_approaching")
class DeadlinePayload(Payload):
    session_id = fields.Str(required=True)
    deadline = fields.Str(required=True, validate=validate.OneOf(("dte", "convocations", "results", "habilitation")))
    due_date = fields.Date(required=True)


# --- printing --------------------------------------------------------------------------------------------------
class PrintPayload(Payload):
    candidate_id = fields.Int(required=True)
    document_number = fields.Str(required=True)
    document_type = fields.Str(required=True)
    status = fields.Str(required=True, validate=validate.OneOf(DOCUMENT_STATUSES))
    batch_id = fields.Str(load_default=None, allow_none=True)
    session_id = fields.Str(load_default=None, allow_none=True)


for _name in ("print.requested", "print.batch_ready", "print.document_status"):
    register(_name)(PrintPayload)


# --- identity --------------------------------------------------------------------------------------------------
class MemberPayload(Payload):
    user_id = fields.Str(required=True)
    siret = fields.Str(required=True, validate=SIRET)
    role = fields.Str(required=True)


for _name in ("member.attached", "member.invited", "member.removed"):
    register(_name)(MemberPayload)
