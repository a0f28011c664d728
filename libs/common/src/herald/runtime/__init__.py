"""The publisher runtime: everything a platform publisher is, except its platform adapter.

A platform service supplies a `PlatformAdapter` (validate + publish) and settings;
`build_publisher` gives the typed `PublisherRuntime` (broker, database, emitter, names, tokens)
from which the service builds its adapter and extras, and `PublisherRuntime.app` wires the main
subscriber, the delay-tier subscribers, the ledger, results to `post.results`, the dead-letter
route, retention, metrics, health and readiness (docs/adding-a-platform.md).
"""
