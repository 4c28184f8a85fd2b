"""The deployed product: the IBU model as an AWS Lambda function answering the same HTTP API."""

import tempfile
import time

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue

from beer_platform.assets.common import EAGER, platform_asset
from beer_platform.assets.ml import ibu_model
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.settings import ensure_bentoml_home


@platform_asset(
    deps=[ibu_model],
    group_name="serving",
    kinds={"bentoml", "lambda", "docker"},
    automation_condition=EAGER,
    description=(
        "`bentoml build` of the service with the latest ibu_model, a Lambda container image context "
        "(stored in the artifacts bucket, named by its content hash), verified by running its handler on "
        "Function URL events in a fresh process, then deployed: a new function version behind the `live` "
        "alias, with an AWS_IAM Function URL. A failed verification deploys nothing."
    ),
)
def ibu_model_lambda(context: AssetExecutionContext, aws: AWSResource, names: NamesResource) -> MaterializeResult:
    ensure_bentoml_home()
    # bentoml and the deployment code take seconds to import: only when deploying.
    from beer_platform.deployment import lambda_api
    from beer_platform.deployment.release import prepare_context, release
    from beer_platform.deployment.sizing import image_size_estimate
    from beer_platform.serving import model_store

    started = time.perf_counter()
    model = model_store.latest_model_info()
    if model is None:
        raise Failure("no ibu_model in the model store: materialize ibu_model first")
    clients = aws.clients
    resource_names = names.to_names()
    live = _live_model(clients, resource_names)
    if live == model["tag"]:
        # Idempotent: the live version already serves this model (a bento build is never byte-identical).
        context.log.info(f"{names.lambda_function}:{names.lambda_alias} already serves {live}: nothing deployed")
        return MaterializeResult(metadata={"model": live, "deployed": False, "reason": "already live",
                                           "summary": f"{live} already live"})  # fmt: skip

    engine = lambda_api.container_engine()
    with tempfile.TemporaryDirectory(prefix="ibu-lambda-") as work:
        context_dir = prepare_context(work, model["tag"])
        size = image_size_estimate(context_dir)
        done = release(clients, resource_names, context_dir, work, push=engine is not None)
    summary = done.summary()
    report = done.verification
    return MaterializeResult(
        metadata={
            "model": done.model,
            "bento": done.bento,
            "deployed": True,
            "summary": f"{names.lambda_function}: version {summary['version']} on {summary['alias']}, cold start "
            f"{report.cold_total_s:.2f}s, warm p50 {report.warm_p50_ms:.2f} ms",
            "function": names.lambda_function,
            "version": summary["version"],
            "alias": summary["alias"],
            "function_url": MetadataValue.url(summary["function_url"]) if summary["function_url"] else "",
            "dagster/uri": summary["artifact"],
            "image_uri": summary["image"],
            "image": (
                f"built and pushed with {engine}" if done.pushed else
                "NOT built: no container engine here (`docker info` failed). The function records the "
                "image URI; on the local stack moto runs no image, so the verified artifact stands in"
            ),  # fmt: skip
            "verification": MetadataValue.json(report.checks),
            "cold_start_s": round(report.cold_total_s, 3),
            "init_s": round(report.init_s, 3),
            "first_call_ms": round(report.first_call_ms, 2),
            "warm_p50_ms": round(report.warm_p50_ms, 3),
            "warm_p99_ms": round(report.warm_p99_ms, 3),
            "image_size_estimate": MetadataValue.json(size),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


def _live_model(clients, names) -> str | None:
    from beer_platform.deployment import lambda_api

    try:
        _, description = lambda_api.live_version(clients.client("lambda"), names)
    except clients.client("lambda").exceptions.ResourceNotFoundException:
        return None
    return lambda_api.parse_description(description).get("model")
