"""The `beer-platform` command as a user runs it: `run` from fresh state (which applies infra/ with
Terraform), state that survives restarts with no drift, and the destroy that `stack down` does
only when asked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.deployment import engine as engines
from beer_platform.local.stack import TERRAFORM_DIR, free_port
from beer_platform.local.terraform import Workspace
from beer_platform.names import DEFAULT_NAMES
from beer_platform_tests.conftest import run_cli

pytestmark = pytest.mark.integration


def s3_client(endpoint: str):
    return AwsClients.for_local_endpoint(endpoint, DEFAULT_NAMES.region).client("s3")


def up_on_other_ports(env: dict[str, str]) -> dict:
    up = run_cli("stack", "up", "--detach", "--aws-port", str(free_port()), "--punkapi-port", str(free_port()),
                 env=env)  # fmt: skip
    assert up.returncode == 0, up.stderr
    status = json.loads(run_cli("stack", "status", "--json", env=env).stdout)
    assert status["running"] and status["aws_healthy"] and status["punkapi_healthy"]
    assert status["region"] == DEFAULT_NAMES.region and status["punkapi_base_url"].startswith("http://127.0.0.1:")
    return json.loads(up.stdout) | status


# The whole platform twice from fresh state (train both models, build and verify the image, apply
# infra/), then the stack restarted twice and destroyed: slow on a loaded machine. One test, so
# that Terraform's first apply (a minute of provider waiters) is paid once.
@pytest.mark.timeout(1800)
def test_run_from_fresh_state_then_restarts_keep_state_and_plan_empty_then_down_destroy(tmp_path: Path):
    stack_dir = tmp_path / "stack"
    env = {"BEER_PLATFORM_STACK_DIR": str(stack_dir), "DAGSTER_HOME": str(tmp_path / "dagster_home"),
           "BENTOML_HOME": str(tmp_path / "bentoml"), "BEER_PLATFORM_AWS_PORT": str(free_port()),
           "BEER_PLATFORM_PUNKAPI_PORT": str(free_port())}  # fmt: skip
    try:
        first = run_cli("run", env=env, timeout=900)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "325 published to beer-platform-events" in first.stdout
        assert "query (duckdb): " in first.stdout and ": 325 beers" in first.stdout
        assert "infra/: applied by terraform (58 resources" in first.stdout
        assert "local stack stopped" in first.stdout and not (stack_dir / "stack.json").exists()
        deployed = "version 2 on live" if engines.find() else "NOT built, nothing pushed or deployed: no container engine"
        assert deployed in first.stdout

        second = run_cli("run", env=env, timeout=450)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "infra/: unchanged since the last apply, state replayed (58 resources)" in second.stdout
        assert "0 published to beer-platform-events" in second.stdout  # same catalogue, same day
        assert ": 325 beers" in second.stdout
        assert (tmp_path / "dagster_home" / "history").exists()  # both runs, for `dagster dev` to show

        state = up_on_other_ports(env)  # after `make run`, with a function in moto: healthy
        assert state["registry_healthy"] and state["replayed_requests"] > 0 and state["infra"]["unchanged"]
        s3_client(state["aws_endpoint_url"]).put_object(Bucket=DEFAULT_NAMES.artifacts_bucket, Key="keep/me.txt",
                                                        Body=b"still here")  # fmt: skip
        assert run_cli("stack", "down", env=env).returncode == 0
        stopped = json.loads(run_cli("stack", "status", "--json", env=env).stdout)
        assert stopped["running"] is False and stopped["aws_endpoint_url"] is None

        again = up_on_other_ports(env)
        assert again["registry"] == state["registry"]  # the same address: recorded image URIs still hold
        assert again["infra"]["state"] == "applied" and again["infra"]["unchanged"]
        body = s3_client(again["aws_endpoint_url"]).get_object(Bucket=DEFAULT_NAMES.artifacts_bucket, Key="keep/me.txt")
        assert body["Body"].read() == b"still here"
        # Two runs and three restarts later, what the endpoint holds is still what infra/ declares.
        workspace = Workspace(stack_dir / TERRAFORM_DIR)
        changes, plan = workspace.plan_changes(again["aws_endpoint_url"])
        assert changes == 0, plan

        destroyed = run_cli("stack", "down", "--destroy", env=env, timeout=600)
        assert destroyed.returncode == 0, destroyed.stderr
        assert "58 resources of infra/ destroyed" in destroyed.stdout and "local stack stopped" in destroyed.stdout
        assert workspace.instances() == 0  # Terraform deleted each one and saw it gone
        assert json.loads(run_cli("stack", "status", "--json", env=env).stdout)["running"] is False
    finally:
        run_cli("stack", "down", env=env)
        shutil.rmtree(stack_dir / "registry", ignore_errors=True)  # the pushed images: ~700 MB
