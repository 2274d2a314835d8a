"""Prometheus metrics of the web layer and the bus, exposed at /metrics."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "ceres_http_requests_total", "HTTP requests handled", ["service", "method", "endpoint", "status"]
)
HTTP_LATENCY = Histogram(
    "ceres_http_request_seconds",
    "HTTP request duration",
    ["service", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUS_PUBLISHED = Counter("ceres_bus_published_total", "Events published from the outbox", ["service"])
BUS_HANDLED = Counter("ceres_bus_handled_total", "Events handled by the consumer", ["service", "outcome"])
OUTBOX_BACKLOG = Gauge("ceres_outbox_backlog", "Outbox rows not yet published", ["service"])


def scrape_authorised(request) -> bool:
    """M5: /metrics tells who uses what and how often: Prometheus presents CERES_METRICS_TOKEN as a bearer token;
    without that setting, only a peer on this machine (embedded mode, a developer) may read the figures."""
    import hmac
    import ipaddress
    import os

    token = os.environ.get("CERES_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
