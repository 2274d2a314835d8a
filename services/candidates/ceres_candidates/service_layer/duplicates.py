"""C1: is this person already in CERES? And the search by name.

Both read a small block of rows through an index (same birth date, or same sound of names) and score it with
RapidFuzz, so they stay fast with millions of records (see bench/candidates_dedup.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal

from ..domain.names import dedup_key, fold, given_names_key, name_key, phonetic
from ..models import Candidate
from . import access, grants

NAME_THRESHOLD = 80
GIVEN_THRESHOLD = 85
_COLUMNS = (
    Candidate.id, Candidate.nom_naissance, Candidate.nom_usage, Candidate.prenoms, Candidate.birth_date,
    Candidate.birth_country_code, Candidate.birth_commune_code, Candidate.birth_commune_label,
    Candidate.birth_country_label, Candidate.nom_key, Candidate.usage_key, Candidate.prenoms_key, Candidate.nom_phon,
    Candidate.status,
)


@dataclass
class Match:
    row: object
    score: float

    def as_dict(self) -> dict:
        r = self.row
        return {
            "id": r.id,
            "nom_naissance": r.nom_naissance,
            "nom_usage": r.nom_usage,
            "prenoms": r.prenoms,
            "birth_date": r.birth_date.isoformat(),
            "birth_place": r.birth_commune_label or r.birth_country_label,
            "status": r.status,
            "score": round(self.score, 1),
        }


def _close_dates(a: date, b: date) -> bool:
    """One typed digit apart, or day and month swapped."""
    if a == b:
        return True
    x, y = a.isoformat(), b.isoformat()
    if sum(1 for i, j in zip(x, y) if i != j) == 1:
        return True
    return a.year == b.year and a.month == b.day and a.day == b.month


def _same_place(row, country_code: str | None, commune_code: str | None) -> bool:
    if country_code and row.birth_country_code and country_code != row.birth_country_code:
        return False
    if commune_code and row.birth_commune_code and commune_code != row.birth_commune_code:
        return False
    return True


def find_duplicates(session: Session, *, nom_naissance: str, nom_usage: str | None, prenoms: list[str],
                    birth_date: date, birth_country_code: str | None = None, birth_commune_code: str | None = None,
                    exclude_id: int | None = None, limit: int = 10) -> list[Match]:
    """Likely records of the same person: same birth date (or a date one typo away under the same sound of names),
    birth name close (accents, case, hyphens, typos), first names close in any order, same birth place when
    both are known."""
    key = dedup_key(nom_naissance, prenoms)
    query = select(*_COLUMNS).where(
        Candidate.merged_into.is_(None),
        or_(Candidate.birth_date == birth_date, Candidate.dedup_key == key),
    )
    if exclude_id is not None:
        query = query.where(Candidate.id != exclude_id)
    names = [k for k in (name_key(nom_naissance), name_key(nom_usage)) if k]
    given = given_names_key(prenoms)
    found = []
    for row in session.execute(query):
        if not _close_dates(birth_date, row.birth_date):
            continue
        if not _same_place(row, birth_country_code, birth_commune_code):
            continue
        theirs = [k for k in (row.nom_key, row.usage_key) if k]
        # L3: a name without a letter has no key: nothing to compare (never max() of nothing).
        name_score = max((fuzz.ratio(a, b) for a in names for b in theirs), default=0.0)
        if row.nom_phon and phonetic(nom_naissance) == row.nom_phon:
            name_score = max(name_score, 90.0)
        # token_sort: swapped first names; token_set: one record has an extra first name.
        given_score = max(fuzz.token_sort_ratio(given, row.prenoms_key),
                          fuzz.token_set_ratio(given, row.prenoms_key) - 5)
        if name_score >= NAME_THRESHOLD and given_score >= GIVEN_THRESHOLD:
            date_factor = 1.0 if row.birth_date == birth_date else 0.9
            found.append(Match(row, (name_score + given_score) / 2 * date_factor))
    found.sort(key=lambda m: -m.score)
    return found[:limit]


def _initial(text: str | None) -> str:
    return (fold(text)[:1] or "?") + "."


def is_exact(row, *, nom_naissance: str, prenoms: list[str], birth_date: date, birth_country_code: str | None,
             birth_commune_code: str | None, **_) -> bool:
    """C1: the caller typed this person's whole identity — birth name and given names (accents, case and
    separators aside), birth date, and the birth place the record holds."""
    if row.birth_date != birth_date or not row.nom_key or name_key(nom_naissance) != row.nom_key:
        return False
    if given_names_key(prenoms) != row.prenoms_key:
        return False
    if row.birth_country_code and birth_country_code != row.birth_country_code:
        return False
    return not row.birth_commune_code or birth_commune_code == row.birth_commune_code


def present(session: Session, rt, principal: Principal, matches: list[Match], typed: dict) -> list[dict]:
    """I4 on the duplicate check's answer: a record the caller may see, in full; one it typed exactly, its number
    and what it typed (as the record spells it) — a centre may then enrol it (grants.py); any other, masked:
    what tells a probable duplicate exists, never a stranger's data (initials and birth year, no number, no
    place, no score that would confirm a guessed date)."""
    ids = [m.row.id for m in matches]
    visible = set(session.scalars(select(Candidate.id).where(Candidate.id.in_(ids), access.visible(principal)))
                  ) if ids else set()
    found = []
    for m in matches:
        r = m.row
        if r.id in visible:
            found.append({**m.as_dict(), "masked": False, "exact": is_exact(r, **typed)})
        elif is_exact(r, **typed):
            found.append({"id": r.id, "nom_naissance": r.nom_naissance, "nom_usage": None,
                          "prenoms": list(r.prenoms), "birth_date": r.birth_date.isoformat(),
                          "birth_place": r.birth_commune_label or r.birth_country_label, "status": None,
                          "score": round(m.score, 1), "masked": False, "exact": True})
            if principal.role in access.CENTRE_ROLES:
                for siret in sorted(principal.sirets):
                    grants.share(session, rt, r.id, siret, "exact_match")
        else:
            found.append({"id": None, "nom_naissance": _initial(r.nom_naissance), "nom_usage": None,
                          "prenoms": [_initial((r.prenoms or [""])[0])], "birth_date": None,
                          "birth_year": r.birth_date.year, "birth_place": None, "status": None, "score": None,
                          "masked": True, "exact": False})
    return found


SEARCH_WINDOW = 200  # rows read per kind of match; the search ranks and pages within them


def ranked_search(session: Session, text: str, *, visible_clause,
                  birth_date: date | None = None) -> tuple[list[Match], bool]:
    """Search by name: 'chevalier henri', 'Henri Chevalier', 'CHEVALLIER' (sound), 'Le Goff' or a birth name's
    beginning. Each way of splitting the words into a family name and first names is one indexed condition.
    Answers every match of the window, best first, and whether the window was full (more may exist)."""
    words = fold(text).split()[:4]
    if not words:
        return [], False
    whole = "".join(words)
    precise = [Candidate.nom_key.like(f"{whole}%"), Candidate.usage_key.like(f"{whole}%")]
    sounding = [Candidate.nom_phon == phonetic(whole)]
    for i in range(1, len(words)):
        for family, first in ((words[:i], words[i:]), (words[i:], words[:i])):
            fam, giv = "".join(family), first[0]
            precise.append(and_(Candidate.nom_key == fam, Candidate.prenoms_key.like(f"{giv}%")))
            precise.append(and_(Candidate.usage_key == fam, Candidate.prenoms_key.like(f"{giv}%")))
            sounding.append(Candidate.nom_phon == phonetic(fam))
    wanted = " ".join(words)
    seen: dict[int, Match] = {}
    full = False
    # Exact spellings first (a common name's sound must not crowd out the match).
    for conditions in (precise, sounding):
        query = select(*_COLUMNS).where(or_(*conditions), Candidate.merged_into.is_(None), visible_clause)
        if birth_date is not None:
            query = query.where(Candidate.birth_date == birth_date)
        # a fixed window in a fixed order: the pages of one search are cut from the same ranked rows
        rows = session.execute(query.order_by(Candidate.nom_key, Candidate.id).limit(SEARCH_WINDOW)).all()
        full = len(rows) == SEARCH_WINDOW
        for row in rows:
            if row.id not in seen:
                label = f"{row.nom_key} {row.usage_key or ''} {row.prenoms_key}"
                seen[row.id] = Match(row, fuzz.token_set_ratio(wanted, label))
        if seen:  # sounds-alike only when no exact spelling matched: a typo in the query
            break
    return sorted(seen.values(), key=lambda m: (-m.score, m.row.nom_key, m.row.id)), full
