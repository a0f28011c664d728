"""Settings classes a platform publisher extends, above the runtime's `PublisherSettings`.

- `InsightsPublisherSettings`: a publisher that collects post insights (ADR 0003) nests
  `insights` (`…_INSIGHTS__AGES_S='[3600, 86400, 604800]'`), and its ledger must keep published
  posts for as long as the insights job still reads them; and `account_insights`, its connected
  accounts' daily figures (`…_ACCOUNT_INSIGHTS__INTERVAL_S`, ADR 0020).
- `GraphPublisherSettings`: a Meta publisher (Facebook, Instagram) adds Graph
  (`…_GRAPH__BASE_URL`, `…_GRAPH__APP_SECRET`).

Each service's class sets its own prefix (`HERALD_PUBLISHER_FACEBOOK_`), so the nested names stay
what deploy files and docs already use.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from herald.graph import GraphSettings
from herald.insights import InsightsSettings, require_ledger_beyond
from herald.insights.accounts import AccountInsightsSettings
from herald.runtime.settings import PublisherSettings


class InsightsPublisherSettings(PublisherSettings):
    insights: InsightsSettings = Field(default_factory=InsightsSettings)
    account_insights: AccountInsightsSettings = Field(default_factory=AccountInsightsSettings)

    @model_validator(mode="after")
    def _ledger_outlives_insights(self) -> Self:
        require_ledger_beyond(self.retention, self.insights)
        return self


class GraphPublisherSettings(InsightsPublisherSettings):
    graph: GraphSettings = Field(default_factory=GraphSettings)
