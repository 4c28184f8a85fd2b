"""Apply infra/ (or part of it) against a moto server of its own: test support.

`MotoServer` runs moto's `ThreadedMotoServer` (as `beer_platform.local.stack` does) in a child
process, so that its state is its own (moto's backends are per process) and it dies with its
lifetime or with the test session. `TerraformRoot` copies infra/ to a scratch directory, adds a
provider override pointing every service at that server (test credentials, no real account), and
runs the machine's Terraform with the offline provider mirror.

`python -m beer_platform_tests.terraform_moto PORT LIFETIME_S` is the child process.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from beer_platform.local.stack import free_port
from beer_platform_tests.infra_names import INFRA_DIR

PLUGIN_DIR = Path(os.environ.get("BEER_PLATFORM_TF_PLUGIN_DIR", "/opt/tf-plugins"))
# Every service infra/ uses. max_retries = 3: a dropped keep-alive connection is tried again; at the
# default 25, one moto 500 is retried for minutes.
SERVICES = ("athena", "cloudwatch", "ec2", "ecr", "ecs", "elbv2", "events", "glue", "iam", "kinesis", "kms",
            "lambda", "logs", "rds", "s3", "secretsmanager", "servicediscovery", "sts")  # fmt: skip
PROVIDER_OVERRIDE = """provider "aws" {{
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  max_retries                 = 3

  endpoints {{
{endpoints}
  }}
}}
"""


class MotoServer:
    """A moto server on 127.0.0.1:<free port> in a child process, stopped by `stop()` or after
    `lifetime_s`, whichever comes first; its log (tracebacks of 500s) goes to `log_path`."""

    def __init__(self, log_path: Path, lifetime_s: float = 1800) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        # Attaching AWS managed policies (e.g. RDS enhanced monitoring's) needs them loaded.
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        with log_path.open("ab") as log:
            self._process = subprocess.Popen([sys.executable, "-m", __name__, str(self.port), str(lifetime_s)],
                                             env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        self._wait_until_up()

    def _wait_until_up(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"moto server on {self.url} did not answer within {timeout_s} s")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class TerraformRoot:
    """infra/ copied to `workdir`, its provider pointed at `endpoint_url`, initialised offline."""

    def __init__(self, workdir: Path, endpoint_url: str, terraform: str = "terraform") -> None:
        if not shutil.which(terraform):
            raise FileNotFoundError(f"{terraform} is not on PATH (the machine image carries Terraform 1.11)")
        if not PLUGIN_DIR.is_dir():
            raise FileNotFoundError(f"no provider mirror at {PLUGIN_DIR} (BEER_PLATFORM_TF_PLUGIN_DIR)")
        self.dir = workdir
        self.terraform = terraform
        shutil.copytree(INFRA_DIR, workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfvars"))
        endpoints = "\n".join(f'    {service} = "{endpoint_url}"' for service in SERVICES)
        (workdir / "moto_override.tf").write_text(PROVIDER_OVERRIDE.format(endpoints=endpoints))
        (workdir / "terraformrc").write_text("")  # silences "Unable to open CLI configuration file"
        self.run("init", "-input=false", f"-plugin-dir={PLUGIN_DIR}")

    def run(self, *args: str, timeout_s: float = 900) -> str:
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(self.dir / "terraformrc"), "TF_IN_AUTOMATION": "1"}
        done = subprocess.run([self.terraform, *args, "-no-color"], cwd=self.dir, env=env, capture_output=True,
                              text=True, timeout=timeout_s)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"terraform {' '.join(args)} failed:\n{done.stderr[-6000:]}\n{done.stdout[-3000:]}")
        return done.stdout

    def apply(self, variables: dict[str, str], targets: tuple[str, ...] = ()) -> str:
        args = [f"-var={name}={value}" for name, value in variables.items()]
        args += [f"-target={target}" for target in targets]
        return self.run("apply", "-input=false", "-auto-approve", "-parallelism=30", *args)

    def outputs(self) -> dict[str, Any]:
        """`terraform output -json`, values only."""
        return {name: item["value"] for name, item in json.loads(self.run("output", "-json")).items()}


# The root variables that have no default, with values of their shape (nothing is pulled here).
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
REQUIRED_VARS = {
    "lambda_image_uri": f"{ECR}/beer-platform-ibu-model:0.1.0",
    "dagster_services_image_uri": f"{ECR}/beer-platform-dagster-services:0.1.0",
    "dagster_code_image_uri": f"{ECR}/beer-platform-dagster-code:0.1.0",
    "punkapi_base_url": "http://127.0.0.1:8081/v2",
}


class BackgroundApply:
    """A moto server of its own with infra/'s dagster module (and what it depends on) applied to it,
    started in a thread: the apply spends ~100 s in the provider's fixed waiters (the database's
    80 s), which other tests can use meanwhile. `result()` waits for it; `stop()` throws it away."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="beer-platform-terraform-moto-"))
        self._result: tuple[str, dict[str, Any]] | None = None
        self._error: BaseException | None = None
        self._moto: MotoServer | None = None
        self._thread = threading.Thread(target=self._apply, name="terraform-apply", daemon=True)
        self._thread.start()

    def _apply(self) -> None:
        try:
            self._moto = MotoServer(self.workdir / "moto.log", lifetime_s=3600)
            root = TerraformRoot(self.workdir / "infra", self._moto.url)
            root.apply(REQUIRED_VARS, targets=("module.dagster",))
            self._result = (self._moto.url, root.outputs())
        except BaseException as err:  # noqa: BLE001 - handed to whoever waits for the result
            self._error = err

    def result(self, timeout_s: float = 900) -> tuple[str, dict[str, Any]]:
        """(moto's URL, `terraform output` values)."""
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError(f"the apply did not finish within {timeout_s} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def stop(self) -> None:
        self._thread.join(900)
        if self._moto is not None:
            self._moto.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _size_fargate_tasks_by_their_task() -> None:
    """moto 5.2.5 adds up the containers' memory to place a task and fails (500) on a Fargate task
    definition that sizes only the task, as ECS allows and as dagster-aws registers runs."""
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition):  # type: ignore[no-untyped-def]
        sized = copy.copy(task_definition)
        sized.container_definitions = [{**container, "memory": container.get("memory") or 0}
                                       for container in task_definition.container_definitions]  # fmt: skip
        return original(sized)

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)


def _serve(port: int, lifetime_s: float) -> None:
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    # No Docker here: Lambda functions must be created without it (see local.stack).
    default_user_config["lambda"]["use_docker"] = False
    _size_fargate_tasks_by_their_task()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        time.sleep(lifetime_s)
    finally:
        server.stop()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]))
