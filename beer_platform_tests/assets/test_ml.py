"""ibu_model on its own, in a process of its own (BentoML fixes its model store once per process):
both models trained through the Glue tables of the test's own, saved to a fresh store, exported to S3;
then again on the same data (kept), and gated against a stored model far better than it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from beer_platform.aws import s3 as s3_ops
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.settings import SOURCE_ROOT
from beer_platform.training import physics
from beer_platform_tests.assets.stage_inputs import put_table

pytestmark = pytest.mark.integration

MATERIALIZE_ALONE = """
import dataclasses, json, sys
import dagster as dg
from beer_platform.assets.ml import ibu_model
from beer_platform.names import ResourceNames
from beer_platform.resources import build_resources
from beer_platform.settings import load_settings

names = ResourceNames(**json.loads(sys.argv[1]))
settings = dataclasses.replace(load_settings(), names=names)
runs = []
for _ in range(2):
    result = dg.materialize([ibu_model], resources=build_resources(settings))
    meta = result.asset_materializations_for_node("ibu_model")[0].metadata
    check = result.get_asset_check_evaluations()[0]
    runs.append({"meta": {k: v.value for k, v in meta.items() if "plot" not in k}, "check": check.passed})
print(json.dumps(runs))
"""


def test_ibu_model_alone_trains_through_the_table_and_saves_and_exports_the_model(own_settings, own_clients,
                                                                                   stack_dir, tmp_path):  # fmt: skip
    names = own_settings.names
    put_table(own_clients, names, load_beers())
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml"), "BEER_PLATFORM_STACK_DIR": str(stack_dir),
           "BEER_PLATFORM_ENV": "local"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", MATERIALIZE_ALONE, json.dumps(dataclasses.asdict(names))],
                          cwd=SOURCE_ROOT, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    first, again = json.loads(done.stdout.strip().splitlines()[-1])
    meta = first["meta"]
    assert first["check"] and meta["retrained"]
    assert meta["training_tables"] == [f"{names.glue_database}.{table}" for table in ("beers", "beer_hops", "recipes")]
    assert (meta["training_rows"], meta["left_out_missing_ibu"], meta["left_out_data_errors"]) == (317, 5, 3)
    assert meta["recipe_cv_mae"] < meta["card_cv_mae"] < meta["card_baseline_cv_mae"]
    assert meta["recipe_grouped_cv_mae"] > meta["recipe_cv_mae"] and meta["recipe_tinseth_cv_mae"] > meta["recipe_cv_mae"]
    assert "| recipe model, grouped folds |" in meta["comparison"] and "50% alpha" in meta["extract_assumption"]
    assert meta["recipe_physics_recipes"] == 320  # every beer of the partition whose recipe boils hops
    assert min(meta[f"recipe_{name}"] for name in physics.figure_names()) >= 0.98  # x1.5, x2, x3, no hops
    assert again["check"] and again["meta"]["retrained"] is False and again["meta"]["model_tag"] == meta["model_tag"]
    figures = {key for key, value in meta.items() if key.startswith(("card_", "recipe_")) and isinstance(value, float)}
    assert {"recipe_cv_mae", "card_grouped_cv_r2"} <= figures  # the same keys, retrained or kept: plotted over runs
    assert {key: again["meta"][key] for key in figures} == {key: meta[key] for key in figures}
    name, version = meta["model_tag"].split(":")
    assert (tmp_path / "bentoml" / "models" / name / version / "manifest.json").is_file()
    bucket, key = meta["dagster/uri"].removeprefix("s3://").split("/", 1)
    assert bucket == names.artifacts_bucket and s3_ops.get_bytes(own_clients.client("s3"), bucket, key)
