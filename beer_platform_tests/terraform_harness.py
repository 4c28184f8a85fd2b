"""A Terraform root applied to a fresh moto server of its own, its plan checked, then destroyed:
for what `make run` does not apply on its stack (the whole root with every module, the Dagster
deployment's among them) and for a first apply on an empty endpoint.

The endpoint is `python -m beer_platform.local.endpoint` (moto as the stack runs it, patches
included) in a child process with a bounded lifetime; the root runs in a `local.terraform.Workspace`
exactly as the stack's does. The whole sequence runs on a thread (`FreshEndpointRun.start`), so
that its provider waiters (minutes, for RDS and a load balancer) overlap the rest of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from beer_platform.local.endpoint import healthy
from beer_platform.local.stack import free_port
from beer_platform.local.terraform import PARALLELISM, Workspace


class Endpoint:
    """moto on 127.0.0.1:<free port> in a child process, until `stop()` or `lifetime_s`."""

    def __init__(self, log_path: Path, environment: dict[str, str], lifetime_s: float = 1800) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "beer_platform.local.endpoint", "--port", str(self.port),
                 "--lifetime", str(lifetime_s)],
                env=os.environ | environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not healthy(self.url):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto did not start on {self.url}: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@dataclass
class Outcome:
    applied: int = 0  # resources in the state after the apply
    plan_exit: int | None = None  # `plan -detailed-exitcode`: 0 = no changes
    plan: str = ""
    destroyed: int | None = None  # resources the destroy removed
    left: int | None = None  # resources still in the state after the destroy
    seconds: dict[str, float] = field(default_factory=dict)
    error: str = ""


class FreshEndpointRun:
    """init, apply, plan, destroy of `root` (with `var_files`) against an endpoint of its own."""

    def __init__(self, root: Path, var_files: tuple[Path, ...], work_dir: Path,
                 moto_environment: dict[str, str] | None = None) -> None:  # fmt: skip
        self.workspace = Workspace(work_dir / "terraform", source=root, var_files=var_files)
        self.work_dir, self.moto_environment = work_dir, moto_environment or {}
        self.outcome = Outcome()
        self._thread = threading.Thread(target=self._run, name=f"terraform {root.name}", daemon=True)

    def start(self) -> FreshEndpointRun:
        self._thread.start()
        return self

    def result(self, timeout: float) -> Outcome:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"{self._thread.name} still running after {timeout:.0f}s; see {self.work_dir}")
        return self.outcome

    def _timed(self, step: str, action):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return action()
        finally:
            self.outcome.seconds[step] = round(time.monotonic() - started, 1)

    def _run(self) -> None:
        outcome, workspace = self.outcome, self.workspace
        try:
            endpoint = Endpoint(self.work_dir / "moto.log", self.moto_environment)
        except RuntimeError as err:
            outcome.error = str(err)
            return
        try:
            self._timed("init", lambda: workspace.init(endpoint.url))
            self._timed("apply", lambda: workspace.run(endpoint.url, "apply", "-auto-approve", "-input=false",
                                                       PARALLELISM))  # fmt: skip
            outcome.applied = workspace.instances()
            outcome.plan_exit, outcome.plan = self._timed("plan", lambda: workspace.plan_changes(endpoint.url))
            outcome.destroyed = self._timed("destroy", lambda: workspace.destroy(endpoint.url))
            outcome.left = workspace.instances()
        except Exception as err:  # noqa: BLE001 - the test reports it, with the step's log
            outcome.error = f"{type(err).__name__}: {err}"
        finally:
            endpoint.stop()
