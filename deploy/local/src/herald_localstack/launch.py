"""`python -m herald_localstack.launch <process>`: one line of the stack's Procfile.

Replaces itself with the service (`python -m <package>`) run with exactly the environment the
stack wrote for that process (`services.write_environments`), found through the run marker
honcho passes on. So honcho, which starts every process, holds no secret, and each process holds
only its own.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

RUN_MARKER = "HERALD_STACK_RUN"  # services.RUN_MARKER; not imported, to start fast


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python -m herald_localstack.launch <process>", file=sys.stderr)
        return 2
    run_dir = os.environ.get(RUN_MARKER)
    if not run_dir:
        print(f"{RUN_MARKER} is not set: start the services with `make up`", file=sys.stderr)
        return 2
    path = Path(run_dir) / "services" / "env" / f"{argv[0]}.json"
    try:
        launch = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    module, env = str(launch["module"]), {str(k): str(v) for k, v in launch["env"].items()}
    os.execve(sys.executable, [sys.executable, "-m", module], env)  # noqa: S606 - our own module
    return 0  # not reached: execve replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
