"""The gateway: proxies /api/<service>/<path> with the caller's token and correlation id, and merges the
services' OpenAPI documents into one at /api/openapi.json."""
from __future__ import annotations

import logging
import os
import re
import time
from urllib.parse import quote

import requests
from flask import Flask, Response, request, stream_with_context
from werkzeug.middleware.proxy_fix import ProxyFix

from ceres_shared import correlation, errors, logs
from ceres_shared.config import SERVICES, ConfigError, embedded_port
from ceres_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS, scrape_authorised

from . import web

log = logging.getLogger(__name__)
CORRELATION_HEADER = "X-Correlation-ID"
# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, never forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}


# A service's own endpoints that are not part of its API, never proxied: its figures (scraped inside the cluster,
# M5), embedded mode's demo tokens (M7; the demo log-in page asks identity directly) and what the services ask
# each other (identity's token revocations, L1). First path segment.
INTERNAL_PATHS = frozenset({"metrics", "dev", "internal"})
# What a client says about the way it came is replaced by what the trusted proxy chain says (M2).
FORWARDING = {"forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
              "x-forwarded-prefix", "x-real-ip"}
# Encoded « / », « \ » and « . » in the raw request line: a service could read another path than the one matched.
_AMBIGUOUS = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)


_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def upstream_path(path: str, raw_uri: str | None) -> str | None:
    """The service path to forward, as matched (M5): None when the request's path is ambiguous — an encoded
    slash, backslash or dot, a dot segment, an empty segment, or a character that would end the path (« ? »,
    « # ») or that no URL holds once decoded."""
    raw_path = (raw_uri or "").split("?", 1)[0]
    if _AMBIGUOUS.search(raw_path):
        return None
    segments = path.split("/")
    if segments and segments[-1] == "":
        segments = segments[:-1]  # a trailing slash
    if any(s in ("", ".", "..") for s in segments) or any(c in path for c in "?#\\") or \
            any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return None
    return path


def trusted_proxies() -> int:
    """CERES_TRUSTED_PROXIES: how many proxies in front of the gateway add X-Forwarded-For/-Proto (the ingress
    controller: 1); 0, the default, when clients reach the gateway directly (embedded mode, compose)."""
    raw = os.environ.get("CERES_TRUSTED_PROXIES", "0")
    try:
        hops = int(raw)
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigError(f"CERES_TRUSTED_PROXIES must be a number of proxies (0, 1…), got {raw!r}")
    return hops


def service_urls() -> dict[str, str]:
    urls = {}
    for name in SERVICES:
        url = os.environ.get(f"SERVICE_URL_{name.upper()}")
        urls[name] = (url or f"http://127.0.0.1:{embedded_port(name)}").rstrip("/")
    return urls


def create_app(urls: dict[str, str] | None = None, timeout: float = 30.0, *, embedded: bool = False) -> Flask:
    """`embedded`: started by embedded mode (python -m ceres_gateway), which alone may run without a strong
    CERES_SECRET_KEY (M6)."""
    logs.configure("gateway", os.environ.get("LOG_LEVEL", "INFO"))
    app = Flask("gateway")
    if hops := trusted_proxies():
        # M2: the client's address and scheme as the trusted proxies saw them; whatever a client adds is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_BODY_BYTES", 10 * 1024 * 1024))
    urls = urls or service_urls()
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=len(urls), pool_maxsize=32)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    errors.install(app)
    web.register(app, urls, http, timeout, embedded)  # the pages for people: /, /connexion, /centres…

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

        # For Prometheus with its token (M5): the figures tell who uses what, how often.
        if not scrape_authorised(request):
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
        forwarded = upstream_path(path, request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"))
        if forwarded is None:
            return errors.problem(400, "Adresse invalide.")
        if forwarded.split("/", 1)[0] in INTERNAL_PATHS:
            return errors.problem(404, "Ressource introuvable.")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP | FORWARDING}
        headers[CORRELATION_HEADER] = correlation.get()
        # The client's address (from the trusted proxies, M2): the services trust the gateway alone.
        headers["X-Forwarded-For"] = request.remote_addr or ""
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-Prefix"] = f"/api/{service}"
        try:
            upstream = http.request(
                request.method,
                f"{base}/{quote(forwarded, safe=_PATH_SAFE)}",
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
    """Prefix the service's paths with /api/<service> and its components' names (schemas, responses...) with the
    service name; the security schemes are the same token everywhere."""
    prefix = service.capitalize()
    components = doc.get("components") or {}
    renames = {f"#/components/{kind}/{n}": f"#/components/{kind}/{prefix}{n}"
               for kind, named in components.items() if kind != "securitySchemes" for n in named}

    def rewrite(node):
        if isinstance(node, dict):
            return {k: (renames.get(v, v) if k == "$ref" else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for path, item in (doc.get("paths") or {}).items():
        merged["paths"][f"/api/{service}{path}"] = rewrite(item)
    for kind, named in components.items():
        for name, component in named.items():
            key = name if kind == "securitySchemes" else f"{prefix}{name}"
            merged["components"].setdefault(kind, {})[key] = rewrite(component)
    for tag in doc.get("tags") or []:
        merged["tags"].append({**tag, "name": tag["name"]})
