"""Herald's services as processes, run together by honcho from `deploy/local/Procfile`.

`HERALD_STACK_REPLICAS_<SERVICE>=N` (e.g. `HERALD_STACK_REPLICAS_PUBLISHER_FACEBOOK=3`) runs N
processes of one service, as a cluster runs N pods: a publisher's replicas join its consumer
group and share its partitions. Replica k (from 0) listens on the service's port + 100 k, so
honcho runs a Procfile written into the run folder: `deploy/local/Procfile` and one line per
extra replica.

Each process gets only its own settings, and so only the secrets it uses (`environment`): the
scheduler and each publisher their own service token, auth-service the vault key, the pepper,
the admin token and the tokens it checks. honcho itself holds none: each Procfile line starts
`herald_localstack.launch`, which replaces itself with the service, given the environment the
stack wrote for that process into the run folder (readable by the owner only).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from herald.topics import Platform
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import Managed, port_taken, processes_with_env, terminate_group
from herald_localstack.secrets import StackSecrets

RUN_MARKER = "HERALD_STACK_RUN"
META = (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.WHATSAPP)  # their publishers call Graph
# The sandbox's TikTok app secret (its default, and auth-service's): it signs TikTok webhooks.
SANDBOX_TIKTOK_CLIENT_SECRET = "sandbox-tiktok-client-secret"  # noqa: S105 - a sandbox default
# The sandbox's Meta app secret (its default): it signs WhatsApp status webhooks.
SANDBOX_META_APP_SECRET = "sandbox-meta-app-secret"  # noqa: S105 - a sandbox default


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    port: int  # the default; the stack adds HERALD_STACK_SERVICE_PORT_OFFSET
    env_prefix: str

    @property
    def port_variable(self) -> str:
        return f"{self.env_prefix}HTTP__PORT"


SERVICES = (
    Service("platform-sandbox", "platform_sandbox", 8120, "HERALD_SANDBOX_"),
    Service("auth-service", "auth_service", 8101, "HERALD_AUTH_"),
    Service("scheduler", "scheduler", 8102, "HERALD_SCHEDULER_"),
    # One publisher per platform, from 8111 in the order of `herald.topics.Platform`.
    *(
        Service(f"publisher-{p}", f"publisher_{p}", 8111 + i, f"HERALD_PUBLISHER_{p.upper()}_")
        for i, p in enumerate(Platform)
    ),
    Service("console", "console", 8130, "HERALD_CONSOLE_"),  # reads auth-service and scheduler
)


REPLICA_PORT_STEP = 100  # replica k of a service listens on its port + k * 100


def port(cfg: StackConfig, service: Service) -> int:
    return service.port + cfg.service_port_offset


def replicas(cfg: StackConfig, service: Service) -> int:
    """How many processes of `service` the stack runs (HERALD_STACK_REPLICAS_<SERVICE>)."""
    return dict(cfg.replicas).get(service.name, 1)


def replica_port(cfg: StackConfig, service: Service, index: int) -> int:
    return port(cfg, service) + index * REPLICA_PORT_STEP


def ports(cfg: StackConfig) -> dict[int, str]:
    """Every port the services listen on, with the process's name (`publisher-facebook#2`)."""
    found = {}
    for service in SERVICES:
        for index in range(replicas(cfg, service)):
            label = service.name if index == 0 else f"{service.name}#{index + 1}"
            found[replica_port(cfg, service, index)] = label
    return found


def check_replicas(cfg: StackConfig) -> None:
    known = {s.name for s in SERVICES}
    for name, count in cfg.replicas:
        if name not in known:
            msg = f"HERALD_STACK_REPLICAS_{name.upper().replace('-', '_')}: no service {name!r}"
            raise StackError(msg)
        if name == "platform-sandbox" and count > 1:
            msg = "the sandbox keeps the platforms' state in memory: it runs as one process"
            raise StackError(msg)


def procfile(cfg: StackConfig) -> Path:
    """`deploy/local/Procfile` plus a line per extra replica (`publisher-facebook#2`), each
    process started by `herald_localstack.launch` with its own environment
    (`write_environments`)."""
    lines = (cfg.root / "deploy" / "local" / "Procfile").read_text().splitlines()
    extra = []
    for line in lines:
        name, _, command = line.partition(":")
        service = next((s for s in SERVICES if command.split()[-1:] == [s.name]), None)
        if service is None:
            continue
        for index in range(1, replicas(cfg, service)):
            key = f"{service.name}#{index + 1}"
            extra.append(f"{name}{index + 1}: exec python -m herald_localstack.launch '{key}'")
    path = cfg.run_dir / "services" / "Procfile"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def write_environments(cfg: StackConfig) -> Path:
    """Each process's environment (`environment`), one file per process key, in a folder only
    the owner can read; `herald_localstack.launch <key>` starts a process with its file."""
    folder = cfg.run_dir / "services" / "env"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for service in SERVICES:
        for index in range(replicas(cfg, service)):
            key = service.name if index == 0 else f"{service.name}#{index + 1}"
            launch = {"module": service.package, "env": environment(cfg, service, index)}
            partial = folder / f".{key}.tmp"
            partial.touch(mode=0o600)
            partial.chmod(0o600)
            partial.write_text(json.dumps(launch))
            partial.replace(folder / f"{key}.json")
    return folder


def managed(cfg: StackConfig) -> Managed:
    return Managed(
        name="services",
        pidfile=cfg.run_dir / "services" / "honcho.pid",
        logfile=cfg.run_dir / "services" / "services.log",
        marker=str(cfg.run_dir / "services" / "Procfile"),
    )


def url(cfg: StackConfig, name: str) -> str:
    service = next(s for s in SERVICES if s.name == name)
    return f"http://127.0.0.1:{port(cfg, service)}"


PREFIXES = tuple(s.env_prefix for s in SERVICES)


def environment(cfg: StackConfig, service: Service, replica: int = 0) -> dict[str, str]:
    """What one process of `service` sees: where Kafka and MongoDB are, its own settings (its
    prefix: the sandbox's and auth-service's addresses, its port, its own secrets) and the run
    marker, and nothing addressed to another service, so a process holds only the secrets it
    uses (a publisher no vault key, admin token or other service's token)."""
    bin_dir = str(Path(sys.executable).parent)
    own = wiring(cfg, StackSecrets.load_or_create(cfg.run_dir))
    return {
        **shared_environment(),
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        "HERALD_MONGO_URI": cfg.mongo_uri,
        "HERALD_LOG_FORMAT": "json",
        RUN_MARKER: str(cfg.run_dir),
        # What the person running the stack set for this service (HERALD_SCHEDULER_...) too.
        **{k: v for k, v in os.environ.items() if k.startswith(service.env_prefix)},
        **{k: v for k, v in own.items() if k.startswith(service.env_prefix)},
        service.port_variable: str(replica_port(cfg, service, replica)),
    }


def shared_environment() -> dict[str, str]:
    """This process's environment without any service's settings: what honcho runs with."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)},
        "PYTHONUNBUFFERED": "1",
    }


def wiring(cfg: StackConfig, keys: StackSecrets) -> dict[str, str]:
    """Point every service at the sandbox instead of the real platforms, and at each other."""
    sandbox, auth = url(cfg, "platform-sandbox"), url(cfg, "auth-service")
    console = url(cfg, "console")
    graph = f"{sandbox}/graph.facebook.com"
    whatsapp_hook = f"{url(cfg, 'publisher-whatsapp')}/webhooks/whatsapp"
    # The fetcher trusts the sandbox's media path only: its admin API (/_sandbox/...) is refused.
    media_only = json.dumps([f"{sandbox}/_sandbox/media/"])
    env = {
        "HERALD_AUTH_HOSTS__SANDBOX_URL": sandbox,
        "HERALD_AUTH_PUBLIC_BASE_URL": auth,
        "HERALD_AUTH_SERVICE_TOKENS": json.dumps(keys.service_tokens),
        "HERALD_AUTH_ADMIN_TOKEN": keys.admin_token,
        "HERALD_AUTH_VAULT__KEYS": json.dumps({"local-1": keys.vault_key}),
        "HERALD_AUTH_VAULT__PRIMARY_KID": "local-1",
        "HERALD_AUTH_API_KEY_PEPPER": keys.api_key_pepper,
        # A connection started on the console's Integrations page returns there.
        "HERALD_AUTH_OAUTH__RETURN_URLS": json.dumps(
            [f"{console}/integrations", f"{console.replace('127.0.0.1', 'localhost')}/integrations"]
        ),
        "HERALD_SCHEDULER_AUTH__BASE_URL": auth,
        "HERALD_SCHEDULER_AUTH__SERVICE_TOKEN": keys.service_tokens["scheduler"],
        "HERALD_SCHEDULER_WEBHOOKS__VAULT__KEYS": json.dumps({"local-1": keys.webhook_key}),
        "HERALD_SCHEDULER_WEBHOOKS__VAULT__PRIMARY_KID": "local-1",
        # The console reads the public APIs with the key a person signs in with; it is served
        # over plain http on loopback here, so its cookies cannot be marked Secure.
        "HERALD_CONSOLE_AUTH_URL": auth,
        "HERALD_CONSOLE_SCHEDULER_URL": url(cfg, "scheduler"),
        "HERALD_CONSOLE_SECURE_COOKIES": "false",
        # Its own key sealing session cookies, not the public development one: the same for
        # every console process of this run, so a restart signs nobody out.
        "HERALD_CONSOLE_SESSIONS__KEYS": json.dumps({"local-1": keys.console_key}),
        "HERALD_CONSOLE_SESSIONS__PRIMARY_KID": "local-1",
        "HERALD_SANDBOX_WEBHOOKS__WHATSAPP_URL": whatsapp_hook,
        "HERALD_SANDBOX_WEBHOOKS__TIKTOK_URL": f"{url(cfg, 'publisher-tiktok')}/webhooks/tiktok",
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__BASE_URL": f"{sandbox}/open.tiktokapis.com",
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__CLIENT_SECRET": SANDBOX_TIKTOK_CLIENT_SECRET,
        "HERALD_PUBLISHER_TIKTOK_FETCHER__ALLOWED_ORIGINS": media_only,
        "HERALD_PUBLISHER_WHATSAPP_FETCHER__ALLOWED_ORIGINS": media_only,
        "HERALD_PUBLISHER_WHATSAPP_WEBHOOK__VERIFY_TOKEN": keys.whatsapp_verify_token,
        "HERALD_PUBLISHER_WHATSAPP_WEBHOOK__APP_SECRET": SANDBOX_META_APP_SECRET,
    }
    # TikTok pulls photos (and videos under a verified prefix) itself: the sandbox's media count as
    # verified when addressed as `localhost` (the same media at 127.0.0.1 are uploaded), and since
    # the sandbox serves http, TikTok photo URLs may be http here (https only by default).
    verified = json.dumps([sandbox.replace("127.0.0.1", "localhost") + "/_sandbox/media/"])
    schemes = json.dumps(["https", "http"])
    env |= {
        "HERALD_SANDBOX_TIKTOK__VERIFIED_URL_PREFIXES": verified,
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__VERIFIED_URL_PREFIXES": verified,
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__PHOTO_URL_SCHEMES": schemes,
        "HERALD_SCHEDULER_RULES__TIKTOK_PHOTO_URL_SCHEMES": schemes,
    }
    env.update(_namespaced(cfg))
    for platform in Platform:
        prefix = f"HERALD_PUBLISHER_{platform.upper()}_"
        env[f"{prefix}AUTH__BASE_URL"] = auth
        env[f"{prefix}AUTH__SERVICE_TOKEN"] = keys.service_tokens[f"publisher-{platform}"]
        if platform in META:
            env[f"{prefix}GRAPH__BASE_URL"] = graph
            env[f"{prefix}GRAPH__VIDEO_BASE_URL"] = f"{sandbox}/graph-video.facebook.com"
            env[f"{prefix}GRAPH__INSTAGRAM_BASE_URL"] = f"{sandbox}/graph.instagram.com"
    return env


def start(cfg: StackConfig, timeout_s: float = 120.0) -> Managed:
    check_replicas(cfg)
    every = ports(cfg)
    for taken, label in every.items():
        if port_taken(taken):
            msg = (
                f"port {taken} ({label}) is already taken by another process: "
                "stop it, or move the services with HERALD_STACK_SERVICE_PORT_OFFSET"
            )
            raise StackError(msg)
    proc = managed(cfg)
    honcho = Path(sys.executable).parent / "honcho"
    write_environments(cfg)
    bin_dir = str(Path(sys.executable).parent)
    proc.spawn(
        [str(honcho), "-f", str(procfile(cfg)), "-d", str(cfg.root), "--no-prefix", "start"],
        env={
            **shared_environment(),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            RUN_MARKER: str(cfg.run_dir),
        },
        cwd=cfg.root,
    )
    deadline = time.monotonic() + timeout_s
    pending = dict(every)
    while pending and time.monotonic() < deadline:
        if proc.pid() is None:
            msg = f"the services exited during start-up; last log lines:\n{proc.tail(30)}"
            raise StackError(msg)
        pending = {p: label for p, label in pending.items() if not ready(p)}
        if pending:
            time.sleep(0.3)
    if pending:
        names = ", ".join(pending.values())
        msg = f"not ready within {timeout_s:.0f}s: {names}; see {proc.logfile}"
        raise StackError(msg)
    return proc


def stop(cfg: StackConfig) -> bool:
    """Stop honcho (which stops its children), then any stray process of this run."""
    stopped = managed(cfg).stop(timeout_s=30)
    for pid in processes_with_env(RUN_MARKER, str(cfg.run_dir)):
        terminate_group(pid, timeout_s=10)
        stopped = True
    return stopped


def _namespaced(cfg: StackConfig) -> dict[str, str]:
    """A namespaced stack's services use their own databases and topics on the shared infra."""
    if not cfg.namespace:
        return {}
    env = {
        "HERALD_AUTH_DATABASE": cfg.database("herald_auth"),
        "HERALD_AUTH_TOPIC_PREFIX": cfg.topic_prefix,
        "HERALD_SCHEDULER_DATABASE": cfg.database("herald_scheduler"),
        "HERALD_SCHEDULER_TOPIC_PREFIX": cfg.topic_prefix,
    }
    for platform in Platform:
        prefix = f"HERALD_PUBLISHER_{platform.upper()}_"
        env[f"{prefix}DATABASE"] = cfg.database(f"herald_publisher_{platform}")
        env[f"{prefix}TOPIC_PREFIX"] = cfg.topic_prefix
    return env


def ready(service_port: int) -> bool:
    url = f"http://127.0.0.1:{service_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
