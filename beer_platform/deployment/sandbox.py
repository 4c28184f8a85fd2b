"""The image run as Lambda runs it: one container per execution environment, under our Runtime API.

`Sandbox`: the container started with the engine as Lambda starts it - read-only root, a
writable /tmp only (512 MB), an unprivileged user, Lambda's memory and file limits, Lambda's
environment, `AWS_LAMBDA_RUNTIME_API` naming its own `RuntimeAPI` on 127.0.0.1 (host network:
the container's 127.0.0.1 is ours). `WarmFunction`: keeps one sandbox warm between
invocations, one at a time, and replaces it after an error or a timeout, as Lambda does.
Containers are removed on `close` (and `--rm` removes them should this process die).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beer_platform.deployment.engine import Engine
from beer_platform.deployment.image import TASK_ROOT
from beer_platform.deployment.runtime_api import InitError, Outcome, RuntimeAPI

MEMORY_MB = 1024
TIMEOUT_S = 30
LAMBDA_USER = "993:990"  # any unprivileged uid: Lambda's sbx_user ids are of this kind
INIT_TIMEOUT_S = 120.0  # init (imports, model load) on a busy 2-core machine; Lambda allows 10 s + the call


@dataclass(frozen=True)
class FunctionConfig:
    name: str = "beer-platform-ibu-model"
    version: str = "$LATEST"
    region: str = "eu-west-1"
    memory_mb: int = MEMORY_MB
    timeout_s: float = TIMEOUT_S
    account: str = "123456789012"
    command: tuple[str, ...] = ()  # Lambda's ImageConfig.Command: another handler than the image's CMD

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    def environment(self, runtime_api: str) -> dict[str, str]:
        """What Lambda sets in the environment of a function's runtime."""
        return {
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": self.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[{self.version}]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_Image",
            "LAMBDA_TASK_ROOT": TASK_ROOT,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "HOME": "/tmp",
        }


# What a function's output goes to as well as its log file: (log stream, line), as Lambda sends
# each line of an execution environment to its own log stream.
OutputSink = Callable[[str, str], None]


class Sandbox:
    """One container of `image` serving invocations through its own Runtime API."""

    def __init__(self, engine: Engine, image: str, config: FunctionConfig = FunctionConfig(),
                 on_output: OutputSink | None = None) -> None:  # fmt: skip
        self.engine, self.image, self.config = engine, image, config
        self.name = f"beer-platform-lambda-{uuid.uuid4().hex[:12]}"
        self.api = RuntimeAPI(config.arn, timeout_s=config.timeout_s)
        self._log = tempfile.NamedTemporaryFile(prefix=f"{self.name}-", suffix=".log", delete=False)
        variables = config.environment(self.api.address)
        self.log_stream = variables["AWS_LAMBDA_LOG_STREAM_NAME"]
        environment = [f"--env={key}={value}" for key, value in variables.items()]
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(
            engine.command("run", "--rm", "--name", self.name, "--network", "host", "--read-only",
                           *(["--read-only-tmpfs=false"] if engine.kind == "podman" else []),
                           "--tmpfs", "/tmp:rw,size=512m,mode=1777", "--user", LAMBDA_USER,
                           "--memory", f"{config.memory_mb}m", *engine.run_flags(), *environment,
                           image, *config.command),
            stdout=self._log if on_output is None else subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        self._copier = None
        if on_output is not None:
            self._copier = threading.Thread(target=self._copy_output, args=(on_output,), daemon=True)
            self._copier.start()
        self.invocations = 0
        self.cold_start_s: float | None = None  # container start -> first answer

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def _copy_output(self, on_output: OutputSink) -> None:
        """The container's output, line by line, to its log file and to `on_output` (until it exits)."""
        assert self._proc.stdout is not None
        for line in iter(self._proc.stdout.readline, b""):
            self._log.write(line)
            self._log.flush()
            on_output(self.log_stream, line.decode(errors="replace").rstrip("\n"))

    def invoke(self, event: Any) -> Outcome:
        """One invocation; the first also waits for the init. Raises InitError, TimeoutError, or
        RuntimeError (the container exited)."""
        first = self.invocations == 0
        wait = INIT_TIMEOUT_S + self.config.timeout_s if first else None
        outcome = self.api.invoke(event, wait_s=wait, alive=lambda: self.running)
        self.invocations += 1
        if first:
            self.cold_start_s = time.monotonic() - self.started_at
        return outcome

    @property
    def init_s(self) -> float | None:
        """Container start -> the runtime's first poll (its init done)."""
        return None if self.api.first_poll_at is None else self.api.first_poll_at - self.started_at

    def logs(self) -> str:
        try:
            return Path(self._log.name).read_text(errors="replace")
        except FileNotFoundError:  # closed
            return ""

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        """Run a command in the running container (tests look inside with it)."""
        return subprocess.run(self.engine.command("exec", self.name, *command), capture_output=True, text=True,
                              timeout=60)  # fmt: skip

    def close(self) -> None:
        if self.running:
            self.engine.remove_container(self.name)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if self._copier is not None:
            self._copier.join(timeout=10)  # its last lines
        self.api.close()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InvocationError(RuntimeError):
    """The function failed: init error, unhandled error, timeout or a crash (`kind` says which)."""

    def __init__(self, kind: str, message: str, logs: str = "") -> None:
        self.kind, self.message, self.logs = kind, message, logs
        tail = f"\n--- container output (tail) ---\n{logs[-3000:]}" if logs.strip() else ""
        super().__init__(f"{kind}: {message}{tail}")


class WarmFunction:
    """A function's warm execution environment: one sandbox of `image` at a time, reused while
    it answers, replaced after an error or a timeout. Thread-safe: invocations are serialized."""

    def __init__(self, engine: Engine, image: str, config: FunctionConfig = FunctionConfig(),
                 on_output: OutputSink | None = None) -> None:  # fmt: skip
        self.engine, self.image, self.config, self.on_output = engine, image, config, on_output
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        self.sandboxes_started = 0

    def invoke(self, event: Any) -> Any:
        """The handler's response to `event`; raises InvocationError when the function failed."""
        with self._lock:
            if self._sandbox is None or not self._sandbox.running:
                self._replace()
            sandbox = self._sandbox
            assert sandbox is not None
            try:
                outcome = sandbox.invoke(event)
            except (InitError, TimeoutError, RuntimeError) as err:
                logs = sandbox.logs()
                self._discard()  # a failed environment is never reused
                kind = ("Runtime.InitError" if isinstance(err, InitError) else
                        "Sandbox.Timedout" if isinstance(err, TimeoutError) else "Runtime.ExitError")  # fmt: skip
                raise InvocationError(kind, str(err), logs) from None
            if outcome.error is not None:
                logs = sandbox.logs()
                self._discard()  # a fresh environment for the next call
                error = outcome.error
                raise InvocationError(str(error.get("errorType", "Unhandled")), str(error.get("errorMessage")), logs)
            return outcome.response

    @property
    def sandbox(self) -> Sandbox | None:
        return self._sandbox

    def _replace(self) -> None:
        self._discard()
        self._sandbox = Sandbox(self.engine, self.image, self.config, self.on_output)
        self.sandboxes_started += 1

    def _discard(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def close(self) -> None:
        with self._lock:
            self._discard()

    def __enter__(self) -> WarmFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
