"""`make run`'s platform: six processes in embedded mode (SQLite + filesystem bus), each service ready through
the gateway, tokens of identity verified by another service, events crossing processes."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from ceres_shared.config import embedded_port

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")


def free_port_block(size: int = 6, first: int = 20000) -> int:
    """A base port whose next `size` ports are free (from `first`: a platform restarted by a test frees its ports
    for a moment, and another test's platform must not take them then)."""
    for base in range(first, 60000, 97):
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


def test_make_run_starts_six_processes_all_ready_through_the_gateway(tmp_path):
    base = free_port_block()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL", "JWKS_URL")}
    env.update(CERES_VAR_DIR=str(tmp_path / "var"), CERES_PORT_BASE=str(base), PORT=str(base))
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_platform.py")], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        first_line = proc.stdout.readline()
        assert first_line.startswith("CERES est prêt"), first_line + (tmp_path / "var").joinpath("log").as_posix()
        gateway = f"http://127.0.0.1:{base}"
        for name in SERVICES:
            ready = requests.get(f"{gateway}/api/{name}/readyz", timeout=10)
            assert ready.status_code == 200, (name, ready.text)
            assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
        assert requests.get(f"{gateway}/readyz", timeout=10).status_code == 200
        spec = requests.get(f"{gateway}/api/openapi.json", timeout=10).json()
        assert "x-unavailable-services" not in spec["info"]
        assert any(p.startswith("/api/identity/") for p in spec["paths"])
        # Six processes: the supervisor's children.
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 6
        # Embedded tokens: identity's keys verify on another service, through the gateway.
        # The gateway never routes /dev/* (M7): demo tokens come from identity's own port.
        assert requests.post(f"{gateway}/api/identity/dev/tokens", json={"subject": "a1", "role": "dgefp"},
                             timeout=10).status_code == 404
        identity = f"http://127.0.0.1:{embedded_port('identity', base)}"
        token = requests.post(f"{identity}/dev/tokens", json={"subject": "a1", "role": "dgefp"},
                              timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        history = requests.get(f"{gateway}/api/sessions/history/session/x", timeout=10, headers=auth)
        assert history.status_code == 200 and history.json() == []
        # Events cross processes on the filesystem bus: establishments' demo registers a centre, identity makes
        # its activation code from the `centre.registered` event (E3, I2).
        code_url = f"{gateway}/api/identity/centres/30012845100014/activation-code"
        deadline = time.monotonic() + 60
        while (code := requests.get(code_url, headers=auth, timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, code.text
            time.sleep(0.5)
        assert {p.name for p in (tmp_path / "var").glob("*.db")} >= {f"{s}.db" for s in SERVICES}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
