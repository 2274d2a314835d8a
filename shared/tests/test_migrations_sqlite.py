"""Embedded mode migrates SQLite files: a migration cut short (the service killed, or an error) must leave the
database as it was, so that the next start migrates again instead of failing on « table … already exists »."""
from __future__ import annotations

import textwrap

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

ENV = """
from alembic import context
from sqlalchemy import MetaData
from ceres_shared.migrations import run_env

run_env(context, MetaData())
"""

FIRST = '''
from alembic import op
import sqlalchemy as sa

revision, down_revision = "0001", None


def upgrade():
    op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))
'''

SECOND = '''
import os
from alembic import op
import sqlalchemy as sa

revision, down_revision = "0002", "0001"


def upgrade():
    op.create_table("links", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("email", sa.String(254)))
    if os.environ.get("CERES_TEST_MIGRATION_FAILS") == "1":
        raise RuntimeError("killed mid-migration")
'''


@pytest.fixture
def alembic_cfg(tmp_path):
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(textwrap.dedent(ENV))
    (scripts / "script.py.mako").write_text("")
    (scripts / "versions" / "0001_first.py").write_text(FIRST)
    (scripts / "versions" / "0002_second.py").write_text(SECOND)
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'service.db'}")
    return cfg


def test_a_migration_cut_short_on_sqlite_leaves_nothing_and_the_next_start_migrates(alembic_cfg, monkeypatch):
    url = alembic_cfg.get_main_option("sqlalchemy.url")
    monkeypatch.setenv("CERES_TEST_MIGRATION_FAILS", "1")
    with pytest.raises(RuntimeError, match="killed mid-migration"):
        command.upgrade(alembic_cfg, "head")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}  # nothing half-written
    engine.dispose()

    monkeypatch.setenv("CERES_TEST_MIGRATION_FAILS", "0")
    command.upgrade(alembic_cfg, "head")  # failed with « table accounts already exists » before
    engine = create_engine(url)
    found = inspect(engine)
    assert {"accounts", "links"} <= set(found.get_table_names())
    assert "email" in {c["name"] for c in found.get_columns("accounts")}
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
    engine.dispose()
