"""The company register (E2): who is behind a SIRET — raison sociale, adresse, commune.

- `ApiCompanyRegister`: the public "API Recherche d'entreprises" (https://recherche-entreprises.api.gouv.fr,
  GET /search?q=<siret>), with timeouts and retries.
- `FileCompanyRegister`: demo companies from a JSON file, for the embedded mode (no network).
Chosen by COMPANY_REGISTER=api|file (default: file in embedded mode, api in production).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEFAULT_API_URL = "https://recherche-entreprises.api.gouv.fr"
DEMO_FILE = Path(__file__).resolve().parents[1] / "data" / "demo_companies.json"


@dataclass(frozen=True)
class CompanyRecord:
    siret: str
    siren: str
    raison_sociale: str
    adresse: str
    code_postal: str | None
    commune_code: str | None
    commune_label: str | None
    active: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


class RegisterUnavailable(RuntimeError):
    """The register did not answer (network, timeout, 5xx, rate limit after retries)."""


class RegisterBadResponse(RuntimeError):
    """The register answered something we cannot read."""


def _street(adresse: str, code_postal: str | None, libelle: str | None) -> str:
    """The API's `adresse` ends with "<cp> <COMMUNE>"; we keep the street part (commune is its own field)."""
    text = (adresse or "").strip()
    if code_postal and code_postal in text:
        text = text[: text.rfind(code_postal)].strip()
    return re.sub(r"\s+", " ", text) or (adresse or "").strip()


def record_from_api_result(result: dict, siret: str) -> CompanyRecord | None:
    """The establishment `siret` in one item of the API's `results` (its siège or a matching établissement)."""
    places = [result.get("siege") or {}, *(result.get("matching_etablissements") or [])]
    place = next((p for p in places if p.get("siret") == siret), None)
    if place is None:
        return None
    name = result.get("nom_raison_sociale") or result.get("nom_complet")
    if not name:
        raise RegisterBadResponse("résultat sans nom")
    return CompanyRecord(
        siret=siret,
        siren=result.get("siren") or siret[:9],
        raison_sociale=name,
        adresse=_street(place.get("adresse") or "", place.get("code_postal"), place.get("libelle_commune")),
        code_postal=place.get("code_postal"),
        commune_code=place.get("commune"),
        commune_label=place.get("libelle_commune"),
        active=place.get("etat_administratif", "A") == "A",
    )


class ApiCompanyRegister:
    def __init__(self, base_url: str = DEFAULT_API_URL, *, timeout: tuple[float, float] = (2.0, 5.0),
                 retries: int = 2, backoff: float = 0.3):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                      status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",),
                      respect_retry_after_header=True, raise_on_status=False)
        self.http.mount("http://", HTTPAdapter(max_retries=retry))
        self.http.mount("https://", HTTPAdapter(max_retries=retry))
        self.http.headers["User-Agent"] = "CERES-etablissements/1.0"

    def find(self, siret: str) -> CompanyRecord | None:
        try:
            response = self.http.get(f"{self.base_url}/search", params={"q": siret, "page": 1, "per_page": 5},
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegisterUnavailable(str(exc)) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RegisterUnavailable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise RegisterBadResponse(f"HTTP {response.status_code}")
        try:
            results = response.json()["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RegisterBadResponse("réponse illisible") from exc
        for result in results:
            record = record_from_api_result(result, siret)
            if record is not None:
                return record
        return None


class FileCompanyRegister:
    """Offline register: a JSON list of companies in the API's own `results` shape."""

    def __init__(self, path: Path | str = DEMO_FILE):
        self.path = Path(path)
        self._results = json.loads(self.path.read_text(encoding="utf-8"))["results"]

    def find(self, siret: str) -> CompanyRecord | None:
        for result in self._results:
            record = record_from_api_result(result, siret)
            if record is not None:
                return record
        return None


def from_environment(embedded: bool):
    kind = os.environ.get("COMPANY_REGISTER") or ("file" if embedded else "api")
    if kind == "file":
        return FileCompanyRegister(os.environ.get("COMPANY_REGISTER_FILE") or DEMO_FILE)
    if kind == "api":
        return ApiCompanyRegister(os.environ.get("COMPANY_REGISTER_URL") or DEFAULT_API_URL)
    from ceres_shared.config import ConfigError

    raise ConfigError("COMPANY_REGISTER must be 'api' or 'file'")
