"""The container engine: podman or docker, whichever answers here, found once per process.

podman on these machines needs two flags (see FIELD_NOTES "Containers"): `--runtime runc` (the
default crun fails on hybrid cgroups) and explicit rlimits on `build` and `run` (the default
ones are refused). Lambda's own nofile limit is 1024, so the same limits are Lambda's too.

With `CONTAINER_HOST` set (a run container of the local platform, see local/platform), podman is
the remote client of a `podman system service`: the service's containers.conf chooses the
runtime, and the client refuses `--runtime`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
INSTALL_HINT = (
    "no container engine: install podman (with runc), or docker with a running daemon. "
    "On Debian/Ubuntu as root `make setup` installs podman, runc, docker-registry and mmdebstrap; "
    "elsewhere install them with your package manager"
)


class EngineMissing(RuntimeError):
    """Neither podman nor a docker daemon answers on this machine."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(INSTALL_HINT + (f" ({detail})" if detail else ""))


class EngineError(RuntimeError):
    """An engine command failed; the message ends with its output."""


@dataclass(frozen=True)
class Engine:
    kind: str  # "podman" | "docker"
    path: str
    remote: bool = False  # podman's remote client (CONTAINER_HOST): the service picks the runtime

    @property
    def global_flags(self) -> tuple[str, ...]:
        return ("--runtime", "runc") if self.kind == "podman" and not self.remote else ()

    def command(self, *args: str) -> list[str]:
        return [self.path, *self.global_flags, *args]

    def run(self, *args: str, timeout: float = 600, input: bytes | None = None, env: dict[str, str] | None = None
            ) -> str:  # fmt: skip
        """`args` run by the engine; `env`: added to its environment (secrets for `-e NAME`, kept off the
        command line)."""
        try:
            done = subprocess.run(self.command(*args), capture_output=True, timeout=timeout, input=input,
                                  env=None if env is None else {**os.environ, **env})  # fmt: skip
        except subprocess.TimeoutExpired:
            raise EngineError(f"`{self.kind} {args[0]}` did not finish in {timeout:.0f}s") from None
        if done.returncode != 0:
            out = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
            raise EngineError(f"`{self.kind} {' '.join(args[:2])}` failed ({done.returncode}):\n{out}")
        return done.stdout.decode()

    def build(self, context_dir: Path | str, tag: str, build_args: dict[str, str], timeout: float = 900) -> str:
        """Build `context_dir` as `tag`; returns the image ID."""
        with tempfile.TemporaryDirectory(prefix="iid-") as work:
            iidfile = Path(work) / "iid"
            args = [f"--build-arg={key}={value}" for key, value in build_args.items()]
            if self.kind == "podman":
                args += [*ULIMITS, "--layers"]
            self.run("build", "--platform", "linux/amd64", "--iidfile", str(iidfile), "-t", tag, *args,
                     str(context_dir), timeout=timeout)  # fmt: skip
            return iidfile.read_text().strip()

    def exists(self, ref: str) -> bool:
        return subprocess.run(self.command("image", "inspect", ref), capture_output=True).returncode == 0

    def inspect(self, ref: str) -> dict:
        return json.loads(self.run("image", "inspect", ref))[0]

    def size(self, ref: str) -> int:
        """The image's unpacked size in bytes (all layers), as the engine reports it."""
        return int(self.inspect(ref)["Size"])

    def tag(self, ref: str, new: str) -> None:
        self.run("tag", ref, new)

    def image_ids(self, repository: str) -> set[str]:
        """The ids (sha256 hex) of the images tagged in `repository`."""
        out = self.run("images", "--no-trunc", "--format", "{{.ID}}", repository)
        return {line.strip().removeprefix("sha256:") for line in out.splitlines() if line.strip()}

    def remove_image(self, ref: str) -> None:
        subprocess.run(self.command("rmi", "-f", ref), capture_output=True)

    def login(self, registry: str, username: str, password: str, tls_verify: bool = True) -> None:
        extra = [] if tls_verify or self.kind == "docker" else ["--tls-verify=false"]
        self.run("login", *extra, "--username", username, "--password-stdin", registry, input=password.encode())

    def push(self, ref: str, tls_verify: bool = True) -> str | None:
        """Push `ref` (repository:tag); returns the digest the registry stored it under, or None from
        podman's remote client (it ignores --digestfile: the registry must be asked)."""
        if self.kind == "docker":  # docker trusts plain-HTTP registries on 127.0.0.1 by itself
            self.run("push", ref)
            repo = ref.rsplit(":", 1)[0]
            found = [d for d in self.inspect(ref).get("RepoDigests", []) if d.startswith(repo + "@")]
            return found[0].split("@", 1)[1]
        if self.remote:
            self.run("push", f"--tls-verify={str(tls_verify).lower()}", ref)
            return None
        with tempfile.TemporaryDirectory(prefix="digest-") as work:
            digestfile = Path(work) / "digest"
            self.run("push", f"--tls-verify={str(tls_verify).lower()}", "--digestfile", str(digestfile), ref)
            return digestfile.read_text().strip()

    def pull(self, ref: str, tls_verify: bool = True) -> None:
        extra = [] if tls_verify or self.kind == "docker" else ["--tls-verify=false"]
        self.run("pull", "--quiet", *extra, ref)

    def import_tarball(self, tarball: Path | str, tag: str) -> None:
        self.run("import", str(tarball), tag)

    def run_flags(self) -> tuple[str, ...]:
        """What `run` needs here beyond the caller's own flags."""
        return ULIMITS if self.kind == "podman" else ()

    def remove_container(self, name: str) -> None:
        subprocess.run(self.command("rm", "-f", "-t", "0", name), capture_output=True, timeout=60)


def _answers(engine: Engine) -> str:
    """"" when `kind info` succeeds, else why not."""
    kind = engine.kind
    try:
        done = subprocess.run(engine.command("info"), capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{kind}: {err}"
    return "" if done.returncode == 0 else f"{kind} info: {done.stderr.decode(errors='replace').strip()[-300:]}"


@functools.cache
def detect() -> Engine:
    """podman if it answers, else docker if its daemon answers; raises EngineMissing otherwise."""
    problems = []
    for kind in ("podman", "docker"):
        path = shutil.which(kind)
        if path is None:
            continue
        found = Engine(kind, path, remote=kind == "podman" and bool(os.environ.get("CONTAINER_HOST")))
        problem = _answers(found)
        if not problem:
            return found
        problems.append(problem)
    raise EngineMissing("; ".join(problems) or "neither podman nor docker is on PATH")


def find() -> Engine | None:
    """The engine, or None (callers that carry on without one say so themselves)."""
    try:
        return detect()
    except EngineMissing:
        return None
