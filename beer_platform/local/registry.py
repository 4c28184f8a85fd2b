"""The local stack's image registry: Debian's `docker-registry` (the CNCF distribution registry)
on 127.0.0.1, ECR's stand-in.

Its content (`<stack dir>/registry/data`) and its port (`<stack dir>/registry/port`, chosen free
on the first start) both live in the stack dir, so an `ImageUri` recorded by a deployment
(`127.0.0.1:<port>/<repository>@sha256:...`) stays pullable across `stack down` / `stack up`.
The process dies with the stack's (PR_SET_PDEATHSIG), so a killed stack leaves no registry behind.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from beer_platform.local.children import die_with_parent

EXECUTABLE = "docker-registry"

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: beer-platform-local
"""


class RegistryUnavailable(RuntimeError):
    pass


def available() -> bool:
    return shutil.which(EXECUTABLE) is not None


class LocalRegistry:
    def __init__(self, state_dir: Path, free_port) -> None:
        self.dir = Path(state_dir) / "registry"
        self._free_port = free_port
        self._proc: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        """The port this stack dir's registry always uses (chosen on first start)."""
        port_file = self.dir / "port"
        if not port_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            port_file.write_text(str(self._free_port()))
        return int(port_file.read_text())

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`: the registry part of every image reference it holds."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start it; returns its host. Raises RegistryUnavailable when it cannot."""
        if not available():
            raise RegistryUnavailable(f"{EXECUTABLE} is not installed (Debian: apt-get install docker-registry)")
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        config = self.dir / "config.yml"
        config.write_text(CONFIG.format(root=self.dir / "data", port=self.port))
        log = (self.dir / "registry.log").open("ab")
        self._proc = subprocess.Popen([EXECUTABLE, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = (self.dir / "registry.log").read_text(errors="replace")[-1500:]
                raise RegistryUnavailable(f"{EXECUTABLE} exited with {self._proc.returncode} "
                                          f"(is 127.0.0.1:{self.port} taken?):\n{tail}")  # fmt: skip
            if healthy(self.host):
                return self.host
            time.sleep(0.1)
        self.stop()
        raise RegistryUnavailable(f"{EXECUTABLE} did not answer on {self.host} in {timeout:.0f}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None


def healthy(host: str) -> bool:
    try:
        return httpx.get(f"http://{host}/v2/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def tags(host: str, repository: str) -> list[str]:
    """The tags the registry holds for `repository` (empty when it holds none)."""
    answer = httpx.get(f"http://{host}/v2/{repository}/tags/list", timeout=10)
    if answer.status_code == 404:
        return []
    answer.raise_for_status()
    return answer.json().get("tags") or []
