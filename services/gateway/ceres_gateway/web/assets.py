"""Front-end packages from the npm registry, pinned with their integrity, installed once at setup and served by
the gateway itself (no CDN): the State's design system (DSFR) and axe-core (the accessibility checker the browser
tests inject into each page).

CLI::

    python -m ceres_gateway.web.assets install [--force]
    python -m ceres_gateway.web.assets check
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The DSFR version is the one the PDF fonts come from: one pin for the whole platform.
from ceres_shared.documents.fonts import DSFR_INTEGRITY, DSFR_PACKAGE, DSFR_VERSION

INSTALL_COMMAND = "python -m ceres_gateway.web.assets install"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str
    folder: str  # under the assets directory
    keep: str  # the part of the tarball we serve (a prefix inside "package/")

    def wanted(self, member: str) -> str | None:
        """Relative path to write for a tarball member, or None: source maps and everything outside `keep` stay out."""
        prefix = f"package/{self.keep}"
        if not member.startswith(prefix) or member.endswith(".map"):
            return None
        return member[len(prefix):].lstrip("/") or Path(member).name  # `keep` may name a single file


DSFR = NpmPackage(DSFR_PACKAGE, DSFR_VERSION, DSFR_INTEGRITY, "dsfr", "dist/")
AXE = NpmPackage("axe-core", "4.14.1",
                 "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
                 "axe", "axe.min.js")
PACKAGES = (DSFR, AXE)
# Files the pages cannot do without: `check` and the gateway's start-up warning look for these.
REQUIRED = ("dsfr/dsfr.min.css", "dsfr/dsfr.module.min.js", "dsfr/utility/icons/icons.min.css",
            "dsfr/fonts/Marianne-Regular.woff2", "axe/axe.min.js")
_MARKER = ".versions.json"


class AssetsError(RuntimeError):
    pass


def assets_dir() -> Path:
    env = os.environ.get("CERES_WEB_ASSETS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "static" / "vendor"


def missing(directory: Path | None = None) -> list[str]:
    directory = directory or assets_dir()
    return [rel for rel in REQUIRED if not (directory / rel).is_file()]


def _installed_versions(directory: Path) -> dict:
    marker = directory / _MARKER
    return json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}


def _npm_pack(pkg: NpmPackage, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if not npm:
        raise AssetsError("npm is required to fetch the web assets (Debian package `npm`)")
    spec = f"{pkg.name}@{pkg.version}"
    proc = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(workdir)], cwd=workdir,
                          capture_output=True, text=True, timeout=300, check=False)
    tarballs = list(workdir.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        raise AssetsError(f"npm pack {spec} failed: {proc.stderr.strip()[-2000:]}")
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarballs[0].read_bytes()).digest()).decode()
    if digest != pkg.integrity:
        raise AssetsError(f"{spec}: integrity {digest} differs from the pinned one")
    return tarballs[0]


def _extract(pkg: NpmPackage, tarball: Path, target: Path) -> int:
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            rel = pkg.wanted(member.name) if member.isfile() else None
            if rel is None or ".." in Path(rel).parts:
                continue
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]
            count += 1
    return count


def install(directory: Path | None = None, *, force: bool = False) -> dict[str, int]:
    """Fetch each pinned package not yet installed at its version; returns files written per package."""
    directory = directory or assets_dir()
    directory.mkdir(parents=True, exist_ok=True)
    versions = _installed_versions(directory)
    written = {}
    for pkg in PACKAGES:
        if not force and versions.get(pkg.name) == pkg.version and (directory / pkg.folder).is_dir():
            continue
        with tempfile.TemporaryDirectory(prefix="ceres-web-") as tmp:
            tarball = _npm_pack(pkg, Path(tmp))
            staging = Path(tmp) / "staging"
            written[pkg.name] = _extract(pkg, tarball, staging)
            # Swap the whole folder: a server reading the old files never sees a mix of versions.
            final = directory / pkg.folder
            old = directory / f".{pkg.folder}.old"
            shutil.rmtree(old, ignore_errors=True)
            if final.exists():
                final.rename(old)
            shutil.move(str(staging), final)
            shutil.rmtree(old, ignore_errors=True)
        versions[pkg.name] = pkg.version
        (directory / _MARKER).write_text(json.dumps(versions, indent=1) + "\n", encoding="utf-8")
    if absent := missing(directory):
        raise AssetsError(f"installed packages lack {', '.join(absent)}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ceres_gateway.web.assets")
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="fetch the pinned packages (skipped when present)")
    p_install.add_argument("--force", action="store_true")
    sub.add_parser("check", help="exit 1 when a required file is missing")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            written = install(force=args.force)
            done = ", ".join(f"{name} ({count} fichiers)" for name, count in written.items()) or "déjà installés"
            print(f"Ressources web dans {assets_dir()} : {done}")
        elif absent := missing():
            print(f"Ressources web manquantes : {', '.join(absent)}. Installez-les : {INSTALL_COMMAND}", file=sys.stderr)
            return 1
    except AssetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
