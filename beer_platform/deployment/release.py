"""A release: build -> pack -> upload -> verify (what was stored) -> image -> deploy.

Nothing is deployed unless the verification of the stored artifact passes: `release` raises
VerificationError first, and no version is published. The artifact stays in S3 either way
(content-addressed, so harmless, and there to inspect).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.ecr import ensure_repository
from beer_platform.deployment import lambda_api
from beer_platform.deployment.bento import build_bento
from beer_platform.deployment.artifact import Artifact, download_and_unpack, pack, upload
from beer_platform.deployment.context import build_context
from beer_platform.deployment.events import function_url_event
from beer_platform.deployment.verify import VerificationReport, invoke_local, verify
from beer_platform.names import ResourceNames


@dataclass(frozen=True)
class Release:
    artifact: Artifact
    model: str
    bento: str
    verification: VerificationReport
    image_uri: str
    pushed: bool  # False: no container engine was used (the local stack needs no image)
    deployment: lambda_api.Deployment

    def summary(self) -> dict[str, Any]:
        return {"artifact": self.artifact.uri, "uploaded": self.artifact.uploaded, "model": self.model,
                "bento": self.bento, "image": self.image_uri, "pushed": self.pushed,
                "version": self.deployment.version, "alias": self.deployment.alias,
                "function_url": self.deployment.function_url, "created": self.deployment.created,
                "cold_start_s": round(self.verification.cold_total_s, 2),
                "warm_p50_ms": round(self.verification.warm_p50_ms, 2)}  # fmt: skip


def prepare_context(work_dir: Path | str, model_tag: str | None = None) -> Path:
    """Build the bento for `model_tag` (default: the newest model) and its image context."""
    bento = build_bento(model_tag)
    return build_context(bento, Path(work_dir) / f"context-{bento.tag.split(':')[1]}")


def release(
    clients: AwsClients,
    names: ResourceNames,
    context_dir: Path | str,
    work_dir: Path | str,
    push: bool,
    python: str = sys.executable,
) -> Release:
    """Pack and store the context, verify the stored artifact, then (push and) deploy it.

    `push`: build and push the image with the container engine (AWS); False for the local stack,
    where moto runs no image and the function records the image URI only.
    """
    if push and lambda_api.container_engine() is None:
        raise RuntimeError("push=True needs a container engine (`docker info` failed); nothing was done")
    data, sha256 = pack(context_dir)
    artifact = upload(clients.client("s3"), names.artifacts_bucket, data, sha256)
    stored = download_and_unpack(clients.client("s3"), artifact.bucket, artifact.key, Path(work_dir) / "artifacts")
    report = verify(stored, python=python)  # raises VerificationError: nothing below runs
    manifest = json.loads((stored / "context.json").read_text())
    repo_uri, _ = ensure_repository(clients.client("ecr"), names.ecr_repository)
    tag = sha256[:16]
    image_uri = lambda_api.build_and_push(stored, repo_uri, tag, clients.client("ecr")) if push else f"{repo_uri}:{tag}"
    description = lambda_api.release_description(sha256, artifact.key, manifest["model"])
    deployment = lambda_api.deploy(clients.client("lambda"), clients.client("iam"), names, image_uri, description)
    return Release(artifact=artifact, model=manifest["model"], bento=manifest["bento"], verification=report,
                   image_uri=image_uri, pushed=push, deployment=deployment)  # fmt: skip


def live_artifact(clients: AwsClients, names: ResourceNames, cache_dir: Path | str) -> Path:
    """The unpacked context that the version `live` points at runs (found from its description)."""
    version, description = lambda_api.live_version(clients.client("lambda"), names)
    key = lambda_api.parse_description(description).get("artifact")
    if not key:
        raise LookupError(f"version {version} of {names.lambda_function} names no artifact: {description!r}")
    return download_and_unpack(clients.client("s3"), names.artifacts_bucket, key, cache_dir)


def invoke_live_locally(
    clients: AwsClients, names: ResourceNames, beers: list[dict[str, Any]], cache_dir: Path | str
) -> dict[str, Any]:
    """POST /predict answered by the `live` version's artifact, run here in a fresh process (the
    local stack's stand-in for invoking the function: moto runs no image)."""
    context_dir = live_artifact(clients, names, cache_dir)
    return invoke_local(context_dir, function_url_event("POST", "/predict", beers, region=names.region))
