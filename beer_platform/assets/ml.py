"""The product: the IBU models, trained on the lake's tables and saved to the BentoML model store."""

import base64
import time

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.catalog import beer_hops_table, beers_table, recipes_table
from beer_platform.assets.common import EAGER, platform_asset
from beer_platform.core.features import training_rows
from beer_platform.core.model_gate import judge_models
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.settings import ensure_bentoml_home
from beer_platform.stages.catalog import read_latest_partition

MODEL_CHECK = "better_than_baseline_and_current"


@platform_asset(
    deps=[beers_table, beer_hops_table, recipes_table],
    group_name="ml",
    kinds={"scikit-learn", "bentoml"},
    automation_condition=EAGER,
    check_specs=[
        AssetCheckSpec(
            MODEL_CHECK, asset="ibu_model", blocking=True,
            description="Each of the two models (card, recipe) beats the mean predictor and is at most 5% worse "
            "(CV MAE) than its namesake in the store; otherwise neither is saved and nothing downstream runs.",
        )  # fmt: skip
    ],
    description=(
        "Two models predicting a beer's IBU, saved together as `ibu_model` in the BentoML model store and "
        "exported to the artifacts bucket: the recipe model (card fields plus per-stage hop grams per litre "
        "and Tinseth features) for clients that send a recipe, the card model (name, abv, target_fg, "
        "target_og, ebc, srm, ph) for those that do not. Trained on the latest partition of the beers, "
        "beer_hops and recipes tables, read through the Glue catalog; both evaluated with repeated 5-fold "
        "CV against a mean predictor, with a grouped CV by hop schedule and the Tinseth estimate alone beside."
    ),
)
def ibu_model(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    ensure_bentoml_home()
    # scikit-learn and bentoml take seconds to import: only when training, not when the code loads.
    from beer_platform.core import ibu_models, training
    from beer_platform.core.tinseth import EXTRACT_ALPHA_ACID_PCT
    from beer_platform.serving import model_store

    started = time.perf_counter()
    glue, s3 = aws.client("glue"), aws.client("s3")
    snapshots = {table: read_latest_partition(glue, s3, names.glue_database, table)
                 for table in (names.glue_table, names.glue_beer_hops_table, names.glue_recipes_table)}  # fmt: skip
    beers, beer_hops, recipes = (snapshot.rows for snapshot in snapshots.values())
    partitions = {snapshot.partition for snapshot in snapshots.values()}
    if len(partitions) != 1:
        raise Failure(f"the tables' latest partitions differ: { {s.table: s.partition for s in snapshots.values()} }")
    [partition] = partitions
    tables = [snapshot.table for snapshot in snapshots.values()]
    rows, counts = training_rows(beers)
    data_version = ibu_models.data_version(beers, beer_hops, recipes)
    code_version = context.assets_def.code_versions_by_key[context.asset_key]
    current = model_store.latest_model_info()
    if _same_model(current, data_version, code_version):
        # Same data, same training code: the models in the store are this run's models already.
        context.log.info(f"{current['tag']} was trained on this data with this code: kept")
        kept = model_store.stored_metrics(current)
        yield MaterializeResult(metadata={"metrics": MetadataValue.json(ibu_models.rounded(kept)),
                                          "model_tag": current["tag"], "data_version": data_version,
                                          "retrained": False,
                                          "summary": f"{current['tag']} kept: {ibu_models.headline(kept)}"})  # fmt: skip
        yield AssetCheckResult(check_name=MODEL_CHECK, passed=True, metadata={"kept": current["tag"]})
        return
    context.log.info(f"training on {tables} partition {partition}: {counts}")
    trained = ibu_models.train(rows, beer_hops, recipes)
    metrics = trained.metrics
    previous = model_store.stored_metrics(current)
    verdict = judge_models(metrics, previous)
    importances = training.feature_importances(trained.card.pipeline, rows)
    plots = {
        name: base64.b64encode(training.evaluation_plots(model.actual, model.out_of_fold)).decode()
        for name, model in (("card", trained.card), ("recipe", trained.recipe))
    }
    comparison = base64.b64encode(ibu_models.comparison_plot(
        trained.card.actual, trained.card.out_of_fold, trained.recipe.out_of_fold, trained.tinseth_estimate,
    )).decode()  # fmt: skip

    tag, export_uri = "", ""
    if verdict.passed:
        tag = model_store.save_model(
            trained.models, metrics, data_version,
            extra_metadata={"training_rows": counts, "tables": tables, "partition": partition,
                            "code_version": code_version},
        )  # fmt: skip
        export_uri = model_store.export_to_s3(tag, s3, names.artifacts_bucket)
    else:
        context.log.warning("models not saved: " + "; ".join(verdict.reasons))

    yield MaterializeResult(
        metadata={
            **{f"{name}_{key}": round(float(value), 4) for name, values in metrics.items() for key, value in values.items()},
            "retrained": True,
            "model_tag": tag or "(not saved: see the check)",
            "summary": f"{tag or 'not saved (see the check)'}: {ibu_models.headline(metrics)}",
            "previous_model_tag": (current or {}).get("tag", ""),
            "dagster/uri": export_uri,
            "comparison": MetadataValue.md(ibu_models.comparison_table(metrics)),
            "comparison_plot": MetadataValue.md(f"![card, recipe, Tinseth vs listed IBU](data:image/png;base64,{comparison})"),
            "card_evaluation_plot": MetadataValue.md(f"![card model](data:image/png;base64,{plots['card']})"),
            "recipe_evaluation_plot": MetadataValue.md(f"![recipe model](data:image/png;base64,{plots['recipe']})"),
            "extract_assumption": f"hop extracts: {EXTRACT_ALPHA_ACID_PCT:g}% alpha acids (pure CO2 extracts are "
                                  "35-60%), boiled like hops; blends: the mean of their two varieties",
            "card_feature_importances": MetadataValue.json({k: round(v, 3) for k, v in importances.items()}),
            "training_tables": MetadataValue.json(tables),
            "training_partition": partition,
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
            **{f"{name}_cv_mae": round(values["cv_mae"], 3) for name, values in metrics.items()},
            **{f"{name}_baseline_cv_mae": round(values["baseline_cv_mae"], 3) for name, values in metrics.items()},
            **{f"current_{name}_cv_mae": round((previous or {}).get(name, {}).get("cv_mae", float("nan")), 3)
               for name in metrics},  # fmt: skip
        },
    )


def _same_model(current: dict | None, data_version: str, code_version: str | None) -> bool:
    meta = (current or {}).get("metadata", {})
    return bool(current) and meta.get("data_version") == data_version and meta.get("code_version") == code_version
