"""Dagster resources: configuration plus a client, nothing more. The logic lives in aws/, stages/ and the domain rooms."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

from dagster import ConfigurableResource
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import PrivateAttr, create_model

from beer_platform.aws.clients import AwsClients
from beer_platform.aws.query import AthenaQuery, DuckDBGlueQuery, QueryResult
from beer_platform.deployment.base_image import PRODUCTION_BASE
from beer_platform.names import ResourceNames
from beer_platform.punkapi_client import PunkAPIClient
from beer_platform.settings import Settings


class AWSResource(ResourceWithBoto3Configuration):
    """boto3 clients for one AWS endpoint: moto's server locally, the real AWS otherwise.

    The fields are dagster-aws's boto3 configuration; the clients come from `aws.clients`.
    """

    _clients: AwsClients | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> AWSResource:
        return cls(**AwsClients.from_settings(settings).config())

    @property
    def clients(self) -> AwsClients:
        if self._clients is None:
            self._clients = AwsClients(**{name: getattr(self, name) for name in AwsClients().config()})
        return self._clients

    def client(self, service: str) -> Any:
        return self.clients.client(service)


class _Names(ConfigurableResource):
    """The resource names in use (see beer_platform/names.py), as run configuration."""

    @classmethod
    def from_names(cls, names: ResourceNames) -> NamesResource:
        return cls(**names.as_dict())

    def to_names(self) -> ResourceNames:
        return ResourceNames(**{field.name: getattr(self, field.name) for field in fields(ResourceNames)})


# One field per name of `ResourceNames`, made from it: the two never drift apart.
NamesResource = create_model(
    "NamesResource", __base__=_Names, __module__=__name__,
    **{name: (hint, ...) for name, hint in get_type_hints(ResourceNames).items()},
)


class LambdaImageResource(ConfigurableResource):
    """What the Lambda image is built on: `base_image` empty means the local Debian-made base
    (see deployment/base_image.py); in `aws` the public one."""

    base_image: str = ""


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
    """SQL over the Glue tables (beers, beer_hops, recipes): `duckdb` (local, reads Parquet from the S3
    endpoint) or `athena`."""

    aws: AWSResource
    names: NamesResource
    engine: str  # "duckdb" | "athena"

    def run(self, sql: str) -> QueryResult:
        names = self.names
        if self.engine == "athena":
            return AthenaQuery(self.aws.client("athena"), names.glue_database, names.athena_workgroup).run(sql)
        return DuckDBGlueQuery(self.aws.client("glue"), names.glue_database, self.aws.endpoint_url or "",
                               self.aws.region_name or names.region, self.aws.clients.credentials()).run(sql)  # fmt: skip


def build_resources(settings: Settings) -> dict[str, ConfigurableResource]:
    """The one place where the environment turns into resources; the assets never look at it."""
    aws = AWSResource.from_settings(settings)
    names = NamesResource.from_names(settings.names)
    return {
        "aws": aws,
        "names": names,
        "punkapi": PunkAPIResource(base_url=settings.punkapi_base_url),
        "query": QueryResource(aws=aws, names=names, engine="athena" if settings.env == "aws" else "duckdb"),
        "lambda_image": LambdaImageResource(
            base_image=settings.lambda_base_image or (PRODUCTION_BASE if settings.env == "aws" else "")),
    }
