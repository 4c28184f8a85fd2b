"""The compiled models (numpy only) answer what the scikit-learn pipelines do, on the whole real
dataset: every beer's card (nulls included) and every recipe, from the lake and as posted, plus
rows the training never saw (unknown name words, no name, nothing known, no volume, no hops).

No timing thresholds here (they belong to the benchmarks).
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from beer_platform.core import compiled_model, ibu_models, recipe_model, training
from beer_platform.core.model_inputs import FEATURES, card_rows
from beer_platform.core.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.settings import SOURCE_ROOT
from beer_platform_tests.beer_frames import shipped_beers
from beer_platform_tests.shipped_model import shipped_models

RTOL = 1e-9
BEERS = load_beers()
UNSEEN_CARDS = [
    {"name": "Zyzzyva Qwerty Xylophone", "abv": 5.0, "target_fg": 1010, "target_og": 1050, "ebc": 20, "srm": 10, "ph": 4.4},
    {"name": "Hello My Name Is Zyzzyva", "abv": 8.0, "target_fg": None, "target_og": 1076, "ebc": None, "srm": 10, "ph": None},
    {"name": "", "abv": None, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
    {"name": None, "abv": 12.5, "target_fg": 1020, "target_og": 1100, "ebc": 300, "srm": 150, "ph": 4.0},
    {"name": "IPA Is Dead: Citra!", "abv": 0.5, "target_fg": 1000, "target_og": 1000, "ebc": 0, "srm": 0, "ph": 14},
]  # fmt: skip


@pytest.fixture(scope="module")
def models() -> ibu_models.IBUModels:
    return shipped_models()  # both pipelines fit on the shipped dataset (no CV: a few seconds)


@pytest.fixture(scope="module")
def compiled(models: ibu_models.IBUModels) -> compiled_model.CompiledIBUModels:
    return pickle.loads(pickle.dumps(models.compiled()))  # as the model store keeps it


def test_the_card_model_answers_as_the_pipeline_on_every_beer_and_on_unseen_cards(models, compiled) -> None:
    beers = shipped_beers()
    X = np.vstack([training.as_matrix(beers), card_rows(UNSEEN_CARDS)])
    assert len(X) == beers.height + len(UNSEEN_CARDS) == 330
    assert any(value is None for value in X[:, 1:].ravel())  # the dataset's own nulls are in
    expected = models.predict_card(X)
    np.testing.assert_allclose(compiled.predict_card(X), expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(compiled.predict_card(X[:1]), expected[:1], rtol=RTOL, atol=0)  # one row alone
    assert compiled.predict_card(card_rows([])).shape == (0,)
    known = set(compiled.card_vocabulary)
    assert not compiled_model.tokens(UNSEEN_CARDS[0]["name"]) & known  # no word of it was seen in training


def test_the_recipe_model_answers_as_the_pipeline_on_every_recipe_from_the_lake_and_as_posted(models, compiled) -> None:
    beers = shipped_beers()
    tables = recipe_tables(BEERS)
    from_lake = recipe_model.lake_matrix(beers, tables.beer_hops, tables.recipes)
    posted = recipe_model.as_matrix(BEERS)
    unseen = recipe_model.as_matrix([
        {**card, "volume": volume, "ingredients": ingredients}
        for card, (volume, ingredients) in zip(UNSEEN_CARDS, [
            (None, {"hops": BEERS[0]["ingredients"]["hops"]}),  # no volume: the training median
            ({"value": 5, "unit": "litres"}, {"hops": BEERS[1]["ingredients"]["hops"]}),
            ({"value": 20, "unit": "litres"}, {"hops": []}),  # a recipe with no hops
            (None, {"hops": [{"name": "Columbus Extract", "amount": {"value": 10, "unit": "grams"}, "add": "start"}]}),
            ({"value": 1000, "unit": "litres"}, {"hops": [
                {"name": "Citra", "amount": {"value": 2, "unit": "kilograms"}, "add": "dry hop"},
                {"name": "Magnum", "amount": {"value": 1, "unit": "kilograms"}, "add": "90"}]}),
        ], strict=True)
    ])  # fmt: skip
    X = np.vstack([from_lake, posted, unseen])
    assert len(X) == 2 * len(BEERS) + len(UNSEEN_CARDS)
    expected = models.predict_recipe(X)
    answer = compiled.predict_recipe(X)
    assert answer.shape == (len(X), 2)
    np.testing.assert_allclose(answer, expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(compiled.predict_recipe(X[:1]), expected[:1], rtol=RTOL, atol=0)
    np.testing.assert_allclose(compiled.recipe_features(X), models.recipe.named_steps["features"].transform(X),
                               rtol=RTOL, atol=0)  # fmt: skip


def test_a_compiled_forest_walks_every_tree_as_scikit_learn_does(models) -> None:
    forest = models.card.named_steps["model"].regressor_
    compiled = compiled_model.CompiledForest([tree.tree_ for tree in forest.estimators_], forest.n_features_in_)
    features = models.card.named_steps["features"].transform(training.as_matrix(shipped_beers()))
    rng = np.random.default_rng(0)
    spread = features + rng.normal(0, features.std(axis=0) + 1e-6, features.shape)  # values between the thresholds
    for X in (features, spread):
        np.testing.assert_allclose(compiled.predict(X), forest.predict(X), rtol=RTOL, atol=0)
    assert compiled.depth == max(tree.tree_.max_depth for tree in forest.estimators_)
    with pytest.raises(ValueError, match="features"):
        compiled.predict(features[:, :-1])


def test_bad_input_shapes_are_refused(compiled) -> None:
    with pytest.raises(ValueError, match="columns"):
        compiled.predict_card(np.zeros((1, len(FEATURES) + 1), dtype=object))
    with pytest.raises(ValueError, match="columns"):
        compiled.predict_recipe(np.zeros((1, len(FEATURES)), dtype=object))


LOAD_WITHOUT_TRAINING_LIBRARIES = """
import pickle, sys
models = pickle.loads(sys.stdin.buffer.read())
from beer_platform.core.model_inputs import card_rows
models.predict_card(card_rows([{"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20,
                                "srm": 10, "ph": 4.4}]))
loaded = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "scipy", "polars", "joblib"})
assert not loaded, loaded
print(type(models).__module__)
"""


def test_the_compiled_models_unpickle_and_predict_without_scikit_learn_scipy_or_polars(compiled) -> None:
    done = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_TRAINING_LIBRARIES], input=pickle.dumps(compiled),
                          capture_output=True, cwd=SOURCE_ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert done.stdout.decode().strip() == "beer_platform.core.compiled_model"
