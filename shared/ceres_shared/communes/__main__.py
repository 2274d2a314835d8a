"""python -m ceres_shared.communes build [--dest DIR] [--force] | import-insee FILE.csv [--dest DIR] | lookup TEXT"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from .build import ETALAB_PACKAGE, ETALAB_VERSION, CommunesBuildError, build, default_dir, import_insee
from .referential import CommunesMissingError, Referential


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ceres_shared.communes", description="Référentiel des communes")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help=f"fetch {ETALAB_PACKAGE}@{ETALAB_VERSION} with npm and build the data")
    p_build.add_argument("--dest", type=Path, help=f"target folder (default: {default_dir()})")
    p_build.add_argument("--force", action="store_true", help="rebuild even if present")
    p_build.add_argument("--tarball", type=Path, help="a downloaded package .tgz (offline)")
    p_insee = sub.add_parser("import-insee", help="import INSEE's v_commune_depuis_1943.csv as published")
    p_insee.add_argument("file", type=Path)
    p_insee.add_argument("--dest", type=Path)
    p_lookup = sub.add_parser("lookup", help="search a name, postcode or code")
    p_lookup.add_argument("text")
    p_lookup.add_argument("--on", type=date.fromisoformat)
    p_lookup.add_argument("--dest", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "build":
            path = build(args.dest, force=args.force, tarball=args.tarball)
            print(f"{len(Referential.from_files(path.parent))} communes in {path}")
        elif args.command == "import-insee":
            path, count = import_insee(args.file, args.dest)
            print(f"{count} INSEE rows in {path}")
        else:
            ref = Referential.load(args.dest)
            for c in ref.search(args.text, on=args.on):
                period = f"{c.valid_from or ''}..{c.valid_until or ''}"
                print(f"{c.code}\t{c.type}\t{c.name}\t{c.departement}\t{c.region}\t{c.zone}\t"
                      f"{','.join(c.postcodes)}\t{period}")
    except (CommunesBuildError, CommunesMissingError, OSError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
