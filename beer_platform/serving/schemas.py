"""The /predict contract: request and response models, and parsing a raw body into beers.

Pure pydantic v2, shared by the BentoML service and the bare benchmark app so both validate alike.

Request: a bare JSON list of 1..`MAX_BATCH` beers (the original project's shape). Each beer must
carry every field of `features.FEATURES` (a missing key is an error: a misspelt "pH" must not
silently become "unknown"); `null` means unknown and is allowed for every field, since the
dataset itself has nulls and the model fills them in. Other keys are ignored, so a whole
PunkAPI beer object can be posted as it is. Numbers must be JSON numbers (no strings, booleans,
NaN or Infinity; 1e999 overflows to Infinity and is refused too) within generous physical bounds:

    abv 0-100 (%), target_fg and target_og 900-1200 (specific gravity x 1000: the dataset has
    1000-1157), ebc 0-2000, srm 0-1000, ph 0-14; name at most 200 characters (the longest
    in the dataset has 54).

Errors: HTTP 400 as BentoML shapes a validation error, `{"error": "<n> validation error for
request body", "detail": [{"type", "loc", "msg"}]}`, where each `msg` starts with the field's
path, e.g. `[3].ph: Input should be less than or equal to 14` (`body` for the request as a
whole: not JSON, not a list, empty, over `MAX_BATCH`). A body over `MAX_BODY_BYTES` is refused
with 413 before it is parsed (BentoML renders that one as `[{"error": "body: ..."}]`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

MAX_BATCH = 1000
MAX_NAME_LENGTH = 200
# 1000 whole PunkAPI records (~3.3 KB each) fit; a batch of bare feature records is ~100 KB.
MAX_BODY_BYTES = 8 * 1024 * 1024


def _number(low: float, high: float, description: str) -> Any:
    return Field(ge=low, le=high, allow_inf_nan=False, strict=True, description=description)


class Beer(BaseModel):
    """One beer to predict the bitterness of. `null` = unknown (filled in by the model)."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str | None, Field(max_length=MAX_NAME_LENGTH, strict=True, description="Beer name; may be empty")]
    abv: Annotated[float | None, _number(0, 100, "Alcohol by volume, %")]
    target_fg: Annotated[float | None, _number(900, 1200, "Target final gravity x 1000, e.g. 1010")]
    target_og: Annotated[float | None, _number(900, 1200, "Target original gravity x 1000, e.g. 1044")]
    ebc: Annotated[float | None, _number(0, 2000, "Colour, EBC")]
    srm: Annotated[float | None, _number(0, 1000, "Colour, SRM")]
    ph: Annotated[float | None, _number(0, 14, "pH")]


EXAMPLE_REQUEST: list[dict[str, Any]] = [
    {"name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4},
    {"name": "Hello My Name Is Ingrid", "abv": 8.2, "target_fg": 1014, "target_og": 1076,
     "ebc": 20, "srm": 10, "ph": 4.4},
    {"name": "", "abv": 7.2, "target_fg": None, "target_og": None, "ebc": None, "srm": None, "ph": None},
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


class PredictResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"predictions": [{"ibu": 41.2}, {"ibu": 70.5}, {"ibu": 45.0}],
                                       "model": "ibu_model:5yqvq7a3ogkmmnrn"}}
    )  # fmt: skip

    predictions: list[Prediction] = Field(description="One per beer sent, in the same order")
    model: str = Field(description="The model that answered, as name:version in the BentoML store")


class BodyTooLarge(Exception):
    """The request body exceeds `MAX_BODY_BYTES` (answered 413)."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(f"body: request body larger than {limit} bytes")


def parse_beers(body: bytes | str) -> list[Beer]:
    """Validate a raw JSON body; ValidationError (each message prefixed by its path) otherwise.

    pydantic parses the JSON itself: invalid JSON, NaN and Infinity are validation errors too.
    """
    try:
        return BEERS.validate_json(body)
    except ValidationError as error:
        raise _with_paths(error) from None


def error_path(loc: tuple[int | str, ...]) -> str:
    """(3, 'ph') -> '[3].ph'; () -> 'body'."""
    if not loc:
        return "body"
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _with_paths(error: ValidationError) -> ValidationError:
    details: list[InitErrorDetails] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        message = f"{error_path(item['loc'])}: {item['msg']}"
        details.append({"type": PydanticCustomError(item["type"], message), "loc": item["loc"], "input": None})
    return ValidationError.from_exception_data("request body", details)

