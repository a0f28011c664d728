"""A private PostgreSQL cluster for FerretDB's PostgreSQL handler: the local store (ADR 0010).

The cluster lives in `<run dir>/postgres/data`, listens on loopback only, and is started as a
process of its own (`postgres -D ...`, no `pg_ctl`), so it is tracked and stopped like Kafka and
FerretDB. PostgreSQL refuses to run as root: a root process runs `initdb` and the server as the
`postgres` system user that Debian's package creates.

After every start it installs `sql/gin_indexes.sql` in FerretDB's database: an event trigger that
gives every index FerretDB creates GIN `jsonb_path_ops` expression indexes on the same fields,
which are what FerretDB's pushed-down equality filters (`_jsonb -> 'f' @> value`) can use.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from importlib import resources
from pathlib import Path

from herald_localstack import prereqs
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import Managed

DATABASE = "ferretdb"
SUPERUSER = "postgres"

# Written down in ADR 0010. `plan_cache_mode`: FerretDB sends the field name of a filter as a
# statement parameter (`_jsonb -> $1 @> $2`); only a plan made for the actual values can match
# an expression index on `_jsonb -> 'f'`, so every execution gets one. `synchronous_commit` stays
# on: an acknowledged write survives a SIGKILL of the database (chaos tests kill it), and a
# commit's fdatasync costs about 0.1 ms on these disks.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "plan_cache_mode": "force_custom_plan",
    "synchronous_commit": "on",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "timezone": "UTC",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}


def managed(cfg: StackConfig) -> Managed:
    return Managed(
        name="postgres",
        pidfile=cfg.run_dir / "postgres" / "postgres.pid",
        logfile=cfg.run_dir / "postgres" / "postgres.log",
        marker=str(data_dir(cfg)),
        # SIGINT is PostgreSQL's fast shutdown: sessions end, a checkpoint is written.
        stop_signal=signal.SIGINT,
    )


def data_dir(cfg: StackConfig) -> Path:
    return cfg.run_dir / "postgres" / "data"


def url(cfg: StackConfig) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{cfg.postgres_port}/{DATABASE}"


def _system_user() -> pwd.struct_passwd | None:
    """The user the server runs as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        msg = (
            "PostgreSQL refuses to run as root and this machine has no 'postgres' user: "
            "install Debian's package (apt-get install postgresql), which creates it, "
            "or run the stack as an ordinary user"
        )
        raise StackError(msg) from None


def _own(path: Path, user: pwd.struct_passwd | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        shutil.chown(path, user.pw_uid, user.pw_gid)


def init(cfg: StackConfig) -> bool:
    """`initdb` the cluster unless it exists; True if it made one."""
    data = data_dir(cfg)
    if (data / "PG_VERSION").exists():
        return False
    bindir = prereqs.postgres_bindir()
    user = _system_user()
    home = data.parent
    _own(home, user)
    shutil.rmtree(data, ignore_errors=True)  # a half-made cluster from an interrupted initdb
    result = subprocess.run(
        [
            str(bindir / "initdb"),
            f"--pgdata={data}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=home,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        msg = "initdb of the local PostgreSQL failed: " + " | ".join(tail)
        raise StackError(msg)
    return True


def start(cfg: StackConfig, timeout_s: float = 60.0) -> Managed:
    init(cfg)
    bindir = prereqs.postgres_bindir()
    user = _system_user()
    home = data_dir(cfg).parent
    socket_dir = home / "socket"
    _own(socket_dir, user)
    proc = managed(cfg)
    argv = [str(bindir / "postgres"), "-D", str(data_dir(cfg)), "-p", str(cfg.postgres_port)]
    argv += ["-k", str(socket_dir)]
    for name, value in SETTINGS.items():
        argv += ["-c", f"{name}={value}"]
    proc.spawn(argv, env={**os.environ, "LC_ALL": "C.UTF-8"}, cwd=home, user=user)
    deadline = time.monotonic() + timeout_s
    while not ready(cfg, database="postgres"):
        if proc.pid() is None:
            msg = f"PostgreSQL exited during start-up; last log lines:\n{proc.tail()}"
            raise StackError(msg)
        if time.monotonic() > deadline:
            msg = f"PostgreSQL was not ready within {timeout_s:.0f}s; see {proc.logfile}"
            raise StackError(msg)
        time.sleep(0.1)
    prepare(cfg)
    return proc


def prepare(cfg: StackConfig) -> None:
    """FerretDB's database exists and holds the current GIN trigger (idempotent)."""
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"  # noqa: S608 - a constant
    exists = psql(cfg, query, "postgres")
    if exists.strip() != "1":
        psql(cfg, f"CREATE DATABASE {DATABASE}", "postgres")
    script = resources.files("herald_localstack").joinpath("sql/gin_indexes.sql").read_text()
    psql(cfg, script)


def psql(cfg: StackConfig, sql: str, database: str = DATABASE) -> str:
    """Run SQL through `psql` on the local cluster; its output (tuples only), or StackError."""
    result = subprocess.run(
        [
            str(prereqs.postgres_bindir() / "psql"),
            "--host=127.0.0.1",
            f"--port={cfg.postgres_port}",
            f"--username={SUPERUSER}",
            f"--dbname={database}",
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set=ON_ERROR_STOP=1",
        ],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    if result.returncode != 0:
        msg = f"psql on the local PostgreSQL failed: {result.stderr.strip()[-500:]}"
        raise StackError(msg)
    return result.stdout


def ready(cfg: StackConfig, database: str = DATABASE) -> bool:
    try:
        return psql(cfg, "SELECT 1", database).strip() == "1"
    except StackError:
        return False
