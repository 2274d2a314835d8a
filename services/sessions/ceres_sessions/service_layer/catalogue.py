"""The titres catalogue: imports (CSV or JSON) and edits by DGEFP; titre.published / titre.updated events."""
from __future__ import annotations

import csv
import io
import json

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.errors import ApiError, NotFound

from .. import clock
from ..api.schemas import TitreIn
from ..models import Titre

FIELDS = ("code", "version_date", "libelle", "kind", "level", "nsf_codes", "rncp", "jo_date", "end_of_validity",
          "prolongation_until", "ccs_of", "ccps")
_TITRE_IN = TitreIn()


def titre_dict(t: Titre) -> dict:
    return {name: getattr(t, name) for name in FIELDS}


def _payload(t: Titre) -> dict:
    d = titre_dict(t)
    return {**d, "version_date": d["version_date"].isoformat(),
            **{k: d[k].isoformat() if d[k] else None for k in ("jo_date", "end_of_validity", "prolongation_until")}}


def parse_import(raw: bytes, content_type: str) -> list[dict]:
    """Rows of a catalogue file. CSV: `;`-separated, NSF codes space-separated, CCPs as `code:libellé|…`.
    Every row is checked; one bad row refuses the whole file (422, errors per line and field)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "Le fichier doit être encodé en UTF-8.", code="encoding") from None
    if "json" in content_type:
        try:
            rows = json.loads(text)
        except ValueError:
            raise ApiError(400, "Le corps de la requête n'est pas un JSON valide.") from None
        if not isinstance(rows, list):
            raise ApiError(422, "Une liste de titres est attendue.", code="not_a_list")
    elif "csv" in content_type:
        rows = [_csv_row(r) for r in csv.DictReader(io.StringIO(text), delimiter=";")]
    else:
        raise ApiError(415, "Format de fichier attendu : CSV (text/csv) ou JSON (application/json).")
    if not rows:
        raise ApiError(422, "Le fichier ne contient aucun titre.", code="empty")
    loaded, errors = [], {}
    for number, row in enumerate(rows, start=1):
        try:
            loaded.append(_TITRE_IN.load(row))
        except ValidationError as exc:
            from ceres_shared.errors import french

            errors[f"ligne {number}"] = french(exc.normalized_messages())
    if errors:
        raise ApiError(422, "Le fichier contient des titres invalides ; aucun titre n'a été importé.", errors=errors)
    return loaded


def _csv_row(row: dict) -> dict:
    out = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in row.items() if k}
    out["nsf_codes"] = (out.get("nsf_codes") or "").split()
    ccps = []
    for part in filter(None, (out.get("ccps") or "").split("|")):
        code, _, libelle = part.partition(":")
        ccps.append({"code": code.strip(), "libelle": libelle.strip()})
    out["ccps"] = ccps
    return out


def import_titres(session: Session, principal, rows: list[dict], rt, dry_run: bool = False) -> dict:
    """Creates new versions (titre.published), updates changed ones (titre.updated), leaves the same ones. With
    `dry_run`, writes nothing and says what would change, version by version (« titres »), for a confirmation."""
    counts = {"publies": 0, "mis_a_jour": 0, "inchanges": 0}
    plan, new_codes = [], set()
    for row in sorted(rows, key=lambda r: r["kind"] != "TP"):  # a CCS after the TP it belongs to
        existing = session.get(Titre, (row["code"], row["version_date"]))
        before = titre_dict(existing) if existing is not None else None
        changed = [k for k in FIELDS if before is None or before[k] != row.get(k)]
        change = "publie" if before is None else "mis_a_jour" if changed else "inchange"
        counts[{"publie": "publies", "mis_a_jour": "mis_a_jour", "inchange": "inchanges"}[change]] += 1
        plan.append({"code": row["code"], "version_date": row["version_date"].isoformat(), "libelle": row["libelle"],
                     "change": change, "fields": changed if before is not None else []})
        if change == "publie":
            _check_ccs_parent(session, row, new_codes)
            new_codes.add(row["code"])
        if dry_run or change == "inchange":
            continue
        if existing is None:
            existing = Titre(**row, updated_at=clock.now())
            session.add(existing)
        else:
            for key, value in row.items():
                setattr(existing, key, value)
            existing.updated_at = clock.now()
        session.flush()
        _trace(session, principal, rt, existing, before, "titre.published" if before is None else "titre.updated")
    return {**counts, "titres": plan} if dry_run else counts


def update_titre(session: Session, principal, code: str, version, changes: dict, rt) -> Titre:
    titre = session.get(Titre, (code, version))
    if titre is None:
        raise NotFound("Ce titre (ou cette version) n'existe pas dans le catalogue.")
    before = titre_dict(titre)
    merged = {**before, **changes}
    try:  # the whole version must still hold together (dates in order, CCS parent...)
        _TITRE_IN.load(_payload_like(merged))
    except ValidationError as exc:
        from ceres_shared.errors import french

        raise ApiError(422, "Certaines données sont invalides.", errors=french(exc.normalized_messages())) from None
    for key, value in changes.items():
        setattr(titre, key, value)
    titre.updated_at = clock.now()
    session.flush()
    _trace(session, principal, rt, titre, before, "titre.updated")
    return titre


def _payload_like(d: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()}


def _check_ccs_parent(session: Session, row: dict, new_codes: set[str]) -> None:
    """A new CCS needs its TP in the catalogue, or earlier in the same file (`new_codes`, not yet written in a dry
    run)."""
    if row["kind"] != "CCS" or row["ccs_of"] in new_codes:
        return
    if session.scalar(select(Titre.code).where(Titre.code == row["ccs_of"]).limit(1)) is None:
        raise ApiError(422, "Certaines données sont invalides.",
                       errors={row["code"]: {"ccs_of": [f"Le titre {row['ccs_of']} n'est pas au catalogue."]}})


def _trace(session, principal, rt, titre: Titre, before: dict | None, event: str) -> None:
    rt.audit.record(session, entity_type="titre", entity_id=f"{titre.code}@{titre.version_date.isoformat()}",
                    action="create" if before is None else "update", actor=principal.label,
                    actor_role=principal.role, before=before, after=titre_dict(titre))
    rt.outbox.record(session, event, _payload(titre))


def list_titres(session: Session, code: str | None = None) -> list[Titre]:
    query = select(Titre).order_by(Titre.code, Titre.version_date)
    if code:
        query = query.where(Titre.code == code)
    return list(session.scalars(query))


def current_version(session: Session, code: str, version=None) -> Titre | None:
    query = select(Titre).where(Titre.code == code)
    if version is not None:
        query = query.where(Titre.version_date == version)
    return session.scalars(query.order_by(Titre.version_date.desc()).limit(1)).first()
