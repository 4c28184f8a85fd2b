"""The local stack's AWS resources: infra/ applied by Terraform to the stack's endpoint, in the
background, and when the platform may start.

A start applies infra/ unless nothing that decides the apply changed since the last successful
one (infra/'s files, the local values, Terraform itself, the registry's address: `applied.json`
in the workspace) and the replayed endpoint holds what the state names (its keys, buckets, stream
and functions, under the same ids): then the start costs no plan.

The platform need not wait for the whole apply. Once everything it reads, writes or would
otherwise create itself exists and is configured (`missing_for_the_platform`), the state is
`ready`; what is left are provider waiters on settings the platform never touches (lifecycle
rules; the stream's retention, metrics and encryption; the orchestration role's policy), which
end in the background (`applied`). Stopping the stack lets a running apply end first: an
interrupted one would leave resources tainted, to be replaced (a stream with its records) next time.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from beer_platform.aws.clients import AwsClients
from beer_platform.local.terraform import PARALLELISM, TerraformFailed, Workspace, terraform_binary
from beer_platform.names import ResourceNames

APPLYING, READY, APPLIED, FAILED = "applying", "ready", "applied", "failed"
RECORD = "applied.json"
LOG = "apply.log"


class Infrastructure(Protocol):
    """What a `LocalStack` gets its resources from: `prepare` before the endpoint serves, `begin`
    once it serves what was replayed."""

    def prepare(self, endpoint: str) -> None: ...

    def begin(self, endpoint: str, registry: str | None) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def stop(self, timeout: float) -> None: ...


def missing_for_the_platform(clients: AwsClients, names: ResourceNames) -> list[str]:
    """What the platform reads, writes or would otherwise create itself, not there (or not
    configured) yet: the data buckets (versioned, SSE-KMS), the stream, the Glue database, the
    image repository and the function's alias."""
    checks = {f"s3://{bucket}": lambda b=bucket: _bucket_configured(clients.client("s3"), b)
              for bucket in (names.raw_bucket, names.cleaned_bucket, names.artifacts_bucket)}  # fmt: skip
    checks |= {
        f"kinesis:{names.stream}": lambda: clients.client("kinesis").describe_stream_summary(
            StreamName=names.stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE",
        f"glue:{names.glue_database}": lambda: bool(clients.client("glue").get_database(Name=names.glue_database)),
        f"ecr:{names.ecr_repository}": lambda: bool(clients.client("ecr").describe_repositories(
            repositoryNames=[names.ecr_repository])["repositories"]),
        f"lambda:{names.lambda_function}:{names.lambda_alias}": lambda: bool(clients.client("lambda").get_alias(
            FunctionName=names.lambda_function, Name=names.lambda_alias)),
    }  # fmt: skip
    return [what for what, check in checks.items() if not _holds(check)]


def _holds(check) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(check())
    except ClientError:
        return False


def _bucket_configured(s3: Any, bucket: str) -> bool:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    encrypted = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    return encrypted and s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"


# What a state's resources are looked up by, to tell that a replay gave them back.
_LOOKUPS = {
    "aws_kms_key": ("kms", lambda c, a: c.describe_key(KeyId=a["key_id"])["KeyMetadata"]["KeyState"] == "Enabled"),
    "aws_s3_bucket": ("s3", lambda c, a: bool(c.head_bucket(Bucket=a["bucket"]))),
    "aws_kinesis_stream": ("kinesis", lambda c, a: bool(c.describe_stream_summary(StreamName=a["name"]))),
    "aws_lambda_function": ("lambda", lambda c, a: bool(c.get_function(FunctionName=a["function_name"]))),
    "aws_lambda_function_url": ("lambda", lambda c, a: c.get_function_url_config(
        FunctionName=a["function_name"], Qualifier=a["qualifier"])["FunctionUrl"] == a["function_url"]),
}  # fmt: skip


def missing_from_endpoint(state_resources: list[dict], clients: AwsClients) -> list[str]:
    """The keys, buckets, streams and functions a Terraform state names that the endpoint does
    not hold (under the same id)."""
    missing = []
    for resource in state_resources:
        if (lookup := _LOOKUPS.get(resource["type"])) is None:
            continue
        service, holds = lookup
        for instance in resource.get("instances", []):
            if not _holds(lambda: holds(clients.client(service), instance["attributes"])):
                missing.append(f"{resource.get('module', '')}.{resource['type']}.{resource['name']}".lstrip("."))
    return missing


def forget_apply(workspace: Workspace) -> None:
    """After a destroy: the next start applies again."""
    (workspace.path / RECORD).unlink(missing_ok=True)


class TerraformInfrastructure:
    """infra/ applied by Terraform to the stack's endpoint (see the module's docstring)."""

    def __init__(self, workspace: Workspace, names: ResourceNames) -> None:
        self.workspace, self.names = workspace, names
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": APPLYING, "by": "terraform", "log": str(workspace.path / LOG)}
        self._thread: threading.Thread | None = None
        self._init: threading.Thread | None = None
        self._init_error: Exception | None = None
        self._proc = None
        self._clients: AwsClients | None = None

    @property
    def record(self) -> Path:
        return self.workspace.path / RECORD

    def prepare(self, endpoint: str) -> None:
        """With no record of a last apply, one will follow: `terraform init` starts now, while
        the endpoint starts (init needs no endpoint)."""
        terraform_binary()  # no Terraform: the stack fails at once, saying so
        self.workspace.prepare()
        if not self.record.exists():
            self._init = threading.Thread(target=self._run_init, args=(endpoint,), name="terraform init", daemon=True)
            self._init.start()

    def _run_init(self, endpoint: str) -> None:
        try:
            self.workspace.init(endpoint)
        except Exception as err:  # noqa: BLE001 - raised again by the apply that needed it
            self._init_error = err

    def begin(self, endpoint: str, registry: str | None) -> None:
        self._clients = AwsClients.for_local_endpoint(endpoint, self.names.region)
        fingerprint = self.workspace.fingerprint(registry or "")
        if self._unchanged(fingerprint):
            self._set(state=APPLIED, unchanged=True, resources=self.workspace.instances(), seconds=0.0)
            return
        forget_apply(self.workspace)  # an interrupted apply must not pass for the last one
        self._thread = threading.Thread(target=self._apply, args=(endpoint, fingerprint), name="terraform", daemon=True)
        self._thread.start()

    def _unchanged(self, fingerprint: str) -> bool:
        try:
            last = json.loads(self.record.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return False
        assert self._clients is not None
        return last.get("fingerprint") == fingerprint and not missing_from_endpoint(self.workspace.resources(),
                                                                                    self._clients)  # fmt: skip

    def _apply(self, endpoint: str, fingerprint: str) -> None:
        started = time.monotonic()
        try:
            if self._init is None:
                self.workspace.init(endpoint)
            else:
                self._init.join()
                if self._init_error is not None:
                    raise self._init_error
            self._proc = self.workspace.popen(endpoint, "apply", "-auto-approve", "-input=false", PARALLELISM)
            errors = self._follow(self._proc)
            if self._proc.wait() != 0:
                raise TerraformFailed(f"terraform apply of infra/ failed: {' '.join(errors) or 'see the log'}")
            self.record.write_text(json.dumps({"fingerprint": fingerprint, "applied_at": time.time()}))
            self._set(state=APPLIED, unchanged=False, seconds=round(time.monotonic() - started, 1),
                      resources=self.workspace.instances())
        except Exception as err:  # noqa: BLE001 - reported in the stack's state, the stack keeps serving
            self._set(state=FAILED, error=str(err), seconds=round(time.monotonic() - started, 1))

    def _follow(self, proc) -> list[str]:  # type: ignore[no-untyped-def]
        """Log each message of `apply -json` as its text; count what completed; return the errors."""
        errors: list[str] = []
        done = 0
        with (self.workspace.path / LOG).open("w") as log:
            for line in proc.stdout:
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    message = {"@message": line.rstrip()}
                log.write(f"{message.get('@timestamp', '')} {message.get('@message', '')}\n")
                log.flush()
                if message.get("type") == "apply_complete" and message["hook"]["resource"].get("resource_type") \
                        and ".data." not in f".{message['hook']['resource']['addr']}":
                    done += 1
                    self._set(resources=done)
                elif message.get("type") == "diagnostic" and message["diagnostic"].get("severity") == "error":
                    diagnostic = message["diagnostic"]
                    errors.append(f"{diagnostic.get('summary', '')}: {diagnostic.get('detail', '')}".strip(": "))
        return errors

    def _set(self, **values: Any) -> None:
        with self._lock:
            self._status |= values

    def status(self) -> dict[str, Any]:
        with self._lock:
            applying = self._status["state"] == APPLYING
        ready = applying and self._clients is not None and not missing_for_the_platform(self._clients, self.names)
        with self._lock:
            if ready and self._status["state"] == APPLYING:
                self._status["state"] = READY
            return dict(self._status)

    def stop(self, timeout: float) -> None:
        """Let a running apply end (up to `timeout`), then interrupt it as Ctrl-C would."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        thread.join(timeout)
        if thread.is_alive() and self._proc is not None:
            self._proc.send_signal(signal.SIGINT)
            thread.join(60)
            if thread.is_alive():
                self._proc.kill()
                thread.join(10)
