"""The one factory for boto3 clients: the Dagster resources, the deployment, the local stack's
provisioning, the CLI and the tests all get their clients here, configured the same way.

`AwsClients` holds one endpoint's configuration (the fields of dagster-aws's
`ResourceWithBoto3Configuration`, which `resources.AWSResource` extends) and makes each
service's client once, from one boto3 session (service models and endpoint rules are loaded
once, not once per client). Every client retries throttling and 5xx answers with botocore's
"standard" backoff.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any

import boto3
from botocore.config import Config

from beer_platform.settings import LOCAL_CREDENTIALS, Settings

DEFAULT_MAX_ATTEMPTS = 8


def make_client(
    service: str,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    profile_name: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    use_ssl: bool = True,
    verify: bool | None = True,
    session: boto3.session.Session | None = None,
) -> Any:
    """A boto3 client for `service` (from `session`, else a new one for `profile_name`).
    Credentials not given come from boto3's usual chain."""
    session = session or boto3.session.Session(profile_name=profile_name)
    return session.client(
        service,
        region_name=region_name,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        use_ssl=use_ssl,
        verify=verify,
        config=Config(retries={"max_attempts": max_attempts, "mode": "standard"}),
    )


@dataclass
class AwsClients:
    """boto3 clients for one endpoint and region, each service's made once: `clients.client("s3")`."""

    region_name: str | None = None
    endpoint_url: str | None = None  # None = the real AWS endpoints
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    profile_name: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    use_ssl: bool = True
    verify: bool | None = True
    _made: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _session: Any = field(default=None, init=False, repr=False, compare=False)
    # A boto3 session is not thread-safe: clients are made one at a time (using them is safe).
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsClients:
        return cls(
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
        )

    @classmethod
    def for_local_endpoint(cls, endpoint_url: str, region_name: str) -> AwsClients:
        """The local stack's moto server, with the fixed local credentials."""
        key, secret = LOCAL_CREDENTIALS
        return cls(region_name=region_name, endpoint_url=endpoint_url, aws_access_key_id=key,
                   aws_secret_access_key=secret)  # fmt: skip

    def config(self) -> dict[str, Any]:
        """The configuration fields, as `make_client` (and dagster-aws's boto3 fields) name them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._made:
                if self._session is None:
                    self._session = boto3.session.Session(profile_name=self.profile_name)
                self._made[service] = make_client(service, **self.config(), session=self._session)
            return self._made[service]

    def credentials(self) -> tuple[str, str, str | None]:
        """(access key, secret, session token) these clients sign with (for DuckDB's S3 reader)."""
        if self.aws_access_key_id and self.aws_secret_access_key:
            return self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token
        found = boto3.session.Session(profile_name=self.profile_name).get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials: configure boto3 (environment, profile or role)")
        frozen = found.get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token
