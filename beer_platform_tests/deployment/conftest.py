"""The deployment's fixtures: a container engine (required in CI), models, bentos, contexts, images."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.deployment import engine as engines
from beer_platform.deployment.bento import BuiltBento, build_bento
from beer_platform.deployment.build_context import build_context
from beer_platform.deployment.release import BuiltImage, build_image
from beer_platform.local.stack import free_port, launch_detached, stack_command, stop_detached, wait_until
from beer_platform.names import DEFAULT_NAMES
from beer_platform.settings import cache_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def engine() -> engines.Engine:
    """The container engine the Lambda tests run; `make setup` installs it (tools/container-tools.sh).
    These tests never skip: without an engine they fail, saying what is missing."""
    try:
        return engines.detect()
    except engines.EngineMissing as missing:
        pytest.fail(f"{missing} (make setup installs podman: tools/container-tools.sh)", pytrace=False)


def train_model(force: bool = False) -> str:
    """Train into the session's temporary BENTOML_HOME (see the root conftest); `force`: a new
    model even if one exists."""
    done = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate",
                           *(["--force"] if force else [])],
                          cwd=ROOT, env={**os.environ, "BENTOML_HOME": os.environ["BENTOML_HOME"]},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    return last if last.startswith("ibu_model:") else json.loads(last)["tag"]


@pytest.fixture(scope="session")
def model_tag() -> str:
    return train_model()


@pytest.fixture(scope="session")
def bento(model_tag: str) -> BuiltBento:
    return build_bento(model_tag)


@pytest.fixture(scope="session")
def context_dir(bento: BuiltBento, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_context(bento, tmp_path_factory.mktemp("image") / "context", cache_dir())


@pytest.fixture(scope="session")
def image(engine: engines.Engine, context_dir: Path) -> BuiltImage:
    return build_image(engine, context_dir)


@pytest.fixture(scope="module", autouse=True)
def stack_launch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A local stack of our own (moto, the registry, infra/ applied) on free ports, in a throwaway
    state dir, launched when the module starts (if it has integration tests to run), so that its
    first apply overlaps the image builds of the tests before it."""
    wanted = any(item.module is request.module and item.get_closest_marker("integration")
                 for item in request.session.items)  # fmt: skip
    if not wanted:
        yield None, None
        return
    state_dir = tmp_path_factory.mktemp("deploy-stack")
    proc = launch_detached(state_dir, stack_command(state_dir, free_port(), free_port()))
    try:
        yield state_dir, proc
    finally:
        stop_detached(state_dir)
        shutil.rmtree(state_dir / "registry", ignore_errors=True)  # ~700 MB of pushed layers


@pytest.fixture(scope="module")
def stack_state(stack_launch: tuple) -> dict:
    state_dir, proc = stack_launch
    return wait_until(state_dir, "ready", proc)


@pytest.fixture(scope="module")
def aws(stack_state: dict) -> AwsClients:
    return AwsClients.for_local_endpoint(stack_state["aws_endpoint_url"], DEFAULT_NAMES.region)


def run_in_image(engine: engines.Engine, image: str, code: str) -> subprocess.CompletedProcess:
    """`python3.11 -c code` in a throwaway container of `image`, read-only as in Lambda."""
    return subprocess.run(
        engine.command("run", "--rm", "--read-only", "--network", "none", *engine.run_flags(),
                       "--entrypoint", "/usr/bin/python3.11", image, "-c", code),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
