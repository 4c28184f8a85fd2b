"""Changes to moto, made in the stack's own process before it serves (or replays) a request.

`point_ecr_at`: make the local endpoint's ECR name the stack's registry. moto answers ECR with
AWS's host names (`<account>.dkr.ecr.<region>.amazonaws.com`), which resolve to nothing here.
Patched, a repository's `repositoryUri` is `127.0.0.1:<port>/<name>` and
`get_authorization_token`'s `proxyEndpoint` is `http://127.0.0.1:<port>`: the platform logs in,
pushes and points the function at the image exactly as in AWS, and the `ImageUri` that
`get_function` returns is pullable as it is. Replayed repositories get the local URI too.

`keep_version_code`: a published Lambda version keeps the image it was published with. moto
5.2.5 copies the function shallowly, so every version shares one `Code` and an
`update_function_code` changes them all: `get_function` of version 1 (or of `live` after a
rollback) would name the newest image.

`as_terraform_expects`: what `terraform apply` of infra/ needs from the endpoint so that the apply
succeeds, the next plan is empty, and a replayed recording gives back the ids Terraform's state
holds. Each change below says why; none changes what AWS gets.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from base64 import b64encode
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

# Ids made from what was asked for (not from moto's one random generator), so replay remakes them.
_ID_NAMESPACE = uuid.UUID("5b1c43f6-3c2e-4a5e-9a63-7f0c1b6b2d10")


def keep_version_code() -> None:
    from moto.awslambda.models import LambdaStorage

    publish = LambdaStorage.publish_version
    if getattr(publish, "keeps_code", False):
        return

    def publish_version(self, name_or_arn, description=""):  # type: ignore[no-untyped-def]
        version = publish(self, name_or_arn, description)
        if version is not None and version.version != "$LATEST":
            version.code = copy.deepcopy(version.code)
        return version

    publish_version.keeps_code = True  # type: ignore[attr-defined]
    LambdaStorage.publish_version = publish_version


def point_ecr_at(registry_host: str) -> None:
    from moto.core.responses import ActionResult
    from moto.ecr import models, responses

    original_init = models.Repository.__init__
    if getattr(original_init, "local_registry", None) == registry_host:
        return

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        getattr(original_init, "wrapped", original_init)(self, *args, **kwargs)
        self.uri = f"{registry_host}/{self.name}"

    init.wrapped = getattr(original_init, "wrapped", original_init)  # type: ignore[attr-defined]
    init.local_registry = registry_host  # type: ignore[attr-defined]
    models.Repository.__init__ = init

    def get_authorization_token(self):  # type: ignore[no-untyped-def]
        registry_ids = self._get_param("registryIds") or [self.current_account]
        token = b64encode(f"AWS:{registry_ids[0]}-auth-token".encode()).decode()
        return ActionResult({"authorizationData": [{
            "authorizationToken": token, "expiresAt": datetime(2100, 1, 1, tzinfo=timezone.utc),
            "proxyEndpoint": f"http://{registry_host}"}]})  # fmt: skip

    responses.ECRResponse.get_authorization_token = get_authorization_token


def as_terraform_expects() -> None:
    """Every change Terraform needs (idempotent: safe to call twice in one process)."""
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket.get_permission, "as_terraform_expects", False):
        return
    _secure_transport()
    _log_delivery_grant_beside_any_principal()
    _eventbridge_notifications_read_back()
    _stream_tags_at_create()
    _lambda_logging_and_image_config()
    _ecs_service_keeps_az_rebalancing()
    _reproducible_kms_key_ids()
    _reproducible_function_urls()
    FakeBucket.get_permission.as_terraform_expects = True  # type: ignore[attr-defined]


def _statements(policy: Any) -> list[dict[str, Any]]:
    document = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def _secure_transport() -> None:
    """moto ignores a Condition it cannot evaluate, so infra/'s TLS-only Deny (Bool
    aws:SecureTransport false) would deny every request; the plain-HTTP endpoint stands in for
    S3's HTTPS one, so a statement that applies only to insecure transport does not apply."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def insecure_only(statement: dict[str, Any]) -> bool:
        value = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
        return value in ("false", ["false"], False, [False])

    def get_permission(self, action: str, resource: str) -> Any:  # type: ignore[no-untyped-def]
        if self.policy is None:
            return PermissionResult.NEUTRAL
        kept = [s for s in _statements(self.policy) if not insecure_only(s)]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": kept})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _log_delivery_grant_beside_any_principal() -> None:
    """PutBucketLogging answers 500 when the target's policy has a statement whose Principal is
    the string "*" (moto calls `.get` on it): look for the log-delivery grant among the others."""
    from moto.s3.models import FakeBucket

    original = FakeBucket._log_permissions_enabled_policy

    def log_permissions(target_bucket: Any, target_prefix: str | None) -> bool:
        if not target_bucket.policy:
            return False
        kept = [s for s in _statements(target_bucket.policy) if isinstance(s.get("Principal"), dict)]
        view = SimpleNamespace(policy=json.dumps({"Statement": kept}).encode(), partition=target_bucket.partition,
                               name=target_bucket.name)  # fmt: skip
        return original(view, target_prefix)

    FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions)


def _eventbridge_notifications_read_back() -> None:
    """GetBucketNotificationConfiguration leaves out EventBridgeConfiguration, so every plan
    would turn `eventbridge = true` on again."""
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self):  # type: ignore[no-untyped-def]
        found = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if found is None or found.event_bridge is None:
            return original(self)
        serialized = self.serialized

        def with_eventbridge(result):  # type: ignore[no-untyped-def]
            result.result["EventBridgeConfiguration"] = {}
            return serialized(result)

        self.serialized = with_eventbridge
        try:
            return original(self)
        finally:
            del self.serialized

    S3Response.get_bucket_notification = get_bucket_notification


def _stream_tags_at_create() -> None:
    """CreateStream drops its Tags, so every plan would tag the stream again."""
    from moto.kinesis.responses import KinesisResponse

    original = KinesisResponse.create_stream

    def create_stream(self):  # type: ignore[no-untyped-def]
        answer = original(self)
        if tags := self._get_param("Tags"):
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), tags)
        return answer

    KinesisResponse.create_stream = create_stream


def _lambda_logging_and_image_config() -> None:
    """moto drops a function's LoggingConfig and answers an empty ImageConfigResponse for every
    image function: each plan would set the one and clear the other again."""
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_configuration = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def init(self, account_id, spec, region, version=1):  # type: ignore[no-untyped-def]
        original_init(self, account_id, spec, region, version)
        self.logging_config = spec.get("LoggingConfig") or {}
        self.image_config_given = "ImageConfig" in spec

    def get_configuration(self, on_create=False):  # type: ignore[no-untyped-def]
        config = original_configuration(self, on_create)
        if not getattr(self, "image_config_given", False):
            config.pop("ImageConfigResponse", None)
        # Lambda's defaults for what was not given: text logs to /aws/lambda/<name>.
        config["LoggingConfig"] = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.function_name}",
                                   **getattr(self, "logging_config", {})}  # fmt: skip
        return config

    def update_configuration(self, config_updates):  # type: ignore[no-untyped-def]
        if "LoggingConfig" in config_updates:
            self.logging_config = config_updates["LoggingConfig"] or {}
        if "ImageConfig" in config_updates:
            self.image_config_given = True
        return original_update(self, config_updates)

    LambdaFunction.__init__ = init
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration


def _ecs_service_keeps_az_rebalancing() -> None:
    """CreateService drops availabilityZoneRebalancing (UpdateService keeps it), so each plan of
    an ECS service (the Dagster deployment's) would set it again."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service

    def create_service(self):  # type: ignore[no-untyped-def]
        answer = original(self)
        if rebalancing := self._get_param("availabilityZoneRebalancing"):
            answer.result["service"].availability_zone_rebalancing = rebalancing
        return answer

    EC2ContainerServiceResponse.create_service = create_service


def _reproducible_kms_key_ids() -> None:
    """moto draws key ids from one random generator, so a replayed recording gives the keys new
    ids and Terraform's state loses them: the n-th key of a description gets the same id again."""
    from moto.kms import models

    original_create = models.KmsBackend.create_key
    original_generate = models.generate_key_id
    chosen = threading.local()
    lock = threading.Lock()

    def generate_key_id(multi_region: bool = False) -> str:
        key_id = getattr(chosen, "key_id", None) or original_generate(multi_region)
        return f"mrk-{key_id}" if multi_region and not key_id.startswith("mrk-") else key_id

    def create_key(self, policy, key_usage, key_spec, description, tags, multi_region=False, origin="AWS_KMS"):  # type: ignore[no-untyped-def]
        with lock:
            same = sum(1 for key in self.keys.values() if key.description == (description or ""))
            chosen.key_id = str(uuid.uuid5(_ID_NAMESPACE, f"{self.account_id}/{self.region_name}/{description}/{same}"))
            try:
                return original_create(self, policy, key_usage, key_spec, description, tags, multi_region, origin)
            finally:
                chosen.key_id = None

    models.generate_key_id = generate_key_id
    models.KmsBackend.create_key = create_key


def _reproducible_function_urls() -> None:
    """A Function URL's host is random in moto, so after a replay Terraform's output would change:
    made from the function's ARN instead."""
    from moto.awslambda.models import FunctionUrlConfig

    original_init = FunctionUrlConfig.__init__

    def init(self, function, config):  # type: ignore[no-untyped-def]
        original_init(self, function, config)
        url_id = uuid.uuid5(_ID_NAMESPACE, function.function_arn).hex
        self.url = f"https://{url_id}.lambda-url.{function.region}.on.aws"

    FunctionUrlConfig.__init__ = init
