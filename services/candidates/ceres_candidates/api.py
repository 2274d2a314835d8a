"""HTTP API of the candidates service (flask-smorest; marshmallow at the edge, French messages)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Response, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates, validates_schema, ValidationError

from ceres_shared.auth import current_principal, require
from ceres_shared.validation import VISIBLE_LINES, JoinedLength, length, line, lines
from ceres_shared.openapi import problem_doc, rfc3339
from ceres_shared.web import db, runtime

from .domain.countries import countries
from .domain.names import name_key
from .models import Candidate
from .service_layer import access, records
from .service_layer.duplicates import SEARCH_WINDOW, find_duplicates, present, ranked_search
from .service_layer.merge import merge
from .service_layer.projections import current_id, titre_labels

blp = Blueprint("candidates", __name__, url_prefix="/candidates", description="Dossiers candidats (C1 à C5)")
ref_blp = Blueprint("countries", __name__, url_prefix="/countries", description="Pays de naissance (INSEE)")
communes_blp = Blueprint("communes", __name__, url_prefix="/communes",
                         description="Communes du référentiel (C3), y compris celles qui n'existent plus")

NAME = line(100, 1)  # C5: no invisible or control character in a name
# The prénoms as the sessions service stores them, joined by spaces in a String(200) column (and prenoms_key).
PRENOMS = [validate.Length(min=1, max=6, error="De 1 à 6 prénoms."), JoinedLength(200)]
PRENOM = line(60, 1)


def _has_letter(self, value: str, **_) -> None:
    """L3: a birth name the duplicate check and the search can read (C1 compares letters)."""
    if not name_key(value):
        raise ValidationError("Le nom de naissance doit contenir au moins une lettre.")



class AddressSchema(Schema):
    lines = fields.List(fields.Str(validate=line(38)), required=True,
                        validate=validate.Length(min=1, max=4, error="De 1 à 4 lignes."))
    code_postal = fields.Str(required=True, validate=line(10, 1))
    commune_code = fields.Str(load_default=None, allow_none=True,
                              validate=validate.Regexp(r"^\d[0-9AB]\d{3}$", error="Code commune INSEE attendu."))
    commune_label = fields.Str(load_default=None, allow_none=True, validate=line(100))
    country = fields.Str(load_default="FRANCE", validate=line(100))


class CandidateInSchema(Schema):
    genre = fields.Str(required=True, validate=validate.OneOf(("M", "F"), error="M ou F attendu."))
    nom_naissance = fields.Str(required=True, validate=NAME)
    _birth_name_letter = validates("nom_naissance")(_has_letter)
    nom_usage = fields.Str(load_default=None, allow_none=True, validate=line(100))
    prenoms = fields.List(fields.Str(validate=PRENOM), required=True, validate=PRENOMS)
    birth_date = fields.Date(required=True)
    birth_country_code = fields.Str(load_default="99100",
                                    validate=validate.Regexp(r"^99\d{3}$", error="Code pays INSEE attendu (99xxx)."))
    birth_commune_code = fields.Str(load_default=None, allow_none=True,
                                    validate=validate.Regexp(r"^\d[0-9AB]\d{3}$", error="Code commune INSEE attendu."))
    address = fields.Nested(AddressSchema, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True, validate=length(254))
    phone = fields.Str(load_default=None, allow_none=True,
                       validate=validate.Regexp(r"^\+?[0-9 .()-]{6,20}$", error="Numéro de téléphone invalide."))
    formation = fields.Str(load_default=None, allow_none=True, validate=lines(2000))
    emploi = fields.Str(load_default=None, allow_none=True, validate=lines(2000))
    vae = fields.Bool(load_default=False)
    centre_siret = fields.Str(load_default=None, allow_none=True,
                              validate=validate.Regexp(r"^\d{14}$", error="SIRET : 14 chiffres attendus."))
    duplicate_reason = fields.Str(load_default=None, allow_none=True, validate=lines(1000))


class CandidateUpdateSchema(CandidateInSchema):
    class Meta:
        exclude = ("centre_siret", "duplicate_reason")


class DuplicateCheckSchema(Schema):
    nom_naissance = fields.Str(required=True, validate=NAME)
    _birth_name_letter = validates("nom_naissance")(_has_letter)
    nom_usage = fields.Str(load_default=None, allow_none=True, validate=line(100))
    prenoms = fields.List(fields.Str(validate=PRENOM), required=True, validate=PRENOMS)
    birth_date = fields.Date(required=True)
    birth_country_code = fields.Str(load_default=None, allow_none=True, validate=length(5))
    birth_commune_code = fields.Str(load_default=None, allow_none=True, validate=length(5))


class SearchArgs(Schema):
    q = fields.Str(required=True, validate=validate.Length(min=2, max=100, error="Au moins 2 caractères."))
    birth_date = fields.Date(load_default=None)
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=SEARCH_WINDOW - 1,
                                                                error=f"Entre 0 et {SEARCH_WINDOW - 1}."))


class CommuneQuery(Schema):
    q = fields.Str(required=True, validate=validate.Length(min=2, max=100, error="Entre 2 et 100 caractères."),
                   metadata={"description": "Nom, code postal ou code INSEE (ou leur début, 2 à 4 chiffres)"})
    on = fields.Date(load_default=None, metadata={"description": "Les communes telles qu'elles étaient ce jour-là "
                                                                 "(une naissance) ; sans date, celles d'aujourd'hui"})
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=50, error="Entre 1 et 50."))


class MergeSchema(Schema):
    merged_id = fields.Int(required=True, validate=validate.Range(min=1))
    reason = fields.Str(required=True, validate=[
        validate.Length(min=3, max=1000, error="Motif de 3 à 1000 caractères."), VISIBLE_LINES])

    @validates_schema
    def _reason_not_blank(self, data, **_):
        if not data["reason"].strip():
            raise ValidationError("Le motif est obligatoire.", "reason")


def _ref():
    rt = runtime()
    found = getattr(rt, "communes", None)
    if found is None:
        from ceres_shared.communes import Referential

        found = Referential.load()
    return found


def record_dict(c: Candidate, session=None) -> dict:
    data = {
        "id": c.id, "status": c.status, "genre": c.genre, "nom_naissance": c.nom_naissance,
        "nom_usage": c.nom_usage, "prenoms": list(c.prenoms), "birth_date": c.birth_date.isoformat(),
        "birth_country_code": c.birth_country_code, "birth_country_label": c.birth_country_label,
        "birth_commune_code": c.birth_commune_code, "birth_commune_label": c.birth_commune_label,
        "address": records.event_payload(c)["address"], "email": c.email, "phone": c.phone,
        "formation": c.formation, "emploi": c.emploi, "vae": c.vae, "created_by": c.created_by,
        "created_by_siret": c.created_by_siret, "duplicate_reason": c.duplicate_reason,
        "created_at": rfc3339(c.created_at), "updated_at": rfc3339(c.updated_at),
        "validated_at": rfc3339(c.validated_at), "validated_by": c.validated_by,
        "merged_into": c.merged_into,
    }
    if session is not None:
        data["parcours"] = records.certification_path(session, c.id, titre_labels(session))
        data["merged_from"] = records.merged_ids(session, c.id)[1:]
    return data


def _saved(c: Candidate, status: int = 200):
    session = db()
    session.commit()
    return record_dict(c, session), status


@blp.route("", methods=["POST"])
@require("candidate.create")
@blp.arguments(CandidateInSchema)
@blp.response(201)
def create_candidate(data):
    """Créer un dossier (brouillon). 409 avec les dossiers existants si la personne semble déjà enregistrée ;
    un agent peut passer outre en donnant `duplicate_reason`."""
    c = records.create(db(), runtime(), _ref(), current_principal(), data)
    return _saved(c, 201)


@blp.route("", methods=["GET"])
@require("candidate.search")
@blp.arguments(SearchArgs, location="query")
@blp.response(200)
def search_candidates(args):
    """Rechercher par nom (accents, casse, tirets, prénoms inversés, sonorité), dans votre périmètre, les plus
    proches d'abord ; `offset` donne la suite, `has_more` dit s'il y en a une, `total` combien ont été trouvés
    (au plus 200 : `capped` dit alors qu'il peut y en avoir d'autres, à trouver en précisant la recherche)."""
    principal = current_principal()
    start, end = args["offset"], args["offset"] + args["limit"]
    found, full = ranked_search(db(), args["q"], visible_clause=access.visible(principal),
                                birth_date=args["birth_date"])
    return {"results": [m.as_dict() for m in found[start:end]], "offset": start, "limit": args["limit"],
            "total": len(found), "has_more": len(found) > end, "capped": full}


@blp.route("/duplicates", methods=["POST"])
@require("candidate.create")
@blp.arguments(DuplicateCheckSchema)
@blp.response(200)
def check_duplicates(data):
    """Vérifier, avant de créer, si la personne existe déjà (C1). Un dossier de votre périmètre est donné en entier ;
    un autre est masqué (initiales, année de naissance), sauf si vous avez saisi exactement son identité : son
    numéro est alors donné, et un centre peut l'inscrire."""
    session = db()
    found = present(session, runtime(), current_principal(), find_duplicates(session, **data), data)
    session.commit()  # an exact match's grant (grants.py)
    return {"duplicates": found}


@blp.route("/<int:candidate_id>", methods=["GET"])
@require("candidate.read")
@blp.response(200)
def get_candidate(candidate_id: int):
    """Le dossier et son parcours de certification ; un dossier fusionné redirige vers le dossier conservé."""
    session, principal = db(), current_principal()
    c = records.load(session, principal, candidate_id)
    if c.merged_into is not None:
        target = records.load(session, principal, current_id(session, c.id))
        response = Response(status=301)
        response.headers["Location"] = url_for("candidates.get_candidate", candidate_id=target.id)
        return response
    records.record_read(session, runtime(), principal, c)
    return _saved(c)


@blp.route("/<int:candidate_id>", methods=["PATCH"])
# Partial: a field left out keeps its value (no defaults applied).
@blp.arguments(CandidateUpdateSchema(partial=True))
@blp.response(200)
@require("candidate.update")
def update_candidate(data, candidate_id: int):
    """Modifier un dossier à l'état brouillon (C4)."""
    c = records.update(db(), runtime(), _ref(), current_principal(), candidate_id, data)
    return _saved(c)


@blp.route("/<int:candidate_id>/validation", methods=["POST"])
@problem_doc(blp, 422, "Dossier incomplet ou incohérent (C5) : `errors` dit quoi corriger, champ par champ")
@require("candidate.validate")
@blp.response(200)
def validate_candidate(candidate_id: int):
    """Valider le dossier : contrôles C5, chaque problème sur son champ."""
    return _saved(records.validate(db(), runtime(), current_principal(), candidate_id))


@blp.route("/<int:candidate_id>/brouillon", methods=["POST"])
@require("candidate.reopen")
@blp.response(200)
def reopen_candidate(candidate_id: int):
    """Revenir à l'état brouillon (C4)."""
    return _saved(records.reopen(db(), runtime(), current_principal(), candidate_id))


@blp.route("/<int:candidate_id>/merge", methods=["POST"])
@require("candidate.merge")
@blp.arguments(MergeSchema)
@blp.response(200)
def merge_candidates(data, candidate_id: int):
    """Fusionner le dossier `merged_id` dans celui-ci (C1) : l'autre redirige ici, parcours et historiques gardés."""
    c = merge(db(), runtime(), current_principal(), candidate_id, data["merged_id"], data["reason"].strip())
    return _saved(c)


@blp.route("/<int:candidate_id>/history", methods=["GET"])
@require("candidate.history")
@blp.response(200)
def candidate_history(candidate_id: int):
    """Traçabilité du candidat, y compris celle des dossiers fusionnés dans celui-ci."""
    session, principal = db(), current_principal()
    c = records.load(session, principal, candidate_id)
    return {"entries": _history(session, c.id)}


def _history(session, candidate_id: int) -> list[dict]:
    entries = []
    for cid in records.merged_ids(session, candidate_id):
        for row in runtime().audit.history(session, records.ENTITY, str(cid)):
            entries.append({"candidate_id": cid, "action": row["action"], "actor": row["actor"],
                            "actor_role": row["actor_role"], "at": rfc3339(row["at"]),
                            "changes": row["changes"], "reason": row["reason"]})
    return sorted(entries, key=lambda e: e["at"])


@blp.route("/<int:candidate_id>/export", methods=["GET"])
@blp.alt_response(200, success=True, description="Toutes les données de la personne (JSON à télécharger)",
                  headers={"Content-Disposition": {"description": 'attachment; filename="candidat-<id>.json"',
                                                   "schema": {"type": "string"}}})
@require("candidate.export")
def export_candidate(candidate_id: int):
    """Droit d'accès (RGPD) : toutes les données de la personne, en JSON."""
    session, principal = db(), current_principal()
    c = records.load(session, principal, candidate_id)
    records.record_read(session, runtime(), principal, c, action="export")
    session.commit()
    body = {
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "responsable": "Ministère du Travail — DGEFP (titre professionnel)",
        "candidate": record_dict(c, session),
        "history": _history(session, c.id),
    }
    response = Response(json.dumps(body, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="candidat-{c.id}.json"'
    return response


@ref_blp.route("", methods=["GET"])
@ref_blp.response(200)
def list_countries():
    """Pays de naissance (code officiel géographique de l'INSEE)."""
    return {"countries": [{"code": c.code, "label": c.label} for c in countries().values()]}


@communes_blp.route("", methods=["GET"])
@require("commune.read")
@communes_blp.arguments(CommuneQuery, location="query")
@communes_blp.response(200)
def search_communes(args):
    """Communes par nom, code postal ou code INSEE (C3) : celles d'aujourd'hui, ou celles qui existaient à la date
    `on` (sous leur nom d'alors), les plus probables d'abord."""
    ref = _ref()
    return {"communes": [{
        "code": c.code, "name": c.name, "departement": c.departement,
        "departement_name": ref.departement_name(c.departement), "postcodes": list(c.postcodes),
        "current": c.current, "valid_from": c.valid_from.isoformat() if c.valid_from else None,
        "valid_until": c.valid_until.isoformat() if c.valid_until else None,
    } for c in ref.search(args["q"], on=args["on"], limit=args["limit"])]}
