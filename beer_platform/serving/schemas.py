"""The HTTP contract: request and response models, and parsing a raw body into model inputs.

Pure pydantic v2, `predict` and `brewing` (no polars or scikit-learn: the Lambda imports this), shared by the BentoML service and the bare benchmark app so both
validate alike.

`/predict`: a bare JSON list of 1..`MAX_BATCH` beers (the original project's shape). Each beer must
carry every field of `inputs.FEATURES` (a missing key is an error: a misspelt "pH" must not
silently become "unknown"); `null` means unknown and is allowed for every field, since the
dataset itself has nulls and the model fills them in. Optionally a beer carries its recipe in
PunkAPI's shape: `volume` ({"value": 20, "unit": "litres"}) and `ingredients.hops` (a list of
{"name", "amount": {"value", "unit"}, "add", "attribute"}). Other keys are ignored, so a whole
PunkAPI beer object can be posted as it is. A beer with `ingredients.hops` (a list, possibly empty)
is answered by the recipe model, one without by the card model (`parse_predict`). Numbers must be
JSON numbers (no strings, booleans, NaN or Infinity; 1e999 overflows to Infinity and is refused
too) within generous physical bounds:

    abv 0-100 (%), target_fg and target_og 900-1200 (specific gravity x 1000: the dataset has
    1000-1157), ebc 0-2000, srm 0-1000, ph 0-14; name at most 200 characters (the longest
    in the dataset has 54). A recipe is validated by `brewing.recipes.parse_recipe`: a hop name the
    reference does not know (`GET /hops`), a negative amount, a unit that is not a mass (ml and
    total only for non-hops), an `add` that is not a stage or minutes of boil are errors.

`/tinseth`: the same list shape, each record with `target_og`, `volume` and `ingredients.hops`.

Errors: HTTP 400 as BentoML shapes a validation error, `{"error": "<n> validation error for
request body", "detail": [{"type", "loc", "msg"}]}`, where each `msg` starts with the field's
path, e.g. `[3].ph: Input should be less than or equal to 14` or
`[0].ingredients.hops[2].name: unknown hop variety 'Galxy'` (`body` for the request as a whole:
not JSON, not a list, empty, over `MAX_BATCH`). A body over `MAX_BODY_BYTES` is refused with 413
before it is parsed (BentoML renders that one as `[{"error": "body: ..."}]`). The OpenAPI
document (`openapi`) describes exactly this: what it says is valid is answered 200.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from beer_platform.brewing import hop_reference
from beer_platform.predict import inputs
from beer_platform.brewing import tinseth
from beer_platform.predict.predictor import CARD, RECIPE, IBUPredictor
from beer_platform.brewing.hop_reference import HOP_KINDS
from beer_platform.predict.inputs import FEATURES
from beer_platform.brewing.recipes import (
    ADD_STAGES, MASS_UNITS, MAX_BOIL_MINUTES, MAX_GRAMS, MAX_LITRES, MIN_LITRES, NON_MASS_UNITS, VOLUME_UNITS,
    Recipe, RecipeError, parse_recipe,
)  # fmt: skip

MAX_BATCH = 1000
MAX_NAME_LENGTH = 200
# What Lambda accepts (a synchronous invocation's payload): 1000 whole PunkAPI records (~3.3 KB
# each) fit; a batch of bare feature records is ~100 KB.
MAX_BODY_BYTES = 6 * 1024 * 1024


def _number(low: float, high: float, description: str) -> Any:
    return Field(ge=low, le=high, allow_inf_nan=False, strict=True, description=description)


# --- the recipe, as JSON Schema: exactly what `brewing.recipes.parse_recipe` accepts -------------------


def _spellings(word: str) -> list[str]:
    """'dry hop' -> dry hop, Dry hop, Dry Hop, DRY HOP; 'fv addition' also FV Addition (PunkAPI's)."""
    short_upper = " ".join(part.upper() if len(part) <= 2 else part.capitalize() for part in word.split())
    return list(dict.fromkeys([word, word.capitalize(), word.title(), word.upper(), short_upper]))


_MINUTES_PATTERN = r"^(300|[12][0-9]{2}|[1-9]?[0-9])( ?min(ute)?s?)?$"  # 0 to MAX_BOIL_MINUTES
assert MAX_BOIL_MINUTES == 300
TIMED_ADDS = [spelling for stage, (minutes, _) in ADD_STAGES.items() if minutes is not None for spelling in _spellings(stage)]
UNTIMED_ADDS = [spelling for stage, (minutes, _) in ADD_STAGES.items() if minutes is None for spelling in _spellings(stage)]
HOP_NAMES = hop_reference.names_of_kinds(HOP_KINDS)
OTHER_NAMES = hop_reference.names_of_kinds({"not_a_hop"})


def _amount(units: list[str], maximum: float | None, description: str) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "number", "minimum": 0}
    if maximum is not None:
        value["maximum"] = maximum
    return {"type": "object", "description": description, "required": ["value", "unit"],
            "properties": {"value": value, "unit": {"type": "string", "enum": units}}}  # fmt: skip


_GRAMS = [unit for unit, factor in MASS_UNITS.items() if factor == 1.0]
_KILOGRAMS = [unit for unit, factor in MASS_UNITS.items() if factor == 1000.0]
assert set(MASS_UNITS) == {*_GRAMS, *_KILOGRAMS}
_MASS_AMOUNTS = [_amount(_GRAMS, MAX_GRAMS, "grams"), _amount(_KILOGRAMS, MAX_GRAMS / 1000, "kilograms")]
_OTHER_AMOUNT = _amount(sorted(NON_MASS_UNITS), None, "not weighed (a non-hop only): its alpha acids are nil anyway")
_ADD = {"type": "string", "description": "When: a stage (start 60 min, middle 30, end / flame out / whirlpool 5, "
        "dry hop 0, ...) or minutes of boil (0 to 300)"}  # fmt: skip
_ATTRIBUTE = {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "As published: bitter, flavour, aroma"}


def _addition(names: list[str], amounts: list[dict[str, Any]], adds: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["name", "amount", "add"],
        "properties": {
            "name": {"type": "string", "enum": names, "description": "As in GET /hops"},
            "amount": {"anyOf": amounts},
            "add": {**_ADD, "anyOf": [{"enum": adds}, {"pattern": _MINUTES_PATTERN}]},
            "attribute": _ATTRIBUTE,
        },
    }


HOP_ADDITION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        _addition(HOP_NAMES, _MASS_AMOUNTS, TIMED_ADDS, "A hop, blend or extract: weighed, boiled or dry-hopped"),
        _addition(OTHER_NAMES, [*_MASS_AMOUNTS, _OTHER_AMOUNT], TIMED_ADDS + UNTIMED_ADDS,
                  "Not a hop (fruit, spice, sugar, wood...): no bitterness"),
    ]
}  # fmt: skip
VOLUME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The batch (post-boil) volume; unknown: the training median (20 L)",
    "required": ["value", "unit"],
    "properties": {
        "value": {"type": "number", "minimum": MIN_LITRES, "maximum": MAX_LITRES},
        "unit": {"type": "string", "enum": list(VOLUME_UNITS)},
    },
}
_HOPS_LIST = {"type": "array", "items": HOP_ADDITION_SCHEMA, "description": "PunkAPI's ingredients.hops"}
INGREDIENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "PunkAPI's ingredients; only `hops` is read (malt, yeast... are ignored)",
    "properties": {"hops": {"anyOf": [_HOPS_LIST, {"type": "null"}]}},
}


def _optional(schema: dict[str, Any]) -> Any:
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}]})


# --- /predict ---------------------------------------------------------------------------------------


class Beer(BaseModel):
    """One beer to predict the bitterness of. `null` = unknown (filled in by the model). With
    `ingredients.hops` the recipe model answers, without it the card model."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str | None, Field(max_length=MAX_NAME_LENGTH, strict=True, description="Beer name; may be empty")]
    abv: Annotated[float | None, _number(0, 100, "Alcohol by volume, %")]
    target_fg: Annotated[float | None, _number(900, 1200, "Target final gravity x 1000, e.g. 1010")]
    target_og: Annotated[float | None, _number(900, 1200, "Target original gravity x 1000, e.g. 1044")]
    ebc: Annotated[float | None, _number(0, 2000, "Colour, EBC")]
    srm: Annotated[float | None, _number(0, 1000, "Colour, SRM")]
    ph: Annotated[float | None, _number(0, 14, "pH")]
    # validated by brewing.recipes (`parse_predict`), documented by the schemas above
    volume: Annotated[Any, _optional(VOLUME_SCHEMA)] = None
    ingredients: Annotated[Any, _optional(INGREDIENTS_SCHEMA)] = None
    # A whole PunkAPI record carries its id: logged with the prediction, so that the beer's true
    # IBU, once in the catalogue, can score it. Not validated: anything else is no id.
    id: Annotated[Any, WithJsonSchema({"description": "The beer's PunkAPI id, if any (anything else is no id)"})] = None

    @property
    def beer_id(self) -> int | None:
        value = self.id
        return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63 else None


BUZZ_RECIPE: dict[str, Any] = {
    "volume": {"value": 20, "unit": "litres"},
    "ingredients": {"hops": [
        {"name": "Fuggles", "amount": {"value": 25, "unit": "grams"}, "add": "start", "attribute": "bitter"},
        {"name": "First Gold", "amount": {"value": 25, "unit": "grams"}, "add": "start", "attribute": "bitter"},
        {"name": "Fuggles", "amount": {"value": 37.5, "unit": "grams"}, "add": "middle", "attribute": "flavour"},
        {"name": "First Gold", "amount": {"value": 37.5, "unit": "grams"}, "add": "middle", "attribute": "flavour"},
        {"name": "Cascade", "amount": {"value": 37.5, "unit": "grams"}, "add": "end", "attribute": "flavour"},
    ]},
}  # fmt: skip
EXAMPLE_REQUEST: list[dict[str, Any]] = [
    {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4},
    {"name": "Hello My Name Is Ingrid", "abv": 8.2, "target_fg": 1014, "target_og": 1076,
     "ebc": 20, "srm": 10, "ph": 4.4},
    {"name": "", "abv": 7.2, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
    {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4,
     **BUZZ_RECIPE},
]  # fmt: skip

Beers = Annotated[
    list[Beer],
    # "example", not "examples": BentoML's OpenAPI 3.0 Schema model accepts only the former
    Field(min_length=1, max_length=MAX_BATCH, json_schema_extra={"example": EXAMPLE_REQUEST},
          description=f"1 to {MAX_BATCH} beers; the answer has one prediction per beer, in order"),
]  # fmt: skip
BEERS = TypeAdapter(Beers)


class Prediction(BaseModel):
    ibu: float = Field(description="Predicted bitterness, International Bitterness Units")
    model: str = Field(description=f"Which model answered: {RECIPE!r} (the beer has a recipe) or {CARD!r}")
    tinseth_ibu: float | None = Field(
        description="The Tinseth estimate of the recipe (null without one); see POST /tinseth"
    )


class PredictResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {
            "predictions": [{"ibu": 41.2, "model": CARD, "tinseth_ibu": None},
                            {"ibu": 70.5, "model": CARD, "tinseth_ibu": None},
                            {"ibu": 45.0, "model": CARD, "tinseth_ibu": None},
                            {"ibu": 57.8, "model": RECIPE, "tinseth_ibu": 66.3}],
            "model": "ibu_model:5yqvq7a3ogkmmnrn"}}
    )  # fmt: skip

    predictions: list[Prediction] = Field(description="One per beer sent, in the same order")
    model: str = Field(description="The stored model (both of its pipelines) that answered, as name:version")


@dataclass(frozen=True)
class PredictBatch:
    """A parsed /predict body: each model's input rows and, per beer in order, which one answers."""

    card: np.ndarray  # rows of inputs.FEATURES
    recipe: np.ndarray  # rows of inputs.INPUT_COLUMNS
    answered_by: list[str]  # CARD or RECIPE per beer; the i-th of a kind is that kind's i-th row
    beer_ids: list[int | None]  # per beer, its PunkAPI id when the client sent one


def parse_predict(body: bytes | str) -> PredictBatch:
    """Validate a raw /predict body into model inputs; ValidationError naming each bad field."""
    beers = parse_beers(body)
    card_rows, recipe_rows, answered_by = [], [], []
    problems: list[tuple[str, str]] = []
    for index, beer in enumerate(beers):
        card = [getattr(beer, field) for field in FEATURES]
        # the original request shape has no recipe to read
        recipe = NO_RECIPE if beer.volume is None and beer.ingredients is None else _sent_recipe(beer, index, problems)
        if recipe is None:
            continue
        if recipe.hops is None:
            card_rows.append(card)
            answered_by.append(CARD)
        else:
            recipe_rows.append(inputs.input_row(dict(zip(FEATURES, card, strict=True)), recipe))
            answered_by.append(RECIPE)
    if problems:
        raise recipe_error(problems)
    card_matrix = np.array(card_rows, dtype=object).reshape(len(card_rows), len(FEATURES))
    return PredictBatch(card_matrix, inputs.as_rows(recipe_rows), answered_by, [beer.beer_id for beer in beers])


def predictions(batch: PredictBatch, card: np.ndarray, recipe: np.ndarray) -> list[Prediction]:
    """The answer to `batch`, in order, from each model's output for its rows (`IBUPredictor.predict_card`
    and `predict_recipe`: IBU and Tinseth estimate)."""
    rows = {CARD: iter(card), RECIPE: iter(recipe)}
    answered = []
    for kind in batch.answered_by:
        answer = next(rows[kind])
        if kind == RECIPE:
            answered.append(Prediction(ibu=round(float(answer[0]), 2), model=RECIPE, tinseth_ibu=round(float(answer[1]), 2)))
        else:
            answered.append(Prediction(ibu=round(float(answer), 2), model=CARD, tinseth_ibu=None))
    return answered


def predict_now(models: IBUPredictor, batch: PredictBatch) -> list[Prediction]:
    """`predictions` with each model called at once on its rows (no batching across requests)."""
    card = models.predict_card(batch.card) if len(batch.card) else batch.card
    recipe = models.predict_recipe(batch.recipe) if len(batch.recipe) else batch.recipe
    return predictions(batch, card, recipe)


def response_json(answer: list[Prediction], tag: str) -> str:
    """The /predict answer as sent, its predictions answered by the model `tag` (the prediction log
    reads its records' answers back from it: `prediction_log.records`)."""
    return PredictResponse.model_construct(predictions=answer, model=tag).model_dump_json()


NO_RECIPE = Recipe(volume_litres=None, boil_volume_litres=None, attenuation_level=None, hops=None)


def _sent_recipe(sent: Beer | TinsethRecipe, index: int, problems: list[tuple[str, str]]) -> Recipe | None:
    """The recipe a request's record `index` sent (`volume`, `ingredients.hops`), parsed by
    `brewing.recipes`; None, with its problems added, when it is bad."""
    try:
        return parse_recipe({"volume": sent.volume, "ingredients": sent.ingredients}, path=f"[{index}]")
    except RecipeError as error:
        problems.extend(error.problems)
        return None


def parse_beers(body: bytes | str) -> list[Beer]:
    """Validate a raw JSON body; ValidationError (each message prefixed by its path) otherwise.

    pydantic parses the JSON itself: invalid JSON, NaN and Infinity are validation errors too.
    """
    try:
        return BEERS.validate_json(body)
    except ValidationError as error:
        raise _with_paths(error) from None


# --- /tinseth ---------------------------------------------------------------------------------------


class TinsethRecipe(BaseModel):
    """A recipe to estimate: the original gravity, the batch volume and the hop additions."""

    model_config = ConfigDict(extra="ignore")

    target_og: Annotated[float, _number(900, 1200, "Target original gravity x 1000, e.g. 1044")]
    volume: Annotated[Any, WithJsonSchema(VOLUME_SCHEMA)]
    ingredients: Annotated[Any, WithJsonSchema({**INGREDIENTS_SCHEMA, "required": ["hops"],
                                                "properties": {"hops": _HOPS_LIST}})]  # fmt: skip


TinsethRecipes = Annotated[
    list[TinsethRecipe],
    Field(min_length=1, max_length=MAX_BATCH, json_schema_extra={"example": [{"target_og": 1044, **BUZZ_RECIPE}]},
          description=f"1 to {MAX_BATCH} recipes (whole PunkAPI records too); one estimate per recipe, in order"),
]  # fmt: skip
TINSETH_RECIPES = TypeAdapter(TinsethRecipes)


class AdditionEstimate(BaseModel):
    name: str = Field(description="The hop as sent")
    ibu: float = Field(description="This addition's share: 0 for dry hops and non-hops")


class TinsethEstimate(BaseModel):
    ibu: float = Field(description="The Tinseth estimate of the recipe, IBU")
    additions: list[AdditionEstimate] = Field(description="Per entry of ingredients.hops, in order")


class TinsethResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"estimates": [{"ibu": 66.3, "additions": [
            {"name": "Fuggles", "ibu": 10.9}, {"name": "First Gold", "ibu": 19.7}, {"name": "Fuggles", "ibu": 12.5},
            {"name": "First Gold", "ibu": 22.6}, {"name": "Cascade", "ibu": 4.2}]}]}}
    )  # fmt: skip

    estimates: list[TinsethEstimate] = Field(description="One per recipe sent, in the same order")


def parse_tinseth(body: bytes | str) -> list[TinsethEstimate]:
    """Validate a raw /tinseth body and estimate each recipe; ValidationError naming each bad field."""
    try:
        recipes = TINSETH_RECIPES.validate_json(body)
    except ValidationError as error:
        raise _with_paths(error) from None
    estimates, problems = [], []
    for index, sent in enumerate(recipes):
        before = len(problems)
        recipe = _sent_recipe(sent, index, problems)
        if recipe is None:
            continue
        if recipe.volume_litres is None:
            problems.append((f"[{index}].volume", "required: an object with value and unit"))
        if recipe.hops is None:
            problems.append((f"[{index}].ingredients.hops", "required: a list of hop additions"))
        if len(problems) == before:
            estimates.append(_estimate(recipe, sent.target_og))
    if problems:
        raise recipe_error(problems)
    return estimates


def _estimate(recipe: Recipe, target_og: float) -> TinsethEstimate:
    ibus = tinseth.addition_estimates(recipe.hops, recipe.volume_litres, target_og / 1000.0)
    additions = [AdditionEstimate(name=hop.name, ibu=round(ibu, 2)) for hop, ibu in zip(recipe.hops, ibus, strict=True)]
    return TinsethEstimate(ibu=round(sum(ibus), 2), additions=additions)


# --- /hops ------------------------------------------------------------------------------------------


class KnownHop(BaseModel):
    name: str = Field(description="As the dataset spells it (case, accents and punctuation are ignored)")
    kind: str = Field(description="hop, blend (two varieties), extract, or not_a_hop")
    variety: str | None = Field(description="The variety it was matched to (a blend: 'a+b'; null: extract, not a hop)")
    alpha_acid_pct: float = Field(description="The alpha acids the Tinseth estimate uses, % (extracts: assumed)")


class HopsResponse(BaseModel):
    hops: list[KnownHop] = Field(description="Every name a recipe may use, sorted")


def known_hops() -> HopsResponse:
    hops = []
    for name in hop_reference.known_names():
        match = hop_reference.match_hop(name)
        alpha = tinseth.addition_alpha_pct(match.kind, match.variety)
        hops.append(KnownHop(name=name, kind=match.kind, variety=match.variety, alpha_acid_pct=alpha))
    return HopsResponse(hops=hops)


# --- errors -----------------------------------------------------------------------------------------


def error_body(error: ValidationError) -> dict[str, Any]:
    """A 400's body: every problem, each message starting with the field's path."""
    return {"error": f"{error.error_count()} validation error for {error.title}",
            "detail": error.errors(include_url=False, include_context=False, include_input=False)}  # fmt: skip


class BodyTooLarge(Exception):
    """The request body exceeds `MAX_BODY_BYTES` (answered 413)."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(f"body: request body larger than {limit} bytes")


def error_path(loc: tuple[int | str, ...]) -> str:
    """(3, 'ph') -> '[3].ph'; () -> 'body'."""
    if not loc:
        return "body"
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def path_loc(path: str) -> tuple[int | str, ...]:
    """'[0].ingredients.hops[2].name' -> (0, 'ingredients', 'hops', 2, 'name'): `error_path` undone."""
    return tuple(int(index) if index else name for index, name in _PATH_PART.findall(path))


def recipe_error(problems: list[tuple[str, str]]) -> ValidationError:
    """(path, message) problems (`RecipeError`) as the ValidationError a 400 is rendered from."""
    details: list[InitErrorDetails] = [
        {"type": PydanticCustomError("recipe", f"{path}: {message}"), "loc": path_loc(path), "input": None}
        for path, message in problems
    ]
    return ValidationError.from_exception_data("request body", details)


def _with_paths(error: ValidationError) -> ValidationError:
    details: list[InitErrorDetails] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        message = f"{error_path(item['loc'])}: {item['msg']}"
        details.append({"type": PydanticCustomError(item["type"], message), "loc": item["loc"], "input": None})
    return ValidationError.from_exception_data("request body", details)
