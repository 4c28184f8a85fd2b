"""The AWS deployment's dagster.yaml names classes that exist in the pinned dagster-aws."""

import importlib
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parents[1] / "infra" / "dagster" / "dagster.yaml"


def test_dagster_yaml_uses_postgres_s3_logs_and_the_ecs_launcher():
    config = yaml.safe_load(CONFIG.read_text())
    assert set(config["storage"]) == {"postgres"}
    assert config["run_queue"]["max_concurrent_runs"] >= 1
    for section in ("compute_logs", "run_launcher"):
        module = importlib.import_module(config[section]["module"])
        assert hasattr(module, config[section]["class"]), section
    assert config["run_launcher"]["class"] == "EcsRunLauncher"
    assert config["compute_logs"]["class"] == "S3ComputeLogManager"
