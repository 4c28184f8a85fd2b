"""The platform's Postgres: Debian's server, run by the project as a host process.

Why a host process and not a container: the server is already on the machine (PostgreSQL 15 from
Debian, `make setup` installs it where missing), starts in about a second, and what Dagster needs
from it is a TCP endpoint with password authentication and durable data, which this gives. An
image of Debian's postgresql-15 would drag in libllvm14, libicu72 and the locales (~250 MB and a
minute of mmdebstrap per machine) for nothing the platform uses.

The cluster lives in the state dir, listens on 127.0.0.1 only (no Unix socket), and every
connection authenticates with scram-sha-256 as `dagster` with a generated password kept in a
0600 file beside it. The server refuses to run as root: as root it runs as Debian's `postgres`
user, which must be able to reach the state dir.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

USER = "dagster"
DATABASE = "dagster"


class PostgresError(RuntimeError):
    """The server cannot be set up or started; the message says what to do."""


def bindir() -> Path:
    """Debian keeps the server's programs out of PATH, in /usr/lib/postgresql/<version>/bin."""
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]), reverse=True)
    if not versions:
        raise PostgresError("PostgreSQL's server is not installed: `make setup` installs it (Debian's postgresql) "
                            "on Debian/Ubuntu as root; elsewhere install PostgreSQL 15+ with your package manager")
    return versions[0].parent


def ensure_secret(path: Path) -> str:
    """The database password: generated on first use into `path`, mode 0600."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    password = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return password


@dataclass(frozen=True)
class HostPostgres:
    root: Path  # <state>/postgres: data/ and postgres.log, owned by the server's account

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    def _account(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresError("as root, Postgres runs as the `postgres` user, and there is none: installing "
                                "Debian's postgresql creates it (make setup)") from None

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        account = self._account()
        as_user = {} if account is None else {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        return subprocess.run([str(bindir() / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, start_new_session=True, **as_user)  # fmt: skip

    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def init(self, password: str) -> bool:
        """Create the cluster (superuser `dagster`, scram everywhere) unless it exists; True if made."""
        if self.initialized():
            return False
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        account = self._account()
        if account is not None:
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._check_reachable(account)
        pwfile = self.root / ".initdb-password"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if account is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            done = self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                             "--auth=scram-sha-256", "-E", "UTF8", "--no-locale")  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise PostgresError(f"initdb failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
        return True

    def _check_reachable(self, account: pwd.struct_passwd) -> None:
        done = subprocess.run(["test", "-w", str(self.root)], user=account.pw_uid, group=account.pw_gid,
                              extra_groups=[], capture_output=True)  # fmt: skip
        if done.returncode != 0:
            raise PostgresError(f"the `postgres` user cannot reach {self.root} (a parent directory is closed to "
                                "it): put the platform's state elsewhere with BEER_PLATFORM_PLATFORM_DIR")

    def start(self, port: int) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories=''"
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "-o", options,
                         "start")  # fmt: skip
        if done.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise PostgresError(f"Postgres did not start on 127.0.0.1:{port}:\n{done.stderr}{tail}")

    def stop(self) -> bool:
        """Stop the server (fast: open transactions roll back); False when it was not running."""
        if not self.running():
            return False
        done = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed:\n{done.stderr}")
        return True

    def _postmaster(self) -> list[str]:
        """postmaster.pid: the server's pid, data dir, start time, port, ... one a line."""
        try:
            return (self.data / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return []

    def port(self) -> int:
        return int(self._postmaster()[3])

    def pid(self) -> int | None:
        lines = self._postmaster()
        if not lines:
            return None
        pid = int(lines[0])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None


def ensure_database(port: int, password: str, name: str = DATABASE) -> bool:
    """Create the database `name` unless it exists; True if made."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user=USER, password=password, dbname="postgres")
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        conn.close()


def url(port: int, database: str = DATABASE) -> str:
    """Where the database is, without its password."""
    return f"postgresql://{USER}@127.0.0.1:{port}/{database}"
