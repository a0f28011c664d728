"""Apache Kafka as one combined KRaft node: jars from Maven Central, started with its main class.

The jars are resolved once by the fetch-only project in `deploy/local/kafka/pom.xml` and cached
under `.cache/kafka/<version>/libs`. Storage is formatted with `kafka.tools.StorageTool`
(`--standalone`, a dynamic quorum of one) and the broker runs as `kafka.Kafka`. It counts as
ready only when a metadata request succeeds, not when the port opens.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
import uuid

from aiokafka.admin import AIOKafkaAdminClient

from herald_localstack import prereqs
from herald_localstack.config import KAFKA_VERSION, StackConfig
from herald_localstack.errors import StackError
from herald_localstack.process import Managed

# A small heap and Kafka's own GC flags: enough for tests and the demo on a 2-core machine.
JVM_OPTS = [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
]


def managed(cfg: StackConfig) -> Managed:
    return Managed(
        name="kafka",
        pidfile=cfg.run_dir / "kafka" / "kafka.pid",
        logfile=cfg.run_dir / "kafka" / "kafka.log",
        marker=str(cfg.run_dir / "kafka" / "server.properties"),
    )


def install(cfg: StackConfig) -> bool:
    """Fetch the jars unless cached; True if it downloaded."""
    done = cfg.kafka_libs / ".complete"
    if done.exists():
        return False
    mvn = prereqs.maven()
    prereqs.java()
    staging = cfg.kafka_libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn, "-B", "-q",
        "-f", str(cfg.root / "deploy" / "local" / "kafka" / "pom.xml"),
        f"-Dkafka.version={KAFKA_VERSION}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        msg = "Maven could not fetch Kafka's jars from Maven Central: " + " | ".join(tail)
        raise StackError(msg)
    shutil.rmtree(cfg.kafka_libs, ignore_errors=True)
    staging.rename(cfg.kafka_libs)
    done.write_text(KAFKA_VERSION + "\n")
    return True


def _properties(cfg: StackConfig) -> str:
    data = cfg.run_dir / "kafka" / "data"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{cfg.kafka_controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{cfg.kafka_port},CONTROLLER://127.0.0.1:{cfg.kafka_controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{cfg.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data}",
            "num.partitions=1",
            "num.recovery.threads.per.data.dir=1",
            # One node: every internal topic has one replica and needs one in sync.
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Tests and the demo should not wait 3 s for the first consumer-group assignment.
            "group.initial.rebalance.delay.ms=0",
            # Herald provisions its topics with partition counts; auto-creation would give one.
            "auto.create.topics.enable=false",
            "log.cleaner.dedupe.buffer.size=2097152",
            "",
        ]
    )


def cluster_uuid() -> str:
    """A random cluster id as Kafka writes one (`Uuid.randomUuid`): base64url of 16 bytes, never
    beginning with "-", which the storage tool's argument parser would take for an option (one
    id in 64 did: "argument --cluster-id/-t: expected one argument")."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def start(cfg: StackConfig, timeout_s: float = 120.0) -> Managed:
    """Format storage if new, start the broker and wait until it answers metadata requests."""
    proc = managed(cfg)
    java = prereqs.java()
    home = cfg.run_dir / "kafka"
    props = home / "server.properties"
    home.mkdir(parents=True, exist_ok=True)
    props.write_text(_properties(cfg))
    classpath = f"{cfg.kafka_libs}/*"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    if not (home / "data" / "meta.properties").exists():
        cluster_id = cluster_uuid()
        fmt = subprocess.run(
            [java, *JVM_OPTS, "-cp", classpath, "kafka.tools.StorageTool", "format",
             "--standalone", "-t", cluster_id, "-c", str(props)],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        if fmt.returncode != 0:
            msg = "Kafka storage format failed: " + (fmt.stderr or fmt.stdout).strip()[-400:]
            raise StackError(msg)
    proc.spawn([java, *JVM_OPTS, "-cp", classpath, "kafka.Kafka", str(props)], env=env, cwd=home)
    wait_ready(cfg, proc, timeout_s)
    return proc


def wait_ready(cfg: StackConfig, proc: Managed, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.pid() is None:
            msg = f"Kafka exited during start-up; last log lines:\n{proc.tail()}"
            raise StackError(msg)
        if asyncio.run(metadata_ok(cfg.kafka_bootstrap)):
            return
        time.sleep(0.3)
    msg = f"Kafka did not answer a metadata request within {timeout_s:.0f}s; see {proc.logfile}"
    raise StackError(msg)


async def metadata_ok(bootstrap: str) -> bool:
    """True if the broker answers a metadata request (lists topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
    try:
        await admin.start()
        await admin.list_topics()
    except Exception:  # noqa: BLE001 - any failure here just means "not ready yet"
        return False
    finally:
        await admin.close()
    return True
