"""FerretDB v1.24.2 on PostgreSQL, the MongoDB wire-protocol stand-in for local runs and tests.

It keeps its data in the stack's private PostgreSQL cluster (`postgres.py`, ADR 0010).

Built once with `go install` (no cgo) into `.cache/ferretdb/<version>/`; run with telemetry
disabled on loopback ports; ready when its `/debug/readyz` endpoint answers 200.

`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at
start: FerretDB's main module requires a generated `build/version/version.txt`, which the module
zip does not contain. So the module is downloaded from the Go module proxy with
`go mod download`, copied to a writable folder, given that one file, and installed from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from herald_localstack import postgres, prereqs
from herald_localstack.config import FERRETDB_MODULE, FERRETDB_VERSION, StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import Managed


def managed(cfg: StackConfig) -> Managed:
    return Managed(
        name="ferretdb",
        pidfile=cfg.run_dir / "ferretdb" / "ferretdb.pid",
        logfile=cfg.run_dir / "ferretdb" / "ferretdb.log",
        marker=f"--listen-addr=127.0.0.1:{cfg.ferretdb_port}",
    )


def install(cfg: StackConfig) -> bool:
    """Build the binary unless cached; True if it built."""
    if cfg.ferretdb_bin.exists():
        return False
    go = prereqs.go()
    staging = cfg.ferretdb_bin.parent.with_name(FERRETDB_VERSION + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = {**os.environ, "GOBIN": str(staging), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    source = _writable_source(go, env, cfg.cache_dir / "ferretdb" / f"src-{FERRETDB_VERSION}")
    result = subprocess.run(
        [go, "install", "./cmd/ferretdb"],
        capture_output=True, text=True, check=False, env=env, cwd=source,
    )  # fmt: skip
    if result.returncode != 0 or not (staging / "ferretdb").exists():
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        msg = "go install of FerretDB failed: " + " | ".join(tail)
        raise StackError(msg)
    shutil.rmtree(cfg.ferretdb_bin.parent, ignore_errors=True)
    staging.rename(cfg.ferretdb_bin.parent)
    shutil.rmtree(source, ignore_errors=True)
    return True


def _writable_source(go: str, env: dict[str, str], target: Path) -> Path:
    """FerretDB's module source in a writable folder, with the version file its main needs."""
    download = subprocess.run(
        [go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        capture_output=True, text=True, check=False, env=env, cwd=target.parent,
    )  # fmt: skip
    try:
        module_dir = Path(json.loads(download.stdout)["Dir"])
    except (ValueError, KeyError) as exc:
        detail = (download.stderr or download.stdout).strip()[-300:]
        msg = f"go mod download of FerretDB {FERRETDB_VERSION} failed: {detail}"
        raise StackError(msg) from exc
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(module_dir, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)  # the module cache is read-only
    version = target / "build" / "version"
    (version / "version.txt").write_text(FERRETDB_VERSION + "\n")
    (version / "package.txt").write_text("herald-localstack\n")
    return target


def start(cfg: StackConfig, timeout_s: float = 60.0) -> Managed:
    proc = managed(cfg)
    home = cfg.run_dir / "ferretdb"
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        str(cfg.ferretdb_bin),
        "--handler=postgresql",
        f"--postgresql-url={postgres.url(cfg)}",
        f"--listen-addr=127.0.0.1:{cfg.ferretdb_port}",
        f"--debug-addr=127.0.0.1:{cfg.ferretdb_debug_port}",
        f"--state-dir={home}",
        "--telemetry=disable",
        "--log-level=warn",
    ]
    # Go's collector took about half of FerretDB's CPU under load (pprof, ADR 0010): with the
    # heap let grow four times between collections it runs a quarter as often, for a few
    # hundred MB more.
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "GOGC": os.environ.get("HERALD_STACK_FERRETDB_GOGC", "400"),
    }
    proc.spawn(argv, env=env, cwd=home)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.pid() is None:
            msg = f"FerretDB exited during start-up; last log lines:\n{proc.tail()}"
            raise StackError(msg)
        if readyz_ok(cfg):
            return proc
        time.sleep(0.2)
    msg = f"FerretDB was not ready within {timeout_s:.0f}s; see {proc.logfile}"
    raise StackError(msg)


def readyz_ok(cfg: StackConfig) -> bool:
    url = f"http://127.0.0.1:{cfg.ferretdb_debug_port}/debug/readyz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
