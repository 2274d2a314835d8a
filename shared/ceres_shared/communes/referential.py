"""Lookups in the communes referential (C3): by code (as it is now or as it was on a date), by postcode, by name."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

from .build import BUILD_COMMAND, ETALAB_FILE, INSEE_FILE, default_dir
from .model import TYPE_PREFERENCE, Commune, departement_of, normalise, zone_of


class CommunesMissingError(RuntimeError):
    """The referential's data files are not where they are looked for."""


class _Entry:
    __slots__ = ("commune", "key", "tokens", "population")

    def __init__(self, commune: Commune, population: int = 0):
        self.commune = commune
        self.key = normalise(commune.name)
        self.tokens = tuple(self.key.split())
        self.population = population


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class Referential:
    _cache: dict[tuple, "Referential"] = {}
    _lock = threading.Lock()

    def __init__(self, entries: list[_Entry], departements: dict, regions: dict, source: str):
        self._entries = entries
        self._keys = [e.key for e in entries]
        self.departements = departements  # code -> {"name", "region"}
        self.regions = regions  # code -> name
        self.source = source
        self._by_code: dict[str, list[_Entry]] = {}
        self._by_postcode: dict[str, list[_Entry]] = {}
        for entry in entries:
            self._by_code.setdefault(entry.commune.code, []).append(entry)
            if entry.commune.current:
                for cp in entry.commune.postcodes:
                    self._by_postcode.setdefault(cp, []).append(entry)
        for bucket in self._by_code.values():  # a code's commune before its commune déléguée, at any date
            bucket.sort(key=lambda e: (TYPE_PREFERENCE.get(e.commune.type, 9), not e.commune.current))
        for bucket in self._by_postcode.values():
            bucket.sort(key=self._rank_key)

    # -- loading ------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | str | None = None) -> "Referential":
        """The referential of `directory` (default: $CERES_COMMUNES_DIR or <var>/communes), read once per process
        and read again only when its files change (after an import)."""
        folder = Path(directory) if directory else default_dir()
        etalab = folder / ETALAB_FILE
        if not etalab.is_file():
            raise CommunesMissingError(
                f"référentiel des communes absent de {folder} : lancez « {BUILD_COMMAND} » (fait par make install)"
            )
        stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (etalab, folder / INSEE_FILE))
        key = (str(folder.resolve()), stamp)
        with cls._lock:
            found = cls._cache.get(key)
            if found is None:
                found = cls.from_files(folder)
                cls._cache = {k: v for k, v in cls._cache.items() if k[0] != key[0]}
                cls._cache[key] = found
        return found

    @classmethod
    def from_files(cls, directory: Path | str) -> "Referential":
        """Read etalab.json and/or insee.json from `directory` (no cache; tests)."""
        folder = Path(directory)
        etalab_path, insee_path = folder / ETALAB_FILE, folder / INSEE_FILE
        if not etalab_path.is_file() and not insee_path.is_file():
            raise CommunesMissingError(f"ni {ETALAB_FILE} ni {INSEE_FILE} dans {folder} : lancez « {BUILD_COMMAND} »")
        etalab = json.loads(etalab_path.read_text(encoding="utf-8")) if etalab_path.is_file() else {}
        insee = json.loads(insee_path.read_text(encoding="utf-8")) if insee_path.is_file() else {}
        departements, regions = etalab.get("departements", {}), etalab.get("regions", {})
        entries = [
            _Entry(Commune(code, name, kind, dep, reg, zone, tuple(cps.split())), population)
            for code, name, kind, dep, reg, zone, cps, population in etalab.get("communes", [])
        ]
        entries = _merge_history(entries, insee.get("rows", []), departements)
        source = " + ".join(filter(None, (
            etalab and f"{etalab['package']}@{etalab['version']}", insee and f"INSEE {insee['source']}",
        )))
        return cls(entries, departements, regions, source)

    # -- lookups ------------------------------------------------------------------------------------------------
    def get(self, code: str, on: date | None = None) -> Commune | None:
        """The commune of that INSEE code now (on=None) or as it was on `on` (its name then, even if it no longer
        exists). A code shared by a commune and its commune déléguée answers with the commune."""
        for entry in self._by_code.get((code or "").strip().upper(), ()):
            if entry.commune.current if on is None else entry.commune.valid_on(on):
                return entry.commune
        return None

    def by_postcode(self, cp: str) -> list[Commune]:
        return [e.commune for e in self._by_postcode.get((cp or "").strip(), ())]

    def search(self, text: str, on: date | None = None, limit: int = 20) -> list[Commune]:
        """Communes whose name holds the words of `text` (accents, case, hyphens ignored), or whose postcode or
        code is `text` (or starts with it, for 2 to 4 digits); current ones, or those valid on `on`."""
        query = normalise(text or "")
        if not query or limit <= 0:
            return []

        def alive(entry: _Entry) -> bool:
            return entry.commune.current if on is None else entry.commune.valid_on(on)

        compact = query.replace(" ", "").upper()
        if compact.isdigit() or (len(compact) == 5 and compact[:2] in ("2A", "2B") and compact[2:].isdigit()):
            hits = [e for e in self._entries if alive(e) and (
                e.commune.code == compact or any(cp.startswith(compact) for cp in e.commune.postcodes)
            )]
            hits.sort(key=lambda e: (e.commune.code != compact, *self._rank_key(e)))
            return [e.commune for e in hits[:limit]]

        words = query.split()
        longest = max(words, key=len)
        # a plain substring scan first (fast), the scoring only on the few names holding the longest word
        if len(query) < 3:  # one or two letters: names starting with them, not every name holding an "a"
            candidates = [self._entries[i] for i, key in enumerate(self._keys) if key.startswith(query)]
        else:
            candidates = [self._entries[i] for i, key in enumerate(self._keys) if longest in key]
        scored = []
        for entry in candidates:
            if not all(w in entry.key for w in words) or not alive(entry):
                continue
            score = _name_score(entry, query, words)
            if score is not None:
                scored.append((score, *self._rank_key(entry), entry))
        scored.sort(key=lambda item: item[:-1])
        return [item[-1].commune for item in scored[:limit]]

    def departement_name(self, code: str) -> str | None:
        return (self.departements.get(code) or {}).get("name")

    def region_name(self, code: str) -> str | None:
        return self.regions.get(code)

    def codes(self) -> list[str]:
        """Every INSEE code known (current or not), sorted."""
        return sorted(self._by_code)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _rank_key(entry: _Entry) -> tuple:
        c = entry.commune
        return (not c.current, TYPE_PREFERENCE.get(c.type, 9), -entry.population, entry.key, c.code)


def _name_score(entry: _Entry, query: str, words: list[str]) -> int | None:
    """0 same name, 1 name starts with the query, 2 every word starts a word of the name, 3 substring."""
    if entry.key == query:
        return 0
    if entry.key.startswith(query):
        return 1
    if all(any(t.startswith(w) for t in entry.tokens) for w in words):
        return 2
    if query in entry.key:
        return 3
    return None


def _merge_history(entries: list[_Entry], rows: list[list], departements: dict) -> list[_Entry]:
    """Add INSEE's history: a current row dates the matching Etalab commune (valid_from); an ended row is a
    commune or a name that no longer exists, kept with its dates (C3)."""
    current = {(e.commune.code, e.commune.type): e for e in entries}
    postcodes = {e.commune.code: e.commune.postcodes for e in entries if e.commune.type == "COM"}
    for kind, code, name, start, end in rows:
        valid_from, valid_until = _date(start), _date(end)
        match = current.get((code, kind)) if valid_until is None else None
        if match is not None:
            match.commune = replace(match.commune, valid_from=valid_from)
            continue
        dep = departement_of(code)
        region = (departements.get(dep) or {}).get("region")
        commune = Commune(code, name, kind, dep, region, zone_of(dep), postcodes.get(code, ()), valid_from,
                          valid_until)
        entries.append(_Entry(commune))
    # A commune déléguée began when the commune of its code ended (merged into a commune nouvelle).
    ended: dict[str, date] = {}
    for entry in entries:
        c = entry.commune
        if c.type == "COM" and c.valid_until and c.valid_until > ended.get(c.code, date.min):
            ended[c.code] = c.valid_until
    for entry in entries:
        c = entry.commune
        if c.current and c.type in ("COMD", "COMA") and c.valid_from is None and c.code in ended:
            entry.commune = replace(c, valid_from=ended[c.code])
    return entries
