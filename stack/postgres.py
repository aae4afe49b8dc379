"""A local PostgreSQL cluster (Debian's `postgresql` package) for the case database and for
Prefect's server: the first step from the embedded SQLite stack to a district's.

    python -m stack.postgres start [--dir .casework/postgres] [--port 5433]
    python -m stack.postgres stop  [--dir .casework/postgres]

`start` creates the cluster on first use (databases `casework` and `prefect`, owner
`casework`, on 127.0.0.1 only, scram-sha-256 with a generated password kept in the cluster's
folder, 0600: no other local user connects) and prints the two settings to export before
`casework up`. Tests and the benchmark use `PostgresServer.start(port)`: a throwaway cluster
in a temporary folder, without fsync.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from casework.errors import UserError


class PostgresMissing(UserError):
    """Debian's PostgreSQL binaries are not installed."""

    def __init__(self) -> None:
        super().__init__("postgres_missing")


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3].split(".")[0]),  # 15 before 9.6 is wrong
    )
    if not found:
        raise PostgresMissing()
    return Path(found[-1]).parent


def _as_server_user() -> list[str]:
    """The command prefix that runs PostgreSQL's binaries: as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PostgresServer:
    """A cluster in `folder` on 127.0.0.1:`port`. As root the server runs as the `postgres`
    user (PostgreSQL refuses to run as root)."""

    folder: Path
    port: int
    as_user: list[str]
    bindir: Path
    throwaway: bool = False
    password: str = ""  # "" only for a cluster made before passwords (trust)

    @classmethod
    def start(cls, port: int, folder: Path | None = None) -> PostgresServer:
        """Start the cluster in `folder` (created on first use), or a throwaway one."""
        bindir = _bindir()
        throwaway = folder is None
        folder = folder or Path(tempfile.mkdtemp(prefix="casework-pg-"))
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        server = cls(folder, port, _as_server_user(), bindir, throwaway)
        data = folder / "data"
        kept = folder / "casework.password"
        if not (data / "PG_VERSION").exists():
            server.password = secrets.token_urlsafe(24)
            kept.write_text(server.password)
            kept.chmod(0o600)
            server._initdb(data)
        elif kept.exists():
            server.password = kept.read_text().strip()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
        if throwaway:
            options += " -c fsync=off"  # a test's data need not survive a power cut
        server._run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
            "-o", options, "start",
        )  # fmt: skip
        return server

    def _initdb(self, data: Path) -> None:
        """A new cluster whose every connection (socket or TCP) needs the password."""
        with tempfile.NamedTemporaryFile("w", prefix="pw-", delete=False) as handle:
            handle.write(self.password)
        pwfile = Path(handle.name)
        try:
            if os.geteuid() == 0:  # initdb runs as postgres and must read it
                owner = pwd.getpwnam("postgres")
                os.chown(pwfile, owner.pw_uid, owner.pw_gid)
            self._run(
                str(self.bindir / "initdb"), "-D", str(data), "-U", "casework",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        who = f"casework:{self.password}" if self.password else "casework"
        return f"postgresql+psycopg://{who}@127.0.0.1:{self.port}"

    def ensure_database(self, name: str) -> str:
        """The database `name` (created when missing); its URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(f"{self.url}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return f"{self.url}/{name}"

    def new_database(self) -> str:
        """An empty database of its own (for one test); its URL."""
        import uuid

        return self.ensure_database(f"case_{uuid.uuid4().hex[:12]}")

    def new_prefect_database(self) -> str:
        """An empty database for a Prefect server of its own; its URL, in asyncpg's form."""
        return for_prefect(self.new_database())

    def stop(self) -> None:
        pg_ctl = str(self.bindir / "pg_ctl")
        mode = "immediate" if self.throwaway else "fast"
        self._run(pg_ctl, "-D", str(self.folder / "data"), "-m", mode, "stop")
        if self.throwaway:
            shutil.rmtree(self.folder, ignore_errors=True)


def for_prefect(url: str) -> str:
    """A database URL of this server as Prefect's server takes it: Prefect drives PostgreSQL
    through asyncpg and passes it asyncpg's connect options (psycopg refuses "timeout")."""
    return url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - the shipped script
    from casework.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m stack.postgres", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--dir", type=Path, default=get_settings().home / "postgres")
    parser.add_argument("--port", type=int, default=5433)
    args = parser.parse_args(argv)
    try:
        if args.action == "stop":
            PostgresServer(args.dir, args.port, _as_server_user(), _bindir()).stop()
            print(f"PostgreSQL in {args.dir} stopped")
            return 0
        server = PostgresServer.start(args.port, args.dir.resolve())
    except PostgresMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"PostgreSQL did not start; see {args.dir / 'log'}: {exc.stderr.decode()[-300:]}",
              file=sys.stderr)  # fmt: skip
        return 1
    case_db = server.ensure_database("casework")
    prefect_db = for_prefect(server.ensure_database("prefect"))
    print(f"export CASEWORK_DATABASE_URL={case_db}")
    print(f"export CASEWORK_PREFECT_DATABASE_URL={prefect_db}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
