"""The card model: the client's fields with nulls and unseen names, its name words, its importances."""

from __future__ import annotations

import math
import struct

import numpy as np
import polars as pl
import pytest
from sklearn.pipeline import Pipeline

from beer_platform.predict.inputs import FEATURES, card_rows
from beer_platform.training import card_model, plots
from beer_platform.training.rows import card_matrix, training_rows
from beer_platform_tests.beer_frames import shipped_beers


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    return training_rows(shipped_beers())[0]


@pytest.fixture(scope="module")
def pipeline(rows: pl.DataFrame) -> Pipeline:
    return card_model.fit(rows)


def test_the_pipeline_takes_the_client_fields_with_nulls_and_empty_names(pipeline: Pipeline) -> None:
    records = [
        {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4},
        {"name": "", "abv": None, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
        {"name": None, "abv": 8.0, "target_fg": 1012, "target_og": None, "ebc": 30.0, "srm": None, "ph": 4.2},
        {"name": "Never Seen Words Whatsoever", "abv": 100, "target_fg": 1200, "target_og": 900, "ebc": 2000,
         "srm": 1000, "ph": 14},
    ]  # fmt: skip
    predicted = pipeline.predict(card_rows(records))
    assert predicted.shape == (4,)
    assert np.isfinite(predicted).all() and (predicted >= 0).all()
    assert card_rows([]).shape == (0, len(FEATURES))


def test_name_words_need_two_training_names_and_are_cut_to_five_letters() -> None:
    names = ["Punk IPA", "Hazy Jane IPA", "Imperial Stout", "Imperialist", "AB:06", "AB:07", "Hopped-Up"]
    features = card_model.BeerFeatures().fit(card_rows([{"name": name} for name in names]))
    assert list(features.vocabulary_) == ["imper", "ipa"]  # "ab" is too short to count
    names_out = features.get_feature_names_out()
    assert list(names_out[:9]) == [*FEATURES[1:], "og_minus_fg", "apparent_attenuation", "log1p_ebc"]
    assert list(names_out[9:]) == ["name_has_imper", "name_has_ipa"]
    out = features.transform(card_rows([{"name": "Double IPA"}, {"name": ""}]))
    assert out.shape == (2, 11) and out[:, -1].tolist() == [1.0, 0.0]
    assert np.isfinite(out).all()  # no numbers at all in training: nulls become 0


def test_feature_importances_cover_the_original_fields(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    importances = card_model.feature_importances(pipeline, rows)
    assert list(importances) == FEATURES
    assert all(math.isfinite(value) for value in importances.values())
    assert importances["name"] > 0  # the name is a real signal


def test_evaluation_plots_are_a_small_png(pipeline: Pipeline, rows: pl.DataFrame) -> None:
    actual = rows["ibu"].to_numpy()
    png = plots.evaluation_plots(actual, pipeline.predict(card_matrix(rows)))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (600, 300)
    assert len(png) < 200_000  # small enough to embed as a base64 markdown image
