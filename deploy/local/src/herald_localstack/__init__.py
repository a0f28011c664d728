"""Herald's local stack: real Kafka (KRaft) and FerretDB as processes, plus the seven services.

Kafka comes from Maven Central jars (a fetch-only Maven project), FerretDB from `go install`;
both are cached in the git-ignored `.cache/` and run from `.run/`, tracked and stopped by PID.
Why this instead of containers: docs/adr/0001-real-infrastructure-without-docker.md.
"""
