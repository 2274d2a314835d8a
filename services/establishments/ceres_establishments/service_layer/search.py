"""E6: one search box — a SIRET, a SIREN (all its establishments) or words of a name or commune, accents and case
ignored — over centres and sites, counted per type, a page at a time, within the caller's scope.

Words match the beginning of words ("mont" finds "Montagne"). PostgreSQL answers them from a full-text GIN index
(`to_tsvector('simple', search_text)`, migration 0003); SQLite (embedded mode) from LIKE on the same words. Counts
stop at COUNT_CAP: past it the screen says « plus de 10 000 » rather than making PostgreSQL count every match."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, literal, literal_column, select, true, union
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal

from ..models import Centre, Site
from .access import centre_filter, site_filter
from .common import invalid, search_words

TYPES = ("CENTRE", "SITE")
COUNT_CAP = 10_000
SIMPLE = literal_column("'simple'::regconfig")  # the index's expression must be matched word for word


@dataclass
class SearchResult:
    kind: str  # siret, siren, words
    counts: dict[str, int]  # at most COUNT_CAP
    capped: dict[str, bool]  # True: more than COUNT_CAP
    centres: list  # rows: the centre's columns
    sites: list  # rows: the site's columns, centre_siret, centre_raison_sociale


def count_label(n: int, capped: bool) -> str:
    """What the screen shows: « 3 803 », or « plus de 10 000 » past the cap."""
    figure = f"{n:,}".replace(",", "\u202f")  # French thousands separator: a narrow no-break space
    return f"plus de {figure}" if capped else figure


def _words_condition(column, words: list[str], dialect: str):
    if dialect == "postgresql":
        query = " & ".join(f"{w}:*" for w in words)  # words are [a-z0-9]+: nothing to escape in tsquery syntax
        return func.to_tsvector(SIMPLE, column).op("@@")(func.to_tsquery(SIMPLE, query))
    spaced = literal(" ") + column
    return and_(*(spaced.like(f"% {w}%") for w in words))


def _conditions(text: str, dialect: str):
    compact = "".join(text.split())
    if compact.isdigit() and len(compact) == 14:
        # A UNION rather than an OR of both: each branch has its index (an OR with a sub-select scans every site)
        ids = union(select(Site.id).where(Site.siret == compact),
                    select(Site.id).join(Centre, Site.centre_id == Centre.id).where(Centre.siret == compact))
        return "siret", Centre.siret == compact, Site.id.in_(ids)
    if compact.isdigit() and len(compact) == 9:
        # a range rather than LIKE 'siren%': the btree index serves it whatever the database's collation
        ids = union(select(Site.id).where(Site.siret.between(compact + "00000", compact + "99999")),
                    select(Site.id).join(Centre, Site.centre_id == Centre.id).where(Centre.siren == compact))
        return "siren", Centre.siren == compact, Site.id.in_(ids)
    words = search_words(text)
    if not words:
        raise invalid("q", "Saisissez un SIRET, un SIREN ou des mots du nom ou de la commune.")
    return ("words", _words_condition(Centre.search_text, words, dialect),
            _words_condition(Site.search_text, words, dialect))


def _name(model):
    return model.raison_sociale if model is Centre else model.name


CENTRE_COLUMNS = tuple(c for c in Centre.__table__.c if c.key != "search_text")
SITE_COLUMNS = tuple(c for c in Site.__table__.c if c.key != "search_text") + (
    Centre.siret.label("centre_siret"), Centre.raison_sociale.label("centre_raison_sociale"))


def _select(model, source, page=None):
    """Result rows (plain rows, no ORM identity map: read-only and cheaper): a centre; or a site with its centre's
    SIRET and raison sociale, joined (no query per row)."""
    query = select(*(CENTRE_COLUMNS if model is Centre else SITE_COLUMNS)).select_from(source)
    if page is not None:
        query = query.outerjoin(model, model.id == page.c.id)
    if model is Site:
        query = query.outerjoin(Centre, Centre.id == Site.centre_id)
    return query


def _count_and_page(session: Session, model, where, offset: int, per_page: int, dialect: str, *, with_page: bool):
    """One round trip: the matches (at most COUNT_CAP + 1, through the search index), their number, and one page of
    them in name order. PostgreSQL would otherwise walk the name index testing every row (names cluster in the
    alphabet: seen walking 12,000 sites to find 20) and count in a second pass."""
    name = _name(model)
    found = (select(model.id, name.label("name")).where(where).limit(COUNT_CAP + 1)
             .cte(f"{model.__tablename__}_found"))
    if dialect == "postgresql":
        found = found.prefix_with("MATERIALIZED")  # an optimisation fence: the matches first, the order after
    total = select(func.count().label("n")).select_from(found).subquery("total")
    if not with_page:
        return session.scalar(select(total.c.n)), []
    page = select(found.c.id).order_by(found.c.name, found.c.id).offset(offset).limit(per_page).subquery("page")
    rows = session.execute(_select(model, total.outerjoin(page, true()), page).add_columns(total.c.n)
                           .order_by(name, model.id)).all()
    count = rows[0].n
    if count <= COUNT_CAP:
        return count, [row for row in rows if row.id is not None]
    # dense matches: walking the name index finds a page after a few rows (a sorted subset would be arbitrary)
    return count, session.execute(_select(model, model).where(where).order_by(name, model.id)
                                  .offset(offset).limit(per_page)).all()


def search(session: Session, p: Principal, text: str, *, kind: str | None = None, page: int = 1,
           per_page: int = 20) -> SearchResult:
    dialect = session.get_bind().dialect.name
    how, centre_cond, site_cond = _conditions(text, dialect)
    if dialect == "postgresql" and not session.in_transaction():
        # reads only: no BEGIN/ROLLBACK round trips around them
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    offset = (page - 1) * per_page
    found = {}
    for label, model, where in (("CENTRE", Centre, and_(centre_cond, centre_filter(p))),
                                ("SITE", Site, and_(site_cond, site_filter(p)))):
        # pages stop where the counting does: a page past 10 000 results is not computed
        wanted = kind in (None, label) and offset < COUNT_CAP
        found[label] = _count_and_page(session, model, where, offset, per_page, dialect, with_page=wanted)
    return SearchResult(how, {k: min(n, COUNT_CAP) for k, (n, _) in found.items()},
                        {k: n > COUNT_CAP for k, (n, _) in found.items()}, found["CENTRE"][1], found["SITE"][1])
