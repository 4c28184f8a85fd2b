"""The deployed product: the IBU model as an AWS Lambda function answering the same HTTP API."""

import tempfile
import time

from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue

from beer_platform.assets.common import EAGER, OWNERS, platform_asset
from beer_platform.assets.ml import ibu_model
from beer_platform.resources import AWSResource, LambdaImageResource, NamesResource
from beer_platform.settings import cache_dir, ensure_bentoml_home


@platform_asset(
    deps=[ibu_model],
    group_name="serving",
    kinds={"bentoml", "lambda", "docker"},
    automation_condition=EAGER,
    description=(
        "`bentoml build` of the service with the latest ibu_model, built into a Lambda container image "
        "(Debian 12 + python3.11, awslambdaric), verified by running that image as Lambda does (read-only "
        "root, our Runtime API) on Function URL events, pushed to the ECR repository and deployed by digest: "
        "a new function version behind the `live` alias, with an AWS_IAM Function URL. Released only when at "
        "least as good as the live model: on the same CV folds (same training rows) and on the live model's "
        "logged predictions of beers with a known IBU, answered again by the new one (the comparison is the "
        "metadata). A failed verification pushes and deploys nothing; without a container engine nothing is built."
    ),
)
def ibu_model_lambda(
    context: AssetExecutionContext, aws: AWSResource, names: NamesResource, lambda_image: LambdaImageResource
) -> MaterializeResult:
    ensure_bentoml_home()
    # bentoml and the deployment code take seconds to import: only when deploying.
    from beer_platform.deployment import engine
    from beer_platform.deployment.release import prepare_context, release
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
    challenge = _challenge(model, live, aws, names)
    if not challenge.release:
        reason = "; ".join(challenge.reasons)
        context.log.warning(f"{model['tag']} not released, {live} stays live: {reason}")
        return MaterializeResult(metadata={
            "model": model["tag"], "live_model": live or "", "deployed": False, "reason": reason, **challenge.figures,
            "summary": f"{model['tag']} not released ({live} stays live): {reason}"})  # fmt: skip
    try:
        found = engine.detect()
    except engine.EngineMissing as missing:
        context.log.warning(str(missing))
        return MaterializeResult(metadata={
            "model": model["tag"], "deployed": False,
            "image": f"NOT built, nothing pushed or deployed: {missing}",
            "summary": f"{model['tag']}: image NOT built, nothing pushed or deployed (no container engine)"})  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="ibu-lambda-") as work:
        context_dir = prepare_context(work, cache_dir(), model["tag"])
        done = release(found, clients, resource_names, context_dir, base_image=lambda_image.base_image or None)
    return MaterializeResult(metadata={**_release_metadata(done, found.kind, names.lambda_function),
                                       "live_model": live or "", "challenge": "; ".join(challenge.reasons),
                                       **challenge.figures, "seconds": round(time.perf_counter() - started, 2)})  # fmt: skip


def _release_metadata(done, engine_kind: str, function: str) -> dict:
    from beer_platform.deployment.image import IMAGE_LIMIT_BYTES

    summary, report = done.summary(), done.verification
    return {
        "model": done.image.model,
        "bento": done.image.bento,
        "deployed": True,
        "summary": f"{function}: version {summary['version']} on {summary['alias']}, cold start "
        f"{report.cold_start_s:.2f}s, warm p50 {report.warm_p50_ms:.2f} ms, image {done.image.size_bytes / 2**20:.0f} MB",
        "function": function,
        "version": summary["version"],
        "alias": summary["alias"],
        "function_url": MetadataValue.url(summary["function_url"]) if summary["function_url"] else "",
        "image_uri": done.image_uri,
        "image": f"built with {engine_kind} on {done.image.base_image}, verified, pushed",
        "image_size_bytes": done.image.size_bytes,
        "image_size_mb": round(done.image.size_bytes / 2**20, 1),
        "fraction_of_image_limit": round(done.image.size_bytes / IMAGE_LIMIT_BYTES, 4),
        "verification": MetadataValue.json(report.checks),
        "cold_start_s": round(report.cold_start_s, 3),
        "init_s": round(report.init_s, 3),
        "warm_calls": report.warm_calls,
        "warm_p50_ms": round(report.warm_p50_ms, 3),
        "warm_max_ms": round(report.warm_max_ms, 3),
    }


def _challenge(model: dict, live: str | None, aws: AWSResource, names: NamesResource):
    """The latest model (the challenger) against the live one (`monitoring.challenger`)."""
    from beer_platform.monitoring.challenger import compare
    from beer_platform.serving import model_store
    from beer_platform.stages.challenger import logged_scores

    live_info = model_store.model_info(live) if live else None
    same_rows = live_info is not None and live_info["metadata"].get("data_version") == model["metadata"].get(
        "data_version")  # fmt: skip
    logged = None
    if live:
        try:
            logged = logged_scores(aws.client("glue"), aws.client("s3"), names.glue_database, live,
                                   model_store.load_models(model["tag"]))  # fmt: skip
        except LookupError:  # no catalogue to score against
            logged = None
    return compare(model_store.stored_metrics(model) or {}, model_store.stored_metrics(live_info), same_rows, logged)


def _live_model(clients, names) -> str | None:
    from beer_platform.deployment import lambda_api

    try:
        _, description = lambda_api.live_version(clients.client("lambda"), names)
    except clients.client("lambda").exceptions.ResourceNotFoundException:
        return None
    return lambda_api.parse_description(description).get("model")


served_predictions = AssetSpec(
    "served_predictions",
    deps=[ibu_model_lambda],
    group_name="serving",
    kinds={"kinesis"},
    owners=OWNERS,
    description="What the served model answers, on the predictions stream: each prediction of the Lambda (its log "
    "lines, delivered by a CloudWatch Logs subscription) and of the model server (`make serve`, sent in batches). "
    "Written by the service, not by a run: raw_predictions lands it.",
)
