"""Analytics a business can read (docs/adr/0020-analytics-read-model.md, docs/analytics.md).

The scheduler's read model of the insights snapshots the publishers emit on `post.insights`
(ADR 0003): stored once per `(target_id, age_s)`, translated into one vocabulary over the
platforms' metric names (`vocabulary`), and served per post beside the targets it already owns
(`api`). Kept in its own package: it shares the service's database, tenancy and API keys, and
nothing else in the scheduler depends on it.
"""
