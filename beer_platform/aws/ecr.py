"""The image repository in ECR."""

from __future__ import annotations

from typing import Any


def ensure_repository(ecr: Any, name: str) -> tuple[str, bool]:
    """(the repository's URI, whether it was created): immutable tags, scanned on push."""
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        return found["repositoryUri"], False
    except ecr.exceptions.RepositoryNotFoundException:
        created = ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE",
                                        imageScanningConfiguration={"scanOnPush": True})["repository"]  # fmt: skip
        return created["repositoryUri"], True
