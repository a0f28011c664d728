"""Adapters behind the ports: Graph, MongoDB, Kafka, Prometheus, the media fetcher."""
