"""Materialize the whole asset graph in-process, with progress a person can follow.

`run_platform` is `make run`: the landing (beer_events, raw_beers), then one run of the cleaned tables
per ingestion day the landing touched, then everything below (the automation's sensor does the
same in `dagster dev`; see `automation`).

Runs are recorded in the persistent Dagster instance (DAGSTER_HOME, default `.dagster_home/`),
so `make dev` shows them afterwards. In-process execution skips the ~10 s per step that a
multiprocess run spends re-importing the code.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetKey, DagsterEventType, DagsterInstance, Definitions

from beer_platform.settings import project_dir

_PROGRESS_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}


def dagster_instance() -> DagsterInstance:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(project_dir() / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return DagsterInstance.get()


@dataclass
class AssetOutcome:
    key: str  # the asset, with the partition for a partitioned one: cleaned_beers[2026-12-01]
    asset: str = ""
    seconds: float = 0.0
    metadata: dict = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    seconds: float
    assets: dict[str, AssetOutcome]
    error: str = ""
    results: list = field(default_factory=list)  # each run's ExecuteInProcessResult


def run_platform(defs: Definitions, instance: DagsterInstance, echo: Callable[[str], None] = print) -> RunOutcome:
    """Land, clean each day of each raw zone the landing touched, publish: one outcome."""
    from beer_platform.assets.lake import ZONES
    from beer_platform.automation import days_touched

    started = time.perf_counter()
    runs = [materialize(defs, instance, "landing_job", echo)]
    if runs[-1].success:
        cleanings = []
        for zone in ZONES.values():
            landing = instance.get_latest_materialization_event(AssetKey(zone.landing))
            touched = days_touched(landing) if landing is not None and landing.run_id == runs[-1].run_id else []
            cleanings += [(zone.cleaning_job, day) for day in touched]
        runs += _clean_then_publish(defs, instance, cleanings, echo)
    return _combined(runs, started)


def backfill(defs: Definitions, instance: DagsterInstance, cleanings: list[tuple[str, str]],
             echo: Callable[[str], None] = print) -> RunOutcome:  # fmt: skip
    """`beer-platform clean DAY...`: each (cleaning job, day) cleaned again from its raw zone, then what is below."""
    started = time.perf_counter()
    return _combined(_clean_then_publish(defs, instance, cleanings, echo), started)


def _clean_then_publish(defs: Definitions, instance: DagsterInstance, cleanings: list[tuple[str, str]], echo
                        ) -> list[RunOutcome]:  # fmt: skip
    runs: list[RunOutcome] = []
    for job, day in cleanings:
        runs.append(materialize(defs, instance, job, echo, partition_key=day))
        if not runs[-1].success:
            return runs
    runs.append(materialize(defs, instance, "publishing_job", echo))
    return runs


def _combined(runs: list[RunOutcome], started: float) -> RunOutcome:
    return RunOutcome(
        run_id=", ".join(run.run_id for run in runs),
        success=all(run.success for run in runs),
        seconds=time.perf_counter() - started,
        assets={key: outcome for run in runs for key, outcome in run.assets.items()},
        error="; ".join(run.error for run in runs if run.error),
        results=[result for run in runs for result in run.results],
    )


def materialize(
    defs: Definitions,
    instance: DagsterInstance,
    job_name: str,
    echo: Callable[[str], None] = print,
    partition_key: str | None = None,
) -> RunOutcome:
    job = defs.resolve_job_def(job_name)
    run_id = str(uuid.uuid4())  # chosen here so progress can follow the run's events
    result_box: dict = {}

    def execute() -> None:
        try:
            result_box["result"] = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                partition_key=partition_key,
                raise_on_error=False,
                tags={"dagster/from_cli": "beer-platform"},
                # Our own progress lines replace Dagster's verbose console log.
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
        except Exception as err:  # noqa: BLE001 - reported below, the run is already recorded
            result_box["error"] = err

    started = time.perf_counter()
    thread = threading.Thread(target=execute, name="dagster-run")
    thread.start()
    outcomes = _follow(instance, run_id, thread, echo)
    result = result_box.get("result")
    error = str(result_box.get("error", ""))
    if result is not None and not result.success:
        failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
        error = "; ".join(f"{e.step_key}: {user_error(e.event_specific_data.error)}" for e in failures)
    return RunOutcome(
        run_id=run_id,
        success=result is not None and result.success,
        seconds=time.perf_counter() - started,
        assets=outcomes,
        error=error,
        results=[result] if result is not None else [],
    )


def _follow(instance: DagsterInstance, run_id: str, thread: threading.Thread, echo) -> dict[str, AssetOutcome]:
    """Echo the run's progress events as they are stored, until its thread is done."""
    outcomes: dict[str, AssetOutcome] = {}
    step_started: dict[str, float] = {}
    seen = 0
    while True:
        alive = thread.is_alive()
        logs = instance.all_logs(run_id, of_type=_PROGRESS_EVENTS)
        for entry in logs[seen:]:
            _report(entry, outcomes, step_started, echo)
        seen = len(logs)
        if not alive:
            break
        time.sleep(0.2)
    thread.join()
    return outcomes


def user_error(error) -> str:
    """The user code's own exception message, not Dagster's "Error occurred while executing" wrapper."""
    return (error.cause or error).message.strip()


def _report(entry, outcomes: dict[str, AssetOutcome], step_started: dict[str, float], echo) -> None:
    event = entry.dagster_event
    step = event.step_key or ""
    if event.event_type == DagsterEventType.STEP_START:
        step_started[step] = entry.timestamp
        # Checks defined apart from their asset run as a step named by a hash: say what it is.
        echo(f"  ... {'checks' if step.startswith('asset_check_') else step}")
    elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        mat = event.event_specific_data.materialization
        asset = mat.asset_key.to_user_string()
        key = f"{asset}[{mat.partition}]" if mat.partition else asset
        outcome = outcomes.setdefault(key, AssetOutcome(key, asset))
        outcome.metadata = {k: v.value for k, v in mat.metadata.items()}
        outcome.seconds = entry.timestamp - step_started.get(step, entry.timestamp)
        rows = outcome.metadata.get("dagster/row_count")
        echo(f"  ok  {key:<14} {'' if rows is None else f'{rows} rows'}  ({outcome.seconds:.1f}s)")
    elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        key = evaluation.asset_key.to_user_string()
        # A check belongs to the asset's latest outcome (a partition's, for a partitioned asset).
        owner = next((o for o in reversed(outcomes.values()) if o.asset == key), None)
        if owner is None:
            owner = outcomes.setdefault(key, AssetOutcome(key, key))
        owner.checks[evaluation.check_name] = evaluation.passed
        mark = "pass" if evaluation.passed else ("FAIL" if evaluation.severity.value == "ERROR" else "warn")
        echo(f"      {mark} check {key}:{evaluation.check_name}")
    elif event.event_type == DagsterEventType.STEP_FAILURE:
        echo(f"  FAILED {step}: {user_error(event.event_specific_data.error)}")
