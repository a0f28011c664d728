"""Connected-test fixtures: `env`, publisher-facebook on topics of its own against the platform
sandbox over real HTTP (`publisher_testenv.facebook`)."""

from __future__ import annotations

from publisher_testenv.env import env_fixture
from publisher_testenv.facebook import Env

env = env_fixture(Env)
