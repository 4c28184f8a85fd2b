"""The service's OpenAPI document (`/docs.json`): BentoML's, with what it leaves out put right.

BentoML titles the document with the service's name, describes it with its template README,
versions it "None", leaves every request body optional, documents every 400 as `{"error",
"detail": <string>}` and says nothing of 413 or of routes that are not BentoML apis. Here: the
API's own title, description and version; request bodies required; the 400 body as BentoML
really renders a validation error (`detail` a list of `{type, loc, msg}`, see `schemas`); the
413 body (a list holding one `{error}`); and `GET /hops`.
"""

from __future__ import annotations

from typing import Any

import bentoml
from bentoml._internal.service.openapi.specification import OpenAPISpecification
from bentoml._internal.utils.cattr import bentoml_cattr

from beer_platform.serving import API_VERSION
from beer_platform.serving.schemas import MAX_BATCH, MAX_BODY_BYTES, HopsResponse

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


def document(bentoml_document: dict[str, Any], posts: list[str]) -> dict[str, Any]:
    """BentoML's document (`OpenAPISpecification.asdict()`) with the fixes above, for the apis at `posts`."""
    doc = {**bentoml_document, "info": {"title": TITLE, "description": DESCRIPTION, "version": API_VERSION}}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _BENTOML_ERRORS:
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    paths = doc["paths"] = dict(doc["paths"])
    for route in posts:
        operation = paths[route]["post"]
        operation["requestBody"]["required"] = True
        operation["responses"] = {
            "200": operation["responses"][200],  # BentoML's keys are ints
            400: _json_response("Bad input: not JSON, not a list of 1 to 1000, or a bad field", "ValidationErrorBody"),
            413: _json_response("Body too large", "BodyTooLargeBody"),
        }
    hops = HopsResponse.model_json_schema(ref_template=REF)
    schemas.update(hops.pop("$defs", {}))
    schemas["HopsResponse"] = hops
    paths["/hops"] = {"get": {
        "tags": ["Service APIs"],
        "operationId": "ibu_model_service__hops",
        "description": "Every hop name a recipe may use (as the dataset spells it; case, accents and punctuation "
                       "are ignored), with its kind and the alpha acids the Tinseth estimate uses",
        "responses": {200: _json_response("The known hops", "HopsResponse")},
    }}  # fmt: skip
    return doc


class DocumentedService(bentoml.Service):
    """`bentoml.service(service_class=DocumentedService)`: serves `document` at /docs.json."""

    @property
    def openapi_spec(self) -> OpenAPISpecification:
        posts = [api.route for api in self.apis.values()]
        fixed = document(super().openapi_spec.asdict(), posts)
        return bentoml_cattr.structure(fixed, OpenAPISpecification)
