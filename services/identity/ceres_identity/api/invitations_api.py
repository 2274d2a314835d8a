"""Invitations (I3)."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.errors import ApiError
from ceres_shared.openapi import problem_doc
from ceres_shared.web import db, runtime

from ..service_layer import invitations
from . import schemas
from .pages import HTML_PAGE, page

blp = Blueprint("invitations", __name__, description="Invitations de collaborateurs (I3)")


@blp.route("/accounts/search")
@require("accounts.search")
@blp.arguments(schemas.SearchArgs, location="query")
@blp.response(200, schemas.AccountHit(many=True))
def search(args):
    """Trouver le compte d'un collègue par son nom (3 caractères au moins, 10 résultats au plus)."""
    return invitations.search_accounts(db(), current_principal(), args["q"])


@blp.route("/invitations", methods=["POST"])
@require("invitations.manage")
@blp.arguments(schemas.InvitationIn)
@blp.response(201, schemas.InvitationOut)
def invite(body):
    """Inviter un compte (trouvé par son nom) ou une adresse électronique, avec un rôle, pour un SIRET de
    l'entreprise (même SIREN)."""
    if bool(body.get("account_id")) == bool(body.get("email")):
        raise ApiError(422, "Certaines données sont invalides.",
                       errors={"account_id": ["Choisissez un compte ou saisissez une adresse électronique."]})
    return invitations.invite(runtime(), db(), current_principal(), body)


@blp.route("/invitations/accept")
@blp.alt_response(200, **HTML_PAGE)
def accept_page():
    """La page ouverte par le lien du courriel d'invitation."""
    return page("Invitation à rejoindre la démarche CERES",
                "Connectez-vous avec le compte invité puis acceptez l'invitation.", request.path,
                request.args.get("token", ""), "Accepter l'invitation")


@blp.route("/invitations/accept", methods=["POST"])
@problem_doc(blp, 404, "Invitation inconnue")
@problem_doc(blp, 410, "Invitation expirée")
@require("invitations.accept")
@blp.arguments(schemas.TokenOnly)
@blp.response(200, schemas.Attached)
def accept(body):
    """Accepter une invitation, une fois connecté avec le compte invité."""
    return invitations.accept(runtime(), db(), current_principal(), body["token"])


@blp.route("/invitations/<invitation_id>", methods=["DELETE"])
@require("invitations.manage")
@blp.response(200, schemas.InvitationOut)
def revoke(invitation_id):
    """Annuler une invitation en attente."""
    return invitations.revoke(runtime(), db(), current_principal(), invitation_id)
