"""The function through boto3: create or update it on an image, publish a version, move the
`live` alias (with its Function URL), roll back, invoke.

Each published version's description records the model it serves and the image digest, so
that `lambda_api.live_version` tells what is live without pulling anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from beer_platform.deployment.function_url import function_url_event
from beer_platform.deployment.sandbox import MEMORY_MB, TIMEOUT_S
from beer_platform.names import ResourceNames


class NoPreviousVersion(RuntimeError):
    """Rollback asked for, but `live` already points at the oldest published version."""


class InvocationFailed(RuntimeError):
    """The function raised (Lambda's FunctionError), or answered something that is not a response."""


@dataclass(frozen=True)
class Deployment:
    version: str  # the published version `live` now points at
    alias: str
    function_url: str
    created: bool  # True when the function itself was created by this deployment


def release_description(model_tag: str, image_uri: str, image_id: str) -> str:
    """What a version's description says (Lambda allows 256 characters): the model, the image's
    digest in the registry and its id in the engine that built it."""
    return json.dumps({"model": model_tag, "image": image_uri.rsplit("@", 1)[-1],
                       "image_id": image_id.removeprefix("sha256:")[:12]}, separators=(",", ":"))  # fmt: skip


def parse_description(description: str) -> dict[str, str]:
    try:
        parsed = json.loads(description)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


# --- the function --------------------------------------------------------------------------------


def _function_exists(lambda_client: Any, name: str) -> bool:
    try:
        lambda_client.get_function(FunctionName=name)
        return True
    except lambda_client.exceptions.ResourceNotFoundException:
        return False


def deploy(lambda_client: Any, iam: Any, names: ResourceNames, image_uri: str, description: str) -> Deployment:
    """Create the function (or update its image), publish a version, point `live` at it, and make
    sure `live` has a Function URL (AWS_IAM auth)."""
    function = names.lambda_function
    created = not _function_exists(lambda_client, function)
    waiter_config = {"Delay": 1, "MaxAttempts": 300}
    if created:
        role = iam.get_role(RoleName=names.lambda_role)["Role"]["Arn"]
        lambda_client.create_function(
            FunctionName=function, PackageType="Image", Code={"ImageUri": image_uri}, Role=role,
            MemorySize=MEMORY_MB, Timeout=TIMEOUT_S, Architectures=["x86_64"], Description=description,
        )  # fmt: skip
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig=waiter_config)
    else:  # an update still in progress (another deploy) would make this one fail: wait for it
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function, WaiterConfig=waiter_config)
        lambda_client.update_function_code(FunctionName=function, ImageUri=image_uri)
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function, WaiterConfig=waiter_config)
    version = lambda_client.publish_version(FunctionName=function, Description=description)["Version"]
    alias = names.lambda_alias
    try:
        lambda_client.update_alias(FunctionName=function, Name=alias, FunctionVersion=version)
    except lambda_client.exceptions.ResourceNotFoundException:
        lambda_client.create_alias(FunctionName=function, Name=alias, FunctionVersion=version)
    try:
        url = lambda_client.get_function_url_config(FunctionName=function, Qualifier=alias)["FunctionUrl"]
    except lambda_client.exceptions.ResourceNotFoundException:
        url = lambda_client.create_function_url_config(FunctionName=function, Qualifier=alias,
                                                       AuthType="AWS_IAM")["FunctionUrl"]  # fmt: skip
    return Deployment(version=version, alias=alias, function_url=url, created=created)


def published_versions(lambda_client: Any, function: str) -> dict[int, str]:
    """{version number: description} of every published version."""
    versions: dict[int, str] = {}
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        for item in page["Versions"]:
            if item["Version"] != "$LATEST":
                versions[int(item["Version"])] = item.get("Description", "")
    return versions


def live_alias_version(lambda_client: Any, names: ResourceNames) -> str:
    """The version the `live` alias points at."""
    return lambda_client.get_alias(FunctionName=names.lambda_function, Name=names.lambda_alias)["FunctionVersion"]


def live_version(lambda_client: Any, names: ResourceNames) -> tuple[str, str]:
    """(version, description) that the `live` alias points at."""
    version = live_alias_version(lambda_client, names)
    return version, published_versions(lambda_client, names.lambda_function).get(int(version), "")


def live_image_uri(lambda_client: Any, names: ResourceNames) -> str:
    """The `ImageUri` of the version that `live` points at, as `get_function` returns it."""
    found = lambda_client.get_function(FunctionName=names.lambda_function, Qualifier=names.lambda_alias)
    return found["Code"]["ImageUri"]


def previous_release(versions: dict[int, str], current: int) -> tuple[str, str] | None:
    """(version, description) of the release before version `current` among `versions`; None when
    there is none. A release's description names its model: Terraform's first version is not one."""
    older = [number for number, description in versions.items()
             if number < current and parse_description(description).get("model")]  # fmt: skip
    return (str(max(older)), versions[max(older)]) if older else None


def rollback(lambda_client: Any, names: ResourceNames) -> tuple[str, str]:
    """Point `live` at the previous release (`previous_release`); returns (from_version, to_version)."""
    current = live_alias_version(lambda_client, names)
    found = previous_release(published_versions(lambda_client, names.lambda_function), int(current))
    if found is None:
        raise NoPreviousVersion(f"{names.lambda_function}:{names.lambda_alias} is at version {current}; "
                                "no earlier release to roll back to")  # fmt: skip
    target = found[0]
    lambda_client.update_alias(FunctionName=names.lambda_function, Name=names.lambda_alias, FunctionVersion=target)
    return current, target


def invoke_remote(lambda_client: Any, names: ResourceNames, beers: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /predict to the `live` alias, as its Function URL would; returns the Lambda response
    ({statusCode, headers, body}); raises InvocationFailed when the function itself failed."""
    answer = lambda_client.invoke(
        FunctionName=names.lambda_function, Qualifier=names.lambda_alias,
        Payload=json.dumps(function_url_event("POST", "/predict", beers, region=names.region)).encode(),
    )  # fmt: skip
    payload = answer["Payload"].read().decode()
    if answer.get("FunctionError"):
        raise InvocationFailed(f"{names.lambda_function}:{names.lambda_alias} failed: {payload[:2000]}")
    try:
        response = json.loads(payload)
    except json.JSONDecodeError:
        raise InvocationFailed(f"not a JSON response: {payload[:500]!r}") from None
    if not isinstance(response, dict) or "statusCode" not in response:
        raise InvocationFailed(f"not a Function URL response: {payload[:500]!r}")
    return response
