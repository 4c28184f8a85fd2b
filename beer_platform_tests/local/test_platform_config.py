"""The local platform's configuration, checked against Dagster's own instance schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from beer_platform.deployment.base_image import MMDEBSTRAP, local_base_tag, mmdebstrap_command
from beer_platform.deployment.engine import Engine
from beer_platform.local.platform import instance
from beer_platform.local.platform.layout import ENGINE_SOCKET, LABEL, PASSWORD_ENV, Layout


@pytest.fixture
def wiring(tmp_path: Path) -> instance.Wiring:
    return instance.Wiring(layout=Layout(tmp_path / "platform"), postgres_port=15432, code_port=14000,
                           code_image="localhost/beer-platform-code:abc", stack_dir=tmp_path / "stack",
                           bentoml_home=tmp_path / "bentoml", cache_dir=tmp_path / "cache")  # fmt: skip


def test_the_instance_file_loads_with_dagsters_schema_and_names_the_password_only_by_environment(
    wiring, monkeypatch
):  # fmt: skip
    assert instance.write(wiring) is True
    assert instance.write(wiring) is False  # unchanged: the services need no restart
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    config, _ = dagster_instance_config(str(wiring.layout.dagster_home))
    database = config["storage"]["postgres"]["postgres_db"]
    assert database["password"] == {"env": PASSWORD_ENV} and database["hostname"] == "127.0.0.1"
    assert database["scheme"] == "postgresql+psycopg2"  # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3
    assert "s3cret" not in (wiring.layout.dagster_home / "dagster.yaml").read_text()
    assert config["run_monitoring"]["enabled"] and config["run_retries"] == {"enabled": True, "max_retries": 1}


def test_runs_are_queued_one_per_partition_and_launched_in_a_1gib_container_on_the_hosts_network(wiring):
    config = instance.dagster_yaml(wiring)
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert coordinator["config"]["tag_concurrency_limits"] == [
        {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    kwargs = launcher["config"]["container_kwargs"]
    assert kwargs["mem_limit"] == "1g" and kwargs["network_mode"] == "host"
    assert kwargs["labels"] == {LABEL: wiring.layout.platform_id}
    env = launcher["config"]["env_vars"]
    assert PASSWORD_ENV in env  # passed on from the daemon's environment, no value here
    assert f"CONTAINER_HOST=unix://{ENGINE_SOCKET}" in env and "BEER_PLATFORM_ENV=local" in env
    assert "BEER_PLATFORM_EXECUTOR=in_process" in env  # one process in the 1 GiB: the steps in the run worker
    mounts = kwargs["volumes"]
    assert f"{wiring.stack_dir}:{wiring.stack_dir}:ro" in mounts  # the stack's endpoints, read-only
    assert f"{wiring.bentoml_home}:{wiring.bentoml_home}" in mounts  # the model store `make serve` reads
    assert f"{wiring.layout.socket}:{ENGINE_SOCKET}" in mounts


def test_the_workspace_loads_the_code_location_over_grpc_only(wiring):
    instance.write(wiring)
    workspace = yaml.safe_load((wiring.layout.dagster_home / "workspace.yaml").read_text())
    assert workspace == {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": 14000,
                                                        "location_name": "beer_platform"}}]}  # fmt: skip


def test_a_platform_names_its_containers_after_its_state_dir(tmp_path):
    one, other = Layout(tmp_path / "a"), Layout(tmp_path / "b")
    assert one.container("daemon") == Layout(tmp_path / "a").container("daemon")
    assert one.container("daemon") != other.container("daemon")


def test_a_base_with_extra_packages_is_another_image_and_the_lambda_base_keeps_its_tag():
    assert mmdebstrap_command() == MMDEBSTRAP
    assert "--include=python3.11,ca-certificates,podman" in mmdebstrap_command(("podman",))
    assert local_base_tag(("podman",)) != local_base_tag()
    assert local_base_tag(("podman",)).startswith("localhost/beer-platform-base:bookworm-podman-")


def test_podmans_remote_client_is_not_given_a_runtime():
    assert Engine("podman", "/usr/bin/podman").command("info")[:3] == ["/usr/bin/podman", "--runtime", "runc"]
    assert Engine("podman", "/usr/bin/podman", remote=True).command("info") == ["/usr/bin/podman", "info"]
