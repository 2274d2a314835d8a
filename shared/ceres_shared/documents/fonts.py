"""DSFR fonts (Marianne, Spectral) for PDF rendering.

The fonts ship in the npm package ``@gouvfr/dsfr`` as woff2. WeasyPrint can read
woff2, but decompressing it on every process start is slow, so ``install`` converts
each file once to an uncompressed sfnt (TrueType/OpenType) in a local folder.

CLI::

    python -m ceres_shared.documents.fonts install [--dest DIR] [--force]
    python -m ceres_shared.documents.fonts check [--dest DIR]

Licence: the DSFR code is MIT, but the Marianne typeface is reserved to State services
(see LICENSE.md and doc/legal/cgu.md of the package, copied next to the fonts).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The single pin. Bumping it also requires the matching npm "integrity" value
# (`npm view @gouvfr/dsfr@<version> dist.integrity`); install refuses a mismatch.
DSFR_VERSION = "1.14.4"
DSFR_INTEGRITY = (
    "sha512-Ca17apmTyAF2tMFwMcLwQN7fTlbfMFeyYSLUIUmjoSg1XVF4vDDkbvvKBpWJWaoTLDSFZBbvvHzcDyxw9wSkLA=="
)
DSFR_PACKAGE = "@gouvfr/dsfr"

INSTALL_COMMAND = "python -m ceres_shared.documents.fonts install"
_MARKER = ".dsfr-version"
_FONTS_IN_PACKAGE = "package/dist/fonts/"
_LEGAL_FILES = {"package/LICENSE.md": "DSFR-LICENSE.md", "package/doc/legal/cgu.md": "DSFR-CGU.md"}
_SFNT_SUFFIXES = (".otf", ".ttf")


@dataclass(frozen=True)
class FontFace:
    stem: str  # file name in the DSFR package, without extension
    family: str
    weight: int
    style: str = "normal"


# Every woff2 shipped in dist/fonts/ of the pinned version. Spectral only exists in
# Regular and ExtraBold: CSS matching picks 800 when a template asks for bold (700).
FONT_FACES: tuple[FontFace, ...] = (
    FontFace("Marianne-Light", "Marianne", 300),
    FontFace("Marianne-Light_Italic", "Marianne", 300, "italic"),
    FontFace("Marianne-Regular", "Marianne", 400),
    FontFace("Marianne-Regular_Italic", "Marianne", 400, "italic"),
    FontFace("Marianne-Medium", "Marianne", 500),
    FontFace("Marianne-Medium_Italic", "Marianne", 500, "italic"),
    FontFace("Marianne-Bold", "Marianne", 700),
    FontFace("Marianne-Bold_Italic", "Marianne", 700, "italic"),
    FontFace("Spectral-Regular", "Spectral", 400),
    FontFace("Spectral-ExtraBold", "Spectral", 800),
)


class FontsMissingError(RuntimeError):
    """The DSFR fonts are not installed where the renderer looks for them."""


class FontInstallError(RuntimeError):
    """The DSFR fonts could not be fetched or converted."""


def _repo_root() -> Path | None:
    # shared/ceres_shared/documents/fonts.py -> repo root, only when running from a checkout.
    root = Path(__file__).resolve().parents[3]
    return root if (root / "shared" / "ceres_shared").is_dir() else None


def default_fonts_dir() -> Path:
    """Where fonts live: $CERES_FONTS_DIR, else <assets dir>/fonts (see ceres_shared.config.assets_dir)."""
    if env := os.environ.get("CERES_FONTS_DIR"):
        return Path(env)
    if env := os.environ.get("CERES_ASSETS_DIR"):
        return Path(env) / "fonts"
    if env := os.environ.get("CERES_HOME"):
        return Path(env) / "var" / "fonts"
    root = _repo_root()
    # Installed outside a checkout (wheel in a container): keep fonts inside the environment.
    return (root / "var" / "fonts") if root else Path(sys.prefix) / "share" / "ceres" / "fonts"


def font_path(face: FontFace, fonts_dir: Path) -> Path | None:
    """The installed file for ``face`` (.otf for CFF outlines, .ttf for TrueType), or None."""
    for suffix in _SFNT_SUFFIXES:
        candidate = fonts_dir / f"{face.stem}{suffix}"
        if candidate.is_file() and candidate.stat().st_size > 0:
            return candidate
    return None


def missing_fonts(fonts_dir: Path | None = None) -> list[str]:
    """Stems of the expected faces that are not installed in ``fonts_dir``."""
    fonts_dir = Path(fonts_dir) if fonts_dir else default_fonts_dir()
    return [face.stem for face in FONT_FACES if font_path(face, fonts_dir) is None]


def require_fonts(fonts_dir: Path | None = None) -> dict[FontFace, Path]:
    """Return face -> file for every face, or raise FontsMissingError telling how to install them."""
    fonts_dir = Path(fonts_dir) if fonts_dir else default_fonts_dir()
    found = {face: font_path(face, fonts_dir) for face in FONT_FACES}
    missing = [face.stem for face, path in found.items() if path is None]
    if missing:
        dest = "" if fonts_dir == default_fonts_dir() else f" --dest {fonts_dir}"
        raise FontsMissingError(
            f"DSFR fonts missing in {fonts_dir} ({', '.join(missing)}). "
            f"Install them once with: {INSTALL_COMMAND}{dest}"
        )
    return found  # type: ignore[return-value]


def _is_installed(fonts_dir: Path) -> bool:
    marker = fonts_dir / _MARKER
    return (
        marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == DSFR_VERSION
        and not missing_fonts(fonts_dir)
    )


def _local_package_dir(search_from: list[Path]) -> Path | None:
    """An already installed node_modules/@gouvfr/dsfr of the pinned version, if any."""
    for base in search_from:
        pkg = base / "node_modules" / "@gouvfr" / "dsfr"
        manifest = pkg / "package.json"
        if not manifest.is_file():
            continue
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if version == DSFR_VERSION:
            return pkg
        log.warning("ignoring %s: version %s, pinned %s", pkg, version, DSFR_VERSION)
    return None


def _check_integrity(tarball: Path) -> None:
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != DSFR_INTEGRITY:
        raise FontInstallError(
            f"{tarball.name}: integrity sha512-{digest} does not match the pinned DSFR_INTEGRITY "
            f"for {DSFR_PACKAGE}@{DSFR_VERSION}"
        )


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if not npm:
        raise FontInstallError("npm is required to fetch the DSFR fonts (Node.js >= 18)")
    spec = f"{DSFR_PACKAGE}@{DSFR_VERSION}"
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--silent", "--pack-destination", str(workdir)],
        cwd=workdir, capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        raise FontInstallError(f"npm pack {spec} failed: {proc.stderr.strip()[-2000:]}")
    tarballs = list(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FontInstallError(f"npm pack {spec} produced {len(tarballs)} tarballs")
    return tarballs[0]


def _sources_from_tarball(tarball: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """woff2 bytes by stem, legal texts by target name; read in memory, nothing else extracted."""
    fonts: dict[str, bytes] = {}
    legal: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name
            if name.startswith(_FONTS_IN_PACKAGE) and name.endswith(".woff2") and "/" not in name[len(_FONTS_IN_PACKAGE):]:
                fonts[Path(name).stem] = tar.extractfile(member).read()  # type: ignore[union-attr]
            elif name in _LEGAL_FILES:
                legal[_LEGAL_FILES[name]] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return fonts, legal


def _sources_from_dir(pkg: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fonts = {p.stem: p.read_bytes() for p in (pkg / "dist" / "fonts").glob("*.woff2")}
    legal = {}
    for name, target in _LEGAL_FILES.items():
        path = pkg / name.removeprefix("package/")
        if path.is_file():
            legal[target] = path.read_bytes()
    return fonts, legal


def _write_atomic(path: Path, data: bytes) -> None:
    # Two processes may install at once (parallel tests, services starting): never expose a half file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _woff2_to_sfnt(data: bytes) -> tuple[bytes, str]:
    from fontTools.ttLib import TTFont  # imported late: only the installer needs fontTools

    font = TTFont(io.BytesIO(data))
    font.flavor = None  # drop the woff2 wrapper, keep outlines and tables unchanged
    out = io.BytesIO()
    font.save(out)
    suffix = ".otf" if font.sfntVersion == "OTTO" else ".ttf"
    return out.getvalue(), suffix


def install_fonts(dest: Path | str | None = None, *, force: bool = False,
                  package_dir: Path | str | None = None) -> list[Path]:
    """Fetch ``@gouvfr/dsfr`` (pinned), convert its woff2 fonts to sfnt and write them to ``dest``.

    Idempotent: returns at once when ``dest`` already holds every face of the pinned version.
    Source: ``package_dir``, else a ``node_modules/@gouvfr/dsfr`` of the pinned version in the
    repo or the current directory, else ``npm pack`` into a temporary folder.
    """
    dest = Path(dest) if dest else default_fonts_dir()
    if not force and _is_installed(dest):
        log.debug("DSFR fonts %s already in %s", DSFR_VERSION, dest)
        return [font_path(face, dest) for face in FONT_FACES]  # type: ignore[misc]

    dest.mkdir(parents=True, exist_ok=True)
    roots = [p for p in (_repo_root(), Path.cwd()) if p]
    pkg = Path(package_dir) if package_dir else _local_package_dir(roots)
    if pkg:
        log.info("reading DSFR fonts from %s", pkg)
        fonts, legal = _sources_from_dir(pkg)
    else:
        with tempfile.TemporaryDirectory(prefix="ceres-dsfr-") as tmp:
            log.info("npm pack %s@%s", DSFR_PACKAGE, DSFR_VERSION)
            tarball = _npm_pack(Path(tmp))
            _check_integrity(tarball)
            fonts, legal = _sources_from_tarball(tarball)

    absent = [face.stem for face in FONT_FACES if face.stem not in fonts]
    if absent:
        raise FontInstallError(f"{DSFR_PACKAGE}@{DSFR_VERSION} lacks {', '.join(absent)}")

    written = []
    for face in FONT_FACES:
        data, suffix = _woff2_to_sfnt(fonts[face.stem])
        target = dest / f"{face.stem}{suffix}"
        for other in _SFNT_SUFFIXES:  # a stale file with the other suffix would shadow this one
            if other != suffix:
                (dest / f"{face.stem}{other}").unlink(missing_ok=True)
        _write_atomic(target, data)
        written.append(target)
    for name, data in legal.items():
        _write_atomic(dest / name, data)
    _write_atomic(dest / _MARKER, f"{DSFR_VERSION}\n".encode())
    log.info("installed %d DSFR fonts in %s", len(written), dest)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ceres_shared.documents.fonts",
        description=f"Install the DSFR fonts ({DSFR_PACKAGE}@{DSFR_VERSION}) used to render PDFs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="fetch and convert the fonts (skipped if present)")
    p_install.add_argument("--dest", type=Path, help=f"target folder (default: {default_fonts_dir()})")
    p_install.add_argument("--force", action="store_true", help="reinstall even if present")
    p_install.add_argument("--package-dir", type=Path, help="an unpacked @gouvfr/dsfr folder (offline)")
    p_check = sub.add_parser("check", help="exit 1 if a font is missing")
    p_check.add_argument("--dest", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:
        if args.command == "install":
            paths = install_fonts(args.dest, force=args.force, package_dir=args.package_dir)
            print(f"{len(paths)} DSFR fonts ({DSFR_VERSION}) in {paths[0].parent}")
        else:
            paths = require_fonts(args.dest)
            print(f"{len(paths)} DSFR fonts OK in {args.dest or default_fonts_dir()}")
    except (FontsMissingError, FontInstallError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
