"""Every service as its own process, for end-to-end and chaos tests and benchmarks.

`make up` runs the services under honcho, which stops them all when one exits; a chaos test must
SIGKILL one publisher and restart it while the rest carry on, so here each service is a separate
process group with the same environment `make up` gives it (`services.environment`: its own
settings and secrets only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import IO

from herald_localstack import services
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import terminate_group


@dataclass
class System:
    cfg: StackConfig
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return services.url(self.cfg, name)

    def start(
        self,
        name: str,
        *,
        timeout_s: float = 90.0,
        extra_env: dict[str, str] | None = None,
        replica: int = 0,
    ) -> str:
        """Start `name` (replica k > 0: another process of it, on its port + 100 k, under the
        key `name#<k + 1>`); returns the key that `kill` and `stop` take."""
        service = _service(name)
        key = name if replica == 0 else f"{name}#{replica + 1}"
        port = services.replica_port(self.cfg, service, replica)
        log_dir = self.cfg.run_dir / "system"
        log_dir.mkdir(parents=True, exist_ok=True)
        if key not in self._logs:
            self._logs[key] = (log_dir / f"{key}.log").open("ab")
        env = {**services.environment(self.cfg, service, replica), **(extra_env or {})}
        self.processes[key] = subprocess.Popen(
            [sys.executable, "-m", service.package],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._logs[key],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while not services.ready(port):
            if self.processes[key].poll() is not None:
                status = self.processes[key].returncode
                msg = f"{key} exited with {status}; see {log_dir}/{key}.log"
                raise StackError(msg)
            if time.monotonic() > deadline:
                msg = f"{key} was not ready within {timeout_s:.0f}s; see {log_dir}/{key}.log"
                raise StackError(msg)
            time.sleep(0.2)
        return key

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook, no commit, no lease release."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self, name: str) -> int:
        proc = self.processes.pop(name)
        terminate_group(proc.pid, timeout_s=30)
        return proc.wait()

    def start_all(self) -> None:
        for service in services.SERVICES:
            self.start(service.name)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        for log in self._logs.values():
            log.close()
        self._logs.clear()


def _service(name: str) -> services.Service:
    for service in services.SERVICES:
        if service.name == name:
            return service
    msg = f"no service named {name!r}"
    raise StackError(msg)
