"""Administration: agents (I4), machine clients, signing keys."""
from __future__ import annotations

from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db, runtime

from ..service_layer import agents, clients
from . import schemas

blp = Blueprint("admin", __name__, description="Agents, clients machine, clés (administrateurs)")


@blp.route("/agents", methods=["POST"])
@require("agents.manage")
@blp.arguments(schemas.AgentIn)
@blp.response(201, schemas.AgentOut)
def create_agent(body):
    """Créer un compte agent avec son profil et son périmètre ; il reçoit un lien pour choisir son mot de passe."""
    return agents.create_agent(runtime(), db(), current_principal(), body)


@blp.route("/agents")
@require("agents.manage")
@blp.response(200, schemas.AgentOut(many=True))
def list_agents():
    return agents.list_agents(db())


@blp.route("/agents/<agent_id>")
@require("agents.manage")
@blp.response(200, schemas.AgentOut)
def get_agent(agent_id):
    return agents.get_agent(db(), agent_id)


@blp.route("/agents/<agent_id>", methods=["PATCH"])
@require("agents.manage")
@blp.arguments(schemas.AgentPatch)
@blp.response(200, schemas.AgentOut)
def update_agent(body, agent_id):
    """Changer le profil, le périmètre ou l'état d'un agent (ses connexions ouvertes sont fermées)."""
    return agents.update_agent(runtime(), db(), current_principal(), agent_id, body)


@blp.route("/clients", methods=["POST"])
@require("clients.manage")
@blp.arguments(schemas.ClientIn)
@blp.response(201, schemas.ClientOut)
def create_client(body):
    """Créer des identifiants machine ; le secret n'est montré qu'ici."""
    return clients.create_client(runtime(), db(), current_principal(), body["name"], body["role"])


@blp.route("/clients")
@require("clients.manage")
@blp.response(200, schemas.ClientOut(many=True))
def list_clients():
    return clients.list_clients(db())


@blp.route("/clients/<client_id>", methods=["DELETE"])
@require("clients.manage")
@blp.response(200, schemas.ClientOut)
def revoke_client(client_id):
    return clients.revoke_client(runtime(), db(), current_principal(), client_id)


@blp.route("/keys/rotate", methods=["POST"])
@require("keys.rotate")
@blp.response(201, schemas.KidOut)
def rotate_keys():
    """Nouvelle clé de signature, publiée aussitôt (JWKS) mais utilisée pour signer seulement après un délai
    d'activation (6 minutes), le temps que chaque service l'ait lue ; les précédentes restent publiées le temps que
    leurs jetons expirent."""
    ring = runtime().identity.keyring
    kid = ring.rotate()
    runtime().audit.record(db(), entity_type="signing_key", entity_id=kid, action="rotate",
                           actor=current_principal().label, actor_role="admin")
    db().commit()
    return {"kid": kid}
