"""The platform's Dagster instance and workspace: dagster.yaml and workspace.yaml, as data.

- Storage: Postgres for runs, events and schedules. `scheme: postgresql+psycopg2`: SQLAlchemy 2.1
  reads a bare `postgresql://` as psycopg 3, which dagster-postgres does not install, and every
  storage call would fail on "No module named 'psycopg'".
- Runs: queued (`QueuedRunCoordinator`), at most one at a time per partition, so two runs never
  clean the same ingestion day at once, and launched by `DockerRunLauncher` into a container of
  the user-code image each, with 1 GiB, on the host's network (the local stack, Postgres and the
  code server are on its 127.0.0.1), the settings of the `local` environment, and the shared
  mounts below.
- Each run executes its steps in its run worker (the in-process executor, by the settings'
  BEER_PLATFORM_EXECUTOR): one process in the container.
- Run monitoring finds a run whose container died and fails it; `run_retries` runs it once more
  (from the failure: finished steps are not redone).

The one secret, the database password, is named (`env:`) and never written here: the services
get it in their environment, and the launcher passes it on to each run's.

What the runs share with the host, mounted at the same path:
- the local stack's state dir, read-only: its endpoints (`stack.json`), as `beer-platform` reads them;
- the BentoML model store (BENTOML_HOME): `ibu_model` saves there, `ibu_model_lambda` and
  `make serve` read the same models;
- the build cache (BEER_PLATFORM_CACHE_DIR): the Lambda image's packages, installed by `platform up`;
- the engine's socket, as CONTAINER_HOST: podman's remote client builds, runs and pushes images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from beer_platform.local.platform.layout import COMPUTE_LOGS, DAGSTER_HOME, ENGINE_SOCKET, LABEL, PASSWORD_ENV, Layout
from beer_platform.local.platform.postgres import DATABASE, USER

LOCATION = "beer_platform"  # the code location's name, as in the repo's workspace.yaml
RUN_MEMORY = "1g"
# A run's steps execute in its run worker, not in a subprocess each: the worker's imports (~300 MiB)
# are not paid twice in the 1 GiB, nor the ~10 s of importing again per step (docs/benchmarks.md).
RUN_EXECUTOR = "in_process"
MAX_CONCURRENT_RUNS = 4  # 2 cores here; each run may take its 1 GiB
PARTITION_TAG = "dagster/partition"


@dataclass(frozen=True)
class Wiring:
    """Everything the configuration depends on."""

    layout: Layout
    postgres_port: int
    code_port: int
    code_image: str
    stack_dir: Path
    bentoml_home: Path
    cache_dir: Path

    def code_environment(self) -> dict[str, str]:
        """The code server's environment (the password aside): the instance and the `local` settings."""
        return {"DAGSTER_HOME": DAGSTER_HOME, "BEER_PLATFORM_ENV": "local",
                "BEER_PLATFORM_STACK_DIR": str(self.stack_dir), "BEER_PLATFORM_EXECUTOR": RUN_EXECUTOR}

    def code_mounts(self) -> list[str]:
        return [f"{self.layout.dagster_home}:{DAGSTER_HOME}:ro", f"{self.stack_dir}:{self.stack_dir}:ro"]

    def run_environment(self) -> dict[str, str]:
        return self.code_environment() | {"BENTOML_HOME": str(self.bentoml_home),
                                          "BEER_PLATFORM_CACHE_DIR": str(self.cache_dir),
                                          "CONTAINER_HOST": f"unix://{ENGINE_SOCKET}"}  # fmt: skip

    def run_mounts(self) -> list[str]:
        return [*self.code_mounts(), f"{self.bentoml_home}:{self.bentoml_home}", f"{self.cache_dir}:{self.cache_dir}",
                f"{self.layout.compute_logs}:{COMPUTE_LOGS}", f"{self.layout.socket}:{ENGINE_SOCKET}"]  # fmt: skip

    def services_environment(self) -> dict[str, str]:
        """The webserver's and the daemon's: the instance, and the engine's API for the launcher."""
        return {"DAGSTER_HOME": DAGSTER_HOME, "DOCKER_HOST": f"unix://{ENGINE_SOCKET}"}

    def services_mounts(self) -> list[str]:
        return [f"{self.layout.dagster_home}:{DAGSTER_HOME}:ro", f"{self.layout.compute_logs}:{COMPUTE_LOGS}",
                f"{self.layout.socket}:{ENGINE_SOCKET}"]  # fmt: skip


def dagster_yaml(wiring: Wiring) -> dict:
    database = {"username": USER, "password": {"env": PASSWORD_ENV}, "hostname": "127.0.0.1", "db_name": DATABASE,
                "port": wiring.postgres_port, "scheme": "postgresql+psycopg2"}  # fmt: skip
    one_run_per_partition = {"key": PARTITION_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    run_env = [f"{key}={value}" for key, value in wiring.run_environment().items()] + [PASSWORD_ENV]
    return {
        "telemetry": {"enabled": False},
        "storage": {"postgres": {"postgres_db": database}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": MAX_CONCURRENT_RUNS, "tag_concurrency_limits": [one_run_per_partition]},
        },
        "run_launcher": {
            "module": "dagster_docker",
            "class": "DockerRunLauncher",
            "config": {
                "env_vars": run_env,
                "container_kwargs": {"network_mode": "host", "mem_limit": RUN_MEMORY, "memswap_limit": RUN_MEMORY,
                                     "volumes": wiring.run_mounts(),
                                     "labels": {LABEL: wiring.layout.platform_id}},  # fmt: skip
            },
        },
        "run_monitoring": {"enabled": True, "poll_interval_seconds": 5},
        "run_retries": {"enabled": True, "max_retries": 1},
        "compute_logs": {"module": "dagster.core.storage.local_compute_log_manager", "class": "LocalComputeLogManager",
                         "config": {"base_dir": COMPUTE_LOGS}},  # fmt: skip
        "local_artifact_storage": {"module": "dagster.core.storage.root", "class": "LocalArtifactStorage",
                                   "config": {"base_dir": "/tmp/dagster-storage"}},  # fmt: skip
    }


def workspace_yaml(code_port: int) -> dict:
    """The one code location, over gRPC only: the webserver and the daemon import no user code."""
    return {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": code_port, "location_name": LOCATION}}]}


def write(wiring: Wiring) -> bool:
    """Write both files into the platform's DAGSTER_HOME; True when either changed."""
    home = wiring.layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    header = "# Written by `beer-platform platform up` (beer_platform/local/platform/instance.py).\n"
    changed = False
    for name, content in (("dagster.yaml", dagster_yaml(wiring)), ("workspace.yaml", workspace_yaml(wiring.code_port))):
        text = header + yaml.safe_dump(content, sort_keys=False)
        path = home / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed = True
    return changed
