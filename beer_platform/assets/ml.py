"""The product: the IBU model, trained on the lake's table and saved to the BentoML model store."""

import base64
import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.catalog import beers_table
from beer_platform.assets.common import EAGER, platform_asset
from beer_platform.core.features import FEATURES, training_rows
from beer_platform.core.model_gate import judge
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.settings import ensure_bentoml_home
from beer_platform.stages.catalog import read_latest_partition

MODEL_CHECK = "better_than_baseline_and_current"


@platform_asset(
    deps=[beers_table],
    group_name="ml",
    kinds={"scikit-learn", "bentoml"},
    automation_condition=EAGER,
    check_specs=[
        AssetCheckSpec(
            MODEL_CHECK, asset="ibu_model", blocking=True,
            description="The new model beats the mean predictor and is at most 5% worse (CV MAE) than the "
            "model in the store; otherwise it is not saved and nothing downstream runs.",
        )  # fmt: skip
    ],
    description=(
        "Predicts a beer's IBU from the fields a client can send (name, abv, target_fg, target_og, ebc, srm, "
        "ph). Trained on beers_table's latest partition, read through the Glue catalog; evaluated with "
        "repeated 5-fold CV against a mean predictor; saved to the BentoML model store as `ibu_model` and "
        "exported to the artifacts bucket."
    ),
)
def ibu_model(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    ensure_bentoml_home()
    # scikit-learn and bentoml take seconds to import: only when training, not when the code loads.
    from beer_platform.core import training
    from beer_platform.serving import model_store

    started = time.perf_counter()
    s3 = aws.client("s3")
    snapshot = read_latest_partition(aws.client("glue"), s3, names.glue_database, names.glue_table)
    rows, counts = training_rows(snapshot.beers)
    data_version = training.content_hash(snapshot.beers)
    current = model_store.latest_model_info()
    if _same_model(current, data_version, context.assets_def.code_versions_by_key[context.asset_key]):
        # Same data, same training code: the model in the store is this run's model already.
        context.log.info(f"{current['tag']} was trained on this data with this code: kept")
        kept = current["metadata"]["metrics"]
        yield MaterializeResult(metadata={**_rounded(kept), "model_tag": current["tag"], "data_version": data_version,
                                          "retrained": False, "summary": _headline(current["tag"] + " kept", kept)})  # fmt: skip
        yield AssetCheckResult(check_name=MODEL_CHECK, passed=True, metadata={"kept": current["tag"]})
        return
    context.log.info(f"training on {snapshot.table} partition {snapshot.partition}: {counts}")
    trained = training.train(rows)
    metrics = trained.metrics
    verdict = judge(metrics, (current or {}).get("metadata", {}).get("metrics"))
    importances = training.feature_importances(trained.pipeline, rows)
    plot = base64.b64encode(training.evaluation_plots(trained.actual, trained.out_of_fold)).decode()

    tag, export_uri = "", ""
    if verdict.passed:
        tag = model_store.save_model(
            trained.pipeline, metrics, data_version, FEATURES,
            extra_metadata={"training_rows": counts, "table": snapshot.table, "partition": snapshot.partition,
                            "code_version": context.assets_def.code_versions_by_key[context.asset_key]},
        )  # fmt: skip
        export_uri = model_store.export_to_s3(tag, s3, names.artifacts_bucket)
    else:
        context.log.warning("model not saved: " + "; ".join(verdict.reasons))

    yield MaterializeResult(
        metadata={
            **_rounded(metrics),
            "retrained": True,
            "model_tag": tag or "(not saved: see the check)",
            "summary": _headline(tag or "not saved (see the check)", metrics),
            "previous_model_tag": (current or {}).get("tag", ""),
            "dagster/uri": export_uri,
            "features": MetadataValue.json(FEATURES),
            "feature_importances": MetadataValue.json({k: round(v, 3) for k, v in importances.items()}),
            "evaluation_plot": MetadataValue.md(f"![predicted vs actual, residuals](data:image/png;base64,{plot})"),
            "training_table": snapshot.table,
            "training_partition": snapshot.partition,
            "training_rows": counts["training_rows"],
            "left_out_missing_ibu": counts["missing_ibu"],
            "left_out_data_errors": counts["data_error"],
            "data_version": data_version,
            "dagster/row_count": counts["training_rows"],
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    yield AssetCheckResult(
        check_name=MODEL_CHECK,
        passed=verdict.passed,
        metadata={
            "reasons": MetadataValue.json(verdict.reasons),
            "cv_mae": round(metrics["cv_mae"], 3),
            "baseline_cv_mae": round(metrics["baseline_cv_mae"], 3),
            "current_model_cv_mae": round(
                (current or {}).get("metadata", {}).get("metrics", {}).get("cv_mae", float("nan")), 3
            ),
        },
    )


def _headline(model: str, metrics: dict[str, float]) -> str:
    return (f"{model}: CV MAE {metrics['cv_mae']:.2f} (mean predictor {metrics['baseline_cv_mae']:.2f}), "
            f"R2 {metrics['cv_r2']:.3f}")  # fmt: skip


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {key: round(float(value), 4) for key, value in metrics.items()}


def _same_model(current: dict | None, data_version: str, code_version: str | None) -> bool:
    meta = (current or {}).get("metadata", {})
    return bool(current) and meta.get("data_version") == data_version and meta.get("code_version") == code_version
