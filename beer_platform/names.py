"""The names of every cloud resource the platform uses: the one source of truth.

`infra/` declares the same names as Terraform defaults (a test parses the HCL and fails when the
two drift), the local stack provisions exactly these, and in the `aws` environment the values
come from `terraform output -json` so a user goes from `terraform apply` to a run with no
hand-copying.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class ResourceNames:
    raw_bucket: str = "beer-platform-raw"
    cleaned_bucket: str = "beer-platform-cleaned"
    artifacts_bucket: str = "beer-platform-artifacts"
    stream: str = "beer-platform-events"
    stream_shards: int = 2
    glue_database: str = "beer_platform"  # its tables are named by their declarations (lake/tables.py)
    athena_workgroup: str = "beer-platform"
    ecr_repository: str = "beer-platform-ibu-model"
    lambda_function: str = "beer-platform-ibu-model"
    lambda_alias: str = "live"
    lambda_role: str = "beer-platform-ibu-model-execution"
    region: str = "eu-west-1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_terraform_outputs(self, outputs: dict[str, Any]) -> ResourceNames:
        """Override names from `terraform output -json` (values are `{"value": ...}` objects)."""
        known = {f.name for f in fields(self)}
        found = {}
        for key, item in outputs.items():
            if key in known:
                found[key] = item["value"] if isinstance(item, dict) and "value" in item else item
        return replace(self, **found)


DEFAULT_NAMES = ResourceNames()


# The environment of the `aws` Dagster instance (infra/dagster/dagster.yaml and workspace.yaml):
# infra/modules/dagster sets each variable on the ECS tasks, and the root output named here holds
# the same value, so the instance takes every value from `terraform apply` (the tests read both
# back). DAGSTER_PG_PASSWORD is not among them: ECS injects it from Secrets Manager at task start,
# from where DAGSTER_PG_PASSWORD_FROM says.
DAGSTER_INSTANCE_ENV: dict[str, str] = {
    "DAGSTER_PG_HOST": "dagster_db_host",
    "DAGSTER_PG_PORT": "dagster_db_port",
    "DAGSTER_PG_DB": "dagster_db_name",
    "DAGSTER_PG_USERNAME": "dagster_db_username",
    "DAGSTER_PG_PASSWORD_FROM": "dagster_db_password_value_from",
    "DAGSTER_COMPUTE_LOGS_BUCKET": "artifacts_bucket",
    "DAGSTER_RUN_TASK_ROLE_ARN": "orchestration_role_arn",
    "DAGSTER_RUN_EXECUTION_ROLE_ARN": "dagster_execution_role_arn",
    "DAGSTER_RUN_LOG_GROUP": "dagster_log_group",
    "DAGSTER_RUN_TASK_FAMILY_PREFIX": "dagster_run_task_family_prefix",
    "DAGSTER_CODE_SERVER_HOST": "dagster_code_server_host",
    "DAGSTER_CODE_SERVER_PORT": "dagster_code_server_port",
    "DAGSTER_CODE_LOCATION_NAME": "dagster_code_location_name",
}
