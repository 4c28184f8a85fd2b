"""The source (PunkAPI) and the stream it is published to (beer_events)."""


from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue

from beer_platform.assets.common import OWNERS, platform_asset
from beer_platform.resources import AWSResource, NamesResource, PunkAPIResource
from beer_platform.stages.ingestion import ingest

punkapi = AssetSpec(
    "punkapi",
    group_name="ingestion",
    kinds={"api"},
    owners=OWNERS,
    description="The PunkAPI v2 beer catalogue (BrewDog DIY Dog): an external HTTP API, read by beer_events.",
)


@platform_asset(
    deps=[punkapi],
    group_name="ingestion",
    kinds={"python", "kinesis"},
    description=(
        "Every beer of the PunkAPI catalogue published to the Kinesis stream, one record per beer "
        "(partition key = id). Fetches the whole catalogue before publishing anything; publishes a "
        "given catalogue once per day."
    ),
)
def beer_events(
    context: AssetExecutionContext, punkapi: PunkAPIResource, aws: AWSResource, names: NamesResource
) -> MaterializeResult:
    with punkapi.client() as api:
        report = ingest(api, aws.client("kinesis"), aws.client("s3"), names.stream, names.artifacts_bucket)
    if report.already_published_at:
        context.log.info(f"catalogue unchanged since {report.already_published_at}: nothing published")
    pub = report.publish_report
    return MaterializeResult(
        metadata={
            "dagster/row_count": report.fetched,
            "summary": f"{report.published} published to {names.stream}",
            "records_published": report.published,
            "already_published_at": report.already_published_at or "",
            "content_sha256": report.content_sha256,
            "stream": names.stream,
            "dagster/uri": f"kinesis://{names.stream}",
            "put_records_calls": pub.put_calls,
            "records_retried": pub.retried_records,
            "shard_sequence_ranges": MetadataValue.json(
                {shard: [str(lo), str(hi)] for shard, (lo, hi) in pub.shard_ranges.items()}
            ),
            "api_stats": MetadataValue.json(report.api_stats),
            "fetch_seconds": round(report.fetch_s, 3),
            "publish_seconds": round(report.publish_s, 3),
            "records_per_second": round(report.published / report.publish_s, 1) if report.publish_s else 0.0,
        }
    )
