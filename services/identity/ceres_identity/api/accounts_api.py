"""Portal accounts (I1) and the attachment of a centre (I2)."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import select

from ceres_shared.auth import current_principal, require
from ceres_shared.errors import NotFound
from ceres_shared.openapi import problem_doc
from ceres_shared.web import db, runtime

from ..models import Account, Centre, Membership
from ..service_layer import accounts, centres, tokens
from . import client_ip, schemas
from .pages import HTML_PAGE, page

blp = Blueprint("accounts", __name__, description="Comptes du portail (I1) et rattachement à un centre (I2)")


@blp.route("/accounts/signup-challenge")
@blp.response(200, schemas.Challenge)
def signup_challenge():
    """Le ticket anti-robot du formulaire d'inscription (preuve de travail et délai minimal)."""
    return accounts.signup_challenge(runtime().identity)


@blp.route("/accounts", methods=["POST"])
@problem_doc(blp, 429)
@blp.arguments(schemas.SignUp)
@blp.response(202, schemas.Detail)
def sign_up(body):
    """Créer un compte (I1). La réponse est la même que l'adresse ait déjà un compte ou non."""
    accounts.signup(db(), runtime(), body, client_ip())
    return {"detail": accounts.SIGNUP_ACCEPTED}


@blp.route("/accounts/activate")
@blp.alt_response(200, **HTML_PAGE)
def activation_page():
    """La page ouverte par le lien du courriel : un bouton « Activer mon compte »."""
    return page("Activation de votre compte", "Cliquez sur le bouton pour activer votre compte CERES.",
                request.path, request.args.get("token", ""), "Activer mon compte")


@blp.route("/accounts/activate", methods=["POST"])
@problem_doc(blp, 404, "Lien inconnu")
@problem_doc(blp, 410, "Lien expiré : la demande est supprimée")
@blp.arguments(schemas.TokenOnly)
@blp.response(200, schemas.Detail)
def activate(body):
    """Activer le compte : le lien sert une fois, pendant 24 heures (I1)."""
    accounts.activate(db(), runtime(), body["token"])
    return {"detail": "Votre compte est activé. Vous pouvez vous connecter avec votre adresse électronique."}


@blp.route("/me")
@problem_doc(blp, 404, "Ce compte n'existe plus")
@require("me.read")
@blp.response(200, schemas.Me)
def me():
    """Mon compte, mon rôle, mon périmètre et mes centres."""
    principal = current_principal()
    session = db()
    account = session.get(Account, principal.subject)
    if account is None:
        raise NotFound("Ce compte n'existe plus.")
    role, scope = tokens.claims_for(session, account)
    rows = session.execute(select(Membership, Centre).outerjoin(Centre, Centre.siret == Membership.siret)
                           .where(Membership.account_id == account.id).order_by(Membership.siret)).all()
    return {"id": account.id, "email": account.email, "civilite": account.civilite, "nom": account.nom,
            "prenom": account.prenom, "telephone": account.telephone, "kind": account.kind, "role": role,
            "scope": scope, "memberships": [{"siret": m.siret, "role": m.role,
                                             "raison_sociale": c.raison_sociale if c else None} for m, c in rows]}


@blp.route("/me/centres", methods=["POST"])
@problem_doc(blp, 404, "SIRET inconnu de CERES")
@problem_doc(blp, 429)
@require("centre.attach")
@blp.arguments(schemas.Attach)
@blp.response(201, schemas.Attached)
def attach(body):
    """Rattacher CERES à mon compte avec le SIRET et le code d'activation du centre (I2).

    Le premier utilisateur d'un centre en devient le gestionnaire. Renouvelez votre jeton (/auth/refresh) pour
    qu'il porte le nouveau SIRET."""
    return centres.attach(runtime(), db(), current_principal(), body["siret"], body["code"], client_ip())
