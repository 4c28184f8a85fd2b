"""Two changes to moto, made in the stack's own process before it serves (or replays) a request.

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
"""

from __future__ import annotations

import copy
from base64 import b64encode
from datetime import datetime, timezone


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
