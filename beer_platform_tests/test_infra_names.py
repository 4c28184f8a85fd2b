"""infra/ (Terraform) agrees with ResourceNames: same variable names and defaults, same outputs.

Checked statically with python-hcl2 (no Terraform binary here); `bash infra/lint.sh` adds checkov.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace

import pytest

from beer_platform.names import DEFAULT_NAMES, ResourceNames
from beer_platform_tests import infra_names as infra

VARIABLES_TF = infra.INFRA_DIR / "variables.tf"
OUTPUTS_TF = infra.INFRA_DIR / "outputs.tf"
MAIN_TF = infra.INFRA_DIR / "main.tf"
MODULES_DIR = infra.INFRA_DIR / "modules"


@pytest.fixture(scope="module")
def variables_doc() -> dict:
    return infra.load(VARIABLES_TF)


@pytest.fixture(scope="module")
def outputs_doc() -> dict:
    return infra.load(OUTPUTS_TF)


def test_every_tf_file_parses() -> None:
    files = infra.tf_files()
    assert len(files) >= 5 + 3 * 5  # root files + main/variables/outputs of each module
    for path in files:
        assert isinstance(infra.load(path), dict), path


def test_no_drift_between_resource_names_and_infra(variables_doc: dict, outputs_doc: dict) -> None:
    assert infra.names_drift(DEFAULT_NAMES, variables_doc, outputs_doc) == []


@pytest.mark.parametrize("field", [f.name for f in fields(ResourceNames)])
def test_field_has_variable_with_same_default_and_output(field: str, variables_doc: dict, outputs_doc: dict) -> None:
    variable = infra.blocks(variables_doc, "variable")[field]
    assert variable["default"] == getattr(DEFAULT_NAMES, field)
    assert variable.get("description"), f"variable {field} needs a description"
    assert variable.get("validation"), f"variable {field} needs a validation block"
    assert field in infra.blocks(outputs_doc, "output")


def test_name_outputs_come_from_the_modules(outputs_doc: dict) -> None:
    """Name outputs report what the modules created, not the input variable echoed back."""
    outputs = infra.blocks(outputs_doc, "output")
    for field in infra.expected_names(DEFAULT_NAMES):
        if field == "region":  # the provider's region: there is no resource attribute for it
            continue
        assert str(outputs[field]["value"]).startswith("${module."), (field, outputs[field]["value"])


def test_arn_and_endpoint_outputs_exist(outputs_doc: dict) -> None:
    outputs = infra.blocks(outputs_doc, "output")
    for name in (
        "stream_arn",
        "raw_bucket_arn",
        "cleaned_bucket_arn",
        "artifacts_bucket_arn",
        "athena_workgroup_arn",
        "ecr_repository_arn",
        "ecr_repository_url",
        "lambda_function_arn",
        "function_url",
        "orchestration_role_arn",
    ):
        assert name in outputs, name


def test_every_variable_has_a_description(variables_doc: dict) -> None:
    missing = [n for n, b in infra.blocks(variables_doc, "variable").items() if not b.get("description")]
    assert missing == []


def test_defaults_pass_their_own_regex_validations(variables_doc: dict) -> None:
    assert infra.regex_validation_failures(variables_doc) == []


# --- the drift check itself must catch drift ----------------------------------------------------


def test_drift_detected_when_a_default_changes(variables_doc: dict, outputs_doc: dict) -> None:
    text = VARIABLES_TF.read_text(encoding="utf-8")
    assert text.count('default     = "beer-platform-events"') == 1
    drifted = infra.loads(text.replace('default     = "beer-platform-events"', 'default     = "beer-events"'))
    problems = infra.names_drift(DEFAULT_NAMES, drifted, outputs_doc)
    assert len(problems) == 1 and "'stream'" in problems[0] and "beer-events" in problems[0]


def test_drift_detected_when_names_py_changes(variables_doc: dict, outputs_doc: dict) -> None:
    moved = replace(DEFAULT_NAMES, stream_shards=4, athena_workgroup="beer-platform-v2")
    problems = infra.names_drift(moved, variables_doc, outputs_doc)
    assert len(problems) == 2
    assert any("stream_shards" in p for p in problems) and any("athena_workgroup" in p for p in problems)


def test_drift_detected_on_type_change(outputs_doc: dict) -> None:
    text = VARIABLES_TF.read_text(encoding="utf-8")
    drifted = infra.loads(text.replace("default     = 2\n", 'default     = "2"\n', 1))
    problems = infra.names_drift(DEFAULT_NAMES, drifted, outputs_doc)
    assert problems and "stream_shards" in problems[0]


def test_drift_detected_when_variable_or_output_missing(variables_doc: dict, outputs_doc: dict) -> None:
    text = OUTPUTS_TF.read_text(encoding="utf-8")
    without_output = infra.loads(re.sub(r'output "lambda_alias" \{.*?\n\}\n', "", text, flags=re.S))
    assert infra.names_drift(DEFAULT_NAMES, variables_doc, without_output) == ["output 'lambda_alias' missing"]

    text = VARIABLES_TF.read_text(encoding="utf-8")
    renamed = infra.loads(text.replace('variable "athena_workgroup"', 'variable "workgroup"'))
    problems = infra.names_drift(DEFAULT_NAMES, renamed, outputs_doc)
    assert len(problems) == 1 and "athena_workgroup" in problems[0] and "missing" in problems[0]


def test_regex_validation_check_catches_an_invalid_default() -> None:
    text = VARIABLES_TF.read_text(encoding="utf-8")
    bad = infra.loads(text.replace('default     = "beer-platform-raw"', 'default     = "Beer_Platform_Raw"'))
    failures = infra.regex_validation_failures(bad)
    assert len(failures) == 1 and failures[0].startswith("raw_bucket:")


# --- structure ----------------------------------------------------------------------------------


def test_every_module_directory_is_used_by_the_root_module() -> None:
    module_dirs = sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir())
    assert module_dirs == ["catalog", "dagster", "ingestion", "lake", "orchestration", "serving"]
    sources = infra.module_sources(infra.load(MAIN_TF))
    used = sorted(s.removeprefix("./modules/") for s in sources.values() if s.startswith("./modules/"))
    assert used == module_dirs
    for source in sources.values():
        assert list((infra.INFRA_DIR / source).glob("*.tf")), f"{source} has no .tf files"


def test_function_url_uses_aws_iam_on_the_alias() -> None:
    urls = {}
    for doc in infra.module_dir_docs(MODULES_DIR / "serving"):
        for (rtype, name), body in infra.labelled_resources(doc).items():
            if rtype == "aws_lambda_function_url":
                urls[name] = body
    assert urls, "no aws_lambda_function_url in modules/serving"
    for body in urls.values():
        assert body["authorization_type"] == "AWS_IAM"
        assert body["qualifier"] == "${aws_lambda_alias.live.name}"


def test_lambda_is_a_container_image_with_tracing() -> None:
    functions = [
        body
        for doc in infra.module_dir_docs(MODULES_DIR / "serving")
        for (rtype, _), body in infra.labelled_resources(doc).items()
        if rtype == "aws_lambda_function"
    ]
    assert len(functions) == 1
    (fn,) = functions
    assert fn["package_type"] == "Image"
    assert fn["tracing_config"][0]["mode"] == "Active"
    assert "reserved_concurrent_executions" in fn


def test_catalog_declares_the_database_but_not_the_table() -> None:
    types = {
        rtype
        for doc in infra.module_dir_docs(MODULES_DIR / "catalog")
        for (rtype, _) in infra.labelled_resources(doc)
    }
    assert "aws_glue_catalog_database" in types
    assert "aws_glue_catalog_table" not in types  # the platform creates it at run time


def test_tfvars_example_sets_only_declared_variables(variables_doc: dict) -> None:
    example = infra.load(infra.INFRA_DIR / "terraform.tfvars.example")
    declared = set(infra.blocks(variables_doc, "variable"))
    keys = {k for k in example if not k.startswith("__")}
    assert keys <= declared, keys - declared
    required = {n for n, b in infra.blocks(variables_doc, "variable").items() if "default" not in b}
    assert required <= keys, required - keys
    for field, value in infra.expected_names(DEFAULT_NAMES).items():
        assert example.get(field, value) == value, field


# What the platform's code calls in AWS (boto3 operation -> IAM action), by the module that calls it.
PLATFORM_ACTIONS = {
    "kinesis": ["PutRecords", "ListShards", "GetShardIterator", "GetRecords", "DescribeStreamSummary"],
    "s3": ["GetObject", "PutObject", "ListBucket", "DeleteObject"],
    "glue": ["GetTable", "CreateTable", "UpdateTable", "GetPartitions", "BatchCreatePartition"],
    "athena": ["StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution"],
    "lambda": ["GetFunction", "UpdateFunctionCode", "PublishVersion", "ListVersionsByFunction", "GetAlias",
               "UpdateAlias", "GetFunctionUrlConfig", "InvokeFunction"],
    "ecr": ["DescribeRepositories", "GetAuthorizationToken", "PutImage", "DescribeImages"],
}  # fmt: skip


def test_the_orchestration_role_allows_every_call_the_platform_makes():
    from beer_platform_tests.infra_names import INFRA_DIR, load

    doc = load(INFRA_DIR / "modules" / "orchestration" / "main.tf")
    documents = [block["aws_iam_policy_document"] for block in doc["data"] if "aws_iam_policy_document" in block]
    policy = next(document["platform"] for document in documents if "platform" in document)
    allowed = {action for statement in policy["statement"] for action in statement["actions"]}
    missing = [f"{service}:{op}" for service, ops in PLATFORM_ACTIONS.items() for op in ops
               if f"{service}:{op}" not in allowed]  # fmt: skip
    assert not missing, f"the orchestration role lacks {missing}"


def test_the_streams_retention_outlasts_two_intervals_of_the_ingestion_schedule(variables_doc: dict) -> None:
    """A landing that fails one day is caught up the next before its records expire (see automation)."""
    from datetime import UTC, datetime

    from dagster._utils.schedules import cron_string_iterator

    from beer_platform.automation import daily_ingestion

    ticks = cron_string_iterator(datetime(2026, 12, 1, tzinfo=UTC).timestamp(), daily_ingestion.cron_schedule,
                                 daily_ingestion.execution_timezone)  # fmt: skip
    interval_hours = (next(ticks) - next(ticks)).total_seconds() / -3600
    for doc in (variables_doc, infra.load(MODULES_DIR / "ingestion" / "variables.tf")):
        variables = infra.blocks(doc, "variable")
        retention = variables.get("stream_retention_hours", variables.get("retention_hours"))["default"]
        assert retention >= 2 * interval_hours


def test_the_stream_mode_is_a_variable_provisioned_or_on_demand(variables_doc: dict) -> None:
    mode = infra.blocks(variables_doc, "variable")["stream_mode"]
    assert mode["default"] == "PROVISIONED" and "ON_DEMAND" in str(mode["validation"])
    streams = [body for doc in infra.module_dir_docs(MODULES_DIR / "ingestion")
               for (rtype, _), body in infra.labelled_resources(doc).items() if rtype == "aws_kinesis_stream"]  # fmt: skip
    assert len(streams) == 2  # the catalogue's and the prediction log's
    for stream in streams:
        assert stream["stream_mode_details"][0]["stream_mode"] == "${var.stream_mode}"
        assert "var.stream_mode" in str(stream["shard_count"])  # no shard count ON_DEMAND


# --- the `aws` Dagster instance (infra/dagster/) and modules/dagster -----------------------------


def _locals(doc: dict) -> dict:
    return {name: value for block in doc.get("locals", []) for name, value in block.items() if not name.startswith("__")}


def test_every_variable_the_aws_instance_reads_is_set_by_the_dagster_module(outputs_doc: dict) -> None:
    from beer_platform.names import DAGSTER_INSTANCE_ENV
    from beer_platform_tests import aws_instance

    read = {name for path in (aws_instance.DAGSTER_YAML, aws_instance.WORKSPACE_YAML)
            for name in aws_instance.env_references(aws_instance.load(path))}  # fmt: skip
    assert read == set(DAGSTER_INSTANCE_ENV) | {aws_instance.PASSWORD_ENV}
    module_env = _locals(infra.load(MODULES_DIR / "dagster" / "main.tf"))["instance_env"]
    assert set(module_env) == set(DAGSTER_INSTANCE_ENV)
    # Each output is the very value set on the tasks: the module's, or the same input the module got.
    outputs = infra.blocks(outputs_doc, "output")
    wiring = infra.blocks(infra.load(MAIN_TF), "module")["dagster"]
    for name, output in DAGSTER_INSTANCE_ENV.items():
        value = outputs[output]["value"]
        if value != f'${{try(module.dagster[0].instance_environment["{name}"], null)}}':
            assert module_env[name].startswith("${var."), (name, module_env[name])
            assert wiring[module_env[name].removeprefix("${var.").removesuffix("}")] == value, (name, value)


def test_the_run_launcher_copies_what_a_run_needs_and_never_the_password() -> None:
    """A run resolves dagster.yaml in its own task (from the daemon's environment, which the launcher
    copies), and runs the platform with its settings; the password comes as a secret only."""
    from beer_platform.settings import NAMES_ENV
    from beer_platform_tests import aws_instance

    instance = aws_instance.load(aws_instance.DAGSTER_YAML)
    platform_env = infra.blocks(infra.load(MAIN_TF), "module")["dagster"]["platform_environment"]
    assert NAMES_ENV in platform_env and platform_env[NAMES_ENV] == "${jsonencode(local.resource_names)}"
    needed = set(aws_instance.env_references(instance)) - {aws_instance.PASSWORD_ENV} | set(platform_env)
    assert set(instance["run_launcher"]["config"]["env_vars"]) == needed


def test_the_names_the_tasks_get_are_resource_names(variables_doc: dict) -> None:
    names = _locals(infra.load(MAIN_TF))["resource_names"]
    assert names == {field: f"${{var.{field}}}" for field in infra.expected_names(DEFAULT_NAMES)}


def test_the_lambda_log_subscription_delivers_exactly_the_prediction_lines() -> None:
    """The filter pattern matches the key the Lambda prints its prediction records under."""
    from beer_platform.stream.records import PREDICTION_LOG_KEY

    serving = infra.load(MODULES_DIR / "serving" / "main.tf")
    (subscription,) = [r["aws_cloudwatch_log_subscription_filter"]["predictions"] for r in serving["resource"]
                       if "aws_cloudwatch_log_subscription_filter" in r]  # fmt: skip
    assert subscription["filter_pattern"] in (f'"{PREDICTION_LOG_KEY}"', f'\\"{PREDICTION_LOG_KEY}\\"')
    assert subscription["destination_arn"] == "${var.predictions_stream_arn}"
