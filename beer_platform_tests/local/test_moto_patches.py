"""moto as Terraform needs it (local.moto_patches), each change seen through boto3 against moto
in this process: the gap it closes, and that it changes nothing else."""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from beer_platform.local.moto_patches import as_terraform_expects

REGION = "eu-west-1"
TLS_ONLY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip


@pytest.fixture(autouse=True)
def patched():
    as_terraform_expects()
    with mock_aws():
        yield


def client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")


def bucket(name: str = "data-bucket") -> object:
    s3 = client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


def test_a_tls_only_bucket_policy_lets_requests_through_and_a_plain_deny_still_denies():
    s3 = bucket()
    s3.put_bucket_policy(Bucket="data-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [TLS_ONLY]}))
    s3.put_object(Bucket="data-bucket", Key="k", Body=b"x")
    assert s3.get_object(Bucket="data-bucket", Key="k")["Body"].read() == b"x"
    plain = {**TLS_ONLY, "Sid": "DenyAll"}
    del plain["Condition"]
    s3.put_bucket_policy(Bucket="data-bucket", Policy=json.dumps({"Version": "2012-10-17",
                                                                   "Statement": [TLS_ONLY, plain]}))  # fmt: skip
    with pytest.raises(ClientError, match="403|AccessDenied|Forbidden"):
        s3.get_object(Bucket="data-bucket", Key="k")


def test_logging_is_enabled_when_the_target_grants_delivery_beside_a_star_principal_statement():
    s3 = bucket("access-log-bucket")
    bucket()
    grant = {"Sid": "S3ServerAccessLogsDelivery", "Effect": "Allow", "Action": "s3:PutObject",
             "Principal": {"Service": "logging.s3.amazonaws.com"}, "Resource": "arn:aws:s3:::access-log-bucket/*"}
    star = {**TLS_ONLY, "Resource": ["arn:aws:s3:::access-log-bucket", "arn:aws:s3:::access-log-bucket/*"]}
    logging = {"LoggingEnabled": {"TargetBucket": "access-log-bucket", "TargetPrefix": "data-bucket/"}}
    s3.put_bucket_policy(Bucket="access-log-bucket", Policy=json.dumps({"Version": "2012-10-17",
                                                                         "Statement": [star, grant]}))  # fmt: skip
    s3.put_bucket_logging(Bucket="data-bucket", BucketLoggingStatus=logging)
    assert s3.get_bucket_logging(Bucket="data-bucket")["LoggingEnabled"]["TargetBucket"] == "access-log-bucket"
    s3.put_bucket_policy(Bucket="access-log-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [star]}))
    with pytest.raises(ClientError, match="InvalidTargetBucketForLogging"):  # no grant: still refused
        s3.put_bucket_logging(Bucket="data-bucket", BucketLoggingStatus=logging)


def test_eventbridge_notifications_are_read_back():
    s3 = bucket()
    s3.put_bucket_notification_configuration(Bucket="data-bucket",
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})  # fmt: skip
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket="data-bucket")


def test_a_stream_keeps_the_tags_it_was_created_with():
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"ManagedBy": "terraform"})
    assert kinesis.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "ManagedBy", "Value": "terraform"}]


def test_an_image_function_keeps_its_logging_config_and_reports_no_image_config_it_was_not_given():
    role = client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = client("lambda")
    lam.create_function(FunctionName="f", PackageType="Image", Code={"ImageUri": "r/f:1"}, Role=role,
                        LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom/f"})  # fmt: skip
    config = lam.get_function_configuration(FunctionName="f")
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/custom/f"}
    assert "ImageConfigResponse" not in config
    lam.create_function(FunctionName="g", PackageType="Image", Code={"ImageUri": "r/g:1"}, Role=role,
                        ImageConfig={"Command": ["app.handler"]})  # fmt: skip
    config = lam.get_function_configuration(FunctionName="g")
    assert config["ImageConfigResponse"]["ImageConfig"]["Command"] == ["app.handler"]
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/g"}  # Lambda's default


def made_again() -> tuple[list[str], str]:
    """Two keys of one description, one of another, and a Function URL, on a fresh endpoint."""
    kms = client("kms")
    keys = [kms.create_key(Description=d)["KeyMetadata"]["KeyId"] for d in ("lake", "lake", "stream")]
    role = client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = client("lambda")
    lam.create_function(FunctionName="f", PackageType="Image", Code={"ImageUri": "r/f:1"}, Role=role)
    return keys, lam.create_function_url_config(FunctionName="f", AuthType="AWS_IAM")["FunctionUrl"]


def test_key_ids_and_function_urls_come_back_the_same_when_the_same_requests_are_made_again():
    keys, url = made_again()
    assert len(set(keys)) == 3
    requests.post("http://motoapi.amazonaws.com/moto-api/reset")  # as a restarted stack, before its replay
    client("kms").create_key(Description="something else")  # another key first: the others do not move
    assert made_again() == (keys, url)


def test_an_ecs_service_keeps_its_availability_zone_rebalancing():
    ecs = client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="t", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
                                 memory="512", containerDefinitions=[{"name": "app", "image": "r/app:1"}])  # fmt: skip
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="t", desiredCount=1,
                       availabilityZoneRebalancing="DISABLED")  # fmt: skip
    [service] = ecs.describe_services(cluster="c", services=["s"])["services"]
    assert service["availabilityZoneRebalancing"] == "DISABLED"
