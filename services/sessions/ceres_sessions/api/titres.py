"""Titres catalogue: list, read, import (CSV or JSON), edit (DGEFP)."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.errors import NotFound
from ceres_shared.openapi import problem_doc
from ceres_shared.web import db, runtime

from ..service_layer import catalogue
from . import responses as doc
from .schemas import TitreOut, TitrePatch

blp = Blueprint("titres", __name__, url_prefix="/titres", description="Catalogue des titres professionnels et CCS")


@blp.route("")
@require("titre.read")
@blp.response(200, TitreOut(many=True))
def list_titres():
    return catalogue.list_titres(db())


@blp.route("/import", methods=["POST"])
@blp.alt_response(200, schema=doc.ImportReport, success=True)
@blp.doc(requestBody={"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}})
@problem_doc(blp, 415, "Ni text/csv ni application/json")
@problem_doc(blp, 422, "Fichier illisible, ou titres invalides (`errors` par ligne)")
@require("titre.write")
def import_titres():
    """Body: the file itself, `text/csv` (`;`-separated) or `application/json` (a list of titres).
    `?dry_run=1`: nothing is written; the answer adds « titres », what the import would do to each version
    (« publie », « mis_a_jour » with the changed fields, « inchange »), to be confirmed before the real import."""
    rows = catalogue.parse_import(request.get_data(), request.content_type or "")
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "oui")
    session = db()
    counts = catalogue.import_titres(session, current_principal(), rows, runtime(), dry_run=dry_run)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return counts, 200


@blp.route("/<code>")
@require("titre.read")
@blp.response(200, TitreOut(many=True))
def versions(code: str):
    found = catalogue.list_titres(db(), code)
    if not found:
        raise NotFound("Ce titre n'est pas au catalogue.")
    return found


@blp.route("/<code>/versions/<version>", methods=["PATCH"])
@require("titre.write")
@blp.arguments(TitrePatch)
@blp.response(200, TitreOut)
def edit(changes: dict, code: str, version: str):
    try:
        day = date.fromisoformat(version)
    except ValueError:
        raise NotFound("Ce titre (ou cette version) n'existe pas dans le catalogue.") from None
    session = db()
    titre = catalogue.update_titre(session, current_principal(), code, day, changes, runtime())
    session.commit()
    return titre
