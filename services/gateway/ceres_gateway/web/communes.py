"""« Commune » fields (C3, E4): people know a commune's name and postcode, not its INSEE code (often mistaken for
the postcode). A field takes a name, a postcode, an INSEE code, or « Nom (code postal) » as the suggestions write
it; the gateway resolves it on submit from the candidates service's referential (GET /communes), without
JavaScript: one commune → its INSEE code is sent to the service; several → the form comes back asking « Précisez
la commune » (radios); none → a French error next to the field. A birth commune is looked up as it was on the
birth date, so communes that no longer exist are found (C3). communes.js suggests communes as the user types,
from /communes/suggestions here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask import g, jsonify, request

from ceres_shared.communes import normalise

from .blueprint import api, bp, login_required
from .client import ServiceError

CODE = r"\d[0-9AB]\d{3}"  # an INSEE code (2A/2B in Corsica) or a postcode
IN_BRACKETS = re.compile(rf"^(?P<name>.*?)\s*\(\s*(?P<code>{CODE})\s*\)$", re.I)
CODE_FIRST = re.compile(rf"^(?P<code>{CODE})(?:\s+(?P<name>.+))?$", re.I)
CODE_LAST = re.compile(rf"^(?P<name>.+?)\s+(?P<code>{CODE})$", re.I)
LOOKUP_LIMIT = 50  # the service's most probable first; the exact name or postcode is among them
MAX_CHOICES = 10
SUGGESTIONS = 8
CHOICE, ASKED = "_choix", "_saisie"  # suffixes of the radios and of the text they answer


@dataclass
class Resolution:
    """What a commune field resolves to: the commune, or the choices to offer, or an error to show."""
    text: str
    name: str = ""  # the form's field
    commune: dict | None = None
    choices: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def code(self) -> str | None:
        return self.commune["code"] if self.commune else None

    @property
    def postcode(self) -> str | None:
        """The postcode typed with the commune (« Bourg-en-Bresse (01000) », « 01000 »), if it is one of its own."""
        _, typed = _split(self.text)
        return typed if self.commune and typed in self.commune["postcodes"] else None

    @property
    def errors(self) -> dict[str, list[str]]:
        return {self.name: [self.error]} if self.error else {}


def postcode_for(found: Resolution, current: str, previous: str | None = None) -> str:
    """The postcode to send with a resolved commune. What the user typed is kept (the service says when it does not
    match: maybe the commune is the mistake). An empty postcode, or the record's `previous` one left unchanged when
    the commune changed, follows the commune: the postcode typed with it, else its only one."""
    own = (found.commune or {}).get("postcodes") or []
    if not own or current in own or (current and current != previous):
        return current
    return found.postcode or (own[0] if len(own) == 1 else current)


def label(commune: dict, postcode: str | None = None) -> str:
    """« Bourg-en-Bresse (01000) »: what the field shows and the suggestions write (`postcode` if it is one of the
    commune's, else its first); the INSEE code when the commune has no postcode (one that no longer exists)."""
    postcodes = commune.get("postcodes") or []
    return f"{commune['name']} ({postcode if postcode in postcodes else (postcodes or [commune['code']])[0]})"


def detail(commune: dict) -> str:
    """« 01000, 01001 — Ain (01) », and when the commune no longer exists, since when."""
    postcodes = ", ".join((commune.get("postcodes") or [])[:3]) or f"code INSEE {commune['code']}"
    text = f"{postcodes} — {commune.get('departement_name') or 'département'} ({commune['departement']})"
    if not commune.get("current", True) and commune.get("valid_until"):
        text += f", commune disparue en {commune['valid_until'][:4]}"
    return text


def _lookup(q: str, on: date | None, limit: int) -> list[dict]:
    params = {"q": q, "limit": limit}
    if on:
        params["on"] = on.isoformat()
    try:
        return api("GET", "candidates", "/communes", params=params).data["communes"]
    except ServiceError as exc:
        if exc.status == 422:  # too short or too long: nothing to look up
            return []
        raise


def _split(text: str) -> tuple[str, str | None]:
    """(name, code or postcode) of what was typed: « Bourg-en-Bresse (01000) », « 01000 Bourg-en-Bresse »,
    « Bourg-en-Bresse 01000 », « 01000 », « Bourg-en-Bresse »."""
    for pattern in (IN_BRACKETS, CODE_FIRST, CODE_LAST):
        if found := pattern.match(text):
            return (found.group("name") or "").strip(), found.group("code").upper()
    return text, None


def matches(text: str, on: date | None = None, limit: int = LOOKUP_LIMIT, exact: bool = True) -> list[dict]:
    """The communes `text` designates, most probable first, one per INSEE code: with a code (or postcode) those of
    that code or postcode; with a name, those of exactly that name (accents, case, hyphens, « St » aside) if any
    and `exact` (not while the user is still typing), else the names holding its words."""
    name, code = _split(text.strip())
    if code:  # a postcode or a code is the sharper key; the name then picks among its communes
        found = [c for c in _lookup(code, on, limit) if c["code"] == code or code in c["postcodes"]]
    else:
        found = _lookup(name, on, limit) if len(name) >= 2 else []
    if name:
        key = normalise(name)
        words = key.split()
        found = [c for c in found if exact and normalise(c["name"]) == key] or [
            c for c in found if all(w in normalise(c["name"]) for w in words)]
    unique: dict[str, dict] = {}
    for commune in found:
        unique.setdefault(commune["code"], commune)
    return list(unique.values())


def resolve(text: str, on: date | None = None, chosen: str | None = None, asked: str | None = None) -> Resolution:
    """The commune of a field: `chosen` is the code ticked among the choices offered for `asked` (kept only if the
    text was not changed since)."""
    text = (text or "").strip()
    if not text:
        return Resolution(text)
    if chosen and asked is not None and asked.strip() == text:
        picked = [c for c in matches(chosen, on) if c["code"] == chosen.upper()]
        if picked:
            return Resolution(text, commune=picked[0])
    found = matches(text, on)
    if len(found) == 1:
        return Resolution(text, commune=found[0])
    if not found:
        return Resolution(text, error=f"Aucune commune ne correspond à « {text} » : vérifiez l'orthographe, ou "
                                      "saisissez le code postal.")
    more = " Si elle n'y est pas, ajoutez le code postal au nom." if len(found) > MAX_CHOICES else ""
    return Resolution(text, choices=found[:MAX_CHOICES],
                      error=f"Plusieurs communes correspondent à « {text} » : précisez laquelle.{more}")


def resolve_field(name: str, on: date | None = None) -> Resolution:
    """The commune field `name` of the submitted form, with the choice ticked if one was offered."""
    found = resolve(request.form.get(name, ""), on, request.form.get(name + CHOICE) or None,
                    request.form.get(name + ASKED))
    found.name = name
    if found.choices:  # for the form shown again (commune_field.html's `offered`)
        g.setdefault("commune_choices", {})[name] = found.choices
    return found


def choices_for(name: str) -> list[dict]:
    return g.get("commune_choices", {}).get(name, [])


def shown(code: str | None, postcode: str | None = None) -> str:
    """What a field shows for a commune already recorded (with its postcode): « Bourg-en-Bresse (01000) », or the
    code itself if the referential does not know it (so that nothing is lost)."""
    if not code:
        return ""
    found = [c for c in matches(code) if c["code"] == code]
    return label(found[0], postcode) if found else code


def day(value: str | None) -> date | None:
    """A form's ISO date, or None when it is not one (the service says what is wrong with it)."""
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


@bp.route("/communes/suggestions")
@login_required
def commune_suggestions():
    """JSON for communes.js: the communes the text designates so far (at a date: a birth), each with the text the
    field takes. Always 200: a text too short or unknown is an empty list, not an error in the console."""
    text = request.args.get("q", "").strip()[:100]
    try:
        found = matches(text, day(request.args.get("date")), SUGGESTIONS, exact=False) if len(text) >= 2 else []
    except ServiceError:  # the referential unreachable: no suggestion; the form still resolves (or says so) on submit
        found = []
    return jsonify({"communes": [{"code": c["code"], "value": label(c), "detail": detail(c)}
                                 for c in found[:SUGGESTIONS]]})


bp.add_app_template_global(detail, "commune_detail")
bp.add_app_template_global(choices_for, "commune_choices_for")
