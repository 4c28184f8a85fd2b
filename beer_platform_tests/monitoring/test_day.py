"""The served model watched (pure): drift, novelty and live error on the real catalogue."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from beer_platform.lake.beers import CLEANED_SCHEMA
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.monitoring.day import watch
from beer_platform.monitoring.drift import psi
from beer_platform.monitoring.novelty import Familiarity
from beer_platform.predict.inputs import NUMERIC_FEATURES
from beer_platform.training.rows import training_rows


@pytest.fixture(scope="module")
def trained_on() -> pl.DataFrame:
    beers = pl.DataFrame([{name: beer.get(name) for name in CLEANED_SCHEMA} for beer in load_beers()],
                         schema=CLEANED_SCHEMA)  # fmt: skip
    return training_rows(beers)[0]


def _requests(beers: pl.DataFrame, model: str = "ibu_model:live", answered_by: str = "card",
              ibu_offset: float = 0.0, with_ids: bool = True) -> pl.DataFrame:  # fmt: skip
    """The beers as the predictions table holds them after the model answered (ibu: truth + offset)."""
    return beers.select(
        *NUMERIC_FEATURES, beer_id=pl.col("id") if with_ids else pl.lit(None, pl.Int64),
        ibu=pl.col("ibu") + ibu_offset, model=pl.lit(model), answered_by=pl.lit(answered_by))  # fmt: skip


def test_a_day_of_catalogue_beers_does_not_drift(trained_on):
    sample = trained_on.sample(200, seed=1)
    day = watch(_requests(sample), trained_on, {})
    assert day.requests == 200 and day.drifted == []
    assert all(drift.psi < 0.1 for drift in day.features)  # stable, on the usual reading
    assert day.novelty.share <= 0.02


def test_a_day_of_only_imperial_stouts_drifts_on_strength_and_colour(trained_on):
    stouts = trained_on.filter(pl.col("abv") >= 9, pl.col("ebc") >= 80)
    assert stouts.height >= 10
    day = watch(_requests(pl.concat([stouts] * (60 // stouts.height + 1))), trained_on, {})
    assert {"abv", "ebc", "srm", "target_og"} <= set(day.drifted)
    by_feature = {drift.feature: drift for drift in day.features}
    assert by_feature["abv"].served_median > by_feature["abv"].trained_median
    assert by_feature["ebc"].ks > 0.5


def test_requests_unlike_any_training_beer_are_counted_as_unseen(trained_on):
    familiar = Familiarity(trained_on.select(NUMERIC_FEATURES).to_numpy().astype(float))
    # a 12% beer of OG 1040: each field alone is in range, together they are not
    odd = np.array([[12.0, 1010, 1040, 20, 10, 4.4]] * 10)
    seen = trained_on.select(NUMERIC_FEATURES).to_numpy().astype(float)[:90]
    novelty = familiar.novelty(np.vstack([seen, odd]))
    assert novelty.unseen >= 10 and novelty.share <= 0.13


def test_a_request_missing_fields_is_measured_on_what_it_sent(trained_on):
    familiar = Familiarity(trained_on.select(NUMERIC_FEATURES).to_numpy().astype(float))
    assert familiar.novelty(np.array([[np.nan] * 6])).unseen == 0  # all unknown: the training median


def test_too_few_requests_say_nothing_about_drift(trained_on):
    day = watch(_requests(trained_on.filter(pl.col("abv") > 10).head(5)), trained_on, {})
    assert day.drifted == [] and all(drift.psi is None for drift in day.features)


def test_psi_of_a_sample_against_itself_is_zero_and_grows_with_the_shift():
    values = np.random.default_rng(0).normal(0, 1, 5000)
    assert psi(values, values) == pytest.approx(0.0, abs=1e-9)
    assert psi(values, values + 0.2) < psi(values, values + 0.5) < psi(values, values + 1.0)


def test_live_error_is_scored_on_beers_with_a_known_ibu_against_the_answering_models_gate(trained_on):
    sample = trained_on.head(40)
    good = _requests(sample, ibu_offset=3.0)
    bad = _requests(sample, model="ibu_model:new", answered_by="recipe", ibu_offset=30.0)
    anonymous = _requests(sample, ibu_offset=100.0, with_ids=False)  # no id: nothing to score against
    day = watch(pl.concat([good, bad, anonymous]), trained_on,
                {("ibu_model:live", "card"): 12.0, ("ibu_model:new", "recipe"): 11.0})  # fmt: skip
    errors = {(e.model, e.answered_by): e for e in day.errors}
    assert errors[("ibu_model:live", "card")].mae == pytest.approx(3.0) and not errors[("ibu_model:live", "card")].above_gate
    new = errors[("ibu_model:new", "recipe")]
    assert new.mae == pytest.approx(30.0) and new.gate == pytest.approx(11.55) and new.above_gate
    assert day.above_gate == [new]


def test_a_live_error_of_an_unknown_model_has_no_gate_and_fails_nothing(trained_on):
    day = watch(_requests(trained_on.head(40), ibu_offset=50.0), trained_on, {})
    (error,) = day.errors
    assert error.gate is None and not error.above_gate
