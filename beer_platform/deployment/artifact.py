"""The packed build context: a deterministic tar.gz named by its sha256, stored in S3."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beer_platform.aws import s3 as s3_ops

ARTIFACT_PREFIX = "lambda/ibu-model-"


def pack(context_dir: Path | str) -> tuple[bytes, str]:
    """A deterministic tar.gz of the context and its sha256: the same files give the same bytes.

    Sorted entries; mtime 0, uid/gid 0, no owner names, normalised modes; GNU format (no pax
    headers, hence no pax times); gzip header without name or time.
    """
    root = Path(context_dir)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
            if path.is_symlink():
                raise ValueError(f"symlink in build context: {path}")
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.mode, info.size = 0o644, path.stat().st_size
                with path.open("rb") as file:
                    tar.addfile(info, file)
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    data = packed.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def artifact_key(sha256: str) -> str:
    return f"{ARTIFACT_PREFIX}{sha256[:16]}.tar.gz"


@dataclass(frozen=True)
class Artifact:
    bucket: str
    key: str
    sha256: str
    size: int
    uploaded: bool  # False when the key already existed (same content, by construction)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def upload(s3: Any, bucket: str, data: bytes, sha256: str | None = None) -> Artifact:
    """Store a packed context under its content-addressed key, unless it is already there."""
    digest = sha256 or hashlib.sha256(data).hexdigest()
    key = artifact_key(digest)
    if s3_ops.exists(s3, bucket, key):
        return Artifact(bucket, key, digest, len(data), uploaded=False)
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/gzip", Metadata={"sha256": digest})
    return Artifact(bucket, key, digest, len(data), uploaded=True)


def unpack(data: bytes, dest: Path) -> Path:
    """Extract a packed context into `dest` (created), refusing anything outside it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest


def download_and_unpack(s3: Any, bucket: str, key: str, cache_dir: Path | str) -> Path:
    """The unpacked context stored at `key`, cached in `cache_dir/<name>` (checked against its key)."""
    name = Path(key).name.removesuffix(".tar.gz")
    target = Path(cache_dir) / name
    if (target / "context.json").exists():
        return target
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    digest = hashlib.sha256(data).hexdigest()
    if not name.endswith(digest[:16]):
        raise ValueError(f"s3://{bucket}/{key} holds content with sha256 {digest}: not what its key names")
    staging = target.with_name(f".{name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    unpack(data, staging)
    staging.rename(target)  # atomic: a crash never leaves a half-unpacked cache entry
    return target
