"""Where the platform keeps its state, and the names it gives what it starts.

The state dir (default `.platform/`, BEER_PLATFORM_PLATFORM_DIR) holds:

    platform.json        what is running: ports, images, container names, pids (no secret)
    postgres.secret      the database password (generated, mode 0600, never in git)
    postgres/data/       the database cluster, postgres/postgres.log its log
    podman.sock          the Docker-compatible API the run launcher talks to (podman-service.log)
    containers.conf      the engine settings that socket's containers need (runtime, rlimits)
    dagster_home/        dagster.yaml and workspace.yaml, mounted read-only into the containers
    compute_logs/        each step's stdout and stderr, written by the runs, read by the UI
    build/               image build contexts (removed after each build)

Containers are named `beer-platform-<8 hex of the state dir>-<service>` and labelled with the same
id, so two platforms on one engine (or other users of it) never touch each other's containers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Mount points inside the containers.
DAGSTER_HOME = "/opt/dagster/dagster_home"
COMPUTE_LOGS = "/opt/dagster/compute_logs"
ENGINE_SOCKET = "/run/podman/podman.sock"
LABEL = "beer-platform.platform"  # container label: the platform (its id) a container belongs to
PASSWORD_ENV = "DAGSTER_POSTGRES_PASSWORD"  # the one secret, passed by environment only


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def platform_id(self) -> str:
        return hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:8]

    def container(self, service: str) -> str:
        return f"beer-platform-{self.platform_id}-{service}"

    @property
    def state_file(self) -> Path:
        return self.root / "platform.json"

    @property
    def secret_file(self) -> Path:
        return self.root / "postgres.secret"

    @property
    def postgres_dir(self) -> Path:
        return self.root / "postgres"

    @property
    def socket(self) -> Path:
        return self.root / "podman.sock"

    @property
    def containers_conf(self) -> Path:
        return self.root / "containers.conf"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def compute_logs(self) -> Path:
        return self.root / "compute_logs"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"
