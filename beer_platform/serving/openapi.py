"""The service's OpenAPI document (`/docs.json`): BentoML's routes, and the API's (`api`) described
from the same pydantic schemas that validate its requests.

The API's own title, description and version; each route's request body (required), its answer,
its 400 body (`detail` a list of `{type, loc, msg}`, see `schemas.error_body`) and its 413 body
(a list holding one `{error}`): what the document says is valid is answered 200, and every
answer has the documented shape.
"""

from __future__ import annotations

from typing import Any

import bentoml
from bentoml._internal.service.openapi.specification import OpenAPISpecification
from bentoml._internal.utils.cattr import bentoml_cattr

from beer_platform.serving import API_VERSION
from beer_platform.serving.schemas import (
    BEERS, MAX_BATCH, MAX_BODY_BYTES, TINSETH_RECIPES, HopsResponse, PredictResponse, TinsethResponse,
)  # fmt: skip

TITLE = "Beer bitterness (IBU) API"
DESCRIPTION = f"""Predicts a beer's bitterness in International Bitterness Units, trained on the
BrewDog catalogue (PunkAPI v2).

- `POST /predict`: a JSON list of 1 to {MAX_BATCH} beers, each with the fields of its card (name, abv,
  target_fg, target_og, ebc, srm, ph; null = unknown) and optionally its recipe in PunkAPI's shape
  (`volume`, `ingredients.hops`): a whole PunkAPI beer object can be posted as it is. A beer with
  `ingredients.hops` is answered by the recipe model, which also returns the Tinseth estimate; one
  without by the card model. Each prediction says which model answered.
- `POST /tinseth`: the Tinseth estimate of each recipe (target_og, volume, ingredients.hops), the
  physics alone.
- `GET /hops`: every hop name a recipe may use.

Bad input is a 400 whose messages each start with the field's path, e.g.
`[0].ingredients.hops[2].name: unknown hop variety 'Galxy'`; a body over {MAX_BODY_BYTES} bytes is a 413."""
REF = "#/components/schemas/{model}"

_VALIDATION_ERROR = {
    "type": "object",
    "description": "The request did not validate: every problem, each message starting with the field's path",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "e.g. '2 validation errors for request body'"},
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "loc", "msg"],
                "properties": {
                    "type": {"type": "string"},
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string", "description": "e.g. '[3].ph: Input should be less than or equal to 14'"},
                },
            },
        },
    },
}
_BODY_TOO_LARGE = {
    "type": "array",
    "description": f"The body is over {MAX_BODY_BYTES} bytes (refused unread)",
    "minItems": 1,
    "maxItems": 1,
    "items": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
}
SCHEMAS = {"ValidationErrorBody": _VALIDATION_ERROR, "BodyTooLargeBody": _BODY_TOO_LARGE}
_BENTOML_ERRORS = ("InvalidArgument", "NotFound", "InternalServerError")  # documented with a string detail


def _json_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model=schema)}}}}


def _schema(adapter_schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its $defs moved into the document's components."""
    found = dict(adapter_schema)
    schemas.update(found.pop("$defs", {}))
    return found


def _post(operation: str, description: str, request: dict[str, Any], answer: dict[str, Any],
          invalid: str) -> dict[str, Any]:  # fmt: skip
    return {"post": {
        "tags": ["Service APIs"], "operationId": f"ibu_model_service__{operation}", "description": description,
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {
            "200": {"description": "Successful Response", "content": {"application/json": {"schema": answer}}},
            "400": _json_response(invalid, "ValidationErrorBody"),
            "413": _json_response("Body too large", "BodyTooLargeBody"),
        },
    }}  # fmt: skip


def document(bentoml_document: dict[str, Any]) -> dict[str, Any]:
    """BentoML's document (`OpenAPISpecification.asdict()`: its own routes) with the API's."""
    doc = {**bentoml_document, "info": {"title": TITLE, "description": DESCRIPTION, "version": API_VERSION}}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _BENTOML_ERRORS:
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    paths = doc["paths"] = dict(doc["paths"])
    paths["/predict"] = _post(
        "predict", "Predict the IBU of each beer in a JSON list (1 to 1000 beers; null = unknown): with a recipe "
        "(`ingredients.hops`) by the recipe model, without by the card model.",
        _schema(BEERS.json_schema(ref_template=REF), schemas),
        _schema(PredictResponse.model_json_schema(ref_template=REF), schemas),
        "Bad input: not JSON, not a list of 1 to 1000, or a bad field")  # fmt: skip
    paths["/tinseth"] = _post(
        "tinseth", "The Tinseth estimate of each recipe in a JSON list (target_og, volume, ingredients.hops): the "
        "physics alone, no model.",
        _schema(TINSETH_RECIPES.json_schema(ref_template=REF), schemas),
        _schema(TinsethResponse.model_json_schema(ref_template=REF), schemas),
        "Bad input: not JSON, not a list of 1 to 1000, or a recipe without target_og, volume or hops")  # fmt: skip
    hops = HopsResponse.model_json_schema(ref_template=REF)
    schemas.update(hops.pop("$defs", {}))
    schemas["HopsResponse"] = hops
    paths["/hops"] = {"get": {
        "tags": ["Service APIs"],
        "operationId": "ibu_model_service__hops",
        "description": "Every hop name a recipe may use (as the dataset spells it; case, accents and punctuation "
                       "are ignored), with its kind and the alpha acids the Tinseth estimate uses",
        "responses": {"200": _json_response("The known hops", "HopsResponse")},
    }}  # fmt: skip
    return doc


class DocumentedService(bentoml.Service):
    """`bentoml.service(service_class=DocumentedService)`: serves `document` at /docs.json."""

    @property
    def openapi_spec(self) -> OpenAPISpecification:
        return bentoml_cattr.structure(document(super().openapi_spec.asdict()), OpenAPISpecification)
