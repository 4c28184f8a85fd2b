"""The `aws` Dagster instance of infra/dagster/ as its files say it: test support.

What the instance reads from the environment (`{env: NAME}`), and an instance of this machine
whose run launcher is exactly the one infra/dagster/dagster.yaml configures (its storage is a
throwaway SQLite home: moto has no Postgres to offer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance

from beer_platform_tests.infra_names import INFRA_DIR

INSTANCE_DIR = INFRA_DIR / "dagster"
DAGSTER_YAML = INSTANCE_DIR / "dagster.yaml"
WORKSPACE_YAML = INSTANCE_DIR / "workspace.yaml"
PASSWORD_ENV = "DAGSTER_PG_PASSWORD"  # injected by ECS from Secrets Manager, never a plain value


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_references(node: Any) -> Iterator[str]:
    """Every NAME of an `{env: NAME}` in a parsed YAML document."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            yield node["env"]
        for value in node.values():
            yield from env_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from env_references(value)


def instance_with_the_run_launcher_of(instance_yaml: str, home: Path) -> DagsterInstance:
    """A persistent instance in `home` running the run launcher of `instance_yaml` (the text of a
    dagster.yaml), resolved against the current environment."""
    home.mkdir(parents=True, exist_ok=True)
    config = {"run_launcher": yaml.safe_load(instance_yaml)["run_launcher"], "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return DagsterInstance.from_config(str(home))
