"""What every asset of the platform shares: its owner, its code version, the automation, previews."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import warnings

from dagster import (
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetSpec,
    AssetsDefinition,
    AutomationCondition,
    BetaWarning,
    TableColumn,
    TableSchema,
    asset,
    build_column_schema_change_checks,
    multi_asset,
)
from beer_platform.assets.code_version import source_version
from beer_platform.lake.declaration import Table

OWNERS = ["team:data-platform"]


def platform_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Dagster's `@asset`, owned by the team, with its code version derived from the source that
    computes it (see `code_version`): a change to that code marks the asset changed in the UI,
    and `ibu_model` retrains."""

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        return asset(owners=OWNERS, code_version=source_version(fn), **kwargs)(fn)

    return decorate


def platform_multi_asset(specs: list[AssetSpec], modules: tuple[str, ...] = (), **kwargs: Any
                         ) -> Callable[[Callable[..., Any]], AssetsDefinition]:  # fmt: skip
    """Dagster's `@multi_asset` (one computation, several assets), each spec owned by the team and
    versioned by the source that computes them all, as `platform_asset` does, and by `modules`."""

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        version = source_version(fn, modules)
        owned = [spec.replace_attributes(owners=OWNERS, code_version=version) for spec in specs]
        return multi_asset(specs=owned, **kwargs)(fn)

    return decorate


def column_schema(table: Table) -> TableSchema:
    """The table's columns, typed as the lake stores them, with their descriptions, for the UI."""
    return TableSchema(columns=[TableColumn(c.name, str(c.lake_dtype).lower(), description=c.description)
                                for c in table.columns])  # fmt: skip


def schema_change_checks(assets_def: AssetsDefinition) -> list[AssetChecksDefinition]:
    """Warns when the table's columns change between two materializations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # beta in 1.13, and exactly the check wanted
        return list(build_column_schema_change_checks(assets=[assets_def], severity=AssetCheckSeverity.WARN))


# Downstream assets follow their parents as soon as those update (and their checks pass).
EAGER = AutomationCondition.eager()
# The same, below a partitioned parent: any partition updated is an update, and days never
# materialized (no data landed) are not "missing" parents that would hold it back forever.
FOLLOWS_PARTITIONS = EAGER.without(~AutomationCondition.any_deps_missing())


def markdown_table(frame) -> str:
    """A small polars frame as a Markdown table, for previews in the UI."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])
