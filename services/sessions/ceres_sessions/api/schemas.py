"""Marshmallow schemas at the HTTP edge (and for catalogue imports, which are an edge too)."""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ceres_shared.validation import count, length, line, lines

from ..domain import controls
from ..domain.workflow import STATUSES

DECISIONS = ("titre", "partiel", "ajourne", "absent")


class Strict(Schema):
    class Meta:
        unknown = RAISE


# Bounds of lists stored as JSON (L5): no column limits them, a request should.
MAX_CCPS, MAX_NSF = 50, 20
TITRE_CODE = length(12)  # the titre_code columns
RNCP = validate.Regexp(r"^RNCP\d{1,16}$", error="Format attendu : RNCP123.")  # String(20)


class CcpIn(Strict):
    code = fields.Str(required=True, validate=line(40, 1))
    libelle = fields.Str(required=True, validate=line(250, 1))


class TitreIn(Strict):
    code = fields.Str(required=True, validate=validate.Regexp(r"^(TP|CCS)-\d{5}$",
                                                              error="Code attendu : TP-00000 ou CCS-00000."))
    version_date = fields.Date(required=True)
    libelle = fields.Str(required=True, validate=line(250, 1))
    kind = fields.Str(required=True, validate=validate.OneOf(("TP", "CCS")))
    level = fields.Int(required=True, validate=validate.Range(min=3, max=8, error="Niveau entre 3 et 8."))
    nsf_codes = fields.List(fields.Str(validate=validate.Regexp(r"^\d{3}[a-z]?$", error="Code NSF invalide.")),
                            required=True, validate=count(MAX_NSF, "codes NSF", 1))
    rncp = fields.Str(load_default=None, allow_none=True, validate=RNCP)
    jo_date = fields.Date(load_default=None, allow_none=True)
    end_of_validity = fields.Date(load_default=None, allow_none=True)
    prolongation_until = fields.Date(load_default=None, allow_none=True)
    ccps = fields.List(fields.Nested(CcpIn), load_default=list, validate=count(MAX_CCPS, "CCP"))
    ccs_of = fields.Str(load_default=None, allow_none=True, validate=TITRE_CODE)

    @validates_schema
    def _coherent(self, data, **_):
        errors = {}
        if not data["code"].startswith(data["kind"] + "-"):
            errors["kind"] = ["Le type ne correspond pas au code."]
        if data["kind"] == "CCS" and not data.get("ccs_of"):
            errors["ccs_of"] = ["Un CCS est rattaché à un titre professionnel."]
        if data.get("jo_date") and data["jo_date"] < data["version_date"]:
            errors["jo_date"] = ["La publication au JO ne peut pas précéder l'arrêté."]
        end = data.get("end_of_validity")
        if end and end < data["version_date"]:
            errors["end_of_validity"] = ["La fin de validité ne peut pas précéder l'arrêté."]
        if data.get("prolongation_until") and (not end or data["prolongation_until"] < end):
            errors["prolongation_until"] = ["La prolongation suit la fin de validité."]
        if errors:
            raise ValidationError(errors)


class TitreOut(Schema):
    code = fields.Str()
    version_date = fields.Date()
    libelle = fields.Str()
    kind = fields.Str()
    level = fields.Int()
    nsf_codes = fields.List(fields.Str())
    rncp = fields.Str(allow_none=True)
    jo_date = fields.Date(allow_none=True)
    end_of_validity = fields.Date(allow_none=True)
    prolongation_until = fields.Date(allow_none=True)
    ccps = fields.List(fields.Dict())
    ccs_of = fields.Str(allow_none=True)


class TitrePatch(Strict):
    libelle = fields.Str(validate=line(250, 1))
    level = fields.Int(validate=validate.Range(min=3, max=8, error="Niveau entre 3 et 8."))
    nsf_codes = fields.List(fields.Str(validate=validate.Regexp(r"^\d{3}[a-z]?$", error="Code NSF invalide.")),
                            validate=count(MAX_NSF, "codes NSF"))
    rncp = fields.Str(allow_none=True, validate=RNCP)
    jo_date = fields.Date(allow_none=True)
    end_of_validity = fields.Date(allow_none=True)
    prolongation_until = fields.Date(allow_none=True)
    ccps = fields.List(fields.Nested(CcpIn), validate=count(MAX_CCPS, "CCP"))


class SessionCreate(Strict):
    site_id = fields.Str(required=True, validate=length(64))
    titre_code = fields.Str(required=True, validate=TITRE_CODE)
    titre_version = fields.Date(load_default=None)
    ccp_code = fields.Str(load_default=None, allow_none=True, validate=length(40))
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None)
    starts_at = fields.AwareDateTime(load_default=None)
    convocation_at = fields.AwareDateTime(load_default=None)


class DatesChange(Strict):
    starts_at = fields.AwareDateTime(load_default=None)
    ends_at = fields.AwareDateTime(load_default=None)
    convocation_at = fields.AwareDateTime(load_default=None)
    reason = fields.Str(load_default=None, validate=lines(2000))


class Reason(Strict):
    reason = fields.Str(load_default=None, validate=lines(2000))


class DteRequest(Strict):
    candidate_count = fields.Int(required=True, validate=validate.Range(min=0, max=500))


class RealEnd(Strict):
    real_end_date = fields.Date(required=True)


class Enrol(Strict):
    candidate_id = fields.Int(required=True, validate=validate.Range(min=1))


class ResultIn(Strict):
    candidate_id = fields.Int(required=True)
    decision = fields.Str(required=True, validate=validate.OneOf(DECISIONS))
    ccps_obtained = fields.List(fields.Str(validate=length(40)), load_default=list,
                                validate=count(MAX_CCPS, "CCP"))


class Results(Strict):
    results = fields.List(fields.Nested(ResultIn), required=True, validate=count(1000, "résultats"))


class JuryAdd(Strict):
    jure_id = fields.Str(required=True, validate=length(36))


# The list's sortable columns (a whitelist: never a column name taken from the query as is); "-" sorts descending.
SORT_COLUMNS = ("public_id", "titre_code", "departement", "starts_at", "ends_at", "status")
SORTS = SORT_COLUMNS + tuple(f"-{c}" for c in SORT_COLUMNS)


class SessionQuery(Strict):
    status = fields.Str(load_default=None, validate=validate.OneOf(STATUSES))
    starts_from = fields.Date(load_default=None)
    starts_to = fields.Date(load_default=None)
    site_id = fields.Str(load_default=None, validate=validate.Length(max=64))
    titre_code = fields.Str(load_default=None, validate=validate.Length(max=12))
    # S10: the dashboard's DTE and relaxation counts open the sessions they count.
    dte_requested = fields.Bool(load_default=None)
    under_relaxation = fields.Bool(load_default=None)
    sort = fields.Str(load_default="-starts_at", validate=validate.OneOf(SORTS, error=(
        "Tri inconnu : colonnes possibles " + ", ".join(SORT_COLUMNS) + " (précédées de « - » pour l'ordre "
        "décroissant).")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class Competence(Strict):
    titre_code = fields.Str(required=True, validate=TITRE_CODE)
    debut_emploi = fields.Date(load_default=None, allow_none=True)
    derniere_occupation = fields.Date(load_default=None, allow_none=True)
    date_professionnalisation = fields.Date(load_default=None, allow_none=True)


class JureIn(Strict):
    civilite = fields.Str(required=True, validate=validate.OneOf(("M", "Mme")))
    nom = fields.Str(required=True, validate=line(120, 1))  # C5: as the candidates' names, nothing invisible
    prenom = fields.Str(required=True, validate=line(120, 1))
    email = fields.Email(load_default=None, allow_none=True, validate=length(250))
    departement = fields.Str(required=True, validate=validate.Regexp(r"^(\d{2}|2A|2B|97\d)$",
                                                                     error="Département invalide."))
    region = fields.Str(required=True, validate=validate.Length(min=2, max=3))
    competences = fields.List(fields.Nested(Competence), load_default=list, validate=count(100, "compétences"))
    commentaires = fields.Str(load_default=None, allow_none=True, validate=lines(4000))


class JurePatch(JureIn):
    """Used with partial=True: any subset of the fields."""


class HabilitationIn(Strict):
    titre_code = fields.Str(required=True, validate=TITRE_CODE)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)

    @validates_schema
    def _order(self, data, **_):
        if data["valid_until"] < data["valid_from"]:
            raise ValidationError({"valid_until": ["La fin d'habilitation ne peut pas précéder son début."]})


class ConflictIn(Strict):
    candidate_id = fields.Int(required=True)
    nature = fields.Str(required=True, validate=line(200, 1))


class RelaxationIn(Strict):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    reason = fields.Str(required=True, validate=lines(2000, 1))

    @validates_schema
    def _order(self, data, **_):
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError({"ends_on": ["La fin de la période ne peut pas précéder son début."]})


class RelaxationClose(Strict):
    reason = fields.Str(required=True, validate=lines(2000, 1))


class ControlIn(Strict):
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(controls.KINDS),
                                                             error="Choisissez : sur place ou sur pièces."))
    planned_on = fields.Date(required=True)


class ControlOutcome(Strict):
    outcome = fields.Str(required=True, validate=validate.OneOf(
        tuple(controls.OUTCOMES), error="Choisissez le résultat du contrôle."))
    observations = fields.Str(load_default=None, allow_none=True, validate=lines(5000))


class ControlCancel(Strict):
    reason = fields.Str(required=True, validate=lines(2000, 1))


class ControlQuery(Strict):
    vue = fields.Str(load_default="programmes", validate=validate.OneOf(controls.VIEWS))
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))


class MassCriteria(Strict):
    statuses = fields.List(fields.Str(validate=validate.OneOf(STATUSES)), required=True,
                           validate=count(len(STATUSES), "statuts", 1))
    starts_from = fields.Date(load_default=None)
    starts_to = fields.Date(load_default=None)
    ends_from = fields.Date(load_default=None)
    ends_to = fields.Date(load_default=None)

    @validates_schema
    def _ranges(self, data, **_):
        errors = {}
        for low, high in (("starts_from", "starts_to"), ("ends_from", "ends_to")):
            if data.get(low) and data.get(high) and data[high] < data[low]:
                errors[high] = ["La fin de la plage ne peut pas précéder son début."]
        if errors:
            raise ValidationError(errors)


class MassApply(Strict):
    criteria = fields.Nested(MassCriteria, required=True)
    action = fields.Str(required=True, validate=validate.OneOf(("annuler", "deplacer_date_fin")))
    new_end_date = fields.Date(load_default=None)
    reason = fields.Str(required=True, validate=lines(2000, 1))
    expected_fingerprint = fields.Str(load_default=None, validate=validate.Length(max=64))

    @validates_schema
    def _end(self, data, **_):
        if data["action"] == "deplacer_date_fin" and not data.get("new_end_date"):
            raise ValidationError({"new_end_date": ["La nouvelle date de fin est obligatoire."]})
