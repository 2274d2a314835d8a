"""L9 on a small app of the shared factory: every status an operation answers is in its OpenAPI document (no
catch-all `default`), errors are the Problem schema in application/problem+json, OPTIONS and 405 name only the
route's methods, a record id out of range is a 404, an empty PATCH is refused, timestamps carry their offset."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ceres_shared.auth import require
from ceres_shared.config import BusSettings, Settings
from ceres_shared.db import new_metadata
from ceres_shared.keyring import KeyRing
from ceres_shared.openapi import UtcDateTime, rfc3339
from ceres_shared.platform_tables import PlatformTables
from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

blp = Blueprint("gadgets", __name__, url_prefix="/gadgets")


class GadgetPatch(Schema):
    name = fields.Str()


@blp.route("/preview/label")
@require("gadget.read")
def preview():
    return {"preview": True}


@blp.route("/<int:gadget_id>")
@require("gadget.read")
def read(gadget_id):
    return {"id": gadget_id}


@blp.route("/<slug>/label", methods=["DELETE"])
@require("gadget.read")
def remove(slug):
    return "", 204


@blp.route("/<int:gadget_id>", methods=["PATCH"])
@blp.arguments(GadgetPatch)
@blp.response(200, GadgetPatch)
@require("gadget.read")
def edit(data, gadget_id):
    return data


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return KeyRing(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def runtime(issuer, tmp_path_factory):
    metadata = new_metadata()
    rt = Runtime(
        settings=Settings(service="sessions", database_url=f"sqlite:///{tmp_path_factory.mktemp('db')}/t.db",
                          bus=BusSettings(url="memory://"), jwks_url=None),
        metadata=metadata, tables=PlatformTables(metadata), migrations=None,
        policy={"gadget.read": frozenset({"ud"}), "history.read": frozenset({"ud"})}, jwks=issuer.jwks())
    metadata.create_all(rt.engine)
    return rt


@pytest.fixture(scope="module")
def client(runtime):
    return create_service_app(runtime, [blp], title="CERES — test").test_client()


@pytest.fixture
def auth(issuer):
    return {"Authorization": "Bearer " + issuer.issue("a1", "ud", scope={"departements": ["01"]})}


def test_L9_each_operation_lists_its_error_statuses_as_problems(client):
    spec = client.get("/openapi.json").get_json()
    patch = spec["paths"]["/gadgets/{gadget_id}"]["patch"]
    assert sorted(patch["responses"]) == ["200", "400", "401", "403", "404", "409", "413", "415", "422", "503"]
    assert sorted(spec["paths"]["/gadgets/preview/label"]["get"]["responses"]) == ["401", "403", "503"]
    assert patch["security"] == [{"bearer": []}]
    for item in spec["paths"].values():
        for operation in (op for method, op in item.items() if method != "parameters"):
            assert "default" not in operation["responses"]
    for name, response in spec["components"]["responses"].items():
        assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    (gadget_id,) = spec["paths"]["/gadgets/{gadget_id}"]["parameters"]
    assert gadget_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_L9_options_and_405_name_the_routes_own_methods(client, auth):
    # /gadgets/preview/label also matches DELETE /gadgets/<slug>/label: werkzeug advertised DELETE there too.
    assert client.options("/gadgets/preview/label", headers=auth).headers["Allow"] == "GET, HEAD, OPTIONS"
    refused = client.post("/gadgets/preview/label", headers=auth)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert refused.content_type == "application/problem+json"
    assert client.options("/gadgets/7", headers=auth).headers["Allow"] == "GET, HEAD, OPTIONS, PATCH"
    assert client.options("/gadgets/other/label", headers=auth).headers["Allow"] == "DELETE, OPTIONS"


def test_L9_an_id_out_of_range_is_not_found(client, auth):
    for path in ("/gadgets/0", f"/gadgets/{2**31}"):
        assert client.get(path, headers=auth).status_code == 404
        assert client.patch(path, json={"name": "x"}, headers=auth).status_code == 404  # was 405


def test_L9_an_empty_patch_is_refused(client, auth):
    for body in ({"json": {}}, {}):
        refused = client.patch("/gadgets/7", headers=auth, **body)
        assert refused.status_code == 422 and refused.get_json()["detail"] == "Aucune modification demandée."
        assert refused.get_json()["code"] == "no_change" and refused.get_json()["type"] == "about:blank#no_change"
    assert client.patch("/gadgets/7", json={}).status_code == 401  # who may ask comes first
    assert client.patch("/gadgets/7", json={"name": "x"}, headers=auth).get_json() == {"name": "x"}


def test_L9_timestamps_are_written_with_their_offset(runtime):
    class Stamp(Schema):
        at = UtcDateTime()

    assert Stamp().dump({"at": datetime(2026, 3, 1, 9, 30)}) == {"at": "2026-03-01T09:30:00+00:00"}
    session = runtime.session_factory()
    runtime.audit.record(session, entity_type="gadget", entity_id="7", action="create", actor="ud:a1",
                         actor_role="ud", after={"name": "x"})
    session.commit()
    (entry,) = runtime.audit.history(session, "gadget", "7")
    assert entry["at"].tzinfo is not None  # SQLite hands back naive datetimes for timestamptz
    session.close()


def test_L9_rfc3339_gives_naive_timestamps_their_utc_offset():
    assert rfc3339(datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00+00:00"
    assert rfc3339(datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))) == "2026-03-01T09:30:00+01:00"
    assert rfc3339(None) is None
