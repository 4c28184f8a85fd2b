"""A test's own AWS resources in the shared local stack: the few a test writes to, made with boto3.

The stack's resources come from `terraform apply` of infra/ under the platform's names; a test
that must see only what it wrote gets its own bucket names, stream, Glue database and execution
role instead (the repository and the function are created by the deployment itself when
missing). Terraform is not run per test: a first apply is about a minute of provider waiters.
"""

from __future__ import annotations

import json

from beer_platform.aws.clients import AwsClients
from beer_platform.names import ResourceNames
from beer_platform.stream.records import PREDICTION_LOG_KEY

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def create_own_resources(clients: AwsClients, names: ResourceNames) -> None:
    """Versioned SSE-KMS buckets, the streams (active), the function's log group and its subscription,
    the database and the role, as infra/ names them."""
    s3 = clients.client("s3")
    for bucket in (names.raw_bucket, names.cleaned_bucket, names.artifacts_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": names.region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})  # fmt: skip
    kinesis = clients.client("kinesis")
    for stream in (names.stream, names.predictions_stream):
        kinesis.create_stream(StreamName=stream, ShardCount=names.stream_shards)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    # the function's log group, its prediction lines delivered to the predictions stream (serving module)
    logs = clients.client("logs")
    logs.create_log_group(logGroupName=names.lambda_log_group)
    arn = kinesis.describe_stream_summary(StreamName=names.predictions_stream)["StreamDescriptionSummary"]["StreamARN"]
    logs.put_subscription_filter(logGroupName=names.lambda_log_group, filterName="predictions",
                                 filterPattern=f'"{PREDICTION_LOG_KEY}"', destinationArn=arn,
                                 roleArn=f"arn:aws:iam::123456789012:role/{names.lambda_function}-prediction-log")  # fmt: skip
    clients.client("glue").create_database(DatabaseInput={"Name": names.glue_database})
    clients.client("iam").create_role(RoleName=names.lambda_role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
