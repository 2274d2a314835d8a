"""`make run`: the whole platform in embedded mode — five services and the gateway, six processes, SQLite files
and a filesystem bus under var/ — then the URL. Ctrl-C stops everything.

A supervisor (H4): a process that dies once the platform is up is restarted, after a delay that doubles with each
crash in a row (logged in var/log/platform.log). Each process leads its own process group, with what it starts
(printing's render workers and their resource tracker): stopping asks each process to stop as Ctrl-C would (its
consumer finishes its batch or leaves it uncommitted, to be redelivered), then ends what is left of each group."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
from ceres_shared.config import SERVICES, embedded_port  # noqa: E402

FIRST_BACKOFF_S, MAX_BACKOFF_S = 1.0, 30.0
STABLE_AFTER_S = 60.0  # a process that lived this long crashed "for the first time" again
STOP_GRACE_S, TERM_GRACE_S = 20.0, 3.0
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _in_child() -> None:
    """In each child before exec: SIGINT stops a service cleanly (a shell may have left it ignored), and on
    Linux the child is told to stop if the supervisor itself is killed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG


class Child:
    def __init__(self, name: str, args: list[str]):
        self.name, self.args = name, args
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.backoff = FIRST_BACKOFF_S
        self.restart_at: float | None = None


class Supervisor:
    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.children: dict[str, Child] = {}
        self.stopping = False

    def log(self, text: str) -> None:
        line = f"{datetime.now().isoformat(timespec='seconds')} {text}"
        print(line, file=sys.stderr, flush=True)
        with open(self.log_dir / "platform.log", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def add(self, name: str, args: list[str]) -> None:
        self.children[name] = child = Child(name, args)
        self._spawn(child)

    def _spawn(self, child: Child) -> None:
        with open(self.log_dir / f"{child.name}.log", "ab") as out:
            child.proc = subprocess.Popen([sys.executable, *child.args], cwd=ROOT, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_in_child)
        child.started_at, child.restart_at = time.monotonic(), None

    def dead(self) -> list[str]:
        return [c.name for c in self.children.values() if c.proc.poll() is not None and c.restart_at is None]

    def tick(self) -> None:
        """Restart what died, once its delay has passed."""
        now = time.monotonic()
        for child in self.children.values():
            if child.restart_at is None and child.proc.poll() is not None:
                _kill_group(child.proc.pid, signal.SIGKILL)  # what it left behind (render workers)
                if now - child.started_at > STABLE_AFTER_S:
                    child.backoff = FIRST_BACKOFF_S
                child.restart_at = now + child.backoff
                self.log(f"{child.name} s'est arrêté (code {child.proc.returncode}) : redémarrage dans "
                         f"{child.backoff:.0f} s — voir var/log/{child.name}.log")
                child.backoff = min(child.backoff * 2, MAX_BACKOFF_S)
            elif child.restart_at is not None and now >= child.restart_at and not self.stopping:
                self._spawn(child)
                self.log(f"{child.name} redémarré (pid {child.proc.pid})")

    def stop(self) -> None:
        """Each process stops as on Ctrl-C; then its group gets SIGTERM, then SIGKILL: nothing is left."""
        self.stopping = True
        procs = [c.proc for c in self.children.values() if c.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        _wait_all(procs, STOP_GRACE_S)
        for proc in procs:
            if proc.poll() is None:
                self.log(f"pid {proc.pid} ne s'est pas arrêté en {STOP_GRACE_S:.0f} s : SIGKILL")
                proc.kill()
            proc.wait()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [p.pid for p in procs if _kill_group(p.pid, sig)]
            deadline = time.monotonic() + TERM_GRACE_S
            while alive and time.monotonic() < deadline:
                time.sleep(0.1)
                alive = [pid for pid in alive if _kill_group(pid, 0)]
            if not alive:
                return


def _kill_group(pgid: int, sig: int) -> bool:
    """Signal a process group; False when it has no process left."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _wait_all(procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> int:
    port = int(os.environ.get("PORT", 8000))
    host = os.environ.get("HOST", "127.0.0.1")
    var = Path(os.environ.get("CERES_VAR_DIR", ROOT / "var"))
    (var / "log").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL")}
    env["CERES_VAR_DIR"] = str(var)
    # Identity is reached only through the gateway, which sets X-Forwarded-For to the visitor's address.
    env.setdefault("IDENTITY_TRUST_PROXY", "1")
    supervisor = Supervisor(env, var / "log")

    def on_signal(*_):
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # Identity first: the others fetch its public keys.
        for name in ("identity", *[s for s in SERVICES if s != "identity"]):
            supervisor.add(name, ["-m", "flask", "--app", f"ceres_{name}.wsgi", "serve-embedded", "--port",
                                  str(embedded_port(name))])
        supervisor.add("gateway", ["-m", "ceres_gateway", "--host", host, "--port", str(port)])
        base = f"http://{host}:{port}"
        if not wait_ready(base, supervisor):
            if supervisor.stopping:
                return 0
            print("La plateforme n'a pas démarré : voir var/log/*.log", file=sys.stderr)
            return 1
        print(f"CERES est prêt : {base}/")
        for name in SERVICES:
            print(f"  {name:15s} {base}/api/{name}/readyz")
        print("  API (OpenAPI)   " + f"{base}/api/openapi.json")
        print("Journaux : var/log/ — Ctrl-C pour arrêter.", flush=True)
        while not supervisor.stopping:
            supervisor.tick()
            time.sleep(0.5)
        return 0
    finally:
        supervisor.stop()


def wait_ready(base: str, supervisor: Supervisor, timeout: float = 90) -> bool:
    """Until every service answers its readyz through the gateway; a process dying now is a setup error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor.stopping:
        if supervisor.dead():
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
