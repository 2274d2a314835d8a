"""Countries of birth: INSEE's COG country codes (99xxx), shipped in data/pays.csv."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FRANCE = "99100"
_FILE = Path(__file__).resolve().parent.parent / "data" / "pays.csv"


@dataclass(frozen=True)
class Country:
    code: str
    label: str


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    with _FILE.open(encoding="utf-8") as f:
        return {row["code"]: Country(row["code"], row["libelle"]) for row in csv.DictReader(f, delimiter=";")}


def country(code: str | None) -> Country | None:
    return countries().get(code or "")
