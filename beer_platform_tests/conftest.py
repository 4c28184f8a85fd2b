"""Shared fixtures. The local stack is started once per session, for real, by the project's CLI."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.local import stack
from beer_platform.local.terraform import INFRA_DIR, LOCAL_TFVARS
from beer_platform.names import DEFAULT_NAMES, ResourceNames
from beer_platform.settings import Settings, load_settings
from beer_platform_tests.terraform_moto import BackgroundApply
from beer_platform_tests.own_resources import create_own_resources
from beer_platform_tests.terraform_harness import FreshEndpointRun

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    # Tests never touch the checkout's model store; BentoML fixes its home on first use.
    if "BENTOML_HOME" not in os.environ or Path(os.environ["BENTOML_HOME"]) == ROOT / ".bentoml":
        os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="bentoml-tests-")


_dagster_apply: BackgroundApply | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    """infra/'s dagster module against moto waits ~100 s in fixed provider waiters: when a selected
    test needs it, start it now and let the tests before that one run meanwhile."""
    global _dagster_apply
    if _dagster_apply is None and any("dagster_on_moto" in item.fixturenames for item in session.items):
        _dagster_apply = BackgroundApply()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _dagster_apply is not None:
        _dagster_apply.stop()


@pytest.fixture(scope="session")
def dagster_on_moto() -> tuple[str, dict]:
    """(moto's URL, `terraform output` values) of the dagster module applied to a moto server of its
    own, which is thrown away at the end of the session."""
    assert _dagster_apply is not None, "started by pytest_collection_finish"
    return _dagster_apply.result()
@pytest.fixture(scope="session", autouse=True)
def background_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Slow Terraform runs that tests only check at the end, started when the session starts (if a
    selected test asks for one) so that their provider waiters overlap the other tests: the
    whole of infra/ applied to a fresh endpoint of its own, planned and destroyed."""
    runs = {}
    if any("fresh_endpoint_run" in getattr(item, "fixturenames", ()) for item in request.session.items):
        runs["infra"] = FreshEndpointRun(
            INFRA_DIR, (LOCAL_TFVARS, ROOT / "beer_platform_tests" / "fresh_endpoint.tfvars"),
            tmp_path_factory.mktemp("fresh-endpoint"),
            # A root that attaches AWS managed policies (ECS task execution, RDS monitoring) needs them loaded.
            moto_environment={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        ).start()  # fmt: skip
    return runs


@pytest.fixture(scope="session")
def fresh_endpoint_run(background_runs: dict) -> FreshEndpointRun:
    return background_runs["infra"]


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def local_stack(stack_dir: Path) -> Iterator[dict]:
    """`beer-platform stack up --detach` on free ports, in a throwaway state dir, as soon as its
    endpoints answer: Terraform goes on creating infra/'s resources in the background (the
    `settings` fixture waits for them; tests with resources of their own need not)."""
    state = stack.start_detached(stack_dir, aws_port=stack.free_port(), punkapi_port=stack.free_port(),
                                 until="endpoints")  # fmt: skip
    try:
        yield state
    finally:
        stack.stop_detached(stack_dir)
        shutil.rmtree(stack_dir / "registry", ignore_errors=True)  # the pushed images: ~700 MB


def _settings(stack_dir: Path) -> Settings:
    return load_settings({"BEER_PLATFORM_ENV": "local", "BEER_PLATFORM_STACK_DIR": str(stack_dir)})


@pytest.fixture(scope="session")
def settings(local_stack: dict, stack_dir: Path) -> Settings:
    """The local stack's settings, once the platform's resources (under its own names) exist."""
    stack.wait_until(stack_dir, "ready")
    return _settings(stack_dir)


@pytest.fixture(scope="session")
def endpoint_settings(local_stack: dict, stack_dir: Path) -> Settings:
    """The local stack's endpoints, whatever Terraform has created yet."""
    return _settings(stack_dir)


@pytest.fixture
def own_settings(endpoint_settings: Settings) -> Settings:
    """The local stack's settings with resources of this test's own (buckets, stream, database,
    role; the repository and function its deployment creates), made in the shared moto server:
    what other tests wrote is not seen, and what this test writes is seen by no other test,
    whatever the order they run in."""
    uid = uuid.uuid4().hex[:8]
    names = dataclasses.replace(
        DEFAULT_NAMES,
        raw_bucket=f"t{uid}-raw", cleaned_bucket=f"t{uid}-cleaned", artifacts_bucket=f"t{uid}-artifacts",
        stream=f"t{uid}-events", predictions_stream=f"t{uid}-predictions", glue_database=f"t{uid}", athena_workgroup=f"t{uid}",
        ecr_repository=f"t{uid}-ibu-model", lambda_function=f"t{uid}-ibu-model", lambda_role=f"t{uid}-ibu-model",
    )  # fmt: skip
    create_own_resources(AwsClients.from_settings(endpoint_settings), names)
    return dataclasses.replace(endpoint_settings, names=names)


@pytest.fixture
def own_names(own_settings: Settings) -> ResourceNames:
    return own_settings.names


@pytest.fixture
def own_clients(own_settings: Settings) -> AwsClients:
    return AwsClients.from_settings(own_settings)


def _default_sigterm() -> None:  # pragma: no cover - runs in the child between fork and exec
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    # Dagster run in this process copies SIGINT's handler onto SIGTERM: under a shell that started
    # the tests with SIGINT ignored (a background job), SIGTERM ends up ignored too, the CLI inherits
    # that, and the `tail`s Dagster starts there for its logs outlive it, holding our pipes open.
    return subprocess.run(
        [sys.executable, "-m", "beer_platform.cli", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
        preexec_fn=_default_sigterm,
    )  # fmt: skip
