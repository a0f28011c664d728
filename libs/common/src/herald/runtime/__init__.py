"""The publisher runtime: everything a platform publisher is, except its platform adapter.

A platform service supplies a `Platform` (validate + publish) and settings; `create_publisher_app`
wires the main subscriber, the delay-tier subscribers, the ledger, the token source, results to
`post.results`, the dead-letter route, metrics, health and readiness.
"""
