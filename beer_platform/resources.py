"""Dagster resources: configuration plus a client, nothing more. The logic lives in aws/ and core/."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from dagster import ConfigurableResource
from pydantic import PrivateAttr

from beer_platform.aws.query import AthenaQuery, DuckDBGlueQuery, QueryResult
from beer_platform.names import ResourceNames
from beer_platform.punkapi_client import PunkAPIClient
from beer_platform.settings import Settings


class AWSResource(ConfigurableResource):
    """boto3 clients for one AWS endpoint: moto's server locally, the real AWS otherwise."""

    region_name: str
    endpoint_url: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    max_attempts: int = 8

    _clients: dict[str, Any] = PrivateAttr(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=self.region_name,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.aws_access_key_id,
                aws_secret_access_key=self.aws_secret_access_key,
                # botocore retries throttling and 5xx itself, with backoff.
                config=BotoConfig(retries={"max_attempts": self.max_attempts, "mode": "standard"}),
            )
        return self._clients[service]


class NamesResource(ConfigurableResource):
    """The resource names in use (see beer_platform/names.py), as run configuration."""

    raw_bucket: str
    cleaned_bucket: str
    artifacts_bucket: str
    stream: str
    stream_shards: int
    glue_database: str
    glue_table: str
    athena_workgroup: str
    ecr_repository: str
    lambda_function: str
    lambda_alias: str
    lambda_role: str
    region: str

    @classmethod
    def from_names(cls, names: ResourceNames) -> NamesResource:
        return cls(**names.as_dict())

    def to_names(self) -> ResourceNames:
        return ResourceNames(**{field: getattr(self, field) for field in ResourceNames.__dataclass_fields__})


class PunkAPIResource(ConfigurableResource):
    base_url: str
    max_attempts: int = 6
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 20.0

    def client(self) -> PunkAPIClient:
        return PunkAPIClient(
            self.base_url,
            max_attempts=self.max_attempts,
            backoff_initial=self.backoff_initial_s,
            backoff_max=self.backoff_max_s,
        )


class QueryResource(ConfigurableResource):
    """SQL over the Glue table: `duckdb` (local, reads Parquet from the S3 endpoint) or `athena`."""

    engine: str  # "duckdb" | "athena"

    def run(self, sql: str, aws: AWSResource, names: NamesResource) -> QueryResult:
        if self.engine == "athena":
            return AthenaQuery(aws.client("athena"), names.glue_database, names.athena_workgroup).run(sql)
        return DuckDBGlueQuery(
            aws.client("glue"), names.glue_database, names.glue_table, aws.endpoint_url or "", aws.region_name
        ).run(sql)


def build_resources(settings: Settings) -> dict[str, ConfigurableResource]:
    """The one place where the environment turns into resources; the assets never look at it."""
    return {
        "aws": AWSResource(
            region_name=settings.region,
            endpoint_url=settings.aws_endpoint_url,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
        ),
        "names": NamesResource.from_names(settings.names),
        "punkapi": PunkAPIResource(base_url=settings.punkapi_base_url),
        "query": QueryResource(engine="athena" if settings.env == "aws" else "duckdb"),
    }
