"""Gunicorn settings shared by every CERES web process.

Used as ``gunicorn -c /app/deploy/gunicorn.conf.py ceres_<svc>.wsgi:app``.
Every value can be tuned through an environment variable so that the same
image runs unchanged under Docker Compose and Kubernetes.
"""

import os
import shutil


def _env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpu_count():
    # sched_getaffinity honours cpusets (docker --cpuset-cpus); cpu_count() does not.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _embedded_service():
    """A CERES service without DATABASE_URL and AMQP_URL runs in embedded mode (SQLite, demo tokens)."""
    service = os.environ.get("CERES_SERVICE", "")
    if not service or service == "gateway":  # the gateway under gunicorn is always production (M6)
        return False
    database = os.environ.get("DATABASE_URL") or os.environ.get(f"{service.upper()}_DATABASE_URL")
    return not (database and os.environ.get("AMQP_URL"))


# M7: embedded mode listens on loopback only (make run), never on every interface as below, unless it is a
# public demonstration.
if _embedded_service() and os.environ.get("CERES_DEMO_PUBLIC") != "1":
    raise RuntimeError("embedded mode (no DATABASE_URL/AMQP_URL) refuses gunicorn's public bind: set both for "
                       "production, or CERES_DEMO_PUBLIC=1 for a public demonstration")

# Containers are reached through their published/Service port: listen on all interfaces.
bind = f"0.0.0.0:{_env_int('PORT', 8000)}"

# Classic 2*cores+1, capped at 4: the pod's CPU limit, not the node's core count,
# is the real budget, and each worker holds its own DB/broker pools.
# Kubernetes sets GUNICORN_WORKERS explicitly to match the container resources.
workers = _env_int("GUNICORN_WORKERS", min(2 * _cpu_count() + 1, 4))

# Requests are mostly I/O-bound (PostgreSQL, RabbitMQ, calls between services):
# threads give concurrency without the memory cost of extra processes.
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)

# A worker silent for this long is killed and replaced (it is hung, not just busy:
# with gthread the heartbeat keeps running while requests are being served).
timeout = _env_int("GUNICORN_TIMEOUT", 30)

# On SIGTERM, in-flight requests get this long to finish. Kept below the
# Kubernetes terminationGracePeriodSeconds (30 s) minus the 5 s preStop sleep.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)

# Longer than the ingress controller's / gateway's upstream idle timeout, so that
# the client side always closes idle connections first (avoids sporadic 502s).
keepalive = _env_int("GUNICORN_KEEPALIVE", 65)

# Recycle workers regularly to bound slow memory growth (WeasyPrint, caches);
# the jitter keeps all workers from restarting at the same moment.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# Peers allowed to set X-Forwarded-Proto (and hence wsgi.url_scheme). Loopback by
# default; Kubernetes sets "*" because only the ingress controller and the gateway
# can reach the pods, and their addresses are not known in advance.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Worker heartbeat files: tmpfs avoids stalls on slow or overlay disks and keeps
# working with a read-only root filesystem.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Runtime control socket (gunicornc) is unused in containers and would otherwise be
# created under $HOME, which is read-only in our pods.
control_socket_disable = True

# Logs go to stdout/stderr, where the container runtime collects them.
# GUNICORN_ACCESSLOG="" turns the access log off (the app logs its requests too).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# One JSON-like object per request, easy to parse for the log pipeline.
# Not strictly JSON: values are not escaped (a quote in a user agent would break it).
access_log_format = (
    '{"type": "access", "time": "%(t)s", "remote_addr": "%(h)s", '
    '"method": "%(m)s", "path": "%(U)s", "query": "%(q)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s, "user_agent": "%(a)s", '
    '"request_id": "%({x-request-id}i)s", "pid": "%(p)s"}'
)


# --- Prometheus multiprocess mode (opt-in) --------------------------------------
# With several workers, /metrics needs prometheus_client's multiprocess mode. It is
# enabled by setting PROMETHEUS_MULTIPROC_DIR (e.g. /app/var/prometheus); these
# hooks keep that directory consistent across worker restarts.
_PROMETHEUS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _PROMETHEUS_DIR:
        # Files left by a previous run would be summed into the new counters.
        shutil.rmtree(_PROMETHEUS_DIR, ignore_errors=True)
        os.makedirs(_PROMETHEUS_DIR, exist_ok=True)


def child_exit(server, worker):
    if _PROMETHEUS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
