"""Small S3 helpers over a boto3 client: whole objects, JSON state, listings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredObject:
    key: str
    etag: str
    size: int


def get_bytes(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def get_json(s3: Any, bucket: str, key: str) -> Any | None:
    blob = get_bytes(s3, bucket, key)
    return None if blob is None else json.loads(blob)


def put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(value, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )  # fmt: skip


def head_metadata(s3: Any, bucket: str, key: str) -> dict[str, str] | None:
    """The object's user metadata, or None when there is no such object."""
    try:
        return s3.head_object(Bucket=bucket, Key=key)["Metadata"]
    except s3.exceptions.ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):  # HEAD has no body: a bare 404
            return None
        raise



def list_objects(s3: Any, bucket: str, prefix: str) -> list[StoredObject]:
    found: list[StoredObject] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found.append(StoredObject(item["Key"], item["ETag"].strip('"'), item["Size"]))
    return found


def uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"
