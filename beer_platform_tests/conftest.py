"""Shared fixtures. The local stack is started once per session, for real, by the project's CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from beer_platform.local import stack
from beer_platform.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    # Tests never touch the checkout's model store; BentoML fixes its home on first use.
    if "BENTOML_HOME" not in os.environ or Path(os.environ["BENTOML_HOME"]) == ROOT / ".bentoml":
        os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="bentoml-tests-")


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def local_stack(stack_dir: Path) -> Iterator[dict]:
    """`beer-platform stack up --detach` on free ports, in a throwaway state dir."""
    state = stack.start_detached(stack_dir, aws_port=stack.free_port(), punkapi_port=stack.free_port())
    try:
        yield state
    finally:
        stack.stop_detached(stack_dir)
        shutil.rmtree(stack_dir / "registry", ignore_errors=True)  # the pushed images: ~700 MB


@pytest.fixture(scope="session")
def settings(local_stack: dict, stack_dir: Path) -> Settings:
    return load_settings({"BEER_PLATFORM_ENV": "local", "BEER_PLATFORM_STACK_DIR": str(stack_dir)})


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "beer_platform.cli", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
