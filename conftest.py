"""Root pytest configuration: the infrastructure fixtures and the test-tier rule.

Every test carries exactly one tier marker (`unit`, `connected`, `e2e`), so `-m` selects tiers
reliably and a test that needs Kafka or MongoDB cannot hide among the unit tests.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["herald_localstack.pytest_plugin"]

TIERS = ("unit", "connected", "e2e")
INFRA_FIXTURES = {"infra", "mongo_client", "mongo_db", "new_topic"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    problems = []
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: needs exactly one of {TIERS}, has {sorted(tiers)}")
        elif tiers == {"unit"} and INFRA_FIXTURES & set(getattr(item, "fixturenames", ())):
            problems.append(f"{item.nodeid}: uses real infrastructure but is marked unit")
    if problems:
        raise pytest.UsageError("test tier markers:\n  " + "\n  ".join(problems))
