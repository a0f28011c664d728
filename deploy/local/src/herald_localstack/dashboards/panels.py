"""Building blocks of Herald's dashboards: panels on the Prometheus data source, percentiles of
a histogram, a dashboard laid out two panels a row."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

# The classic dashboard model (JSON schemaVersion 42) is what Grafana's file provisioning loads
# everywhere; the SDK's modules mark it deprecated at import in favour of the v2 schema, which needs
# Grafana 12's dynamic dashboards. Quietly, then: the test suite turns warnings into errors.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import common as common_builders
    from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common as common_models
    from grafana_foundation_sdk.models import dashboard as models

__all__ = ["RATE", "JSONEncoder", "Query", "board", "models", "panel", "quantiles", "stat_panel"]

RATE = "$__rate_interval"
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
WIDTH, HEIGHT = 12, 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def panel(title: str, unit: str, *queries: Query, description: str = "") -> Any:
    built = (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .datasource(DATASOURCE)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
    )
    if description:
        built = built.description(description)
    for ref, query in zip("ABCDEFGH", queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).ref_id(ref)
        built = built.with_target(target.legend_format(query.legend) if query.legend else target)
    return built


def stat_panel(title: str, unit: str, query: Query) -> Any:
    target = prometheus.Dataquery().expr(query.expr).ref_id("A").instant()
    target = target.legend_format(query.legend) if query.legend else target
    return stat.Panel().title(title).unit(unit).datasource(DATASOURCE).with_target(target)


def quantiles(metric: str, by: str, selector: str = "") -> list[Query]:
    inner = f"sum by ({by}, le) (rate({metric}_bucket{selector}[{RATE}]))"
    return [
        Query(f"histogram_quantile({q}, {inner})", f"p{int(q * 100)} {{{{{by}}}}}")
        for q in (0.5, 0.95, 0.99)
    ]


def board(uid: str, title: str, panels: list[Any]) -> Any:
    built = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["herald"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("utc")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
    )
    for index, one in enumerate(panels):
        x, y = (index % 2) * WIDTH, (index // 2) * HEIGHT
        built = built.with_panel(one.grid_pos(models.GridPos(h=HEIGHT, w=WIDTH, x=x, y=y)))
    return built
