"""`make run`'s supervisor (H4): a service killed with SIGKILL is restarted (logged) and ready again, what it had
started (printing's render workers) does not outlive it, and SIGTERM stops the platform leaving no process of its
tree behind."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: the sibling module by name
from test_embedded_platform import ROOT, free_port_block  # noqa: E402


def process_tree(pid: int) -> dict[int, str]:
    """pid -> start time (from /proc, to tell a reused pid) of `pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            started[int(entry.name)] = fields[19]
    tree, todo = {}, [pid]
    while todo:
        current = todo.pop()
        if current in started:
            tree[current] = started[current]
            todo.extend(children.get(current, []))
    return tree


def still_alive(tree: dict[int, str]) -> list[int]:
    alive = []
    for pid, start in tree.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[19] == start and fields[0] != "Z":
            alive.append(pid)
    return alive


def signal_all(pids, sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def service_pid(supervisor: int, name: str) -> int | None:
    for pid in process_tree(supervisor):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"ceres_{name}.wsgi".encode() in cmdline and pid != supervisor:
            return pid
    return None


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(interval)
    return result


def test_a_killed_service_is_restarted_and_sigterm_leaves_no_process_behind(tmp_path):
    base = free_port_block(first=random.randrange(30000, 50000))
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL", "JWKS_URL")}
    env.update(CERES_VAR_DIR=str(var), CERES_PORT_BASE=str(base), PORT=str(base), PRINTING_RENDER_WORKERS="2")
    output = tmp_path / "run_platform.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_platform.py")], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    gateway = f"http://127.0.0.1:{base}"
    try:
        wait_for(lambda: "CERES est prêt" in output.read_text() or proc.poll() is not None, 120, "never ready")
        assert proc.poll() is None, output.read_text()
        printing = service_pid(proc.pid, "printing")
        printing_tree = wait_for(lambda: len(t := process_tree(printing)) > 2 and t, 60, "no render workers")
        os.kill(printing, signal.SIGKILL)
        log = var / "log" / "platform.log"
        wait_for(lambda: log.exists() and "printing redémarré" in log.read_text(), 60, "printing not restarted")
        assert "printing s'est arrêté (code -9)" in log.read_text()
        assert still_alive(printing_tree) == [], "the killed service's render workers outlived it"

        def printing_ready():
            try:
                return requests.get(f"{gateway}/api/printing/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(printing_ready, 120, "printing never ready again")
        assert service_pid(proc.pid, "printing") not in (None, printing)
        assert proc.poll() is None, "the platform stopped with its service"
        tree = process_tree(proc.pid)
        assert len(tree) > 7  # the supervisor, six processes, the render workers
        os.kill(proc.pid, signal.SIGTERM)  # the supervisor only, as `kill` would
        assert proc.wait(60) == 0
        wait_for(lambda: still_alive(tree) == [], 10, f"left behind: {still_alive(tree)}")
    finally:
        signal_all(process_tree(proc.pid), signal.SIGKILL)  # each service leads its own process group
        proc.wait(10)


def test_the_platform_killed_while_the_demo_events_flow_still_delivers_every_document(tmp_path):
    """The demo's first start sends sites, candidates, sessions and their validations across the file bus; the
    whole platform is killed (SIGKILL of every process, then a SIGTERM) while they flow, and restarted: in the end
    printing has every validated session's documents, once."""
    from test_demo_platform import expected_counts, per_status

    base = free_port_block(first=random.randrange(30000, 50000))
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL", "JWKS_URL")}
    env.update(CERES_VAR_DIR=str(var), CERES_PORT_BASE=str(base), PORT=str(base))
    gateway, identity = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 5}"  # identity: embedded_port

    def start(run: int, ready: bool = True) -> subprocess.Popen:
        output = tmp_path / f"run{run}.out"
        with open(output, "wb") as out:
            proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run_platform.py")], env=env, cwd=ROOT,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if not ready:  # the demo's events flow while the services start: on a quiet machine, all before « prêt »
            return proc
        wait_for(lambda: "CERES est prêt" in output.read_text() or proc.poll() is not None, 120, "never ready")
        assert proc.poll() is None, output.read_text() + "".join(
            f"\n--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            for log in sorted((var / "log").glob("*.log")))
        return proc

    def token(role: str, **scope) -> dict:
        answer = requests.post(f"{identity}/dev/tokens", json={"subject": f"t-{role}", "role": role, **scope},
                               timeout=10)
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def get(path: str, auth: dict) -> dict:
        answer = requests.get(f"{gateway}/api/{path}", headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def kill_all(proc: subprocess.Popen) -> None:
        signal_all(process_tree(proc.pid), signal.SIGKILL)
        proc.wait(10)

    def events_in_flight():
        return list((var / "bus").rglob("*.msg"))

    def kill_with_events_in_flight(proc: subprocess.Popen) -> None:
        """SIGKILL of every process at a moment when events are on the bus: they cross it in milliseconds, so
        the platform is frozen (SIGSTOP) when some are seen, and killed if they are still there."""
        tree = process_tree(proc.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if events_in_flight():
                signal_all(tree, signal.SIGSTOP)
                if events_in_flight():
                    signal_all(process_tree(proc.pid), signal.SIGKILL)  # with any process started meanwhile
                    proc.wait(10)
                    return
                signal_all(tree, signal.SIGCONT)
            time.sleep(0.005)
        raise AssertionError("no demo event on the bus: the kill would prove nothing")

    proc = start(1, ready=False)
    try:
        kill_with_events_in_flight(proc)
        proc = start(2, ready=False)
        # The supervisor's six processes started (it handles SIGTERM by then), and events in flight: those left
        # by the kill, or the demo's if they are all gone already.
        wait_for(lambda: len(process_tree(proc.pid)) >= 7, 60, "the six processes never started")
        deadline = time.monotonic() + 60
        while not events_in_flight() and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0
        proc = start(3)
        national = token("dgefp")
        wait_for(lambda: per_status(get("sessions/tableau-de-bord", national)) == expected_counts(None), 180,
                 "every demo session in the DGEFP's dashboard")
        for scope, departements in (({"departements": ["01"]}, {"01"}), ({"departements": ["69"]}, {"69"})):
            auth = token("ud", **scope)
            wanted = expected_counts(departements)["validee"]
            wait_for(lambda: get("printing/dashboard", auth)["sessions_sans_demande"] >= wanted, 120,
                     f"printing's validated sessions of {departements}")
            time.sleep(1)
            assert get("printing/dashboard", auth)["sessions_sans_demande"] == wanted
    finally:
        kill_all(proc)
