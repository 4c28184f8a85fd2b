"""The predictor the service runs (numpy only) answers what the scikit-learn pipelines do, on the
whole real dataset: every beer's card (nulls included) and every recipe, from the lake and as
posted, plus rows the training never saw (unknown name words, no name, nothing known, no volume,
no hops). It is stored as data and loaded as data: a tampered file is an error, never code.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from beer_platform.lake.recipe_tables import recipe_tables
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.predict import model_files
from beer_platform.predict.inputs import FEATURES, card_rows, recipe_rows
from beer_platform.predict.features import tokens
from beer_platform.predict.predictor import IBUPredictor
from beer_platform.settings import SOURCE_ROOT
from beer_platform.training import ibu_models, recipe_model
from beer_platform.training.compile import forest_of
from beer_platform.training.rows import card_matrix
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
def stored(models: ibu_models.IBUModels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    model_files.save(models.compiled(), directory)  # as the model store keeps it
    return directory


@pytest.fixture(scope="module")
def compiled(stored: Path) -> IBUPredictor:
    return model_files.load(stored)


def test_the_card_model_answers_as_the_pipeline_on_every_beer_and_on_unseen_cards(models, compiled) -> None:
    beers = shipped_beers()
    X = np.vstack([card_matrix(beers), card_rows(UNSEEN_CARDS)])
    assert len(X) == beers.height + len(UNSEEN_CARDS) == 330
    assert any(value is None for value in X[:, 1:].ravel())  # the dataset's own nulls are in
    expected = models.predict_card(X)
    np.testing.assert_allclose(compiled.predict_card(X), expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(compiled.predict_card(X[:1]), expected[:1], rtol=RTOL, atol=0)  # one row alone
    assert compiled.predict_card(card_rows([])).shape == (0,)
    known = set(compiled.card_vocabulary)
    assert not tokens(UNSEEN_CARDS[0]["name"]) & known  # no word of it was seen in training


def test_the_recipe_model_answers_as_the_pipeline_on_every_recipe_from_the_lake_and_as_posted(models, compiled) -> None:
    beers = shipped_beers()
    tables = recipe_tables(BEERS)
    from_lake = recipe_model.lake_matrix(beers, tables.beer_hops, tables.recipes)
    posted = recipe_rows(BEERS)
    unseen = recipe_rows([
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
    compiled = forest_of(models.card.named_steps["model"])
    features = models.card.named_steps["features"].transform(card_matrix(shipped_beers()))
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
import sys
from beer_platform.predict import model_files
from beer_platform.predict.inputs import card_rows
models = model_files.load(sys.argv[1])
models.predict_card(card_rows([{"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20,
                                "srm": 10, "ph": 4.4}]))
loaded = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "scipy", "polars", "joblib"})
assert not loaded, loaded
"""


def test_the_stored_models_load_and_predict_without_scikit_learn_scipy_or_polars(stored: Path) -> None:
    done = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_TRAINING_LIBRARIES, str(stored)],
                          capture_output=True, cwd=SOURCE_ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def _copy(stored: Path, target: Path) -> Path:
    target.mkdir()
    for file in stored.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    return target


def test_a_tampered_model_file_is_an_error_at_load_never_code(stored: Path, tmp_path: Path) -> None:
    flipped = _copy(stored, tmp_path / "flipped")
    blob = bytearray((flipped / model_files.ARRAYS_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (flipped / model_files.ARRAYS_FILE).write_bytes(bytes(blob))
    with pytest.raises(model_files.ModelFileError, match="sha256"):
        model_files.load(flipped)

    pickled = _copy(stored, tmp_path / "pickled")  # a pickle put where the arrays were, with a matching hash
    payload = b"cos\nsystem\n(S'touch " + str(tmp_path / "ran").encode() + b"'\ntR."
    (pickled / model_files.ARRAYS_FILE).write_bytes(payload)
    manifest = json.loads((pickled / model_files.MANIFEST_FILE).read_text())
    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    (pickled / model_files.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(model_files.ModelFileError):
        model_files.load(pickled)
    assert not (tmp_path / "ran").exists()


def test_a_forest_that_points_outside_its_nodes_is_refused(stored: Path, tmp_path: Path) -> None:
    bent = _copy(stored, tmp_path / "bent")
    with np.load(bent / model_files.ARRAYS_FILE) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["card/left"][0] = len(arrays["card/left"]) + 10
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (bent / model_files.ARRAYS_FILE).write_bytes(buffer.getvalue())
    manifest = json.loads((bent / model_files.MANIFEST_FILE).read_text())
    manifest["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (bent / model_files.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(model_files.ModelFileError, match="outside"):
        model_files.load(bent)


def _edited(stored: Path, target: Path, edit) -> Path:
    edited = _copy(stored, target)
    manifest = json.loads((edited / model_files.MANIFEST_FILE).read_text())
    edit(manifest)
    (edited / model_files.MANIFEST_FILE).write_text(json.dumps(manifest))
    return edited


def test_a_recipe_line_that_is_not_two_finite_numbers_or_a_file_of_another_version_is_refused(stored, tmp_path) -> None:
    for name, line in (("nan", ["NaN", 0.4]), ("short", [2.0]), ("text", "2.0, 0.4")):
        edited = _edited(stored, tmp_path / name, lambda manifest: manifest["models"]["recipe"].update(line=line))
        with pytest.raises(model_files.ModelFileError):
            model_files.load(edited)
    older = _edited(stored, tmp_path / "v1", lambda manifest: manifest.update(version=1))  # no line: before the physics
    with pytest.raises(model_files.ModelFileError, match="not a beer-platform/ibu-predictor v2 manifest"):
        model_files.load(older)
