"""Terraform against a local AWS endpoint: a root module as AWS gets it, plus local-only settings.

A `Workspace` is a folder of the stack's (`.stack/terraform/`) holding links to the root module's
files and module folders (infra/ by default), a link to `infra/local/provider_override.tf`
(path-style S3, no credential or metadata checks, three attempts a call) and the state. The values that
differ locally are in `infra/local/local.tfvars`. The endpoint and the throwaway credentials are
given through the environment Terraform runs with (`AWS_ENDPOINT_URL` points every service at
it), so no file names a port or a credential. The provider comes from the filesystem mirror
(`BEER_PLATFORM_TF_PLUGIN_DIR`, default /opt/tf-plugins): nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from beer_platform.local.children import die_with_parent
from beer_platform.settings import LOCAL_CREDENTIALS, SOURCE_ROOT

INFRA_DIR = SOURCE_ROOT / "infra"
LOCAL_DIR = INFRA_DIR / "local"
PROVIDER_OVERRIDE = LOCAL_DIR / "provider_override.tf"
LOCAL_TFVARS = LOCAL_DIR / "local.tfvars"
DEFAULT_PLUGIN_DIR = "/opt/tf-plugins"
STATE_FILE = "terraform.tfstate"
PARALLELISM = "-parallelism=30"  # the first apply's resources are ~20 wide; waiters overlap


class TerraformMissing(RuntimeError):
    """No terraform on PATH: said in one line, with what to install."""


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero: the message is its error output."""


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found is None:
        raise TerraformMissing("terraform not found on PATH: the local stack applies infra/ with it "
                               "(Terraform >= 1.6 and the hashicorp/aws provider, e.g. a mirror at /opt/tf-plugins)")  # fmt: skip
    return found


def plugin_dir() -> Path | None:
    """The provider mirror, or None when there is none (init then asks the registry)."""
    found = Path(os.environ.get("BEER_PLATFORM_TF_PLUGIN_DIR", DEFAULT_PLUGIN_DIR))
    return found if (found / "registry.terraform.io").is_dir() else None


def _digest(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(f"\0{path.as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Workspace:
    def __init__(self, path: Path, source: Path = INFRA_DIR, var_files: tuple[Path, ...] = (LOCAL_TFVARS,),
                 override: Path = PROVIDER_OVERRIDE) -> None:  # fmt: skip
        self.path, self.source, self.var_files, self.override = Path(path), Path(source), var_files, override

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    def prepare(self) -> None:
        """Link the root module's files and folders, and the override, into the workspace."""
        self.path.mkdir(parents=True, exist_ok=True)
        wanted = {p.name: p for p in self.source.iterdir()
                  if not p.name.startswith(".") and (p.suffix == ".tf" or p.is_dir()) and p != LOCAL_DIR}  # fmt: skip
        wanted[self.override.name] = self.override
        for link in self.path.iterdir():
            if link.is_symlink() and (link.name not in wanted or wanted[link.name].resolve() != link.resolve()):
                link.unlink()
        for name, target in wanted.items():
            if not (self.path / name).is_symlink():
                (self.path / name).symlink_to(target.resolve())
        (self.path / "cli.tfrc").touch()  # an empty CLI configuration: no user's settings, no warning

    def sources(self) -> list[Path]:
        """Every file whose change may change what an apply does."""
        files = [p for p in self.source.rglob("*.tf") if ".terraform" not in p.parts and LOCAL_DIR not in p.parents]
        return sorted({*files, self.override, *self.var_files})

    def fingerprint(self, extra: str = "") -> str:
        binary = Path(terraform_binary())
        return _digest(self.sources(), f"{extra}\0{binary}\0{binary.stat().st_mtime_ns}\0{plugin_dir()}")

    def environment(self, endpoint: str) -> dict[str, str]:
        # Nothing of the user's AWS or Terraform configuration (profiles, per-service endpoints, TF_DATA_DIR...).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        key, secret = LOCAL_CREDENTIALS
        return env | {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_EC2_METADATA_DISABLED": "true", "TF_CLI_CONFIG_FILE": str(self.path / "cli.tfrc"),
            "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
        }  # fmt: skip

    def command(self, action: str, *extra: str) -> list[str]:
        var_files = [f"-var-file={p}" for p in self.var_files] if action in ("plan", "apply", "destroy") else []
        return [terraform_binary(), action, "-no-color", *var_files, *extra]

    def run(self, endpoint: str, action: str, *extra: str, ok: tuple[int, ...] = (0,),
            timeout: float = 900) -> subprocess.CompletedProcess:  # fmt: skip
        done = subprocess.run(self.command(action, *extra), cwd=self.path, env=self.environment(endpoint),
                              capture_output=True, text=True, timeout=timeout, preexec_fn=die_with_parent)  # fmt: skip
        if done.returncode not in ok:
            raise TerraformFailed(f"terraform {action} failed ({done.returncode}): {_errors(done.stderr or done.stdout)}")
        return done

    def init(self, endpoint: str) -> None:
        self.prepare()
        mirror = plugin_dir()
        self.run(endpoint, "init", "-input=false", *([f"-plugin-dir={mirror}"] if mirror else []))

    def popen(self, endpoint: str, action: str, *extra: str) -> subprocess.Popen:
        """`action` in the background, its `-json` messages on stdout, one a line."""
        return subprocess.Popen(self.command(action, "-json", *extra), cwd=self.path, env=self.environment(endpoint),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, preexec_fn=die_with_parent)  # fmt: skip

    def plan_changes(self, endpoint: str) -> tuple[int, str]:
        """`plan -detailed-exitcode`: (0 no changes | 2 changes, the plan's text)."""
        done = self.run(endpoint, "plan", "-detailed-exitcode", "-input=false", "-lock=false", ok=(0, 2))
        return done.returncode, done.stdout

    def destroy(self, endpoint: str) -> int:
        """Destroy what the state holds; returns how many resources went."""
        held = self.instances()
        self.run(endpoint, "destroy", "-auto-approve", "-input=false", PARALLELISM)
        return held

    def state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def resources(self) -> list[dict]:
        """The managed resources of the state: {type, name, module, instances}."""
        return [r for r in self.state().get("resources", []) if r.get("mode") == "managed"]

    def instances(self) -> int:
        """How many resources the state holds (a `for_each` resource counts each of its instances)."""
        return sum(len(resource.get("instances", [])) for resource in self.resources())

    def outputs(self) -> dict:
        return {name: item["value"] for name, item in self.state().get("outputs", {}).items()}


def _errors(text: str) -> str:
    """Terraform's error output on one line (the end of it, when long)."""
    return " ".join(line.strip("│╷╵ ") for line in text.splitlines() if line.strip("│╷╵ "))[-4000:]
