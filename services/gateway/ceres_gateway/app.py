"""The gateway: proxies /api/<service>/<path> with the caller's token and correlation id, and merges the
services' OpenAPI documents into one at /api/openapi.json."""
from __future__ import annotations

import logging
import os
import time

import requests
from flask import Flask, Response, request, stream_with_context

from ceres_shared import correlation, errors, logs
from ceres_shared.config import SERVICES, embedded_port
from ceres_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS

from . import web

log = logging.getLogger(__name__)
CORRELATION_HEADER = "X-Correlation-ID"
# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, never forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}


# A service's own endpoints that are not part of its API: scraped inside the cluster, never proxied.
INTERNAL_PATHS = frozenset({"metrics"})


def service_urls() -> dict[str, str]:
    urls = {}
    for name in SERVICES:
        url = os.environ.get(f"SERVICE_URL_{name.upper()}")
        urls[name] = (url or f"http://127.0.0.1:{embedded_port(name)}").rstrip("/")
    return urls


def create_app(urls: dict[str, str] | None = None, timeout: float = 30.0) -> Flask:
    logs.configure("gateway", os.environ.get("LOG_LEVEL", "INFO"))
    app = Flask("gateway")
    app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_BODY_BYTES", 10 * 1024 * 1024))
    urls = urls or service_urls()
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=len(urls), pool_maxsize=32)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    errors.install(app)
    web.register(app, urls, http, timeout)  # the pages for people: /, /connexion, /centres…

    @app.before_request
    def _start():
        request.environ["ceres.started"] = time.perf_counter()
        request.environ["ceres.cid_token"] = correlation.set(
            correlation.accept(request.headers.get(CORRELATION_HEADER))
        )

    @app.after_request
    def _finish(response):
        response.headers[CORRELATION_HEADER] = correlation.get() or ""
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        HTTP_REQUESTS.labels("gateway", request.method, endpoint, response.status_code).inc()
        HTTP_LATENCY.labels("gateway", endpoint).observe(time.perf_counter() - request.environ["ceres.started"])
        return response

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz")
    def readyz():
        checks = {}
        for name, base in urls.items():
            try:
                checks[name] = "ok" if http.get(f"{base}/healthz", timeout=2).status_code == 200 else "down"
            except requests.RequestException:
                checks[name] = "unreachable"
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503

    @app.get("/metrics")
    def metrics():
        from ceres_shared.web import metrics_response

        # For Prometheus, which scrapes the pod directly; not for the outside world through the Ingress (which
        # adds these headers): the figures tell who uses what, how often.
        if request.headers.get("X-Forwarded-For") or request.headers.get("X-Real-IP"):
            return errors.problem(404, "Ressource introuvable.")
        return metrics_response()

    @app.get("/api/openapi.json")
    def openapi():
        merged = {"openapi": "3.0.3", "info": {"title": "CERES API", "version": "1.0"}, "paths": {},
                  "components": {"schemas": {}}, "tags": []}
        unavailable = []
        for name, base in urls.items():
            try:
                doc = http.get(f"{base}/openapi.json", timeout=5).json()
            except (requests.RequestException, ValueError):
                unavailable.append(name)
                continue
            _merge(merged, name, doc)
        if unavailable:
            merged["info"]["x-unavailable-services"] = unavailable
        return merged

    @app.route("/api/<service>/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/api/<service>/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def proxy(service: str, path: str):
        base = urls.get(service)
        if base is None:
            return errors.problem(404, f"Service inconnu : {service}.")
        if path.strip("/") in INTERNAL_PATHS:
            return errors.problem(404, "Ressource introuvable.")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers[CORRELATION_HEADER] = correlation.get()
        headers["X-Forwarded-For"] = request.remote_addr or ""
        headers["X-Forwarded-Prefix"] = f"/api/{service}"
        try:
            upstream = http.request(
                request.method,
                f"{base}/{path}",
                params=request.query_string,
                data=request.get_data(),
                headers=headers,
                stream=True,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning("service %s unreachable: %s", service, exc)
            return errors.problem(503, f"Le service « {service} » est momentanément indisponible.")
        out_headers = [(k, v) for k, v in upstream.raw.headers.items() if k.lower() not in HOP_BY_HOP]
        return Response(
            stream_with_context(upstream.iter_content(64 * 1024)), status=upstream.status_code, headers=out_headers
        )

    @app.teardown_request
    def _teardown(_exc):
        token = request.environ.pop("ceres.cid_token", None)
        if token is not None:
            correlation.reset(token)

    return app


def _merge(merged: dict, service: str, doc: dict) -> None:
    """Prefix the service's paths with /api/<service> and its schema names with the service name."""
    prefix = service.capitalize()
    schemas = (doc.get("components") or {}).get("schemas") or {}
    renames = {f"#/components/schemas/{n}": f"#/components/schemas/{prefix}{n}" for n in schemas}

    def rewrite(node):
        if isinstance(node, dict):
            return {k: (renames.get(v, v) if k == "$ref" else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for path, item in (doc.get("paths") or {}).items():
        merged["paths"][f"/api/{service}{path}"] = rewrite(item)
    for name, schema in schemas.items():
        merged["components"]["schemas"][f"{prefix}{name}"] = rewrite(schema)
    for tag in doc.get("tags") or []:
        merged["tags"].append({**tag, "name": tag["name"]})
