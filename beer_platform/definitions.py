"""The Definitions of the beer_platform code location: every asset and check found in `assets/`
(adding an asset touches only the module it lives in), the jobs, schedule and sensor of
`automation`, bound to the resources of the environment, with the executor the settings name
(the deployed platform runs each run's steps in its run worker: see local/platform/instance.py)."""

from __future__ import annotations

from dagster import (
    Definitions,
    in_process_executor,
    load_asset_checks_from_package_module,
    load_assets_from_package_module,
    multiprocess_executor,
)

from beer_platform import assets, automation
from beer_platform.resources import build_resources
from beer_platform.settings import Settings, load_settings


def build_definitions(settings: Settings, **resource_overrides) -> Definitions:
    return Definitions.merge(
        Definitions(
            assets=load_assets_from_package_module(assets, include_specs=True),
            asset_checks=load_asset_checks_from_package_module(assets),
            resources=build_resources(settings) | resource_overrides,
            executor={"in_process": in_process_executor, "multiprocess": multiprocess_executor}.get(settings.executor),
        ),
        automation.definitions,
    )


defs = build_definitions(load_settings())
