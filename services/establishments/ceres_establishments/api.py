"""HTTP endpoints of the establishments service (flask-smorest); each checks its permission with @require and the
record's scope in the use case."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, or_, select

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db, runtime

from . import responses as doc
from . import schemas as s
from .bootstrap import company_register
from .models import Site
from .service_layer import agrements, centres, search, sites
from .service_layer.access import site_filter

blp = Blueprint("establishments", __name__, url_prefix="/", description="Centres, sites, agréments, recherche")


def _commit(obj):
    db().commit()
    return obj


# -- centres (E1, E2, E3) ----------------------------------------------------------------------------------------
@blp.route("/centres/registration-preview")
@blp.arguments(s.SiretQuery, location="query")
@blp.response(200, s.CompanyOut)
@require("centre.register")
def registration_preview(args):
    """E2: what the company register says of the SIRET (read-only on the registration screen)."""
    return centres.lookup_company(company_register(runtime()), db(), args["siret"]).as_dict()


@blp.route("/centres", methods=["POST"])
@blp.arguments(s.RegisterCentreIn)
@blp.response(201, s.CentreOut)
@require("centre.register")
def register_centre(data):
    siret = data.pop("siret")
    p = current_principal()
    return _commit(centres.register_centre(runtime(), company_register(runtime()), db(), p, siret, data))


@blp.route("/centres/<centre_id>")
@blp.response(200, s.CentreOut)
@require("centre.read")
def get_centre(centre_id):
    return centres.read_centre(db(), current_principal(), centre_id)


@blp.route("/centres/by-siret/<siret>")
@blp.response(200, s.CentreOut)
@require("centre.read")
def get_centre_by_siret(siret):
    found = centres.find_by_siret(db(), siret)
    if found is None:
        from ceres_shared.errors import NotFound

        raise NotFound(centres.CENTRE_NOT_FOUND)
    return centres.read_centre(db(), current_principal(), found.id)


@blp.route("/centres/<centre_id>", methods=["PATCH"])
@blp.arguments(s.CentreUpdateIn)
@blp.response(200, s.CentreOut)
@require("centre.update")
def update_centre(data, centre_id):
    version = data.pop("version", None)
    return _commit(centres.update_centre(runtime(), db(), current_principal(), centre_id, data, version))


class SitePageQuery(Schema):
    """All optional: without them the whole list, as before; the body stays a list, the total is in a header."""
    page = fields.Int(validate=validate.Range(min=1, max=100_000, error="Page invalide."))
    per_page = fields.Int(validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))
    site = fields.Str(validate=validate.Length(max=64), metadata={
        "description": "Id d'un site : la page qui le contient (au lieu de `page`), s'il est du centre et du "
                       "périmètre ; sinon `page`"})


@blp.route("/centres/<centre_id>/sites")
@blp.arguments(SitePageQuery, location="query")
@blp.response(200, s.SiteOut(many=True), headers={
    "X-Total-Count": {"description": "Sites du centre dans le périmètre", "schema": {"type": "integer"}}})
@require("site.read")
def list_sites(query, centre_id):
    """The centre's sites in the principal's scope (I4, in SQL), by name; `page`/`per_page` give one page of them
    (the « centre de reprise » holds thousands), `site` the page holding that site (a link to one site opens where
    it is), `X-Total-Count` their number, `X-Page`/`X-Per-Page` the page."""
    p, session = current_principal(), db()
    centre = centres.read_centre(session, p, centre_id)
    listed = select(Site).where(Site.centre_id == centre.id, site_filter(p))
    total = session.scalar(select(func.count()).select_from(listed.subquery()))
    headers = {"X-Total-Count": str(total)}
    if "page" in query or "per_page" in query or "site" in query:
        number, size = query.get("page", 1), query.get("per_page", 20)
        if query.get("site"):
            number = _page_of(session, listed, query["site"], size) or number
        listed = listed.order_by(Site.name, Site.id).offset((number - 1) * size).limit(size)
        headers.update({"X-Page": str(number), "X-Per-Page": str(size)})
    else:
        listed = listed.order_by(Site.name, Site.id)
    return session.scalars(listed).all(), headers


def _page_of(session, listed, site_id: str, size: int) -> int | None:
    """The page (by name, then id) holding the site, if it is one of `listed` (the centre's, in scope)."""
    site = session.scalar(listed.where(Site.id == site_id))
    if site is None:
        return None
    before = listed.where(or_(Site.name < site.name, and_(Site.name == site.name, Site.id < site.id)))
    return session.scalar(select(func.count()).select_from(before.subquery())) // size + 1


# -- sites (E4, E5) ----------------------------------------------------------------------------------------------
@blp.route("/centres/<centre_id>/sites", methods=["POST"])
@blp.arguments(s.SiteIn)
@blp.response(201, s.SiteOut)
@require("site.write")
def create_site(data, centre_id):
    return _commit(sites.create_site(runtime(), db(), current_principal(), centre_id, data))


@blp.route("/sites/<site_id>")
@blp.response(200, s.SiteOut)
@require("site.read")
def get_site(site_id):
    return sites.read_site(db(), current_principal(), site_id)


@blp.route("/sites/<site_id>", methods=["PATCH"])
@blp.arguments(s.SiteUpdateIn)
@blp.response(200, s.SiteOut)
@require("site.write")
def update_site(data, site_id):
    version = data.pop("version", None)
    return _commit(sites.update_site(runtime(), db(), current_principal(), site_id, data, version))


@blp.route("/sites/<site_id>/close", methods=["POST"])
@blp.arguments(s.CloseSiteIn)
@blp.response(200, s.SiteOut)
@require("site.write")
def close_site(data, site_id):
    return _commit(sites.close_site(runtime(), db(), current_principal(), site_id, data["closed_at"],
                                    data["reason"]))


@blp.route("/sites/<site_id>/transfer-preview")
@blp.arguments(s.SiretQuery, location="query")
@blp.response(200, s.TransferPreviewOut)
@require("site.transfer")
def transfer_preview(args, site_id):
    """E5: the target centre's raison sociale, adresse and commune, for confirmation."""
    return sites.transfer_preview(db(), current_principal(), site_id, args["siret"])


@blp.route("/sites/<site_id>/transfer", methods=["POST"])
@blp.arguments(s.TransferIn)
@blp.response(200, s.SiteOut)
@require("site.transfer")
def transfer_site(data, site_id):
    return _commit(sites.transfer_site(runtime(), db(), current_principal(), site_id, data["siret"],
                                       data["version"]))


# -- search (E6) -------------------------------------------------------------------------------------------------
@blp.route("/search")
@blp.alt_response(200, schema=doc.SearchResults, success=True)
@blp.arguments(s.SearchQuery, location="query")
@require("search")
def search_endpoint(args):
    found = search.search(db(), current_principal(), args["q"], kind=args["type"], page=args["page"],
                          per_page=args["per_page"])
    return {
        "query": args["q"], "kind": found.kind, "counts": found.counts, "counts_capped": found.capped,
        "count_labels": {k: search.count_label(n, found.capped[k]) for k, n in found.counts.items()},
        "total": sum(found.counts.values()), "page": args["page"], "per_page": args["per_page"],
        "centres": [_plain(row, CENTRE_KEYS) for row in found.centres],
        "sites": [{**_plain(row, SITE_KEYS), "centre": {"id": row.centre_id, "siret": row.centre_siret,
                                                        "raison_sociale": row.centre_raison_sociale}}
                  for row in found.sites],
    }


CENTRE_KEYS, SITE_KEYS = tuple(s.CentreOut().fields), tuple(s.SiteOut().fields)


def _plain(row, keys) -> dict:
    """A result row as CentreOut/SiteOut would write it (same keys), without marshmallow's cost per field: a
    search page is 40 records of 15 fields."""
    out = {key: getattr(row, key) for key in keys}
    if out.get("closed_at") is not None:
        out["closed_at"] = out["closed_at"].isoformat()
    return out


# -- agréments (E7) ----------------------------------------------------------------------------------------------
@blp.route("/sites/<site_id>/agrements")
@blp.response(200, s.AgrementOut(many=True))
@require("agrement.read")
def list_agrements(site_id):
    return sites.read_site(db(), current_principal(), site_id).agrements


@blp.route("/sites/<site_id>/agrements", methods=["POST"])
@blp.arguments(s.AgrementRequestIn)
@blp.response(201, s.AgrementOut)
@require("agrement.request")
def request_agrement(data, site_id):
    return _commit(agrements.request_agrement(runtime(), db(), current_principal(), site_id, data["titre_code"],
                                              data["titre_version"], data["reason"]))


@blp.route("/agrements")
@blp.arguments(s.AgrementListQuery, location="query")
@blp.response(200, s.AgrementListOut)
@require("agrement.read")
def list_agrements_by_status(args):
    """E7: the scope's agréments of one status (by default « en cours d'instruction »: what the DREETS has to
    decide), oldest request first, a page at a time."""
    return agrements.list_by_status(db(), current_principal(), args["status"], args["page"], args["per_page"])


@blp.route("/agrements/<agrement_id>")
@blp.response(200, s.AgrementOut)
@require("agrement.read")
def get_agrement(agrement_id):
    return agrements.read_agrement(db(), current_principal(), agrement_id)


@blp.route("/agrements/<agrement_id>/<any(instruct, grant, refuse, withdraw, end):action>", methods=["POST"])
@blp.arguments(s.DecisionIn)
@blp.response(200, s.AgrementOut)
@require("agrement.decide")
def decide_agrement(data, agrement_id, action):
    return _commit(agrements.decide(runtime(), db(), current_principal(), agrement_id, action, **data))
