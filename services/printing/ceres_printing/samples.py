"""Sample event payloads (seed 002's Henri CHEVALIER, Ouvrier du paysage) for tests, the benchmark and demos.
Demo data: names and addresses are invented."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

TITRE = {
    "code": "TP-00463", "version_date": "2018-09-20", "libelle": "Ouvrier du paysage", "kind": "TP", "level": 3,
    "nsf_codes": ["214r", "214s"], "rncp": "RNCP399", "jo_date": "2018-09-26", "end_of_validity": "2028-09-20",
    "ccps": [{"code": "CCP-01", "libelle": "Réaliser des travaux d'entretien paysager"},
             {"code": "CCP-02", "libelle": "Réaliser des travaux d'aménagement paysager"}],
}
CCS = {**TITRE, "code": "CCS-00123", "libelle": "Arrosage automatique", "kind": "CCS", "ccs_of": "TP-00463",
       "ccps": [], "rncp": "RNCP400"}


def site(site_id: str, departement: str = "75", region: str = "11", zone: str = "metro",
         commune_code: str = "75107") -> dict:
    return {"site_id": site_id, "centre_id": "centre-1", "name": f"Site {site_id}", "adresse": "1 rue des Lilas",
            "code_postal": commune_code, "commune_code": commune_code, "commune_label": "Commune",
            "departement": departement, "region": region, "zone": zone}


def candidate(candidate_id: int, nom: str = "CHEVALIER", prenom: str = "Henri", genre: str = "M",
              birth_date: str = "1990-03-01", commune: str = "Lyon", street: str = "12 rue de la Paix") -> dict:
    return {"candidate_id": candidate_id, "genre": genre, "nom_naissance": nom, "prenoms": [prenom],
            "birth_date": birth_date, "birth_country_label": "FRANCE", "birth_commune_label": commune,
            "address": {"lines": [street], "code_postal": "75002", "commune_label": "Paris"}}


def session_validated(session_id: str, site_id: str, results: list[tuple[int, str, list[str]]],
                      commune_code: str = "75107", titre: dict = TITRE,
                      validated_at: datetime = datetime(2022, 11, 16, 10, 0, tzinfo=timezone.utc)) -> dict:
    return {"session_id": session_id, "public_id": f"TITRE_B_2022_{abs(hash(session_id)) % 1000000:06d}",
            "titre_code": titre["code"], "titre_version": titre["version_date"], "site_id": site_id,
            "site_commune_code": commune_code, "centre_id": "centre-1", "validated_by": "ud:agent-75",
            "validated_at": validated_at.isoformat(),
            "results": [{"candidate_id": cid, "decision": d, "ccps_obtained": ccps} for cid, d, ccps in results]}


def new_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:test:{label}:{uuid.uuid4()}"))
