"""A faithful fake of the "API Recherche d'entreprises" on real HTTP (loopback), for tests and the benchmark:
GET /search?q=... answers the API's JSON shape (results[].siege / matching_etablissements, total_results, page,
per_page, total_pages). `mode` simulates trouble: "down" (503), "slow" (sleeps past the client's timeout),
"garbage" (200 with HTML)."""
from __future__ import annotations

import json
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def company(siren: str, name: str, etablissements: list[dict], *, siege_nic: str | None = None) -> dict:
    """One item of `results`, from établissements given as {nic, adresse, code_postal, commune, libelle_commune}."""
    places = []
    for e in etablissements:
        siret = siren + e["nic"]
        places.append({
            "siret": siret, "activite_principale": "85.59A", "etat_administratif": e.get("etat", "A"),
            "adresse": f"{e['adresse']} {e['code_postal']} {e['libelle_commune'].upper()}",
            "code_postal": e["code_postal"], "commune": e["commune"], "libelle_commune": e["libelle_commune"].upper(),
            "est_siege": e["nic"] == (siege_nic or etablissements[0]["nic"]), "liste_enseignes": None,
        })
    siege = next(p for p in places if p["est_siege"])
    return {"siren": siren, "nom_complet": name, "nom_raison_sociale": name, "nature_juridique": "9220",
            "activite_principale": "85.59A", "etat_administratif": "A", "nombre_etablissements": len(places),
            "siege": siege, "matching_etablissements": places}


class FakeRechercheEntreprises:
    def __init__(self, companies: list[dict]):
        self.companies = companies
        self.mode = "ok"
        self.requests: list[str] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()

    @Request.application
    def _app(self, request: Request) -> Response:
        self.requests.append(request.full_path)
        if request.path != "/search":
            return Response(json.dumps({"erreur": "Not found"}), 404, mimetype="application/json")
        if self.mode == "down":
            return Response("<html>503 Service Temporarily Unavailable</html>", 503, mimetype="text/html")
        if self.mode == "slow":
            time.sleep(3)
        if self.mode == "garbage":
            return Response("<html>maintenance</html>", 200, mimetype="text/html")
        q = (request.args.get("q") or "").replace(" ", "")
        if len(q) < 3:
            return Response(json.dumps({"erreur": "Veuillez indiquer au moins 3 caractères."}), 400,
                            mimetype="application/json")
        results = []
        for item in self.companies:
            matching = [p for p in item["matching_etablissements"] if p["siret"] == q or item["siren"] == q]
            if matching or q.lower() in item["nom_complet"].lower():
                results.append({**item, "matching_etablissements": matching})
        per_page = int(request.args.get("per_page", 10))
        body = {"results": results[:per_page], "total_results": len(results), "page": 1, "per_page": per_page,
                "total_pages": 1 if results else 0}
        return Response(json.dumps(body, ensure_ascii=False), 200, mimetype="application/json")
