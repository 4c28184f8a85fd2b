"""The `beer-platform` command as a user runs it: stack lifecycle, state that survives, `run`."""

from __future__ import annotations

import json
import shutil

import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.deployment import engine as engines
from beer_platform.local.stack import free_port
from beer_platform.names import DEFAULT_NAMES
from beer_platform_tests.conftest import run_cli

pytestmark = pytest.mark.integration


def s3_client(endpoint: str):
    return AwsClients.for_local_endpoint(endpoint, DEFAULT_NAMES.region).client("s3")


def test_stack_state_survives_down_and_up_even_on_other_ports(tmp_path):
    state_dir = str(tmp_path / "stack")
    up = run_cli("stack", "up", "--detach", "--state-dir", state_dir,
                 "--aws-port", str(free_port()), "--punkapi-port", str(free_port()))  # fmt: skip
    assert up.returncode == 0, up.stderr
    try:
        status = json.loads(run_cli("stack", "status", "--json", "--state-dir", state_dir).stdout)
        assert status["running"] and status["aws_healthy"] and status["punkapi_healthy"]
        assert status["punkapi_base_url"].startswith("http://127.0.0.1:")
        assert status["region"] == DEFAULT_NAMES.region
        if status["registry"] is not None:  # docker-registry installed (always in CI)
            assert status["registry_healthy"] and status["registry"].startswith("127.0.0.1:")
        s3_client(status["aws_endpoint_url"]).put_object(
            Bucket="beer-platform-artifacts", Key="keep/me.txt", Body=b"still here"
        )
        assert run_cli("stack", "down", "--state-dir", state_dir).returncode == 0
        stopped = json.loads(run_cli("stack", "status", "--json", "--state-dir", state_dir).stdout)
        assert stopped["running"] is False and stopped["aws_endpoint_url"] is None

        again = run_cli("stack", "up", "--detach", "--state-dir", state_dir,
                        "--aws-port", str(free_port()), "--punkapi-port", str(free_port()))  # fmt: skip
        assert again.returncode == 0, again.stderr
        restarted = json.loads(again.stdout)
        assert restarted["replayed_requests"] > 0 and restarted["provisioned"] == []
        assert restarted["registry"] == status["registry"]  # the same address: recorded image URIs still hold
        body = s3_client(restarted["aws_endpoint_url"]).get_object(Bucket="beer-platform-artifacts", Key="keep/me.txt")
        assert body["Body"].read() == b"still here"
    finally:
        run_cli("stack", "down", "--state-dir", state_dir)


# The whole platform twice from fresh state (train both models, build and verify the image): slow on a loaded machine.
@pytest.mark.timeout(1500)
def test_run_materializes_everything_prints_a_summary_and_is_idempotent(tmp_path):
    env = {
        "BEER_PLATFORM_STACK_DIR": str(tmp_path / "stack"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "BENTOML_HOME": str(tmp_path / "bentoml"),
        "BEER_PLATFORM_AWS_PORT": str(free_port()),
        "BEER_PLATFORM_PUNKAPI_PORT": str(free_port()),
    }
    first = run_cli("run", env=env, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "325 published to beer-platform-events" in first.stdout
    assert "query (duckdb): " in first.stdout and ": 325 beers" in first.stdout
    assert "local stack stopped" in first.stdout
    assert not (tmp_path / "stack" / "stack.json").exists()

    deployed = "version 1 on live" if engines.find() else "NOT built, nothing pushed or deployed: no container engine"
    assert deployed in first.stdout

    second = run_cli("run", env=env, timeout=450)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 published to beer-platform-events" in second.stdout  # same catalogue, same day
    assert ": 325 beers" in second.stdout

    # after `make run`, with a function in moto, the stack still reports healthy
    assert run_cli("stack", "up", "--detach", env=env).returncode == 0
    try:
        status = json.loads(run_cli("stack", "status", "--json", env=env).stdout)
        assert status["aws_healthy"] and status["punkapi_healthy"] and status["registry_healthy"]
        assert status["region"] == DEFAULT_NAMES.region
    finally:
        run_cli("stack", "down", env=env)
        shutil.rmtree(tmp_path / "stack" / "registry", ignore_errors=True)  # the pushed images: ~700 MB
    # Both runs are in the persistent Dagster instance, for `dagster dev` to show.
    assert (tmp_path / "dagster_home" / "history").exists()
