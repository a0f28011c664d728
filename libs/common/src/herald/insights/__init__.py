"""Post insights at fixed ages after publishing, for every platform (docs/adr/0003).

Platform-neutral: a publisher supplies an `InsightsReader` for its platform (Graph for Facebook
and Instagram, TikTok's Display API for TikTok); `InsightsCollector` schedules the snapshots,
`MongoSnapshots` keeps them in the publisher's own database and `PublishingSink` emits them.
`herald.insights.requests.RefreshRequests` takes the refreshes a business asks for.
"""

from herald.insights.collector import (
    InsightsCollector,
    InsightsReader,
    InsightsSettings,
    PublishingSink,
    SnapshotSink,
    SnapshotStore,
    due_ages,
    numeric_metrics,
    require_ledger_beyond,
)
from herald.insights.snapshots import (
    INSIGHTS,
    Claim,
    DueEntry,
    InsightsSnapshot,
    MongoSnapshots,
    PublishedPost,
    slot_of,
)

__all__ = [
    "INSIGHTS",
    "Claim",
    "DueEntry",
    "InsightsCollector",
    "InsightsReader",
    "InsightsSettings",
    "InsightsSnapshot",
    "MongoSnapshots",
    "PublishedPost",
    "PublishingSink",
    "SnapshotSink",
    "SnapshotStore",
    "due_ages",
    "numeric_metrics",
    "require_ledger_beyond",
    "slot_of",
]
