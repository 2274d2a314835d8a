"""L5 and L7 over every service: each request body's schema is read from the app (the schemas flask-smorest parses
bodies with) and held against the service's own tables. Every text is bounded, and by no more than the column it
lands in (PostgreSQL refuses what SQLite stores); every list has a maximum count; every free text users type refuses
invisible and control characters (C5)."""
from __future__ import annotations

import importlib
import json
import re
import re._parser as sre_parse

import pytest
from marshmallow import fields, validate
from sqlalchemy import String, Text
from sqlalchemy import text as sql_text

from ceres_identity.service_layer.agents import PROFILES
from ceres_shared.config import BusSettings, Settings
from ceres_shared.testing.concurrency import BACKENDS, settings_on
from ceres_shared.validation import INVISIBLE, VisibleText

SERVICES = ("candidates", "establishments", "identity", "printing", "sessions")
UNBOUNDED = 1 << 30
# Texts that are not free text: secrets and opaque tokens (hashed or checked, never shown), identifiers and codes
# looked up (an unknown one is refused as such), a honeypot.
NOT_TYPED = re.compile(r"password|token|ticket|nonce|secret|fingerprint|^website$|^code$|^siret$|^sha256$|_id$|"
                       r"_code$|number$|^email$|^region$|^departement$|^departements$|^regions$|^ccps_obtained$")
# (service, schema, field) stored elsewhere than a same-named column of the service, with where it goes.
ELSEWHERE = {
    ("sessions", "TitreIn", "code"): "titres.code String(12): the Regexp allows 9 characters",
    ("candidates", "MergeSchema", "reason"): "the audit trail's reason (Text), not candidate_grants.reason",
    ("identity", "InvitationIn", "role"): "invitations.role String(12), not clients.role",
    ("printing", "PrintRequestSchema", "kind"): "print_requests.kind String(10), not titres.kind",
    ("printing", "ReprintSchema", "number"): "normalised to the original number's format (24 at most) first",
    ("sessions", "ControlIn", "kind"): "controls.kind String(12), not titres.kind",
}


def _apidoc_bodies(view):
    """The body schemas flask-smorest parses for a view (its `_apidoc`, along the wrappers)."""
    found, func = [], view
    while func is not None:
        for param in getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            if param["in"] in ("json", "form"):
                found.append(param["schema"])
        func = getattr(func, "__wrapped__", None)
    return found


def _schema(s):
    return s() if isinstance(s, type) else s


def _walk(schema, prefix=""):
    """(path, field) of every field, nested schemas and list items included."""
    for name, field in _schema(schema).load_fields.items():
        path = f"{prefix}{name}"
        yield path, name, field
        inner = field
        while isinstance(inner, fields.List):
            inner = inner.inner
            path = f"{path}[]"
            yield path, name, inner
        if isinstance(inner, fields.Nested):
            yield from _walk(inner.schema, f"{path}.")


def _validators(field):
    found = []
    for v in field.validators:
        found.extend(v if isinstance(v, (list, tuple)) else [v])
    return found


def _text_bound(field) -> int:
    bounds = [UNBOUNDED]
    for v in _validators(field):
        if isinstance(v, validate.Length) and v.max is not None:
            bounds.append(v.max)
        elif isinstance(v, validate.OneOf):
            bounds.append(max(len(str(c)) for c in v.choices))
        elif isinstance(v, validate.Equal):
            bounds.append(len(str(v.comparable)))
        elif isinstance(v, validate.Regexp):
            bounds.append(min(sre_parse.parse(v.regex.pattern).getwidth()[1], UNBOUNDED))
    return min(bounds)


def _restricted(field) -> bool:
    """A text whose characters a validator already restricts (a code, a choice)."""
    return any(isinstance(v, (validate.OneOf, validate.Equal, validate.Regexp)) for v in _validators(field))


def _columns(service):
    models = importlib.import_module(f"ceres_{service}.models")
    widths: dict[str, int] = {}
    for table in models.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String) and not isinstance(column.type, Text) and column.type.length:
                widths[column.name] = min(widths.get(column.name, UNBOUNDED), column.type.length)
    return widths


@pytest.fixture(scope="module")
def bodies(tmp_path_factory, issuer):
    """Per service: its body schemas (each once) and its String columns' widths."""
    found = {}
    for service in SERVICES:
        settings = Settings(service=service, database_url=f"sqlite:///{tmp_path_factory.mktemp(service)}/db.sqlite",
                            bus=BusSettings(url="memory://"), jwks_url=None)
        runtime = importlib.import_module(f"ceres_{service}.bootstrap").bootstrap(settings, jwks=issuer.jwks())
        app = importlib.import_module(f"ceres_{service}.app").create_app(runtime)
        schemas = {}
        for view in app.view_functions.values():
            for schema in _apidoc_bodies(view):
                schemas[type(_schema(schema)).__name__] = schema
        found[service] = (schemas, _columns(service))
        runtime.engine.dispose()
    return found


def test_every_service_has_body_schemas(bodies):
    for service in SERVICES:
        assert bodies[service][0], service
    assert {"CandidateInSchema", "AddressSchema"} <= {
        type(_schema(f.schema)).__name__ for _, _, f in _walk(bodies["candidates"][0]["CandidateInSchema"])
        if isinstance(f, fields.Nested)} | {"CandidateInSchema"}


def _all_fields(schemas):
    for schema_name, schema in sorted(schemas.items()):
        for path, name, field in _walk(schema):
            yield schema_name, path, name, field


@pytest.mark.parametrize("service", SERVICES)
def test_every_text_is_bounded_by_its_column_and_every_list_counted(bodies, service):
    schemas, widths = bodies[service]
    problems = []
    for schema_name, path, name, field in _all_fields(schemas):
        where = f"{schema_name}.{path}"
        if isinstance(field, fields.List):
            if not any(isinstance(v, validate.Length) and v.max is not None for v in _validators(field)):
                problems.append(f"{where}: a list without a maximum count")
            continue
        if not isinstance(field, fields.String):
            continue
        bound = _text_bound(field)
        if bound >= UNBOUNDED:
            problems.append(f"{where}: a text without a maximum length")
            continue
        parent = path.rsplit(".", 1)[0].replace("[]", "") if "." in path else ""
        column = f"{parent}_{name}" if parent else name  # address.commune_label -> address_commune_label
        if (service, schema_name, name) in ELSEWHERE or column not in widths:
            continue
        if bound > widths[column]:
            problems.append(f"{where}: up to {bound} characters for the String({widths[column]}) column {column}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_every_free_text_refuses_invisible_characters(bodies, service):
    problems = [f"{schema_name}.{path}: free text without the C5 visible-text check"
                for schema_name, path, name, field in _all_fields(bodies[service][0])
                if isinstance(field, fields.String) and not isinstance(field, fields.Email)
                and not _restricted(field) and not NOT_TYPED.search(name)
                and not any(isinstance(v, VisibleText) for v in _validators(field))]
    assert not problems, "\n".join(problems)


# --- the cases found from outside, on both databases -------------------------------------------------------------
@pytest.fixture(scope="module", params=BACKENDS)
def apps(request, infra, issuer, tmp_path_factory):
    """The candidates and sessions apps, migrated, on PostgreSQL or on SQLite (embedded mode's database)."""
    made = {}
    for service in ("candidates", "sessions", "identity", "establishments"):
        settings = settings_on(request.param, service, infra, tmp_path_factory)
        runtime = importlib.import_module(f"ceres_{service}.bootstrap").bootstrap(settings, jwks=issuer.jwks())
        runtime.upgrade_database()
        made[service] = (runtime, importlib.import_module(f"ceres_{service}.app").create_app(runtime).test_client())
    yield made
    for runtime, _ in made.values():
        runtime.engine.dispose()


@pytest.fixture(scope="module")
def admin(issuer):
    return {"Authorization": "Bearer " + issuer.issue("admin-1", "admin", scope={"national": True}, ttl=3600)}


def _rows(runtime, table: str) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(sql_text(f"SELECT count(*) FROM {table}")).scalar_one()


def person(path="/candidates", **extra):
    """A record's body, or the duplicate check's (which has no genre)."""
    body = {"genre": "F", "nom_naissance": "Martin", "prenoms": ["Claire"], "birth_date": "1990-04-02",
            "birth_country_code": "99134", **extra}
    if path.endswith("/duplicates"):
        del body["genre"]
    return body


def test_a_commune_label_longer_than_its_column_is_refused_on_its_field(apps, admin):
    runtime, client = apps["candidates"]
    body = person(address={"lines": ["1 rue de la Paix"], "code_postal": "01000", "commune_label": "x" * 5000})
    response = client.post("/candidates", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert response.json["errors"]["address"]["commune_label"] == ["100 caractères au plus."]
    assert _rows(runtime, "candidates") == 0


def test_six_long_prenoms_are_refused_as_their_joined_length(apps, admin):
    """Six prénoms of 60 characters each fit their own limits, not the sessions service's String(200) column nor
    the prénoms key: PostgreSQL refused them there, SQLite stored them."""
    runtime, client = apps["candidates"]
    for path in ("/candidates", "/candidates/duplicates"):
        response = client.post(path, json=person(path, prenoms=["A" * 60] * 6), headers=admin)
        assert response.status_code == 422, response.json
        assert response.json["errors"]["prenoms"] == ["200 caractères au plus en tout."]
    assert _rows(runtime, "candidates") == 0
    fitting = client.post("/candidates/duplicates", json=person("/duplicates", prenoms=["A" * 60] * 3),
                          headers=admin)
    assert fitting.status_code == 200, fitting.json


JURE = {"civilite": "Mme", "nom": "Durand", "prenom": "Anne", "departement": "01", "region": "84"}


@pytest.mark.parametrize("field, value, where, message", [
    ("commentaires", "x" * 100_000, ("commentaires",), "4000 caractères au plus."),
    ("email", "a" * 100_000 + "@exemple.fr", ("email",), "250 caractères au plus."),
    ("competences", [{"titre_code": "T" * 100_000}], ("competences", "0", "titre_code"), "12 caractères au plus."),
    ("competences", [{"titre_code": "TP-00463"}] * 101, ("competences",), "100 compétences au plus."),
    ("nom", "D" * 121, ("nom",), "Entre 1 et 120 caractères."),
])
def test_a_jure_with_an_oversize_field_is_refused_on_it_and_nothing_written(apps, admin, field, value, where,
                                                                           message):
    runtime, client = apps["sessions"]
    response = client.post("/jures", json={**JURE, field: value}, headers=admin)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    found = response.json["errors"]
    for key in where:
        found = found[key]
    assert message in found
    assert _rows(runtime, "jures") == 0


# --- L7: invisible characters in the names people type (C5) -------------------------------------------------------
TRICKS = ["\u202e", "\u200b", "\u200d", "\u2066", "\ufeff", "\u00ad", "\x07", "\ue000", "\u2028"]


@pytest.mark.parametrize("trick", TRICKS)
def test_names_with_invisible_characters_are_refused_in_every_service(apps, admin, trick):
    candidates = apps["candidates"][1]
    name = f"Mar{trick}tin"
    for path in ("/candidates", "/candidates/duplicates"):
        for body, field in ((person(path, nom_naissance=name), "nom_naissance"),
                            (person(path, nom_usage=name), "nom_usage")):
            response = candidates.post(path, json=body, headers=admin)
            assert response.status_code == 422, (path, response.json)
            assert response.json["errors"][field] == [INVISIBLE]
        response = candidates.post(path, json=person(path, prenoms=["Claire", name]), headers=admin)
        assert response.json["errors"]["prenoms"] == {"1": [INVISIBLE]}
    for service, path, body, field in (
        ("sessions", "/jures", {**JURE, "nom": name}, "nom"),
        ("sessions", "/jures", {**JURE, "prenom": name}, "prenom"),
        ("identity", "/agents", {"email": "agent@travail.gouv.fr", "civilite": "M", "nom": name, "prenom": "Paul",
                                 "profile": sorted(PROFILES)[0]}, "nom"),
        ("establishments", "/centres", {"siret": "12345678901234", "representant": name}, "representant"),
    ):
        response = apps[service][1].post(path, json=body, headers=admin)
        assert response.status_code == 422, (service, response.json)
        assert response.json["errors"][field] == [INVISIBLE], (service, response.json)
    assert _rows(apps["candidates"][0], "candidates") == 0
    assert _rows(apps["sessions"][0], "jures") == 0


def test_free_text_keeps_its_lines_but_not_invisible_characters(apps, admin):
    runtime, client = apps["sessions"]
    refused = client.post("/jures", json={**JURE, "commentaires": "Disponible\u202e le lundi"}, headers=admin)
    assert refused.json["errors"]["commentaires"] == [INVISIBLE]
    kept = client.post("/jures", json={**JURE, "nom": "N'Guessan-Éloïse", "commentaires": "Lundi.\nMardi\tmatin."},
                       headers=admin)
    assert kept.status_code == 201, kept.json
    assert _rows(runtime, "jures") >= 1


def _over_bound_cases(schema, base: dict):
    """(path, body) for each text field of `schema` given one character more than its bound."""
    for path, name, field in _walk(schema):
        if not isinstance(field, fields.String) or _text_bound(field) >= UNBOUNDED:
            continue
        value = ("1" if _restricted(field) else "x") * (_text_bound(field) + 1)
        keys = path.replace("[]", ".0").split(".")
        body = json.loads(json.dumps(base))
        target = body
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
        if keys[-1].isdigit():
            target[int(keys[-1])] = value
        elif isinstance(field, fields.Email):
            target[keys[-1]] = "a" * _text_bound(field) + "@exemple.fr"
        else:
            target[keys[-1]] = value
        yield keys, body


@pytest.mark.parametrize("service, path, schema, table", [
    ("candidates", "/candidates", "CandidateInSchema", "candidates"),
    ("sessions", "/jures", "JureIn", "jures"),
])
def test_every_text_over_its_bound_is_a_422_on_its_field_and_nothing_written(apps, admin, bodies, service, path,
                                                                              schema, table):
    runtime, client = apps[service]
    base = {"candidates": person(address={"lines": ["1 rue de la Paix"], "code_postal": "01000",
                                          "commune_label": "Bourg"}, prenoms=["Claire"]),
            "sessions": {**JURE, "competences": [{"titre_code": "TP-00463"}]}}[service]
    cases = list(_over_bound_cases(bodies[service][0][schema], base))
    assert len(cases) >= 8
    before = _rows(runtime, table)
    for keys, body in cases:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 422, (keys, response.get_data(as_text=True)[:200])
        found = response.json["errors"]
        for key in keys:
            found = found[key]
        assert found, keys
    assert _rows(runtime, table) == before
