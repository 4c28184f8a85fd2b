"""The product: the IBU models, trained on the lake's tables and saved to the BentoML model store."""

import base64
import time
from typing import Any

from dagster import AssetCheckResult, AssetCheckSpec, AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue

from beer_platform.assets.common import EAGER, platform_asset
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.settings import ensure_bentoml_home
from beer_platform.stages.catalog import TrainingTables, read_training_tables
from beer_platform.lake.tables import BEER_HOPS, BEERS, RECIPES
from beer_platform.training import physics
from beer_platform.training.gate import judge_models

MODEL_CHECK = "better_than_baseline_and_current"
TRAINED_ON = (BEERS, BEER_HOPS, RECIPES)  # in the order `read_training_tables` takes them


@platform_asset(
    deps=[AssetKey(table.catalog_asset) for table in TRAINED_ON],
    group_name="ml",
    kinds={"scikit-learn", "bentoml"},
    automation_condition=EAGER,
    check_specs=[
        AssetCheckSpec(
            MODEL_CHECK, asset="ibu_model", blocking=True,
            description="Each of the two models (card, recipe) beats the mean predictor and is at most 5% worse "
            "(CV MAE) than its namesake in the store, and the recipe model follows the physics: for at least 98% "
            "of the catalogue's recipes with boiled hops, every boil addition x1.5, x2 and x3 predicts more IBU and "
            "no hops less; otherwise neither is saved and nothing downstream runs.",
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
    from beer_platform.serving import model_store  # bentoml takes seconds to import: only when training

    started = time.perf_counter()
    tables = read_training_tables(aws.client("glue"), aws.client("s3"), names.glue_database,
                                  [table.name for table in TRAINED_ON])  # fmt: skip
    code_version = context.assets_def.code_versions_by_key[context.asset_key]
    current = model_store.latest_model_info()
    meta = (current or {}).get("metadata", {})
    if current and meta.get("data_version") == tables.version and meta.get("code_version") == code_version:
        # Same data, same training code: the models in the store are this run's models already.
        context.log.info(f"{current['tag']} was trained on this data with this code: kept")
        metrics = model_store.stored_metrics(current)
        yield MaterializeResult(metadata={**_figures(metrics, tables), "model_tag": current["tag"], "retrained": False,
                                          "summary": f"{current['tag']} kept: {_headline(metrics)}"})  # fmt: skip
        yield AssetCheckResult(check_name=MODEL_CHECK, passed=True, metadata={"kept": current["tag"]})
        return
    yield from _retrain(context, aws, names, tables, current, code_version, started)


def _retrain(context, aws, names, tables: TrainingTables, current: dict[str, Any] | None, code_version: str,
             started: float):  # fmt: skip
    from beer_platform.serving import model_store
    from beer_platform.training import ibu_models

    context.log.info(f"training on {tables.tables} partition {tables.partition}: {tables.counts}")
    trained = ibu_models.train(tables.rows, tables.beer_hops, tables.recipes, beers=tables.beers)
    previous = model_store.stored_metrics(current)
    verdict = judge_models(trained.metrics, previous)
    tag, export_uri = "", ""
    if verdict.passed:
        tag = model_store.save_model(trained.models.compiled(), trained.metrics, tables.version, extra_metadata={
            "training_rows": tables.counts, "tables": tables.tables, "partition": tables.partition,
            "code_version": code_version})  # fmt: skip
        export_uri = model_store.export_to_s3(tag, aws.client("s3"), names.artifacts_bucket)
    else:
        context.log.warning("models not saved: " + "; ".join(verdict.reasons))
    yield MaterializeResult(metadata={
        **_figures(trained.metrics, tables), **_plots(trained, tables), "retrained": True,
        "model_tag": tag or "(not saved: see the check)", "dagster/uri": export_uri,
        "summary": f"{tag or 'not saved (see the check)'}: {_headline(trained.metrics)}",
        "previous_model_tag": (current or {}).get("tag", ""), "seconds": round(time.perf_counter() - started, 2),
    })  # fmt: skip
    yield AssetCheckResult(check_name=MODEL_CHECK, passed=verdict.passed, metadata={
        "reasons": MetadataValue.json(verdict.reasons),
        **{f"{name}_cv_mae": round(values["cv_mae"], 3) for name, values in trained.metrics.items()},
        **{f"current_{name}_cv_mae": round((previous or {}).get(name, {}).get("cv_mae", float("nan")), 3)
           for name in trained.metrics},
        **{f"recipe_{key}": round(trained.metrics["recipe"].get(key, float("nan")), 4)
           for key in (*physics.figure_names(), "physics_recipes")},
    })  # fmt: skip


def _figures(metrics: dict[str, dict[str, float]], tables: TrainingTables) -> dict[str, Any]:
    """What every materialization carries, trained or kept: each model's figures as flat floats (the
    UI plots a float key across runs), and the data it was trained on."""
    return {
        **{f"{name}_{key}": round(float(value), 4) for name, values in metrics.items() for key, value in values.items()},
        "metrics": MetadataValue.json({name: {k: round(float(v), 4) for k, v in values.items()}
                                       for name, values in metrics.items()}),
        "data_version": tables.version, "training_tables": MetadataValue.json(tables.tables),
        "training_partition": tables.partition, "training_rows": tables.counts["training_rows"],
        "left_out_missing_ibu": tables.counts["missing_ibu"], "left_out_data_errors": tables.counts["data_error"],
        "dagster/row_count": tables.counts["training_rows"],
    }  # fmt: skip


def _plots(trained, tables: TrainingTables) -> dict[str, Any]:
    from beer_platform.brewing.tinseth import EXTRACT_ALPHA_ACID_PCT
    from beer_platform.training import card_model, ibu_models, plots

    def png(data: bytes, title: str) -> MetadataValue:
        return MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(data).decode()})")

    importances = card_model.feature_importances(trained.card.pipeline, tables.rows)
    return {
        "comparison": MetadataValue.md(ibu_models.comparison_table(trained.metrics)),
        "comparison_plot": png(plots.comparison_plot(trained.card.actual, trained.card.out_of_fold,
                                                     trained.recipe.out_of_fold, trained.tinseth_estimate),
                               "card, recipe, Tinseth vs listed IBU"),
        "card_evaluation_plot": png(plots.evaluation_plots(trained.card.actual, trained.card.out_of_fold), "card model"),
        "recipe_evaluation_plot": png(plots.evaluation_plots(trained.recipe.actual, trained.recipe.out_of_fold),
                                      "recipe model"),
        "extract_assumption": f"hop extracts: {EXTRACT_ALPHA_ACID_PCT:g}% alpha acids (pure CO2 extracts are "
                              "35-60%), boiled like hops; blends: the mean of their two varieties",
        "card_feature_importances": MetadataValue.json({k: round(v, 3) for k, v in importances.items()}),
    }  # fmt: skip


def _headline(metrics: dict[str, dict[str, float]]) -> str:
    from beer_platform.training.ibu_models import headline

    return headline(metrics)
