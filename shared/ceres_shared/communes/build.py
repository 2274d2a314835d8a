"""Builds the communes referential's data files (C3) into a folder (default: <var>/communes).

- ``etalab.json``: current communes, communes déléguées and associées, arrondissements municipaux, their postcodes,
  département, région and zone, from Etalab's ``@etalab/decoupage-administratif`` (pinned) fetched with ``npm pack``.
- ``insee.json``: INSEE's "communes depuis 1943" file (as published) so that communes that no longer exist, and
  former names, are known with their validity dates.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from datetime import date
from pathlib import Path

from .model import TYPES

log = logging.getLogger(__name__)

# The single pin. Bumping it needs the matching integrity (`npm view @etalab/decoupage-administratif@<v>
# dist.integrity`); the build refuses a mismatch.
ETALAB_PACKAGE = "@etalab/decoupage-administratif"
ETALAB_VERSION = "6.0.0"
ETALAB_INTEGRITY = (
    "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
)
ETALAB_FILE = "etalab.json"
INSEE_FILE = "insee.json"
BUILD_COMMAND = "python -m ceres_shared.communes build"
INSEE_COLUMNS = ("TYPECOM", "COM", "TNCC", "NCC", "NCCENR", "LIBELLE", "DATE_DEBUT", "DATE_FIN")

_ETALAB_TYPES = {
    "commune-actuelle": "COM",
    "commune-deleguee": "COMD",
    "commune-associee": "COMA",
    "arrondissement-municipal": "ARM",
}


class CommunesBuildError(RuntimeError):
    """The referential could not be fetched, read or written."""


def default_dir() -> Path:
    """$CERES_COMMUNES_DIR, else <assets dir>/communes (installed data, shared by every instance)."""
    if env := os.environ.get("CERES_COMMUNES_DIR"):
        return Path(env)
    from ..config import assets_dir

    return assets_dir() / "communes"


def _write_json_atomic(path: Path, data: dict) -> None:
    # Several processes may build at once (tests, services starting): never expose a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def is_built(dest: Path) -> bool:
    path = dest / ETALAB_FILE
    if not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8") as fh:
            head = fh.read(200)
    except OSError:
        return False
    return f'"version":"{ETALAB_VERSION}"' in head


# -- Etalab ------------------------------------------------------------------------------------------------------
def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if not npm:
        raise CommunesBuildError("npm est requis pour télécharger le référentiel des communes (Node.js >= 18)")
    spec = f"{ETALAB_PACKAGE}@{ETALAB_VERSION}"
    proc = subprocess.run(
        [npm, "pack", spec, "--silent", "--pack-destination", str(workdir)],
        cwd=workdir, capture_output=True, text=True, timeout=300, check=False,
    )
    tarballs = list(workdir.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        raise CommunesBuildError(f"npm pack {spec} failed: {proc.stderr.strip()[-2000:]}")
    digest = base64.b64encode(hashlib.sha512(tarballs[0].read_bytes()).digest()).decode()
    if f"sha512-{digest}" != ETALAB_INTEGRITY:
        raise CommunesBuildError(f"{tarballs[0].name}: integrity sha512-{digest} is not the pinned one")
    return tarballs[0]


def _read_package(tarball: Path) -> dict[str, list]:
    wanted = {f"package/data/{name}.json": name for name in ("communes", "departements", "regions")}
    found = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                found[wanted[member.name]] = json.load(tar.extractfile(member))  # type: ignore[arg-type]
    missing = set(wanted.values()) - set(found)
    if missing:
        raise CommunesBuildError(f"{ETALAB_PACKAGE}@{ETALAB_VERSION} lacks data/{', '.join(sorted(missing))}.json")
    return found


def etalab_document(raw: dict[str, list]) -> dict:
    """The compact form we load: one row per commune, postcodes inherited from the chef-lieu when absent
    (communes déléguées have none of their own in Etalab's data)."""
    postcodes = {c["code"]: c.get("codesPostaux") or [] for c in raw["communes"] if c["type"] == "commune-actuelle"}
    rows = []
    for c in raw["communes"]:
        kind = _ETALAB_TYPES.get(c["type"])
        if kind is None:
            continue
        cps = c.get("codesPostaux") or postcodes.get(c.get("chefLieu") or c.get("commune") or "", [])
        rows.append([c["code"], c["nom"], kind, c["departement"], c.get("region"), c["zone"], " ".join(cps),
                     c.get("population") or 0])
    return {
        "package": ETALAB_PACKAGE,
        "version": ETALAB_VERSION,
        "departements": {d["code"]: {"name": d["nom"], "region": d["region"]} for d in raw["departements"]},
        "regions": {r["code"]: r["nom"] for r in raw["regions"]},
        "communes": rows,
    }


def build(dest: Path | str | None = None, *, force: bool = False, tarball: Path | str | None = None) -> Path:
    """Fetch the pinned Etalab package (or read `tarball`) and write etalab.json into `dest`. Idempotent."""
    dest = Path(dest) if dest else default_dir()
    target = dest / ETALAB_FILE
    if not force and is_built(dest):
        return target
    if tarball:
        raw = _read_package(Path(tarball))
    else:
        with tempfile.TemporaryDirectory(prefix="ceres-communes-") as tmp:
            log.info("npm pack %s@%s", ETALAB_PACKAGE, ETALAB_VERSION)
            raw = _read_package(_npm_pack(Path(tmp)))
    _write_json_atomic(target, etalab_document(raw))
    log.info("communes referential %s@%s built in %s", ETALAB_PACKAGE, ETALAB_VERSION, dest)
    return target


# -- INSEE "communes depuis 1943" --------------------------------------------------------------------------------
def _iso(value: str, line: int, column: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise CommunesBuildError(f"ligne {line} : {column} n'est pas une date AAAA-MM-JJ ({value!r})") from exc


def read_insee(text: str) -> list[list]:
    """Rows [type, code, libellé, début, fin] of INSEE's file as published (comma separated, quoted, UTF-8)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in INSEE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CommunesBuildError(f"colonnes absentes du fichier INSEE : {', '.join(missing)}")
    rows = []
    for line, rec in enumerate(reader, start=2):
        kind, code = rec["TYPECOM"].strip(), rec["COM"].strip()
        if kind not in TYPES:
            raise CommunesBuildError(f"ligne {line} : TYPECOM inconnu {kind!r}")
        if len(code) != 5:
            raise CommunesBuildError(f"ligne {line} : code commune invalide {code!r}")
        start, end = _iso(rec["DATE_DEBUT"], line, "DATE_DEBUT"), _iso(rec["DATE_FIN"], line, "DATE_FIN")
        if start and end and end < start:
            raise CommunesBuildError(f"ligne {line} : DATE_FIN avant DATE_DEBUT")
        name = (rec["LIBELLE"] or rec["NCCENR"]).strip()
        rows.append([kind, code, name, start, end])
    return rows


def import_insee(path: Path | str, dest: Path | str | None = None) -> tuple[Path, int]:
    """Replace the history in `dest` by the rows of INSEE's file (the file is a complete history)."""
    path = Path(path)
    dest = Path(dest) if dest else default_dir()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # older COG files were published in Windows-1252
    rows = read_insee(text)
    target = dest / INSEE_FILE
    _write_json_atomic(target, {"source": path.name, "rows": rows})
    return target, len(rows)
