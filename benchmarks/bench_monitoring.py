"""Monitoring: the drift check turning as a day's requests shift, on the platform as it runs.

A local stack of its own (`beer-platform stack up --detach` in a temporary state dir), the
catalogue ingested, landed, cleaned and catalogued by the platform's jobs, a model trained on the
shipped dataset and served by the model server with prediction logging on. Then one day:
1. morning: 300 requests for beers of the catalogue (a random sample, each with its PunkAPI id),
   landed, cleaned and watched: the drift check passes;
2. afternoon: 300 more, for imperial stouts only (abv >= 9%, EBC >= 80), landed and the same day
   cleaned and watched again: the check turns.
Prints each feature's PSI and KS statistic, the share of requests unlike the training data and
the live error for both, the check's verdict, and what each step cost (wall seconds). The cost
of watching a day grows with that day's predictions (one partition read) plus the training
table (325 beers), not with the history of days.

    python -m benchmarks.bench_monitoring [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import httpx
from pydantic import ValidationError

from benchmarks.machine import describe_machine
from beer_platform.assets.lake import INGESTION_DAYS, PREDICTION_DAYS
from beer_platform.assets.monitoring import DRIFT_CHECK, LIVE_ERROR_CHECK
from beer_platform.definitions import build_definitions
from beer_platform.lake.tables import CATALOGUE_TABLES
from beer_platform.local import model_server as server
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.local.stack import free_port
from beer_platform.predict.inputs import NUMERIC_FEATURES
from beer_platform.serving.schemas import parse_predict
from beer_platform.settings import SOURCE_ROOT, Settings, load_settings

CARD_FIELDS = ("id", "name", *NUMERIC_FEATURES)


@contextmanager
def own_stack() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as state:
        cli = [sys.executable, "-m", "beer_platform.cli", "stack"]
        subprocess.run([*cli, "up", "--detach", "--state-dir", state, "--aws-port", str(free_port()),
                        "--punkapi-port", str(free_port())], check=True, capture_output=True, cwd=SOURCE_ROOT)  # fmt: skip
        try:
            yield load_settings({"BEER_PLATFORM_STACK_DIR": state, "BEER_PLATFORM_ENV": "local"})
        finally:
            subprocess.run([*cli, "down", "--state-dir", state], capture_output=True, cwd=SOURCE_ROOT)


def catalogue(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """The catalogue in the lake and the Glue catalog, by the platform's own jobs."""
    assert defs.resolve_job_def("ingestion_job").execute_in_process(instance=instance).success
    assert dg.materialize([defs.resolve_assets_def("raw_beers")], instance=instance).success
    for day in instance.get_dynamic_partitions(INGESTION_DAYS.name):
        assert defs.resolve_job_def("cleaning_job").execute_in_process(instance=instance, partition_key=day).success
    tables = [defs.resolve_assets_def(table.catalog_asset) for table in CATALOGUE_TABLES]
    assert dg.materialize(tables, instance=instance).success


def accepted(beer: dict) -> bool:
    """Whether the API takes the beer's card (a few published values are out of bounds: pH 79)."""
    try:
        parse_predict(json.dumps([{field: beer[field] for field in CARD_FIELDS}]))
    except ValidationError:
        return False
    return True


def send(url: str, beers: list[dict]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for beer in beers:
            answer = client.post("/predict", json=[{field: beer[field] for field in CARD_FIELDS}])
            answer.raise_for_status()


def watch(defs: dg.Definitions, instance: dg.DagsterInstance) -> tuple[str, dict, dict]:
    """Land the prediction log, clean and watch each day it touched; the last day's figures and checks."""
    assert dg.materialize([defs.resolve_assets_def("raw_predictions")], instance=instance).success
    day = max(instance.get_dynamic_partitions(PREDICTION_DAYS.name))
    run = defs.resolve_job_def("prediction_cleaning_job").execute_in_process(instance=instance, partition_key=day)
    assert run.success
    figures = {k: v.value for k, v in run.asset_materializations_for_node("ibu_model_monitoring")[0].metadata.items()}
    checks = {e.check_name: e for e in run.get_asset_check_evaluations() if e.asset_key.path == ["ibu_model_monitoring"]}
    return day, figures, checks


def report(name: str, figures: dict, checks: dict) -> list[str]:
    drift = checks[DRIFT_CHECK]
    verdict = "passes" if drift.passed else f"WARNS ({drift.description})"
    return [
        f"| {name} | {figures['requests']} | "
        + " | ".join(f"{figures[f'psi_{f}']:.2f} / {figures[f'ks_{f}']:.2f}" for f in NUMERIC_FEATURES)
        + f" | {figures['psi_predicted_ibu']:.2f} | {figures['unseen_share']:.0%} | {figures['live_mae_card']:.2f} "
        f"| {verdict} | {'passes' if checks[LIVE_ERROR_CHECK].passed else 'FAILS'} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests in each half of the day")
    args = parser.parse_args()
    beers = [b for b in load_beers() if all(b.get(f) is not None for f in NUMERIC_FEATURES) and accepted(b)]
    stouts = [b for b in beers if b["abv"] >= 9 and b["ebc"] >= 80]
    rng = random.Random(7)
    morning = [rng.choice(beers) for _ in range(args.requests)]
    afternoon = [rng.choice(stouts) for _ in range(args.requests)]
    seconds: dict[str, float] = {}

    def timed(step: str, started: float) -> None:
        seconds[step] = round(time.perf_counter() - started, 1)

    with tempfile.TemporaryDirectory(prefix="bench-monitoring-home-") as home, own_stack() as settings:
        started = time.perf_counter()
        from benchmarks.bench_serving import prepare_model_store

        tag = prepare_model_store(home)
        os.environ["BENTOML_HOME"] = home  # the monitoring reads the served model's CV MAE from this store
        timed("train and save the model", started)
        defs = build_definitions(settings)
        env = {"BEER_PLATFORM_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
               "BEER_PLATFORM_NAMES": json.dumps(settings.names.as_dict())}  # fmt: skip
        with dg.DagsterInstance.ephemeral() as instance:
            started = time.perf_counter()
            catalogue(defs, instance)
            timed("ingest, land, clean and catalogue the catalogue", started)
            rows = []
            for name, requests in (("morning: catalogue beers", morning), ("+ afternoon: imperial stouts", afternoon)):
                started = time.perf_counter()
                with server.running_service(0, bentoml_home=home, env=env) as service:
                    send(service.url, requests)
                timed(f"serve {len(requests)} requests ({name})", started)  # a clean stop sends what is queued
                started = time.perf_counter()
                day, figures, checks = watch(defs, instance)
                timed(f"land, clean and watch {day} ({name})", started)
                rows += report(name, figures, checks)

    print("\n## Monitoring: a day of requests drifting, and the check that turns\n")
    print(describe_machine())
    print(f"Model {tag} (trained on the shipped dataset), {len(stouts)} imperial stouts in the catalogue; "
          f"{args.requests} one-beer requests in each half of the day, each with its PunkAPI id.\n")
    print("| the day so far | predictions | " + " | ".join(f"{f} PSI / KS" for f in NUMERIC_FEATURES)
          + " | predicted IBU PSI | unlike training | live MAE (card) | drift check | live error check |")
    print("|---|---:|" + "---:|" * len(NUMERIC_FEATURES) + "---:|---:|---:|---|---|")
    print("\n".join(rows))
    print("\n| step | seconds |\n|---|---:|")
    for step, value in seconds.items():
        print(f"| {step} | {value} |")


if __name__ == "__main__":
    main()
