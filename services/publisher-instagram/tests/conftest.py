"""Connected-test fixtures: `env`, publisher-instagram on topics of its own against the platform
sandbox over real HTTP (`publisher_testenv.instagram`)."""

from __future__ import annotations

from publisher_testenv.env import env_fixture
from publisher_testenv.instagram import Env

env = env_fixture(Env)
