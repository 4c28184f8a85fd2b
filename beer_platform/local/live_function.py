"""The function's `live` version, run here as Lambda runs it (moto records functions, runs none).

The image is the one the `live` alias's version points at: its `ImageUri` from `get_function`,
pulled from the local registry exactly as returned. It stays warm across invocations, and a
different `ImageUri` (a deploy or a `lambda rollback` since the last call) brings up the new one.
What the function prints goes to its log group on the local endpoint (`function_logs`), as on
Lambda, and from there by the group's subscription filter to the predictions stream.
"""

from __future__ import annotations

import threading
from typing import Any

from beer_platform.aws.clients import AwsClients
from beer_platform.deployment import lambda_api
from beer_platform.deployment.engine import Engine
from beer_platform.deployment.release import function_config
from beer_platform.deployment.sandbox import WarmFunction
from beer_platform.local.function_logs import FunctionLogs
from beer_platform.names import ResourceNames


class LiveFunction:
    def __init__(self, engine: Engine, clients: AwsClients, names: ResourceNames) -> None:
        self.engine, self.clients, self.names = engine, clients, names
        self._warm: WarmFunction | None = None
        self._lock = threading.Lock()
        self.logs = FunctionLogs(clients.client("logs"), names.lambda_log_group)

    def current(self) -> tuple[str, str]:
        """(version, ImageUri) that `live` points at now."""
        lambda_client = self.clients.client("lambda")
        version = lambda_client.get_alias(FunctionName=self.names.lambda_function,
                                          Name=self.names.lambda_alias)["FunctionVersion"]  # fmt: skip
        return version, lambda_api.live_image_uri(lambda_client, self.names)

    def _function(self) -> WarmFunction:
        version, image_uri = self.current()
        with self._lock:
            if self._warm is None or self._warm.image != image_uri:
                if self._warm is not None:
                    self._warm.close()
                    self._warm = None
                # from the registry, by the reference the function holds (plain HTTP on 127.0.0.1)
                self.engine.pull(image_uri, tls_verify=False)
                self._warm = WarmFunction(self.engine, image_uri, function_config(self.names, version),
                                          on_output=self.logs.line)  # fmt: skip
            return self._warm

    def invoke(self, event: Any) -> Any:
        """The handler's response; raises sandbox.InvocationError when the function failed."""
        return self._function().invoke(event)

    @property
    def image(self) -> str | None:
        return None if self._warm is None else self._warm.image

    def close(self) -> None:
        with self._lock:
            if self._warm is not None:
                self._warm.close()
                self._warm = None
        self.logs.close()  # after the sandbox: its last lines too

    def __enter__(self) -> LiveFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
