"""The `aws` Dagster instance (infra/dagster/) resolves with the pinned dagster, dagster-aws and
dagster-postgres, given the environment infra/modules/dagster sets on its tasks."""

from __future__ import annotations

import pytest
import sqlalchemy
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.load import location_origins_from_yaml_paths
from dagster._serdes.config_class import class_from_code_pointer
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_postgres.utils import pg_url_from_config

from beer_platform.names import DAGSTER_INSTANCE_ENV
from beer_platform_tests import aws_instance

ACCOUNT = "arn:aws:iam::123456789012"
# What an apply of infra/ gives the tasks (values of this shape; the moto test reads real ones).
TASK_ENV = {
    "DAGSTER_PG_HOST": "beer-platform-dagster.abc.eu-west-1.rds.amazonaws.com",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "from-secrets-manager",
    "DAGSTER_PG_PASSWORD_FROM": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf:password::",
    "DAGSTER_COMPUTE_LOGS_BUCKET": "beer-platform-artifacts",
    "DAGSTER_RUN_TASK_ROLE_ARN": f"{ACCOUNT}:role/beer-platform-orchestration",
    "DAGSTER_RUN_EXECUTION_ROLE_ARN": f"{ACCOUNT}:role/beer-platform-dagster-execution",
    "DAGSTER_RUN_LOG_GROUP": "/beer-platform-dagster/tasks",
    "DAGSTER_RUN_TASK_FAMILY_PREFIX": "dagster-run",
    "DAGSTER_CODE_SERVER_HOST": "code.beer-platform-dagster.internal",
    "DAGSTER_CODE_SERVER_PORT": "4000",
    "DAGSTER_CODE_LOCATION_NAME": "beer_platform",
}


@pytest.fixture
def task_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    assert set(TASK_ENV) == set(DAGSTER_INSTANCE_ENV) | {aws_instance.PASSWORD_ENV}
    for name, value in TASK_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return TASK_ENV


def _resolved(class_data) -> dict:
    """The config of a ConfigurableClassData, validated against its class and resolved."""
    klass = class_from_code_pointer(class_data.module_name, class_data.class_name)
    result = process_config(klass.config_type(), yaml.safe_load(class_data.config_yaml))
    assert result.success, result.errors
    return result.value


def test_the_instance_config_validates_and_its_storage_uses_psycopg2(task_env: dict[str, str]) -> None:
    config, _ = dagster_instance_config(str(aws_instance.INSTANCE_DIR))
    assert {"run_monitoring", "run_retries", "run_coordinator", "run_launcher"} <= set(config)
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["max_retries"] == 1

    ref = InstanceRef.from_dir(str(aws_instance.INSTANCE_DIR))
    for storage in (ref.run_storage_data, ref.event_storage_data, ref.schedule_storage_data):
        assert storage.module_name.startswith("dagster_postgres")
        db = _resolved(storage)["postgres_db"]
        assert (db["hostname"], db["port"], db["password"]) == (task_env["DAGSTER_PG_HOST"], 5432, "from-secrets-manager")
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which is not installed.
        engine = sqlalchemy.create_engine(pg_url_from_config({"postgres_db": db}))
        assert engine.dialect.driver == "psycopg2"
        assert db["params"] == {"sslmode": "require"}


def test_the_run_launcher_coordinator_and_log_manager_load(task_env: dict[str, str]) -> None:
    ref = InstanceRef.from_dir(str(aws_instance.INSTANCE_DIR))

    launcher = ref.run_launcher_data.rehydrate(as_type=EcsRunLauncher)
    assert launcher.use_current_ecs_task_config  # the daemon's cluster and network
    assert launcher.task_role_arn == task_env["DAGSTER_RUN_TASK_ROLE_ARN"]
    assert launcher.execution_role_arn == task_env["DAGSTER_RUN_EXECUTION_ROLE_ARN"]
    assert launcher.task_definition_dict["log_group"] == task_env["DAGSTER_RUN_LOG_GROUP"]
    assert launcher.secrets == [{"name": "DAGSTER_PG_PASSWORD", "valueFrom": task_env["DAGSTER_PG_PASSWORD_FROM"]}]
    assert launcher.secrets_tags == []  # no ListSecrets: the one secret only
    assert "DAGSTER_PG_PASSWORD" not in launcher.env_vars  # a plain value would land in the task definition

    coordinator = ref.run_coordinator_data.rehydrate(as_type=QueuedRunCoordinator)
    assert coordinator.get_run_queue_config().max_concurrent_runs == 4
    logs = ref.compute_logs_data.rehydrate(as_type=S3ComputeLogManager)
    assert logs._s3_bucket == task_env["DAGSTER_COMPUTE_LOGS_BUCKET"]  # noqa: SLF001


def test_the_workspace_points_at_the_code_server(task_env: dict[str, str]) -> None:
    (origin,) = location_origins_from_yaml_paths([str(aws_instance.WORKSPACE_YAML)])
    assert (origin.host, origin.port, origin.location_name) == ("code.beer-platform-dagster.internal", 4000,
                                                                "beer_platform")  # fmt: skip



def test_a_runs_command_fits_ecs_overrides_and_carries_no_password(task_env: dict[str, str]) -> None:
    """The launcher hands each run its instance in the task's command override: ECS refuses
    overrides over 8192 characters, and anyone allowed DescribeTasks reads them."""
    import json
    import sys

    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
    from dagster._grpc.types import ExecuteRunArgs

    repository = RepositoryPythonOrigin(executable_path=sys.executable, container_image="x" * 120,
                                        code_pointer=ModuleCodePointer("beer_platform.definitions", "defs", None))  # fmt: skip
    origin = JobPythonOrigin("cleaning_job", repository)
    ref = InstanceRef.from_dir(str(aws_instance.INSTANCE_DIR))
    command = ExecuteRunArgs(job_origin=origin, run_id="0" * 36, instance_ref=ref).get_command_args()
    overrides = json.dumps({"containerOverrides": [{"name": "run", "command": command}]})
    assert len(overrides) < 8192, len(overrides)
    assert task_env["DAGSTER_PG_PASSWORD"] not in overrides and "DAGSTER_PG_PASSWORD" in overrides
