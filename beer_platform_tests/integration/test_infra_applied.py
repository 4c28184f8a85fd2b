"""The local stack's AWS resources are configured as infra/ declares them: read back with boto3 from
the stack the whole suite shares (Terraform applied it once; nothing here applies again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.local import stack
from beer_platform.local.terraform import Workspace
from beer_platform.names import DEFAULT_NAMES
from beer_platform_tests import infra_names as infra

pytestmark = pytest.mark.integration
MANAGED = {"Key": "ManagedBy", "Value": "terraform"}


@pytest.fixture(scope="module")
def outputs(local_stack: dict, stack_dir: Path) -> dict[str, Any]:
    stack.wait_until(stack_dir, "applied")
    return Workspace(stack_dir / stack.TERRAFORM_DIR).outputs()


@pytest.fixture(scope="module")
def client(local_stack: dict):
    return AwsClients.for_local_endpoint(local_stack["aws_endpoint_url"], DEFAULT_NAMES.region).client


@pytest.fixture(scope="module")
def declared() -> dict[str, Any]:
    """The defaults of infra/'s root variables (the local stack changes none it reads here)."""
    variables = infra.blocks(infra.load(infra.INFRA_DIR / "variables.tf"), "variable")
    return {name: body.get("default") for name, body in variables.items()}


def test_the_stream_has_the_declared_shards_retention_encryption_and_tags(outputs, client, declared):
    kinesis = client("kinesis")
    summary = kinesis.describe_stream_summary(StreamName=outputs["stream"])["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"]["StreamMode"] == declared["stream_mode"]
    assert summary["OpenShardCount"] == declared["stream_shards"]
    assert summary["RetentionPeriodHours"] == declared["stream_retention_hours"] == 48
    assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", outputs["stream_kms_key_arn"])
    assert "IteratorAgeMilliseconds" in summary["EnhancedMonitoring"][0]["ShardLevelMetrics"]
    assert MANAGED in kinesis.list_tags_for_stream(StreamName=outputs["stream"])["Tags"]


@pytest.mark.parametrize("zone", ["raw", "cleaned", "artifacts"])
def test_each_data_bucket_is_encrypted_versioned_private_logged_and_expires_old_versions(outputs, client, declared,
                                                                                        zone):  # fmt: skip
    s3, bucket = client("s3"), outputs[f"{zone}_bucket"]
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": outputs["lake_kms_key_arn"]}  # fmt: skip
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": outputs["access_log_bucket"], "TargetPrefix": f"{bucket}/"}  # fmt: skip
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket)
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    noncurrent = rules["noncurrent-versions-and-failed-uploads"]["NoncurrentVersionExpiration"]["NoncurrentDays"]
    assert noncurrent == declared["noncurrent_version_expiration_days"]
    tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert MANAGED in tags and {"Key": "beer-platform/zone", "Value": zone} in tags


def test_the_raw_bucket_tiers_then_expires_old_data(outputs, client, declared):
    rules = {r["ID"]: r for r in client("s3").get_bucket_lifecycle_configuration(Bucket=outputs["raw_bucket"])["Rules"]}
    tiering = rules["raw-tiering-and-expiry"]
    assert tiering["Transitions"] == [{"Days": declared["raw_transition_days"],
                                       "StorageClass": declared["raw_transition_storage_class"]}]  # fmt: skip
    assert tiering["Expiration"] == {"Days": declared["raw_expiration_days"]}


def test_the_keys_are_enabled_rotated_and_tagged(outputs, client):
    kms = client("kms")
    for output in ("stream_kms_key_arn", "lake_kms_key_arn", "serving_kms_key_arn"):
        key = outputs[output]
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
        assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
        assert {"TagKey": "ManagedBy", "TagValue": "terraform"} in kms.list_resource_tags(KeyId=key)["Tags"]


def test_the_serving_side_is_as_declared(outputs, client, declared):
    repository = client("ecr").describe_repositories(repositoryNames=[outputs["ecr_repository"]])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE" and repository["imageScanningConfiguration"]["scanOnPush"]
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": outputs["serving_kms_key_arn"]}
    [group] = client("logs").describe_log_groups(logGroupNamePrefix=outputs["lambda_log_group"])["logGroups"]
    assert group["retentionInDays"] == declared["lambda_log_retention_days"]
    assert group["kmsKeyId"] == outputs["serving_kms_key_arn"]
    function = client("lambda").get_function_configuration(FunctionName=outputs["lambda_function"])
    assert (function["MemorySize"], function["Timeout"]) == (declared["lambda_memory_mb"],
                                                             declared["lambda_timeout_seconds"])  # fmt: skip
    assert function["TracingConfig"]["Mode"] == "Active"
    assert function["LoggingConfig"]["LogGroup"] == outputs["lambda_log_group"]
    url = client("lambda").get_function_url_config(FunctionName=outputs["lambda_function"],
                                                   Qualifier=outputs["lambda_alias"])  # fmt: skip
    assert url["AuthType"] == "AWS_IAM" and url["FunctionUrl"] == outputs["function_url"]


def test_the_functions_log_group_delivers_its_prediction_lines_to_the_predictions_stream(outputs, client):
    from beer_platform.stream.records import PREDICTION_LOG_KEY

    stream = client("kinesis").describe_stream_summary(StreamName=outputs["predictions_stream"])
    (subscription,) = client("logs").describe_subscription_filters(
        logGroupName=DEFAULT_NAMES.lambda_log_group)["subscriptionFilters"]  # fmt: skip
    assert subscription["destinationArn"] == stream["StreamDescriptionSummary"]["StreamARN"]
    assert subscription["filterPattern"] == f'"{PREDICTION_LOG_KEY}"'
    assert subscription["roleArn"].endswith(f"role/{DEFAULT_NAMES.lambda_function}-prediction-log")
