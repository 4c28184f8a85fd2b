"""infra/'s dagster module applied against a moto server of its own, and the EcsRunLauncher of
infra/dagster/dagster.yaml launching a run of the real code location's job there: the RunTask
call, the task definition it registers, the overrides, the tags and the network are read back from
the endpoint with boto3.

moto registers and records ECS tasks but runs no container: a run task stays RUNNING until it is
stopped, and no Dagster code executes in it. What stands in for the two parts of ECS that moto
lacks is named where it is done: a task of the daemon's service (ECS's scheduler would start it)
and the task metadata endpoint (ECS's agent would serve it).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from dagster import DagsterInstance
from dagster._core.launcher import WorkerStatus
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import deserialize_value

from beer_platform.names import DAGSTER_INSTANCE_ENV
from beer_platform_tests import aws_instance
from beer_platform_tests.terraform_moto import REQUIRED_VARS

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
PARTITION = "2026-12-01"


@dataclass
class Launched:
    outputs: dict[str, Any]
    ecs: Any
    iam: Any
    instance: DagsterInstance
    run: DagsterRun
    daemon_task: dict
    calls: list[tuple[str, dict]]  # (IAM action, request parameters) of every AWS call Dagster made

    def task_definition(self, role: str) -> dict:
        family = self.outputs["dagster_task_definition_families"][role]
        return self.ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]

    def run_task(self) -> dict:
        (task,) = self.ecs.describe_tasks(cluster=self.outputs["dagster_cluster"], tasks=[self.run.tags["ecs/task_arn"]],
                                          include=["TAGS"])["tasks"]  # fmt: skip
        return task


def environment(task_definition: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in task_definition["containerDefinitions"][0]["environment"]}


class _TaskMetadata(BaseHTTPRequestHandler):
    """ECS's task metadata endpoint v4, as the agent serves it to the daemon's container."""

    task: dict = {}

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/task"):
            body = {"Cluster": self.task["clusterArn"], "TaskARN": self.task["taskArn"]}
        else:
            body = {"Name": self.task["containers"][0]["name"]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _start_the_daemons_task(ecs: Any, outputs: dict) -> dict:
    """What ECS's service scheduler does for the daemon service (moto's services start no task)."""
    # A task stays RUNNING until it is stopped (moto's default moves it on each time it is described).
    httpx.post(f"{ecs.meta.endpoint_url}/moto-api/state-manager/set-transition", json={
        "model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}}).raise_for_status()  # fmt: skip
    cluster = outputs["dagster_cluster"]
    (service,) = ecs.describe_services(cluster=cluster, services=[outputs["dagster_services"]["daemon"]])["services"]
    (task,) = ecs.run_task(cluster=cluster, taskDefinition=service["taskDefinition"], launchType=service["launchType"],
                           networkConfiguration=service["networkConfiguration"],
                           startedBy=f"ecs-svc/{service['serviceName']}")["tasks"]  # fmt: skip
    return task


def _record_calls(calls: list) -> Any:
    def record(model: Any, params: dict, **_: Any) -> None:
        calls.append((f"{model.service_model.signing_name}:{model.name}", params))

    boto3.setup_default_session()  # the launcher's clients come from boto3's default session
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    return record


@pytest.fixture(scope="module")
def launched(dagster_on_moto: tuple[str, dict], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    url, outputs = dagster_on_moto
    clients = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    ecs, iam = boto3.client("ecs", **clients), boto3.client("iam", **clients)
    daemon_task = _start_the_daemons_task(ecs, outputs)
    _TaskMetadata.task = daemon_task
    metadata = ThreadingHTTPServer(("127.0.0.1", 0), _TaskMetadata)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    daemon_env = environment(ecs.describe_task_definition(taskDefinition=daemon_task["taskDefinitionArn"])["taskDefinition"])
    code = ecs.describe_task_definition(taskDefinition=outputs["dagster_task_definition_families"]["code"])["taskDefinition"]
    calls: list[tuple[str, dict]] = []
    with pytest.MonkeyPatch.context() as env:
        # The daemon's container: its task definition's environment, its AWS endpoint and metadata.
        for name, value in {**daemon_env, "DAGSTER_HOME": str(tmp_path_factory.mktemp("unused-home")), "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": REGION,
                            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                            "ECS_CONTAINER_METADATA_URI_V4": f"http://127.0.0.1:{metadata.server_port}/v4/daemon"}.items():  # fmt: skip
            env.setenv(name, value)
        recorder = _record_calls(calls)
        # The daemon's own instance: the dagster.yaml its task definition hands it.
        home = tmp_path_factory.mktemp("dagster-home")
        instance = aws_instance.instance_with_the_run_launcher_of(daemon_env["DAGSTER_INSTANCE_YAML"], home)
        try:
            run = _launch(instance, code)
            yield Launched(outputs, ecs, iam, instance, run, daemon_task, calls)
        finally:
            boto3.DEFAULT_SESSION.events.unregister("before-parameter-build", recorder)
            instance.dispose()
            metadata.shutdown()


def _launch(instance: DagsterInstance, code_server: dict) -> DagsterRun:
    """What the daemon does with a run of the code location's cleaning_job. The job's origin is what
    the code server of `code_server` (a task definition) announces: its DAGSTER_CURRENT_IMAGE, and
    its own python as the runs' entry point (--use-python-environment-entry-point)."""
    (container,) = code_server["containerDefinitions"]
    assert "--use-python-environment-entry-point" in container["command"]
    target = LoadableTargetOrigin(module_name="beer_platform.definitions")
    origin = InProcessCodeLocationOrigin(target, container_image=environment(code_server)["DAGSTER_CURRENT_IMAGE"],
                                         entry_point=[container["command"][0], "-m", "dagster"],
                                         location_name="beer_platform")  # fmt: skip
    location = origin.create_location(instance)
    remote_job = location.get_repository("__repository__").get_full_job("cleaning_job")
    from beer_platform.definitions import defs

    run = instance.create_run_for_job(defs.resolve_job_def("cleaning_job"), remote_job_origin=remote_job.get_remote_origin(),
                                      job_code_origin=remote_job.get_python_origin(),
                                      tags={"dagster/partition": PARTITION})  # fmt: skip
    instance.launch_run(run.run_id, workspace=None)
    return instance.get_run_by_id(run.run_id)


# --- the tests ------------------------------------------------------------------------------------


def test_the_tasks_carry_terraforms_outputs_as_the_instance_environment(launched: Launched) -> None:
    for role in ("webserver", "daemon", "code"):
        env = environment(launched.task_definition(role))
        assert {name: env[name] for name in DAGSTER_INSTANCE_ENV} == {
            name: str(launched.outputs[output]) for name, output in DAGSTER_INSTANCE_ENV.items()}, role  # fmt: skip
        (secret,) = launched.task_definition(role)["containerDefinitions"][0]["secrets"]
        assert secret == {"name": "DAGSTER_PG_PASSWORD", "valueFrom": launched.outputs["dagster_db_password_value_from"]}
        if role != "code":  # the services get infra/dagster/ as it is in the repository
            assert env["DAGSTER_INSTANCE_YAML"] == aws_instance.DAGSTER_YAML.read_text(encoding="utf-8")
            assert env["DAGSTER_WORKSPACE_YAML"] == aws_instance.WORKSPACE_YAML.read_text(encoding="utf-8")


def test_the_services_write_their_instance_files_then_become_dagster(launched: Launched, tmp_path) -> None:
    """The task definitions' own start-up code, run here with this machine's python (the daemon's;
    the webserver's is the same code before another module): it writes dagster.yaml and
    workspace.yaml into DAGSTER_HOME and execs `python -m <module> <args>`."""
    daemon, webserver = (launched.task_definition(role)["containerDefinitions"][0] for role in ("daemon", "webserver"))
    assert daemon["command"][:3] == webserver["command"][:3] and daemon["image"] == webserver["image"]
    assert importlib.util.find_spec(f"{webserver['command'][3]}.__main__") is not None
    _, flag, code, module = daemon["command"][:4]
    env = {**environment(launched.task_definition("daemon")), "DAGSTER_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, flag, code, module, "--help"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "liveness-check" in done.stdout  # dagster._daemon's own help
    assert (tmp_path / "home" / "dagster.yaml").read_text() == env["DAGSTER_INSTANCE_YAML"]
    assert (tmp_path / "home" / "workspace.yaml").read_text() == env["DAGSTER_WORKSPACE_YAML"]


def test_the_run_is_a_task_of_the_code_image_with_the_runs_command_and_tags(launched: Launched) -> None:
    task, run = launched.run_task(), launched.run
    assert task["clusterArn"] == run.tags["ecs/cluster"] == launched.daemon_task["clusterArn"]
    assert task["launchType"] == "FARGATE" and task["lastStatus"] == "RUNNING"  # recorded; nothing runs
    (override,) = task["overrides"]["containerOverrides"]
    python = launched.task_definition("code")["containerDefinitions"][0]["command"][0]
    assert override["name"] == "run" and override["command"][:5] == [python, "-m", "dagster", "api", "execute_run"]
    assert deserialize_value(override["command"][5], ExecuteRunArgs).run_id == run.run_id
    assert {tag["key"]: tag["value"] for tag in task["tags"]} == {
        "dagster/run_id": run.run_id, "dagster/job_name": "cleaning_job", "dagster/partition": PARTITION}  # fmt: skip
    # The daemon's network: one of its subnets, its security group (the launcher reads its own task).
    ec2 = boto3.client("ec2", endpoint_url=launched.ecs.meta.endpoint_url, region_name=REGION)
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    (eni,) = ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])["NetworkInterfaces"]
    daemon_network = launched.ecs.describe_services(cluster=launched.outputs["dagster_cluster"], services=[
        launched.outputs["dagster_services"]["daemon"]])["services"][0]["networkConfiguration"]["awsvpcConfiguration"]  # fmt: skip
    assert details["subnetId"] in daemon_network["subnets"]
    assert [group["GroupId"] for group in eni["Groups"]] == daemon_network["securityGroups"]


def test_the_run_task_definition_is_the_code_image_as_the_orchestration_role(launched: Launched) -> None:
    outputs = launched.outputs
    definition = launched.ecs.describe_task_definition(taskDefinition=launched.run_task()["taskDefinitionArn"])["taskDefinition"]
    assert definition["family"].startswith(outputs["dagster_run_task_family_prefix"] + "_")
    assert definition["taskRoleArn"] == outputs["orchestration_role_arn"]
    assert definition["executionRoleArn"] == outputs["dagster_execution_role_arn"]
    assert (definition["requiresCompatibilities"], definition["networkMode"]) == (["FARGATE"], "awsvpc")
    assert (definition["cpu"], definition["memory"]) == ("1024", "2048")
    (container,) = definition["containerDefinitions"]
    assert container["image"] == REQUIRED_VARS["dagster_code_image_uri"]
    assert container["logConfiguration"]["options"]["awslogs-group"] == outputs["dagster_log_group"]
    assert container["secrets"] == [{"name": "DAGSTER_PG_PASSWORD", "valueFrom": outputs["dagster_db_password_value_from"]}]
    env = environment(definition)
    names = json.loads(env["BEER_PLATFORM_NAMES"])
    assert env["BEER_PLATFORM_ENV"] == "aws" and names["artifacts_bucket"] == outputs["artifacts_bucket"]
    assert env["DAGSTER_PG_HOST"] == outputs["dagster_db_host"] and "DAGSTER_PG_PASSWORD" not in env


def test_monitoring_and_termination_reach_the_task_and_the_roles_allow_exactly_that(launched: Launched) -> None:
    launcher, run = launched.instance.run_launcher, launched.run
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert launcher.terminate(run.run_id)
    task = launched.run_task()
    assert (task["desiredStatus"], task["lastStatus"]) == ("STOPPED", "STOPPED")

    used = _iam_requests(launched)
    daemon = _role_policy(launched.iam, launched.task_definition("daemon")["taskRoleArn"])
    assert [request for request in used if not _allows(daemon, *request)] == []
    # The last lines of a failed run's log (moto's containers always exit 0, so asked for here).
    definition = launched.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    options = definition["containerDefinitions"][0]["logConfiguration"]["options"]
    stream = f"{options['awslogs-stream-prefix']}/run/{task['taskArn'].rsplit('/', 1)[-1]}"
    log_events = ("logs:GetLogEvents", f"{_log_group_arn(task, options['awslogs-group'])}:log-stream:{stream}", {})
    assert _allows(daemon, *log_events)
    # Exactly: every permission the daemon's role grants was used.
    granted = {action for statement in daemon for action in statement["Action"]}
    assert granted == {action for action, _, _ in [*used, log_events]}
    webserver = _role_policy(launched.iam, launched.task_definition("webserver")["taskRoleArn"])
    terminate = [request for request in used if request[0] in ("ecs:DescribeTasks", "ecs:StopTask")]
    assert terminate and all(_allows(webserver, *request) for request in terminate)


# --- IAM: what Dagster asked of AWS, against what the roles allow ----------------------------------


def _iam_requests(launched: Launched) -> list[tuple[str, str, dict[str, str]]]:
    """(action, resource, condition context) of every call recorded, and of the permissions those
    calls need besides their own action (tagging at launch, passing the task definition's roles)."""
    outputs = launched.outputs
    cluster = launched.daemon_task["clusterArn"]
    requests = []
    for action, params in launched.calls:
        if action in ("ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask"):
            assert params["cluster"] == cluster or params["cluster"].endswith(f"/{outputs['dagster_cluster']}")
        if action == "ecs:RunTask":
            definition = launched.ecs.describe_task_definition(taskDefinition=params["taskDefinition"])["taskDefinition"]
            requests.append((action, definition["taskDefinitionArn"], {"ecs:cluster": cluster}))
            task = launched.run.tags["ecs/task_arn"]
            requests.append(("ecs:TagResource", task, {"ecs:CreateAction": "RunTask"}))
        elif action in ("ecs:DescribeTasks", "ecs:StopTask"):
            for task in params.get("tasks") or [params["task"]]:
                requests.append((action, task, {"ecs:cluster": cluster}))
        elif action == "ecs:RegisterTaskDefinition":
            requests.append((action, "*", {}))
            for role in (params["taskRoleArn"], params["executionRoleArn"]):
                requests.append(("iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}))
        else:  # DescribeTaskDefinition, DescribeNetworkInterfaces: no resource-level scoping
            requests.append((action, "*", {}))
    return requests


def _log_group_arn(task: dict, log_group: str) -> str:
    return task["clusterArn"].split(":cluster/")[0].replace(":ecs:", ":logs:") + f":log-group:{log_group}"


def _role_policy(iam: Any, role_arn: str) -> list[dict]:
    role = role_arn.rsplit("/", 1)[-1]
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            as_lists = {key: [value] if isinstance(value, str) else value for key, value in statement.items()
                        if key in ("Action", "Resource")}  # fmt: skip
            statements.append({**statement, **as_lists})
    assert all(statement["Effect"] == "Allow" for statement in statements)
    return statements


def _allows(statements: list[dict], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether an Allow statement covers the request: action and resource by IAM's wildcards, and
    every condition (the operators the module uses) by the request's context."""

    def condition_holds(operator: str, key: str, values: str | list[str]) -> bool:
        values = [values] if isinstance(values, str) else values
        actual = context.get(key)
        if operator in ("StringEquals", "ArnEquals"):
            return actual in values
        assert operator in ("StringLike", "ArnLike"), operator
        return actual is not None and any(fnmatch.fnmatchcase(actual, value) for value in values)

    return any(
        any(fnmatch.fnmatchcase(action, pattern) for pattern in statement["Action"])
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in statement["Resource"])
        and all(condition_holds(operator, key, values) for operator, conditions in statement.get("Condition", {}).items()
                for key, values in conditions.items())
        for statement in statements
    )  # fmt: skip

