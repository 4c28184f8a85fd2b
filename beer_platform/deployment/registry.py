"""Pushing the image to the function's ECR repository, by digest.

Log in with the token `ecr.get_authorization_token` gives (user `AWS`), tag the built image in
the repository and push it; the function then points at `repository@sha256:...`, which no tag
move can change. The repository's tags are immutable: an image already under the tag (the
same build) is not pushed again. Locally the repository is the stack's registry on 127.0.0.1,
whose endpoint is plain HTTP (`http://` in the token's proxyEndpoint).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from beer_platform.deployment.engine import Engine

# What an image's manifest is (both what podman and docker push): asked for as they are, so the
# registry converts nothing and its digest is the pushed one.
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")


def _existing_digest(ecr: Any, repository: str, tag: str) -> str | None:
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return None
    return found[0]["imageDigest"] if found else None


def _credentials(ecr: Any) -> tuple[str, str, str, bool]:
    """(registry host, user, password, whether it speaks TLS) from ECR's authorization token."""
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    scheme, _, registry = auth["proxyEndpoint"].partition("://")
    return registry, user, password, scheme != "http"


def login(engine: Engine, ecr: Any) -> tuple[str, str, str, bool]:
    """Log the engine in to the registry ECR names; returns its credentials (see `_credentials`)."""
    registry, user, password, tls = _credentials(ecr)
    engine.login(registry, user, password, tls_verify=tls)
    return registry, user, password, tls


def stored_digest(registry: str, repository: str, tag: str, user: str, password: str, tls: bool) -> str:
    """The digest the registry holds `repository:tag` under: the distribution API's answer, for an
    engine that cannot say what it pushed (podman's remote client ignores --digestfile)."""
    scheme = "https" if tls else "http"
    answer = httpx.head(f"{scheme}://{registry}/v2/{repository}/manifests/{tag}", auth=(user, password),
                        headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=30)  # fmt: skip
    answer.raise_for_status()
    return answer.headers["Docker-Content-Digest"]


def push(engine: Engine, ecr: Any, repository_uri: str, local_ref: str, tag: str) -> str:
    """Push `local_ref` as `repository_uri:tag`; returns `repository_uri@sha256:...`."""
    registry, repository = repository_uri.split("/", 1)
    existing = _existing_digest(ecr, repository, tag)
    if existing:
        return f"{repository_uri}@{existing}"
    _, user, password, tls = login(engine, ecr)
    remote = f"{repository_uri}:{tag}"
    engine.tag(local_ref, remote)
    digest = engine.push(remote, tls_verify=tls) or stored_digest(registry, repository, tag, user, password, tls)
    return f"{repository_uri}@{digest}"
