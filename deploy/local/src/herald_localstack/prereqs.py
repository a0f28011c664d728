"""Tools the stack needs on the machine, each checked with one line that says what to do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from herald_localstack.errors import StackError


def java() -> str:
    """Path of a Java 17+ runtime (JAVA_HOME first, then PATH)."""
    home = os.environ.get("JAVA_HOME")
    candidate = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not candidate or not Path(candidate).exists():
        msg = (
            "Java 17+ is needed to run Kafka: install a JDK 17 "
            "(apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
        )
        raise StackError(msg)
    out = subprocess.run(
        [candidate, "-version"], capture_output=True, text=True, check=False
    ).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):
        major = int(match.group(2))
    if major < 17:
        msg = (
            f"Kafka 4 needs Java 17+, but {candidate} is Java {major or '?'}: "
            "install JDK 17+ or set JAVA_HOME"
        )
        raise StackError(msg)
    return candidate


def maven() -> str:
    found = shutil.which("mvn")
    if not found:
        msg = (
            "Maven is needed once to fetch Kafka's jars from Maven Central: "
            "install it (apt-get install maven) and retry"
        )
        raise StackError(msg)
    return found


def go() -> str:
    found = shutil.which("go")
    if not found:
        msg = (
            "Go 1.24+ is needed once to build FerretDB: "
            "install it (https://go.dev/doc/install) and retry"
        )
        raise StackError(msg)
    out = subprocess.run([found, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    match = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    if not match or (int(match.group(1)), int(match.group(2))) < (1, 24):
        found_version = out.stdout.strip() or "unknown"
        msg = f"FerretDB v1.24.2 needs Go 1.24+, found {found_version}: upgrade Go and retry"
        raise StackError(msg)
    return found


def postgres_bindir() -> Path:
    """The folder of a PostgreSQL server's binaries (initdb, postgres, psql).

    `HERALD_STACK_POSTGRES_BIN` first, then Debian's `/usr/lib/postgresql/<major>/bin` (the
    newest), then `pg_config --bindir`.
    """
    override = os.environ.get("HERALD_STACK_POSTGRES_BIN")
    candidates = [Path(override)] if override else []
    if not override:
        debian = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        candidates.extend(debian)
        pg_config = shutil.which("pg_config")
        if pg_config:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=False
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "postgres", "psql")):
            return folder
    where = f"HERALD_STACK_POSTGRES_BIN={override} holds" if override else "this machine has"
    msg = (
        f"PostgreSQL's server is needed for the local store, but {where} no initdb, postgres "
        "and psql: install it (apt-get install postgresql) or set HERALD_STACK_POSTGRES_BIN "
        "to the folder of its binaries"
    )
    raise StackError(msg)
