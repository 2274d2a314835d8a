"""The shared web layer on a small app of its own: validation errors field by field in French, unknown
fields, wrong types, malformed JSON, and the permission decorator."""
from __future__ import annotations

import pytest
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ceres_shared.auth import current_principal, require
from ceres_shared.config import BusSettings, Settings
from ceres_shared.db import new_metadata
from ceres_shared.errors import Conflict
from ceres_shared.keyring import KeyRing
from ceres_shared.platform_tables import PlatformTables
from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

blp = Blueprint("things", __name__, url_prefix="/things")


class ThingSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=2, max=10))
    count = fields.Int(required=True)
    kind = fields.Str(load_default="a", validate=validate.OneOf(["a", "b"]))


@blp.route("", methods=["POST"])
@blp.arguments(ThingSchema)
@blp.response(201, ThingSchema)
@require("thing.create")
def create_thing(body):
    if body["name"] == "taken":
        raise Conflict("Ce nom est déjà pris.", code="name_taken")
    principal = current_principal()
    return {**body, "name": f"{body['name']}:{principal.role}"}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return KeyRing(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def client(issuer, tmp_path_factory):
    metadata = new_metadata()
    runtime = Runtime(
        settings=Settings(service="sessions", database_url=f"sqlite:///{tmp_path_factory.mktemp('db')}/t.db",
                          bus=BusSettings(url="memory://"), jwks_url=None),
        metadata=metadata,
        tables=PlatformTables(metadata),
        migrations=None,
        policy={"thing.create": frozenset({"ud"}), "history.read": frozenset({"ud"})},
        jwks=issuer.jwks(),
    )
    return create_service_app(runtime, [blp], title="CERES — test").test_client()


@pytest.fixture
def auth(issuer):
    return {"Authorization": "Bearer " + issuer.issue("a1", "ud", scope={"departements": ["01"]})}


def test_valid_request_is_accepted(client, auth):
    response = client.post("/things", json={"name": "abc", "count": 2}, headers=auth)
    assert response.status_code == 201
    assert response.json == {"name": "abc:ud", "count": 2, "kind": "a"}


def test_each_bad_field_is_named_with_a_french_message(client, auth):
    response = client.post("/things", json={"name": "x", "count": "many", "kind": "z", "colour": "red"},
                           headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert errors["name"] == ["Trop court."] or errors["name"] == ["Longueur invalide."]
    assert errors["count"] == ["Nombre entier attendu."]
    assert errors["kind"][0].startswith("Valeur non autorisée")
    assert errors["colour"] == ["Champ inconnu."]
    assert response.json["detail"] == "Certaines données sont invalides."


def test_missing_fields_and_malformed_json(client, auth):
    missing = client.post("/things", json={}, headers=auth)
    assert missing.status_code == 422
    assert missing.json["errors"] == {"name": ["Ce champ est obligatoire."], "count": ["Ce champ est obligatoire."]}
    malformed = client.post("/things", data="{oops", content_type="application/json", headers=auth)
    assert malformed.status_code == 400
    assert malformed.mimetype == "application/problem+json"


def test_permission_and_domain_errors(client, issuer, auth):
    centre = {"Authorization": "Bearer " + issuer.issue("c1", "centre", scope={"sirets": ["35600000000048"]})}
    assert client.post("/things", json={"name": "abc", "count": 1}, headers=centre).status_code == 403
    taken = client.post("/things", json={"name": "taken", "count": 1}, headers=auth)
    assert taken.status_code == 409
    assert taken.json["detail"] == "Ce nom est déjà pris."
    assert taken.json["type"].endswith("#name_taken")


def test_permission_is_checked_before_the_body_is_validated(client, issuer):
    """@blp.arguments sits outside @require here: still, a caller without the right learns nothing of validation."""
    centre = {"Authorization": "Bearer " + issuer.issue("c1", "centre", scope={"sirets": ["35600000000048"]})}
    refused = client.post("/things", json={"name": "x", "count": "many"}, headers=centre)
    assert refused.status_code == 403
    assert "errors" not in refused.json
    anonymous = client.post("/things", json={"name": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json["detail"] == "Veuillez vous connecter."


def test_oversize_body_is_refused_before_reading(client, auth):
    response = client.post("/things", data=b"{" + b" " * (3 * 1024 * 1024) + b"}", content_type="application/json",
                           headers=auth)
    assert response.status_code == 413


def test_text_a_database_cannot_store_is_refused_by_field(client, auth):
    nul = client.post("/things", data='{"name": "ab\\u0000c", "count": 1}', content_type="application/json",
                      headers=auth)
    assert nul.status_code == 422
    assert nul.json["errors"] == {"name": ["Caractères non autorisés."]}
    surrogate = client.post("/things", data='{"name": "ab\\udb84", "count": 1}', content_type="application/json",
                            headers=auth)
    assert surrogate.status_code == 422 and "name" in surrogate.json["errors"]
    nested = client.post("/things", data='{"name": "abc", "count": 1, "tags": ["ok", "\\ud800"]}',
                         content_type="application/json", headers=auth)
    assert nested.status_code == 422 and "tags" in nested.json["errors"]
    accents = client.post("/things", json={"name": "Émile ç", "count": 1}, headers=auth)
    assert accents.status_code == 201
