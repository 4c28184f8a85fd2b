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

from beer_platform.deployment.engine import Engine


def _existing_digest(ecr: Any, repository: str, tag: str) -> str | None:
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
        return None
    return found[0]["imageDigest"] if found else None


def login(engine: Engine, ecr: Any) -> bool:
    """Log the engine in to the registry ECR names; returns whether it speaks TLS."""
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    scheme, _, registry = auth["proxyEndpoint"].partition("://")
    tls = scheme != "http"
    engine.login(registry, user, password, tls_verify=tls)
    return tls


def push(engine: Engine, ecr: Any, repository_uri: str, local_ref: str, tag: str) -> str:
    """Push `local_ref` as `repository_uri:tag`; returns `repository_uri@sha256:...`."""
    existing = _existing_digest(ecr, repository_uri.split("/", 1)[1], tag)
    if existing:
        return f"{repository_uri}@{existing}"
    tls = login(engine, ecr)
    remote = f"{repository_uri}:{tag}"
    engine.tag(local_ref, remote)
    digest = engine.push(remote, tls_verify=tls)
    return f"{repository_uri}@{digest}"
