"""An `IBUPredictor` on disk: numbers in `forests.npz`, everything else in `manifest.json`.

Data, never code: the arrays are read with `allow_pickle=False`, the manifest is JSON, and
loading checks the archive's sha256 against the manifest and every array's shape and dtype
(`Forest` refuses nodes that point outside it), so a tampered or truncated file is a
`ModelFileError` at load, never code that runs.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from beer_platform.predict.forest import ARRAYS, Forest
from beer_platform.predict.predictor import CARD, MODELS, RECIPE, IBUPredictor

FORMAT = "beer-platform/ibu-predictor"
FORMAT_VERSION = 2  # 2: the recipe model's line
ARRAYS_FILE = "forests.npz"
MANIFEST_FILE = "manifest.json"


class ModelFileError(ValueError):
    """The files are not a model this code can load (missing, tampered, or of another format)."""


def save(predictor: IBUPredictor, directory: Path | str) -> None:
    arrays: dict[str, np.ndarray] = {}
    models: dict[str, Any] = {}
    for model in MODELS:
        forest: Forest = getattr(predictor, f"{model}_forest")
        arrays |= {f"{model}/{name}": array for name, array in forest.arrays().items()}
        arrays[f"{model}/medians"] = np.asarray(getattr(predictor, f"{model}_medians"), dtype=np.float64)
        models[model] = {"vocabulary": getattr(predictor, f"{model}_vocabulary"), "depth": forest.depth,
                         "n_features": forest.n_features}  # fmt: skip
    models[RECIPE]["volume_median"] = predictor.recipe_volume_median
    models[RECIPE]["og_median"] = predictor.recipe_og_median
    models[RECIPE]["line"] = list(predictor.recipe_line)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "sha256": hashlib.sha256(blob).hexdigest(),
                "arrays": {name: [str(a.dtype), list(a.shape)] for name, a in arrays.items()}, "models": models}  # fmt: skip
    directory = Path(directory)
    (directory / ARRAYS_FILE).write_bytes(blob)
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def load(directory: Path | str) -> IBUPredictor:
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        blob = (directory / ARRAYS_FILE).read_bytes()
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{directory}: no readable {MANIFEST_FILE} and {ARRAYS_FILE}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise ModelFileError(f"{directory / MANIFEST_FILE}: not a {FORMAT} v{FORMAT_VERSION} manifest "
                             "(saved by another version of the code? `make run` retrains)")
    if hashlib.sha256(blob).hexdigest() != manifest.get("sha256"):
        raise ModelFileError(f"{directory / ARRAYS_FILE}: its sha256 is not the manifest's (altered or truncated)")
    try:
        return _predictor(manifest, _arrays(blob, manifest))
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{directory}: {error}") from None


def _arrays(blob: bytes, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    expected = {name: (dtype, tuple(shape)) for name, (dtype, shape) in manifest["arrays"].items()}
    found = {name: (str(array.dtype), array.shape) for name, array in arrays.items()}
    if found != expected:
        raise ValueError(f"the arrays are not those the manifest lists: {sorted(set(found) ^ set(expected)) or 'shapes differ'}")
    return arrays


def _predictor(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> IBUPredictor:
    models = manifest["models"]
    forests = {
        model: Forest(**{name: arrays[f"{model}/{name}"] for name in ARRAYS}, depth=int(models[model]["depth"]),
                      n_features=int(models[model]["n_features"]))  # fmt: skip
        for model in MODELS
    }
    vocabularies = {model: {str(k): int(v) for k, v in dict(models[model]["vocabulary"]).items()} for model in MODELS}
    return IBUPredictor(
        card_medians=arrays[f"{CARD}/medians"], card_vocabulary=vocabularies[CARD], card_forest=forests[CARD],
        recipe_medians=arrays[f"{RECIPE}/medians"], recipe_vocabulary=vocabularies[RECIPE],
        recipe_volume_median=float(models[RECIPE]["volume_median"]),
        recipe_og_median=float(models[RECIPE]["og_median"]), recipe_line=_line(models[RECIPE]["line"]),
        recipe_forest=forests[RECIPE],
    )  # fmt: skip


def _line(values: Any) -> tuple[float, float]:
    intercept, slope = (float(value) for value in values)
    if not (np.isfinite(intercept) and np.isfinite(slope)):
        raise ValueError(f"the recipe model's line must be two finite numbers, got {values!r}")
    return intercept, slope
