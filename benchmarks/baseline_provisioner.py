"""The baseline of `bench_make_run`: a hand-written provisioner of the local endpoint (part of
what infra/ declares, under the same names, no keys, lifecycle rules or tags), as the stack's
infrastructure in place of `terraform apply`, so the two can be timed side by side.

`python -m benchmarks.baseline_provisioner --state-dir D --aws-port P --punkapi-port Q` runs a
local stack with it (what `beer-platform stack up` runs with Terraform). Idempotent: safe on
every start, including after a replay that already restored the resources.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.ecr import ensure_repository
from beer_platform.local import stack
from beer_platform.names import DEFAULT_NAMES, ResourceNames
from beer_platform.stream.records import PREDICTION_LOG_KEY


LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _buckets(names: ResourceNames) -> list[str]:
    return [names.raw_bucket, names.cleaned_bucket, names.artifacts_bucket]


def provision(endpoint_url: str, names: ResourceNames) -> list[str]:
    """Create whatever is missing; return what was created."""
    created: list[str] = []
    region = names.region
    clients = AwsClients.for_local_endpoint(endpoint_url, region)
    s3 = clients.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in _buckets(names):
        if bucket in existing:
            continue
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
        created.append(f"s3://{bucket}")

    kinesis = clients.client("kinesis")
    for stream in (names.stream, names.predictions_stream):
        try:
            kinesis.describe_stream_summary(StreamName=stream)
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            kinesis.create_stream(StreamName=stream, ShardCount=names.stream_shards)
            kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
            created.append(f"kinesis:{stream}")
    created += _function_log_delivery(clients, names)

    glue = clients.client("glue")
    try:
        glue.get_database(Name=names.glue_database)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(DatabaseInput={"Name": names.glue_database})
        created.append(f"glue:{names.glue_database}")

    athena = clients.client("athena")
    workgroups = {w["Name"] for w in athena.list_work_groups().get("WorkGroups", [])}
    if names.athena_workgroup not in workgroups:
        athena.create_work_group(
            Name=names.athena_workgroup,
            Configuration={
                "ResultConfiguration": {"OutputLocation": f"s3://{names.artifacts_bucket}/athena-results/"},
                "EnforceWorkGroupConfiguration": True,
            },
        )
        created.append(f"athena:{names.athena_workgroup}")

    iam = clients.client("iam")
    try:
        iam.get_role(RoleName=names.lambda_role)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=names.lambda_role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
        created.append(f"iam:{names.lambda_role}")

    if ensure_repository(clients.client("ecr"), names.ecr_repository)[1]:
        created.append(f"ecr:{names.ecr_repository}")
    return created


def _function_log_delivery(clients: AwsClients, names: ResourceNames) -> list[str]:
    """The function's log group, subscribed to the predictions stream (its prediction lines)."""
    logs = clients.client("logs")
    group = names.lambda_log_group
    if logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    logs.create_log_group(logGroupName=group)
    stream_arn = clients.client("kinesis").describe_stream_summary(
        StreamName=names.predictions_stream)["StreamDescriptionSummary"]["StreamARN"]  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="predictions", filterPattern=f'"{PREDICTION_LOG_KEY}"',
                                 destinationArn=stream_arn, roleArn=f"arn:aws:iam::123456789012:role/{names.lambda_role}")  # fmt: skip
    return [f"logs:{group}"]


class Provisioner:
    """`provision` as a `local.infrastructure.Infrastructure`: done before the stack says it is up."""

    def __init__(self, names: ResourceNames = DEFAULT_NAMES) -> None:
        self.names = names
        self._status: dict[str, Any] = {"state": "applying", "by": "provisioner"}

    def prepare(self, endpoint: str) -> None:
        pass

    def begin(self, endpoint: str, registry: str | None) -> None:
        started = time.monotonic()
        created = provision(endpoint, self.names)
        self._status = {"state": "applied", "by": "provisioner", "unchanged": not created, "resources": len(created),
                        "seconds": round(time.monotonic() - started, 1)}  # fmt: skip

    def status(self) -> dict[str, Any]:
        return dict(self._status)

    def stop(self, timeout: float) -> None:
        pass


def command(state_dir: Path, aws_port: int, punkapi_port: int) -> list[str]:
    """The baseline stack's command line (for `local.stack.launch_detached`)."""
    import sys

    return [sys.executable, "-m", "benchmarks.baseline_provisioner", "--state-dir", str(state_dir),
            "--aws-port", str(aws_port), "--punkapi-port", str(punkapi_port)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--aws-port", type=int, required=True)
    parser.add_argument("--punkapi-port", type=int, required=True)
    args = parser.parse_args()
    stack.run_foreground(Path(args.state_dir), args.aws_port, args.punkapi_port, infrastructure=Provisioner())


if __name__ == "__main__":
    main()
