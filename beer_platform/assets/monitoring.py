"""The served model watched, one prediction day at a time (`monitoring`, `stages.monitoring`)."""

import math
import time

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
)

from beer_platform.assets.common import platform_asset
from beer_platform.assets.lake import PREDICTION_DAYS
from beer_platform.lake.tables import BEERS, PREDICTIONS
from beer_platform.monitoring.day import UNSEEN_SHARE_LIMIT, WatchedDay
from beer_platform.monitoring.drift import DRIFTED_PSI, FeatureDrift
from beer_platform.predict.inputs import NUMERIC_FEATURES
from beer_platform.resources import AWSResource, NamesResource
from beer_platform.settings import ensure_bentoml_home
from beer_platform.stages.monitoring import watch_day

DRIFT_CHECK = "requests_like_training_data"
LIVE_ERROR_CHECK = "live_error_within_gate"
ANSWERED_BY = ("card", "recipe")


@platform_asset(
    deps=[AssetKey(PREDICTIONS.cleaned_asset), AssetKey(BEERS.catalog_asset)],
    partitions_def=PREDICTION_DAYS,
    group_name="monitoring",
    kinds={"polars", "scipy", "scikit-learn"},  # built by its day's cleaning run (`Zone.follows`), not automation
    check_specs=[
        AssetCheckSpec(DRIFT_CHECK, asset="ibu_model_monitoring", description=(
            f"Warns when the day's requests drifted from the training data: a feature's PSI above {DRIFTED_PSI}, "
            f"or more than {UNSEEN_SHARE_LIMIT:.0%} of the requests unlike any training beer.")),
        AssetCheckSpec(LIVE_ERROR_CHECK, asset="ibu_model_monitoring", description=(
            "Fails when the served model's error on beers whose true IBU the catalogue gives (at least 10 of "
            "them) is above its gate: its own cross-validated MAE plus the release gate's 5%.")),
    ],  # fmt: skip
    description=(
        "The served model watched, per day of the prediction log: for each input field, the PSI (over the "
        "training data's deciles) and the Kolmogorov-Smirnov statistic of the day's requests against the beers "
        "the model was trained on; the same for the predicted IBU; the share of requests unlike any training "
        "beer (scikit-learn's local outlier factor, beyond the 1% least typical training beers); and, for beers sent "
        "with their PunkAPI id, the live MAE against the catalogue's IBU. Every figure is metadata under the "
        "same keys each day, so the UI plots them over the days."
    ),
)
def ibu_model_monitoring(context: AssetExecutionContext, aws: AWSResource, names: NamesResource):
    started = time.perf_counter()
    watched = watch_day(aws.client("glue"), aws.client("s3"), names.glue_database, names.cleaned_bucket,
                        context.partition_key, _cv_mae)  # fmt: skip
    yield MaterializeResult(metadata={**figures(watched), "seconds": round(time.perf_counter() - started, 3)})
    drifted = watched.drifted
    yield AssetCheckResult(
        check_name=DRIFT_CHECK, passed=not drifted, severity=AssetCheckSeverity.WARN,
        description=f"drifted: {', '.join(drifted)}" if drifted else "the requests look like the training data",
        metadata={"drifted": MetadataValue.json(drifted), "psi_limit": DRIFTED_PSI,
                  "unseen_share": watched.novelty.share, "unseen_share_limit": UNSEEN_SHARE_LIMIT},
    )  # fmt: skip
    above = watched.above_gate
    yield AssetCheckResult(
        check_name=LIVE_ERROR_CHECK, passed=not above, severity=AssetCheckSeverity.ERROR,
        description="; ".join(f"{e.model} {e.answered_by}: live MAE {e.mae} > gate {e.gate} over {e.known} beers"
                              for e in above) or "within the gate",  # fmt: skip
        metadata={"live_errors": MetadataValue.json([e.__dict__ for e in watched.errors])},
    )


def _cv_mae(tag: str) -> dict[str, float]:
    """Each answering model's CV MAE, from the model store (empty when it does not hold `tag`)."""
    ensure_bentoml_home()
    from beer_platform.serving import model_store  # bentoml takes seconds to import

    metrics = model_store.stored_metrics(model_store.model_info(tag)) or {}
    return {name: figures["cv_mae"] for name, figures in metrics.items() if "cv_mae" in figures}


def figures(watched: WatchedDay) -> dict:
    """The day's figures under the same keys every day (NaN where a figure cannot be said), for the UI's plots."""
    by_feature = {drift.feature: drift for drift in watched.features}
    out: dict = {"requests": watched.requests}
    for feature in NUMERIC_FEATURES:
        out |= _drift_keys(feature, by_feature[feature])
    out |= _drift_keys("predicted_ibu", watched.predicted)
    out |= {"unseen_share": watched.novelty.share, "unseen_requests": watched.novelty.unseen}
    for answered_by in ANSWERED_BY:
        errors = [e for e in watched.errors if e.answered_by == answered_by]
        known = sum(e.known for e in errors)
        mae = sum(e.mae * e.known for e in errors) / known if known else math.nan
        out |= {f"live_mae_{answered_by}": round(mae, 3), f"live_known_{answered_by}": known}
    drifted = watched.drifted
    out["summary"] = (f"{watched.requests} predictions; " + (f"drifted: {', '.join(drifted)}" if drifted else "no drift")
                      + f"; {watched.novelty.share:.0%} unlike the training data")  # fmt: skip
    return out


def _drift_keys(name: str, drift: FeatureDrift) -> dict:
    return {f"psi_{name}": math.nan if drift.psi is None else drift.psi,
            f"ks_{name}": math.nan if drift.ks is None else drift.ks}  # fmt: skip
