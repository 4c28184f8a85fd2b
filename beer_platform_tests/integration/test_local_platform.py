"""`beer-platform platform up`: the deployed shape for real, driven over GraphQL as a user's client drives it.

One platform for the module (its images are built once: found by their tags afterwards), with a
local stack of its own; the tests run in order, each leaving the platform running and idle.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from beer_platform.aws import s3 as s3_ops
from beer_platform.aws.clients import AwsClients
from beer_platform.deployment import engine as engines
from beer_platform.local.platform import lifecycle, services
from beer_platform.local.platform.graphql import FINISHED, PlatformClient
from beer_platform.local.platform.layout import Layout
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.local.stack import free_port
from beer_platform.names import DEFAULT_NAMES as NAMES
from beer_platform_tests.assets.stage_inputs import stream_records
from beer_platform_tests.conftest import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.platform, pytest.mark.timeout(1200)]
BEER_IDS = {beer["id"] for beer in load_beers()}


@pytest.fixture(scope="module")
def platform() -> Iterator[dict]:
    # Not under pytest's tmp dir: its parent is closed to other users, and as root Postgres runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="platform-it-"))
    root.chmod(0o755)
    env = {"BEER_PLATFORM_PLATFORM_DIR": str(root / "platform"), "BEER_PLATFORM_STACK_DIR": str(root / "stack"),
           "BENTOML_HOME": str(root / "bentoml"), "BEER_PLATFORM_ENV": "local"}  # fmt: skip
    up = run_cli("platform", "up", "--json", "--port", str(free_port()), "--aws-port", str(free_port()),
                 "--punkapi-port", str(free_port()), env=env, timeout=1200)  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        status = json.loads(up.stdout)
        stack = json.loads((root / "stack" / "stack.json").read_text())
        yield {"env": env, "status": status, "root": root, "layout": Layout(root / "platform"),
               "client": PlatformClient(status["webserver_url"]),
               "aws": AwsClients.for_local_endpoint(stack["aws_endpoint_url"], NAMES.region),
               "replica": stack["punkapi_base_url"].removesuffix("/v2") + "/__replica__"}  # fmt: skip
    finally:
        run_cli("platform", "down", env=env, timeout=300)
        shutil.rmtree(root, ignore_errors=True)


def wait_for(what: str, check, timeout: float = 300, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f}s")
        time.sleep(poll)
    return found


def container(container_id: str) -> dict:
    return json.loads(subprocess.run(engines.detect().command("container", "inspect", container_id),
                                     capture_output=True, text=True, check=True).stdout)[0]  # fmt: skip


def step_started(client: PlatformClient, run_id: str, step: str) -> bool:
    return any(e["__typename"] == "ExecutionStepStartEvent" and e.get("stepKey") == step for e in client.events(run_id))


def test_status_names_the_ui_the_code_location_the_launcher_the_image_and_the_database(platform):
    shown = run_cli("platform", "status", "--json", env=platform["env"])
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    secret_file = Path(status["database"]["password_file"])
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert secret_file.read_text().strip() not in shown.stdout  # the database without its password
    assert status["running"] and status["webserver_url"].startswith("http://127.0.0.1:")
    assert status["code_location"]["name"] == "beer_platform" and status["code_location"]["loaded"]
    assert status["run_launcher"]["class"] == "dagster_docker.DockerRunLauncher"
    assert status["run_launcher"]["memory_limit"] == "1g" and status["image"] == status["code_location"]["image"]
    assert status["database"]["url"].startswith("postgresql://dagster@127.0.0.1:")
    assert all(part["running"] for part in status["services"].values())
    assert all(status["daemons"].values()) and {"SCHEDULER", "SENSOR", "ASSET", "MONITORING"} <= set(status["daemons"])
    # The webserver and the daemon hold no user code: their image cannot even import it.
    engine = engines.detect()
    looked = subprocess.run(engine.command("run", "--rm", *engine.run_flags(), status["dagster_image"],
                                           "/usr/bin/python3.11", "-c", "import beer_platform"),
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert looked.returncode != 0 and "No module named 'beer_platform'" in looked.stderr


def test_a_run_whose_container_is_killed_is_failed_retried_and_the_zones_hold_every_record_once(platform):
    client, aws, replica = platform["client"], platform["aws"], platform["replica"]
    # A slow API keeps the landing in its first step: the kill lands mid-run however fast the machine.
    # (Kills between a part's write and its commit, and before the landing's report: tests/stages/test_raw.)
    httpx.put(f"{replica}/faults", json={"latency_ms": 1500}).raise_for_status()
    try:
        killed = client.submit("landing_job")
        wait_for("beer_events started", lambda: step_started(client, killed, "beer_events"), timeout=300, poll=0.2)
        container_id = client.run(killed)["tags"]["docker/container_id"]
        subprocess.run(engines.detect().command("kill", container_id), check=True, capture_output=True)
    finally:
        httpx.post(f"{replica}/reset").raise_for_status()
    failed = client.wait(killed, timeout=120)
    assert failed["status"] == "FAILURE"
    messages = [e.get("message") or "" for e in client.events(killed)]
    # run monitoring saw the dead container (podman 4.3's Docker API may say "stopped" for a moment before "exited")
    assert any("Detected run worker status" in m and "Container status is" in m for m in messages), messages
    retry = wait_for("the retry", lambda: [r for r in client.runs()
                                           if r["tags"].get("dagster/parent_run_id") == killed])  # fmt: skip
    assert client.wait(retry[0]["runId"], timeout=300)["status"] == "SUCCESS"
    assert retry[0]["tags"]["dagster/retry_number"] == "1"

    s3 = aws.client("s3")
    lines = [json.loads(line) for obj in s3_ops.list_objects(s3, NAMES.raw_bucket, "beers/")
             for line in gzip.decompress(s3_ops.get_bytes(s3, NAMES.raw_bucket, obj.key)).splitlines()]  # fmt: skip
    landed = [(line["shard_id"], line["sequence_number"]) for line in lines]
    published = {(r.shard_id, r.sequence_number) for r in stream_records(aws.client("kinesis"), NAMES.stream)}
    assert len(landed) == len(set(landed)) and set(landed) == published  # nothing twice, nothing lost
    assert {line["data"]["id"] for line in lines} == BEER_IDS


def test_the_landed_day_is_cleaned_by_the_daemons_sensor_one_run_at_a_time(platform):
    client, s3 = platform["client"], platform["aws"].client("s3")
    sensed = wait_for("landed_days' cleaning run", lambda: [r for r in client.runs()
                                                            if r["tags"].get("dagster/sensor_name") == "landed_days"])
    day = sensed[0]["tags"]["dagster/partition"]
    again = client.submit("cleaning_job", tags={"dagster/partition": day})  # the same day, at the same time
    runs = [client.wait(run, timeout=600) for run in (sensed[0]["runId"], again)]
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]
    first, second = sorted(runs, key=lambda run: run["startTime"])
    assert second["startTime"] >= first["endTime"]  # queued until the first was done: never two at once
    [part] = [o.key for o in s3_ops.list_objects(s3, NAMES.cleaned_bucket, f"beers/ingestion_date={day}/")]
    ids = pq.read_table(io.BytesIO(s3_ops.get_bytes(s3, NAMES.cleaned_bucket, part))).column("id").to_pylist()
    assert sorted(ids) == sorted(BEER_IDS)  # cleaned twice: every beer once


def test_the_automation_trains_the_model_into_the_shared_store_and_deploys_its_lambda_from_a_run(platform):
    client, env = platform["client"], platform["env"]
    deployed = wait_for("ibu_model_lambda materialized by the automation",
                        lambda: client.latest_materialization("ibu_model_lambda"), timeout=900, poll=5)  # fmt: skip
    run = client.run(deployed["runId"])
    assert run["status"] in ("STARTED", "SUCCESS") and run["tags"].get("dagster/sensor_name") == "lake_automation"
    metadata = deployed["metadata"]
    assert metadata["deployed"] is True and metadata["image"].startswith("built with podman")
    # Trained in a container, saved to the store the host reads: what `make serve` serves.
    stored = subprocess.run([sys.executable, "-c", "from beer_platform.serving import model_store; "
                             "print(model_store.latest_model_info()['tag'])"],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert stored.stdout.strip() == metadata["model"], stored.stderr
    buzz = {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4}
    answer = run_cli("lambda", "invoke", "--json", json.dumps([buzz]), env=env)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["model"] == metadata["model"]
    client.wait(deployed["runId"], timeout=300)


def test_a_run_launched_in_its_own_container_has_1gib_and_the_hosts_network(platform):
    client = platform["client"]
    [landing] = [r for r in client.runs() if r["jobName"] == "landing_job" and r["status"] == "SUCCESS"]
    inspected = container(landing["tags"]["docker/container_id"])
    assert inspected["Config"]["Labels"]["dagster/run_id"] == landing["runId"]
    assert inspected["HostConfig"]["Memory"] == 2**30 and inspected["HostConfig"]["NetworkMode"] == "host"
    assert inspected["ImageName"] == platform["status"]["image"]
    messages = [e.get("message") or "" for e in client.events(landing["runId"])]
    assert any(m.startswith("Executing steps in process") for m in messages)  # one process in the 1 GiB


def test_restarts_keep_history_schedule_state_and_cursors_and_a_run_queued_meanwhile_starts_once(platform):
    client, layout = platform["client"], platform["layout"]
    client.stop_schedule("daily_ingestion")
    client.stop_sensor("lake_automation")  # quiet: no run starts while the parts restart
    wait_for("no run in flight", lambda: all(r["status"] in FINISHED for r in client.runs()), timeout=600, poll=2)
    services.stop(engines.detect(), layout, services.DAEMON)
    before = {"runs": {r["runId"] for r in client.runs()}, "schedule": client.schedule("daily_ingestion")["status"],
              "cursor": client.sensor("landed_days")["cursor"]}
    assert before["schedule"] == "STOPPED" and before["cursor"]
    queued = client.submit("ingestion_job")
    for part in ("webserver", "code-server", "postgres", "podman-service"):
        lifecycle.restart(layout, part, echo=lambda line: None)
    assert client.run(queued)["status"] == "QUEUED"  # nothing launches runs while the daemon is down
    lifecycle.restart(layout, services.DAEMON, echo=lambda line: None)
    assert client.wait(queued, timeout=300)["status"] == "SUCCESS"
    ps = engines.detect().command("ps", "-a", "--filter", f"label=dagster/run_id={queued}", "--format", "{{.ID}}")
    launched = subprocess.run(ps, capture_output=True, text=True)
    assert len(launched.stdout.split()) == 1  # started once
    assert {r["runId"] for r in client.runs()} == before["runs"] | {queued}
    assert client.schedule("daily_ingestion")["status"] == before["schedule"]
    assert client.sensor("landed_days")["cursor"] == before["cursor"]
    assert client.sensor("lake_automation")["status"] == "STOPPED"


def test_a_code_location_that_fails_to_load_shows_its_error_while_the_rest_runs_on(platform):
    client, layout, engine = platform["client"], platform["layout"], engines.detect()
    broken = "localhost/beer-platform-code:broken-test"
    with tempfile.TemporaryDirectory() as context:  # the code where the image does not look for it
        Path(context, "Dockerfile").write_text(f"FROM {platform['status']['image']}\nWORKDIR /tmp\n"
                                               "ENV PYTHONPATH=/opt/not-the-code\n")  # fmt: skip
        engine.build(context, broken, {})
    try:
        lifecycle.restart(layout, "code-server", code_image=broken, echo=lambda line: None)
        location = client.locations()["beer_platform"]
        assert not location["loaded"] and "No module named 'beer_platform'" in location["error"]
        assert client.healthy() and all(client.daemons().values())
        status = lifecycle.status(layout)
        assert all(status["services"][name]["running"] for name in ("webserver", "daemon", "postgres"))
    finally:
        lifecycle.restart(layout, "code-server", echo=lambda line: None)
        engine.remove_image(broken)
    assert client.locations()["beer_platform"]["loaded"]


def test_down_then_up_keeps_the_run_history(platform):
    env, client = platform["env"], platform["client"]
    runs = {r["runId"] for r in client.runs()}
    assert run_cli("platform", "down", env=env, timeout=300).returncode == 0
    stopped = json.loads(run_cli("platform", "status", "--json", env=env).stdout)
    assert not stopped["running"] and not any(part["running"] for part in stopped["services"].values())
    again = run_cli("platform", "up", "--json", env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["webserver_url"] == platform["status"]["webserver_url"]  # its port kept
    assert {r["runId"] for r in client.runs()} == runs
