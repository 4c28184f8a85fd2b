"""Which environment the platform runs in, and where its endpoints are.

`local` (the default) and `aws` differ only in the values resolved here: endpoints, credentials
and names. Everything that reads and writes takes a `Settings` and never branches on the
environment itself (the query engine is the one exception: DuckDB locally, Athena in AWS).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from beer_platform.names import DEFAULT_NAMES, ResourceNames

Environment = Literal["local", "aws"]

DEFAULT_AWS_PORT = 4566
DEFAULT_PUNKAPI_PORT = 8081
DEFAULT_SERVE_PORT = 3001  # `make serve`: the model over HTTP
DEFAULT_DAGSTER_PORT = 3000  # `make dev`: the Dagster UI
DEFAULT_PLATFORM_PORT = 3300  # `make platform-up`: the deployed platform's Dagster UI
# The checkout holding the package: `bentoml build`'s context and `bentoml serve`'s working dir.
SOURCE_ROOT = Path(__file__).resolve().parents[1]
# moto accepts any credentials; fixed ones keep a user's real AWS credentials away from it.
LOCAL_CREDENTIALS = ("test", "test")
STACK_FILE = "stack.json"  # in the stack dir: the running local stack's endpoints
# The names as JSON over the defaults: in `aws` where there is no outputs.json (the ECS tasks of
# infra/modules/dagster), locally for a process on resources of its own (a test's)
NAMES_ENV = "BEER_PLATFORM_NAMES"
EXECUTORS = ("", "in_process", "multiprocess")  # "": Dagster's default (multiprocess, in_process by run config)


class SettingsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    env: Environment
    names: ResourceNames
    punkapi_base_url: str
    aws_endpoint_url: str | None  # None = the real AWS endpoints
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    lambda_base_image: str | None = None  # BEER_PLATFORM_LAMBDA_BASE_IMAGE; None: the environment's default
    # BEER_PLATFORM_EXECUTOR: how a run executes its steps. "in_process": in the run worker itself (the
    # deployed platform: one process in a run's 1 GiB container); "": Dagster's default, a subprocess a step.
    executor: str = ""

    @property
    def region(self) -> str:
        return self.names.region


def project_dir() -> Path:
    """The checkout (or wherever the user runs from): home of .stack/, .dagster_home/, .bentoml/."""
    return Path(os.environ.get("BEER_PLATFORM_PROJECT_DIR", Path.cwd())).resolve()


def stack_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("BEER_PLATFORM_STACK_DIR", project_dir() / ".stack")).resolve()


def platform_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where `beer-platform platform up` keeps its state (Postgres data and secret, configs, sockets)."""
    return Path(environ.get("BEER_PLATFORM_PLATFORM_DIR", project_dir() / ".platform")).resolve()


def read_stack_file(state_dir: Path) -> dict | None:
    """The local stack's endpoints as `beer-platform stack up` wrote them (`local.stack` also
    checks that the process that wrote them still runs)."""
    try:
        return json.loads((state_dir / STACK_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    env = environ.get("BEER_PLATFORM_ENV", "local")
    if env == "local":
        state = read_stack_file(stack_dir(environ)) or {}
        return Settings(
            env="local",
            names=_names_json(environ) or DEFAULT_NAMES,
            punkapi_base_url=environ.get("PUNKAPI_BASE_URL")
            or state.get("punkapi_base_url")
            or f"http://127.0.0.1:{DEFAULT_PUNKAPI_PORT}/v2",
            aws_endpoint_url=environ.get("BEER_PLATFORM_AWS_ENDPOINT_URL")
            or state.get("aws_endpoint_url")
            or f"http://127.0.0.1:{DEFAULT_AWS_PORT}",
            aws_access_key_id=LOCAL_CREDENTIALS[0],
            aws_secret_access_key=LOCAL_CREDENTIALS[1],
            lambda_base_image=environ.get("BEER_PLATFORM_LAMBDA_BASE_IMAGE"),
            executor=_executor(environ),
        )
    if env == "aws":
        names = _aws_names(environ)
        if region := environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"):
            names = names.with_terraform_outputs({"region": region})
        base_url = environ.get("PUNKAPI_BASE_URL")
        if not base_url:
            raise SettingsError(
                "BEER_PLATFORM_ENV=aws needs PUNKAPI_BASE_URL (the public PunkAPI is gone; "
                "serve the replica somewhere, see the README)"
            )
        # Credentials come from boto3's usual chain (env, profile, instance role).
        return Settings(env="aws", names=names, punkapi_base_url=base_url, aws_endpoint_url=None,
                        lambda_base_image=environ.get("BEER_PLATFORM_LAMBDA_BASE_IMAGE"),
                        executor=_executor(environ))  # fmt: skip
    raise SettingsError(f"BEER_PLATFORM_ENV must be 'local' or 'aws', not {env!r}")


def _names_json(environ: Mapping[str, str]) -> ResourceNames | None:
    """BEER_PLATFORM_NAMES (JSON) over the defaults, or None when unset."""
    if NAMES_ENV not in environ:
        return None
    try:
        return DEFAULT_NAMES.with_terraform_outputs(json.loads(environ[NAMES_ENV]))
    except (json.JSONDecodeError, AttributeError, TypeError) as err:
        raise SettingsError(f"{NAMES_ENV} must be a JSON object of resource names: {err}") from err


def _aws_names(environ: Mapping[str, str]) -> ResourceNames:
    """BEER_PLATFORM_NAMES if set, else `terraform output -json` at BEER_PLATFORM_TF_OUTPUTS
    (default infra/outputs.json), else the defaults."""
    if (names := _names_json(environ)) is not None:
        return names
    outputs_path = Path(environ.get("BEER_PLATFORM_TF_OUTPUTS", project_dir() / "infra" / "outputs.json"))
    if outputs_path.exists():
        return DEFAULT_NAMES.with_terraform_outputs(json.loads(outputs_path.read_text()))
    if "BEER_PLATFORM_TF_OUTPUTS" in environ:
        raise SettingsError(f"BEER_PLATFORM_TF_OUTPUTS points at {outputs_path}, which does not exist")
    return DEFAULT_NAMES
def _executor(environ: Mapping[str, str]) -> str:
    executor = environ.get("BEER_PLATFORM_EXECUTOR", "")
    if executor not in EXECUTORS:
        raise SettingsError(f"BEER_PLATFORM_EXECUTOR must be one of {', '.join(repr(e) for e in EXECUTORS)}, "
                            f"not {executor!r}")  # fmt: skip
    return executor


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Build caches kept across checkouts (the Lambda image's installed packages):
    BEER_PLATFORM_CACHE_DIR, else $XDG_CACHE_HOME/beer-platform, else ~/.cache/beer-platform."""
    if "BEER_PLATFORM_CACHE_DIR" in environ:
        return Path(environ["BEER_PLATFORM_CACHE_DIR"]).resolve()
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (base / "beer-platform").resolve()


def ensure_bentoml_home() -> Path:
    """The BentoML model store lives in `.bentoml/` of the checkout unless BENTOML_HOME says otherwise.

    BentoML fixes its home the first time a process touches the store: call this before that.
    """
    home = Path(os.environ.setdefault("BENTOML_HOME", str(project_dir() / ".bentoml")))
    home.mkdir(parents=True, exist_ok=True)
    return home
