"""The platform's Postgres, for real: Debian's server started by the project in a throwaway dir."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from beer_platform.local.platform.postgres import HostPostgres, PostgresError, ensure_database, ensure_secret
from beer_platform.local.stack import free_port


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # not under pytest's tmp_path: its parent is closed to other users, and as root the server runs as `postgres`
    path = Path(tempfile.mkdtemp(prefix="platform-pg-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def connect(port: int, password: str, dbname: str = "dagster"):
    return psycopg2.connect(host="127.0.0.1", port=port, user="dagster", password=password, dbname=dbname,
                            connect_timeout=5)  # fmt: skip


def test_a_cluster_with_a_generated_password_keeps_its_data_across_a_restart(state_dir):
    password = ensure_secret(state_dir / "postgres.secret")
    assert ensure_secret(state_dir / "postgres.secret") == password  # generated once
    assert stat.S_IMODE((state_dir / "postgres.secret").stat().st_mode) == 0o600 and len(password) >= 32
    server, port = HostPostgres(state_dir / "postgres"), free_port()
    assert server.init(password) is True and server.init(password) is False
    server.start(port)
    try:
        assert server.running() and server.port() == port  # found again by a later `up`, state file or not
        assert ensure_database(port, password) is True and ensure_database(port, password) is False
        with connect(port, password) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(port, "not-the-password")
        with connect(port, password, "postgres") as conn, conn.cursor() as cursor:
            cursor.execute("SHOW listen_addresses")
            assert cursor.fetchone() == ("127.0.0.1",)
        assert server.stop() is True and not server.running()
        server.start(port)
        with connect(port, password) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT n FROM kept")
            assert cursor.fetchall() == [(42,)]
    finally:
        server.stop()


def test_a_state_dir_the_postgres_user_cannot_reach_is_refused_saying_what_to_do(tmp_path):
    closed = tmp_path / "closed"  # under pytest's 0700 tmp dir
    if os.geteuid() != 0:  # the server runs as this user, who reaches it: nothing to refuse (CI runs as root)
        assert HostPostgres(closed / "postgres").init("pw") is True
        return
    with pytest.raises(PostgresError, match="BEER_PLATFORM_PLATFORM_DIR"):
        HostPostgres(closed / "postgres").init("pw")
