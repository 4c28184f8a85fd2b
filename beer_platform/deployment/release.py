"""A release: bento -> build context -> image -> verify the image -> push -> deploy.

Nothing is pushed or deployed unless the image passes verification (`verify` raises first).
`base_image`: the image to build on; by default the local Debian-made one (`base_image`), in
AWS the public one its module names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.ecr import ensure_repository
from beer_platform.deployment import lambda_api, registry
from beer_platform.deployment.base_image import ensure_local_base
from beer_platform.deployment.bento import build_bento
from beer_platform.deployment.build_context import build_context
from beer_platform.deployment.engine import Engine
from beer_platform.deployment.image import IMAGE_LIMIT_BYTES
from beer_platform.deployment.sandbox import FunctionConfig
from beer_platform.deployment.verify import VerificationReport, verify
from beer_platform.names import ResourceNames

LOCAL_REPOSITORY = "localhost/beer-platform-ibu-model"  # built images, before they are pushed


@dataclass(frozen=True)
class BuiltImage:
    ref: str  # localhost/beer-platform-ibu-model:<model version>-<image id>
    image_id: str
    model: str
    bento: str
    base_image: str
    size_bytes: int

    @property
    def tag(self) -> str:
        return self.ref.rsplit(":", 1)[1]


@dataclass(frozen=True)
class Release:
    image: BuiltImage
    verification: VerificationReport
    image_uri: str  # repository@sha256:..., what the function points at
    deployment: lambda_api.Deployment

    def summary(self) -> dict[str, Any]:
        return {"model": self.image.model, "bento": self.image.bento, "image_uri": self.image_uri,
                "image_bytes": self.image.size_bytes, "version": self.deployment.version,
                "alias": self.deployment.alias, "function_url": self.deployment.function_url,
                "created": self.deployment.created, "cold_start_s": round(self.verification.cold_start_s, 2),
                "warm_p50_ms": round(self.verification.warm_p50_ms, 2)}  # fmt: skip


def prepare_context(work_dir: Path | str, cache_dir: Path | str, model_tag: str | None = None) -> Path:
    """Build the bento for `model_tag` (default: the newest model) and its image build context."""
    bento = build_bento(model_tag)
    return build_context(bento, Path(work_dir) / f"context-{bento.tag.split(':')[1]}", cache_dir)


def build_image(engine: Engine, context_dir: Path | str, base_image: str | None = None) -> BuiltImage:
    """Build the context into `LOCAL_REPOSITORY:<model version>-<image id>`."""
    base = base_image or ensure_local_base(engine)
    manifest = json.loads((Path(context_dir) / "context.json").read_text())
    building = f"{LOCAL_REPOSITORY}:building"
    image_id = engine.build(context_dir, building, {"BASE_IMAGE": base})
    ref = f"{LOCAL_REPOSITORY}:{manifest['model'].split(':', 1)[1]}-{image_id.removeprefix('sha256:')[:12]}"
    engine.tag(image_id, ref)
    return BuiltImage(ref=ref, image_id=image_id, model=manifest["model"], bento=manifest["bento"], base_image=base,
                      size_bytes=engine.size(ref))  # fmt: skip


def function_config(names: ResourceNames, version: str = "$LATEST") -> FunctionConfig:
    return FunctionConfig(name=names.lambda_function, version=version, region=names.region)


def release(engine: Engine, clients: AwsClients, names: ResourceNames, context_dir: Path | str,
            base_image: str | None = None) -> Release:  # fmt: skip
    """Build and verify the image, then push it and deploy it (raises VerificationError first)."""
    image = build_image(engine, context_dir, base_image)
    if image.size_bytes > IMAGE_LIMIT_BYTES:
        raise RuntimeError(f"{image.ref} is {image.size_bytes / 2**30:.1f} GiB: over Lambda's 10 GB image limit")
    report = verify(engine, image.ref, image.model, function_config(names))
    ecr = clients.client("ecr")
    repository_uri, _ = ensure_repository(ecr, names.ecr_repository)
    image_uri = registry.push(engine, ecr, repository_uri, image.ref, image.tag)
    description = lambda_api.release_description(image.model, image_uri, image.image_id)
    deployment = lambda_api.deploy(clients.client("lambda"), clients.client("iam"), names, image_uri, description)
    prune_images(engine, clients.client("lambda"), names, image.image_id)
    return Release(image=image, verification=report, image_uri=image_uri, deployment=deployment)


def prune_images(engine: Engine, lambda_client: Any, names: ResourceNames, live_image_id: str) -> list[str]:
    """Remove the images this function's earlier releases used, but the live one and the one a
    rollback would go back to; returns the ids removed. Images of other stacks sharing the engine
    (another checkout, the tests' own) are not this function's to remove, even mid-push."""
    versions = lambda_api.published_versions(lambda_client, names.lambda_function)  # listed once
    rollback = lambda_api.previous_release(versions, int(lambda_api.live_alias_version(lambda_client, names)))
    keep = {live_image_id, lambda_api.parse_description(rollback[1]).get("image_id", "") if rollback else ""}
    removed = superseded_images(versions, keep)
    present = {image_id[:12] for image_id in engine.image_ids(LOCAL_REPOSITORY)}
    removed = [image_id for image_id in removed if image_id in present]
    for image_id in removed:
        engine.remove_image(image_id)
    return removed


def superseded_images(versions: dict[int, str], keep: set[str]) -> list[str]:
    """The short image ids (12 hex digits) the releases among `versions` name, but those in `keep`."""
    kept = {image_id.removeprefix("sha256:")[:12] for image_id in keep if image_id}
    named = (lambda_api.parse_description(description).get("image_id", "") for _, description in sorted(versions.items()))
    return sorted({image_id for image_id in named if image_id and image_id not in kept})
