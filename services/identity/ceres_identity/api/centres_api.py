"""Activation codes and letters for competent agents (E3, I2, I4); members of a centre (I3)."""
from __future__ import annotations

from pathlib import Path

from flask import Response
from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db, runtime

from ..service_layer import centres, invitations
from . import schemas

blp = Blueprint("centres", __name__, url_prefix="/centres",
                description="Codes d'activation, courriers et membres des centres")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_renderer = None


def renderer():
    global _renderer
    if _renderer is None:
        from ceres_shared.documents import DocumentRenderer

        _renderer = DocumentRenderer(TEMPLATES)
    return _renderer


@blp.route("/<siret>/activation-code")
@require("activation_code.read")
@blp.response(200, schemas.CodeOut)
def show_code(siret):
    """Le code d'activation d'un centre, pour un agent compétent pour sa commune (la lecture est tracée)."""
    return centres.show_code(runtime(), db(), current_principal(), siret)


@blp.route("/<siret>/activation-code", methods=["POST"])
@require("activation_code.regenerate")
@blp.response(201, schemas.CodeOut)
def regenerate_code(siret):
    """Un nouveau code d'activation ; l'ancien ne fonctionne plus."""
    return centres.regenerate_code(runtime(), db(), current_principal(), siret)


@blp.route("/<siret>/activation-letter")
@require("activation_code.read")
@blp.response(200, content_type="application/pdf")
def activation_letter(siret):
    """Le courrier « Modalités d'accès à l'applicatif CERES » (PDF), à envoyer au centre."""
    context = centres.letter_context(runtime(), db(), current_principal(), siret)
    pdf = renderer().render_pdf("activation_letter.html", context, artwork=True)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="code-activation-{siret}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/<siret>/members")
@require("members.read")
@blp.response(200, schemas.MemberOut(many=True))
def members(siret):
    """Les comptes ayant accès au centre (gestionnaire de l'entreprise, ou agent compétent)."""
    return invitations.members(db(), current_principal(), siret)


@blp.route("/<siret>/members/<account_id>", methods=["DELETE"])
@require("members.manage")
@blp.response(204)
def remove_member(siret, account_id):
    """Retirer l'accès d'un compte au centre (le dernier gestionnaire ne peut pas être retiré)."""
    invitations.remove_member(runtime(), db(), current_principal(), siret, account_id)


@blp.route("/<siret>/invitations")
@require("invitations.manage")
@blp.response(200, schemas.InvitationOut(many=True))
def list_invitations(siret):
    """Les invitations pour ce centre."""
    return invitations.list_invitations(db(), current_principal(), siret)
