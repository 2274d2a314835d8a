"""The Flask app every service shares: OpenAPI, problem+json errors, correlation ids, health, metrics, auth,
request size limits, a database session per request, and the service's CLI (migrations, worker, dead letters)."""
from __future__ import annotations

import json
import logging
import re
import time

import click
from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session

from . import correlation, errors, idempotency, revocation
from .auth import KeySet, check_permission
from .metrics import HTTP_LATENCY, HTTP_REQUESTS, scrape_authorised
from .openapi import CeresApi, ServiceFlask
from .runtime import Runtime

log = logging.getLogger(__name__)
CORRELATION_HEADER = "X-Correlation-ID"


def create_service_app(runtime: Runtime, blueprints=(), *, title: str, description: str = "") -> Flask:
    app = ServiceFlask(runtime.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": description}},
        MAX_CONTENT_LENGTH=runtime.settings.max_body_bytes,
        SECRET_KEY=runtime.settings.secret_key,
        JWT_AUDIENCE=runtime.settings.jwt_audience,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["ceres_runtime"] = runtime
    app.extensions["ceres_policy"] = runtime.policy
    app.extensions["ceres_keys"] = KeySet(url=runtime.settings.jwks_url, jwks=runtime.jwks)
    app.extensions["ceres_revocations"] = revocation.for_settings(runtime.settings)  # L1: tokens cut at log-out
    api = CeresApi(app)
    _install_request_context(app, runtime)
    idempotency.install(app, runtime)  # after the permission check: retries with an Idempotency-Key
    errors.install(app)
    _install_probes(app, runtime)
    from .audit_api import NATIONAL_ADMINISTRATION, REFUSALS_ACTION, refusals_blp
    from .audit_api import blp as history_blp

    runtime.policy.setdefault(REFUSALS_ACTION, NATIONAL_ADMINISTRATION)  # every service's refusals (I4)
    for blueprint in (history_blp, refusals_blp, *blueprints):
        api.register_blueprint(blueprint)
    _install_cli(app, runtime)
    app.extensions["ceres_api"] = api
    return app


def db() -> Session:
    """The request's database session (committed by the handler, closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["ceres_runtime"].session_factory()
    return g.db


def runtime() -> Runtime:
    return current_app.extensions["ceres_runtime"]


def _install_request_context(app: Flask, rt: Runtime) -> None:
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        g.correlation_token = correlation.set(correlation.accept(request.headers.get(CORRELATION_HEADER)))
        # Refuse an oversize body from its declared length, before any route reads it.
        if request.content_length is not None and request.content_length > app.config["MAX_CONTENT_LENGTH"]:
            return errors.problem(413, "La requête est trop volumineuse.")
        # The endpoint's permission before its arguments (flask-smorest parses them in decorators that may sit
        # outside @require): an unauthorised caller gets 401/403, never a validation error.
        action = getattr(app.view_functions.get(request.endpoint), "ceres_action", None)
        if action is not None:
            check_permission(action)
        if request.is_json and request.content_length:
            # Before anything parses or walks it: a deeply nested body exhausts the recursion of json and of
            # every walk over it (a 1 KB body 500 levels deep was a 500).
            if nesting_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
                return errors.problem(400, "Le corps de la requête est trop imbriqué.", code="too_deep")
            bad = _unstorable_text(request.get_json(silent=True))
            if bad is not None:
                return errors.problem(422, "Certaines données sont invalides.",
                                      errors={bad: ["Caractères non autorisés."]})
        if request.method == "PATCH" and request.url_rule is not None and _asks_nothing():
            return errors.problem(422, "Aucune modification demandée.", code="no_change")  # was 200 (L9)

    @app.after_request
    def _finish(response: Response):
        cid = correlation.get()
        if cid:
            response.headers[CORRELATION_HEADER] = cid
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        HTTP_REQUESTS.labels(rt.service, request.method, endpoint, response.status_code).inc()
        if "started" in g:
            elapsed = time.perf_counter() - g.started
            HTTP_LATENCY.labels(rt.service, endpoint).observe(elapsed)
            if endpoint not in ("/healthz", "/metrics"):
                log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000)
        return response

    @app.teardown_request
    def _teardown(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation.reset(token)


def _asks_nothing() -> bool:
    """A PATCH without a body, or with `{}`: it changes nothing, so it is refused rather than answered 200."""
    raw = request.get_data(cache=True)
    return not raw.strip() or (request.is_json and request.get_json(silent=True) == {})


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_text(body) -> str | None:
    """The top-level field holding text no database can store (NUL, unpaired UTF-16 surrogates from JSON
    escapes), or "_schema" when it is the body itself; None when all is storable. Iterative: no depth exhausts it."""

    def bad(value) -> bool:
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                if not _storable(item):
                    return True
            elif isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
        return False

    if isinstance(body, dict):
        return next((str(k) if _storable(str(k)) else "_schema" for k, v in body.items() if bad(k) or bad(v)), None)
    return "_schema" if bad(body) else None


MAX_JSON_DEPTH = 32  # the deepest body of the APIs is 3 levels (M3)
# A string, to its closing quote or to the end when it has none (possessive: one pass, never a re-scan).
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text go, counted without parsing it (no recursion): the brackets
    outside its strings."""
    depth = deepest = 0
    for byte in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKET):
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _install_probes(app: Flask, rt: Runtime) -> None:
    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": rt.service}

    @app.get("/readyz")
    def readyz():
        checks = {}
        for name, check in (("database", rt.check_database), ("broker", rt.check_broker)):
            try:
                check()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - the probe reports, it does not fail
                checks[name] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "service": rt.service, "checks": checks}, (
            200 if ready else 503
        )

    @app.get("/metrics")
    def metrics():
        if not scrape_authorised(request):  # M5
            return errors.problem(404, "Ressource introuvable.")
        return metrics_response()


def _seed_demo(rt: Runtime) -> None:
    """Embedded mode's demo data: a service may ship `ceres_<service>.demo.seed(runtime)` (idempotent)."""
    import importlib

    try:
        demo = importlib.import_module(f"ceres_{rt.service}.demo")
    except ModuleNotFoundError:
        return
    demo.seed(rt)


def metrics_response() -> Response:
    """Prometheus exposition; under gunicorn with several workers (PROMETHEUS_MULTIPROC_DIR set), the sum of all
    workers' metrics rather than the one worker that happens to answer."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def _install_cli(app: Flask, rt: Runtime) -> None:
    from .bus import deadletters

    @app.cli.command("db-upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision):
        """Apply the service's migrations."""
        rt.upgrade_database(revision)
        click.echo(f"{rt.service}: database at {revision}")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load the service's demo data (idempotent)."""
        _seed_demo(rt)

    @app.cli.command("worker")
    def worker():
        """Run the outbox relay and the event consumer until stopped."""
        rt.run_worker_forever()

    @app.cli.command("worker-health")
    @click.option("--max-age", default=60, help="seconds")
    def worker_health(max_age):
        """Exit 0 when the worker's heartbeat is fresh (liveness probe)."""
        path = rt.heartbeat_file()
        if not path.exists() or time.time() - path.stat().st_mtime > max_age:
            raise SystemExit(1)

    @app.cli.group("dead-letters")
    def dead_letters():
        """Inspect and replay the service's dead-letter queue."""

    @dead_letters.command("list")
    @click.option("--limit", default=100)
    def dl_list(limit):
        for item in deadletters.browse(rt, limit=limit):
            click.echo(f"{item.event_id}\t{item.event_type}\t{item.failed_at}\t{item.error[:120]}")

    @dead_letters.command("show")
    @click.argument("event_id")
    def dl_show(event_id):
        item = deadletters.find(rt, event_id)
        if item is None:
            raise click.ClickException(f"no dead letter {event_id}")
        click.echo(json.dumps(item.as_dict(), indent=2, ensure_ascii=False))

    @dead_letters.command("replay")
    @click.argument("event_ids", nargs=-1)
    @click.option("--all", "replay_all", is_flag=True)
    def dl_replay(event_ids, replay_all):
        if not event_ids and not replay_all:
            raise click.UsageError("give event ids or --all")
        count = deadletters.replay(rt, None if replay_all else set(event_ids))
        click.echo(f"replayed {count}")

    @app.cli.command("serve-embedded")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", type=int, required=True)
    def serve_embedded(host, port):
        """Embedded mode: migrate, start relay + consumer threads, serve HTTP (one process per service)."""
        import signal
        import threading

        from werkzeug.serving import make_server

        from .config import ConfigError, check_embedded_bind

        try:
            check_embedded_bind(host)  # M7: loopback only, unless a public demo says so
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        rt.upgrade_database()
        _seed_demo(rt)
        rt.start_background()
        server = make_server(host, port, app, threaded=True)
        # SIGTERM (kill, systemd, docker) stops as SIGINT does: the HTTP loop ends, the consumer finishes its
        # batch (committed and acked, or requeued), exit 0. shutdown() waits for the loop: not from this thread.
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
        click.echo(f"{rt.service} listening on http://{host}:{port}")
        try:
            server.serve_forever()
        finally:
            rt.stop_background()
