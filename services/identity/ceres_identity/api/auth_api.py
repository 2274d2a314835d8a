"""Log-in, tokens, log-out, password reset."""
from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint

from ceres_shared.auth import verify
from ceres_shared.errors import ApiError
from ceres_shared.openapi import problem_doc
from ceres_shared.web import db, runtime

from ..service_layer import accounts, tokens
from . import client_ip, schemas
from .pages import HTML_PAGE, PASSWORD_FIELDS, page

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Connexion, jetons, mot de passe")


@blp.route("/login", methods=["POST"])
@problem_doc(blp, 401, "Adresse électronique ou mot de passe incorrect")
@problem_doc(blp, 403, "Compte pas encore activé, ou désactivé")
@problem_doc(blp, 429)
@blp.arguments(schemas.Login)
@blp.response(200, schemas.TokenPair)
def login(body):
    """Se connecter : un jeton d'accès court (EdDSA) et un jeton de renouvellement."""
    return accounts.login(db(), runtime(), body["email"], body["password"], client_ip())


@blp.route("/refresh", methods=["POST"])
@problem_doc(blp, 401, "Jeton de rafraîchissement invalide, expiré ou révoqué")
@blp.arguments(schemas.RefreshIn)
@blp.response(200, schemas.TokenPair)
def refresh(body):
    """Renouveler les jetons (le jeton de renouvellement est remplacé à chaque usage)."""
    session = db()
    pair = tokens.refresh(session, runtime().identity, body["refresh_token"])
    session.commit()
    return pair


@blp.route("/logout", methods=["POST"])
@blp.arguments(schemas.LogoutIn, required=False)  # a body-less log-out is accepted (204)
@blp.response(204)
def logout(body):
    """Se déconnecter : le jeton de renouvellement et ceux de la même connexion sont révoqués, ainsi que le jeton
    d'accès donné et ceux émis avant pour le compte (les services les refusent dans les secondes qui suivent)."""
    session = db()
    tokens.logout(session, body.get("refresh_token"), _verified(body.get("access_token")))
    session.commit()


def _verified(access_token: str | None):
    """The principal of a genuine access token (one of ours, unexpired), else None: nothing to revoke."""
    if not access_token:
        return None
    try:
        return verify(access_token, current_app.extensions["ceres_keys"], current_app.config["JWT_AUDIENCE"])
    except ApiError:
        return None


@blp.route("/token", methods=["POST"])
@problem_doc(blp, 401, "Identifiants du client invalides")
@blp.arguments(schemas.ClientCredentials)
@blp.response(200, schemas.TokenPair)
def client_token(body):
    """Jeton machine à machine (client_credentials) : l'intégration Afpa, les traitements internes."""
    return tokens.client_token(db(), runtime().identity, body["client_id"], body["client_secret"])


@blp.route("/password-reset", methods=["POST"])
@problem_doc(blp, 429)
@blp.arguments(schemas.ResetRequest)
@blp.response(202, schemas.Detail)
def request_reset(body):
    """Mot de passe oublié : un lien par courriel. La réponse ne dit pas si l'adresse a un compte."""
    accounts.request_reset(db(), runtime(), body["email"], client_ip())
    return {"detail": accounts.RESET_ACCEPTED}


@blp.route("/password-reset")
@blp.alt_response(200, **HTML_PAGE)
def reset_page():
    """La page ouverte par le lien du courriel : choisir un nouveau mot de passe."""
    return page("Nouveau mot de passe", "Choisissez votre nouveau mot de passe (12 caractères au moins).",
                request.path + "/confirm", request.args.get("token", ""), "Enregistrer", PASSWORD_FIELDS)


@blp.route("/password-reset/confirm", methods=["POST"])
@problem_doc(blp, 404, "Lien inconnu")
@problem_doc(blp, 410, "Lien expiré")
@blp.arguments(schemas.ResetConfirm)
@blp.response(200, schemas.Detail)
def confirm_reset(body):
    """Enregistrer le nouveau mot de passe ; toutes les connexions ouvertes sont fermées."""
    accounts.confirm_reset(db(), runtime(), body["token"], body["password"], body["password_confirmation"],
                           client_ip())
    return {"detail": "Votre mot de passe est enregistré. Vous pouvez vous connecter."}
