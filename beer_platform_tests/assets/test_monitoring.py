"""ibu_model_monitoring on its own resources: a day like the catalogue passes, a day of only
imperial stouts turns the drift check; the figures keep their keys from day to day."""

from __future__ import annotations

import math
from datetime import date

import dagster as dg
import pytest

from beer_platform.assets.lake import PREDICTION_DAYS
from beer_platform.assets.monitoring import DRIFT_CHECK, LIVE_ERROR_CHECK
from beer_platform.definitions import build_definitions
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict.inputs import NUMERIC_FEATURES
from beer_platform.serving.prediction_log import PredictionRecord
from beer_platform_tests.assets.stage_inputs import put_prediction_part, put_table

pytestmark = pytest.mark.integration

TYPICAL, STOUTS = date(2026, 12, 1), date(2026, 12, 2)


def _records(beers: list[dict], day: date) -> list[PredictionRecord]:
    """What the model server logs for `beers`, one request each, answered with their true IBU."""
    return [PredictionRecord(request_id=f"{day}-{n}", position=0, time=f"{day}T12:00:00+00:00", model="ibu_model:t",
                             answered_by="card", ibu=40.0 if beer["ibu"] is None else beer["ibu"], tinseth_ibu=None, latency_ms=1.0,
                             inputs={"name": beer["name"], **{f: beer[f] for f in NUMERIC_FEATURES}},
                             beer_id=beer["id"]) for n, beer in enumerate(beers)]  # fmt: skip


def _day(defs: dg.Definitions, instance: dg.DagsterInstance, day: date) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(PREDICTION_DAYS.name, [day.isoformat()])
    return defs.resolve_job_def("prediction_cleaning_job").execute_in_process(
        instance=instance, partition_key=day.isoformat(), raise_on_error=False)  # fmt: skip


def test_a_day_of_only_imperial_stouts_turns_the_drift_check(own_settings, own_clients):
    beers = load_beers()
    put_table(own_clients, own_settings.names, beers)  # the beers table the model trained on
    typical = [beer for beer in beers if beer["abv"] and beer["ebc"]][::2]
    stouts = [beer for beer in beers if (beer["abv"] or 0) >= 9 and (beer["ebc"] or 0) >= 80]
    put_prediction_part(own_clients, own_settings.names, _records(typical, TYPICAL), TYPICAL)
    put_prediction_part(own_clients, own_settings.names, _records(stouts * 4, STOUTS), STOUTS)
    defs = build_definitions(own_settings)
    with dg.DagsterInstance.ephemeral() as instance:
        runs = {day: _day(defs, instance, day) for day in (TYPICAL, STOUTS)}
        for day, run in runs.items():
            assert run.success, day
        checks = {day: {e.check_name: e for e in run.get_asset_check_evaluations()} for day, run in runs.items()}
        metadata = {day: run.asset_materializations_for_node("ibu_model_monitoring")[0].metadata
                    for day, run in runs.items()}  # fmt: skip
    assert checks[TYPICAL][DRIFT_CHECK].passed and checks[TYPICAL][LIVE_ERROR_CHECK].passed
    turned = checks[STOUTS][DRIFT_CHECK]
    assert not turned.passed and turned.severity == dg.AssetCheckSeverity.WARN
    assert {"abv", "ebc"} <= set(turned.metadata["drifted"].value)
    assert set(metadata[TYPICAL]) == set(metadata[STOUTS])  # the same keys every day: the UI plots them
    assert metadata[TYPICAL]["psi_abv"].value < 0.1 < 0.25 < metadata[STOUTS]["psi_abv"].value
    assert metadata[STOUTS]["requests"].value == 4 * len(stouts)
    assert metadata[TYPICAL]["live_mae_card"].value == 0.0  # answered with the true IBU
    assert math.isnan(metadata[TYPICAL]["live_mae_recipe"].value)  # nothing answered by the recipe model
