"""Finding and preparing the real PostgreSQL and RabbitMQ the tests run against.

Order: URLs from the environment (CERES_TEST_POSTGRES_URL, CERES_TEST_AMQP_URL); else testcontainers when a
Docker engine answers; else the local servers on their usual ports. Each run gets its own databases and its own
RabbitMQ virtual host, removed at the end. An unreachable server is an error that says how to start it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import sqlalchemy as sa

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"

HOW_TO_START = {
    "postgres": "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
    "(or set CERES_TEST_POSTGRES_URL to an admin URL)",
    "rabbitmq": "start it with: rabbitmq-server -detached (or set CERES_TEST_AMQP_URL)",
}


class InfraUnavailable(RuntimeError):
    pass


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _docker_answers() -> bool:
    if os.environ.get("CERES_TEST_NO_DOCKER") == "1":
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:  # no engine, no socket, no permission: fall back to local servers
        return False


@dataclass
class Infra:
    pg_admin_url: str
    amqp_base_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    local_broker: bool = True
    _containers: list = field(default_factory=list)
    _databases: list = field(default_factory=list)
    _vhosts: list = field(default_factory=list)

    # -- PostgreSQL -------------------------------------------------------------------------------------------
    def new_database(self, label: str) -> str:
        name = f"ceres_t{self.run_id}_{label}"[:63]
        engine = sa.create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self._databases.append(name)
        return sa.engine.make_url(self.pg_admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_databases(self) -> None:
        engine = sa.create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self._databases:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
        self._databases.clear()

    # -- RabbitMQ ---------------------------------------------------------------------------------------------
    def new_vhost(self, label: str) -> str:
        """A fresh virtual host; falls back to the base URL (and unique exchange names) when it cannot."""
        name = f"ceres_t{self.run_id}_{label}"
        if self.local_broker and shutil.which("rabbitmqctl"):
            for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
                subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
            self._vhosts.append(name)
            parts = urlsplit(self.amqp_base_url)
            return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name, safe=""), "", ""))
        raise InfraUnavailable("cannot create a RabbitMQ virtual host (rabbitmqctl missing)")

    def drop_vhosts(self) -> None:
        for name in self._vhosts:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)
        self._vhosts.clear()

    def restart_broker(self) -> None:
        """Stop and start the broker application (messages on durable queues survive)."""
        if not self.local_broker:
            raise InfraUnavailable("restarting the broker needs the local RabbitMQ")
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True, timeout=120)

    def stop_broker_app(self) -> None:
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=120)

    def start_broker_app(self) -> None:
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, capture_output=True, timeout=120)

    def close(self) -> None:
        try:
            self.drop_databases()
            self.drop_vhosts()
        finally:
            for container in self._containers:
                container.stop()


def discover() -> Infra:
    pg = os.environ.get("CERES_TEST_POSTGRES_URL")
    amqp = os.environ.get("CERES_TEST_AMQP_URL")
    containers = []
    if (not pg or not amqp) and _docker_answers():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.rabbitmq import RabbitMqContainer

        if not pg:
            pgc = PostgresContainer("postgres:16", driver="psycopg").start()
            containers.append(pgc)
            pg = pgc.get_connection_url()
        if not amqp:
            rmq = RabbitMqContainer("rabbitmq:3.13").start()
            containers.append(rmq)
            amqp = f"amqp://guest:guest@{rmq.get_container_host_ip()}:{rmq.get_exposed_port(5672)}/"
    pg = pg or LOCAL_PG
    amqp = amqp or LOCAL_AMQP
    _check(pg, amqp)
    infra = Infra(pg_admin_url=pg, amqp_base_url=amqp, local_broker=not containers)
    infra._containers = containers
    return infra


def _check(pg: str, amqp: str) -> None:
    pg_url = sa.engine.make_url(pg)
    if not _reachable(pg_url.host or "127.0.0.1", pg_url.port or 5432):
        raise InfraUnavailable(f"PostgreSQL is not reachable at {pg_url.host}:{pg_url.port}; {HOW_TO_START['postgres']}")
    parts = urlsplit(amqp)
    if not _reachable(parts.hostname or "127.0.0.1", parts.port or 5672):
        raise InfraUnavailable(f"RabbitMQ is not reachable at {parts.hostname}:{parts.port}; {HOW_TO_START['rabbitmq']}")
