"""The Definitions of the beer_platform code location: the assets and checks of each group's module
(the lake's and the catalog's made from the table declarations of `lake.tables`), the jobs,
schedule and sensors of `automation`, bound to the resources of the environment, with the executor
the settings name (the deployed platform runs each run's steps in its run worker: see
local/platform/instance.py)."""

from __future__ import annotations

from dagster import (
    Definitions,
    in_process_executor,
    load_asset_checks_from_modules,
    load_assets_from_modules,
    multiprocess_executor,
)

from beer_platform import automation
from beer_platform.assets import catalog, ingestion, lake, ml, monitoring, serving
from beer_platform.lake.declaration import Table
from beer_platform.lake.tables import TABLES
from beer_platform.resources import build_resources
from beer_platform.settings import Settings, load_settings

FIXED = [ingestion, ml, serving, monitoring]  # the groups whose assets do not depend on the declared tables


def build_definitions(settings: Settings, tables: tuple[Table, ...] = TABLES, **resource_overrides) -> Definitions:
    return Definitions.merge(
        Definitions(
            assets=load_assets_from_modules(FIXED, include_specs=True),
            asset_checks=load_asset_checks_from_modules(FIXED),
            resources=build_resources(settings) | resource_overrides,
            executor={"in_process": in_process_executor, "multiprocess": multiprocess_executor}.get(settings.executor),
        ),
        lake.definitions(tables),
        catalog.definitions(tables),
        automation.definitions(tables),
    )


defs = build_definitions(load_settings())
