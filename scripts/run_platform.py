"""`make run`: the whole platform in embedded mode — five services and the gateway, six processes, SQLite files
and a filesystem bus under var/ — then the URL. Ctrl-C stops everything."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
from ceres_shared.config import SERVICES, embedded_port  # noqa: E402


def main() -> int:
    port = int(os.environ.get("PORT", 8000))
    host = os.environ.get("HOST", "127.0.0.1")
    var = Path(os.environ.get("CERES_VAR_DIR", ROOT / "var"))
    (var / "log").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL")}
    env["CERES_VAR_DIR"] = str(var)
    # Identity is reached only through the gateway, which sets X-Forwarded-For to the visitor's address.
    env.setdefault("IDENTITY_TRUST_PROXY", "1")
    procs: dict[str, subprocess.Popen] = {}
    python = sys.executable

    def start(name: str, args: list[str]) -> None:
        log = open(var / "log" / f"{name}.log", "ab")
        procs[name] = subprocess.Popen([python, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    # Identity first: the others fetch its public keys.
    for name in ("identity", *[s for s in SERVICES if s != "identity"]):
        start(name, ["-m", "flask", "--app", f"ceres_{name}.wsgi", "serve-embedded", "--port",
                     str(embedded_port(name))])
    start("gateway", ["-m", "ceres_gateway", "--host", host, "--port", str(port)])

    def stop(*_):
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    base = f"http://{host}:{port}"
    if not wait_ready(base, procs):
        stop()
        print("La plateforme n'a pas démarré : voir var/log/*.log", file=sys.stderr)
        return 1
    print(f"CERES est prêt : {base}/")
    for name in SERVICES:
        print(f"  {name:15s} {base}/api/{name}/readyz")
    print("  API (OpenAPI)   " + f"{base}/api/openapi.json")
    print("Journaux : var/log/ — Ctrl-C pour arrêter.")
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"Processus arrêté(s) : {', '.join(dead)} — voir var/log/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


def wait_ready(base: str, procs: dict, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs.values()):
            return False
        try:
            ok = all(
                urllib.request.urlopen(f"{base}/api/{name}/readyz", timeout=2).status == 200 for name in SERVICES
            )
            if ok:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(main())
