"""What the bento ships: the BentoML service, the app the Lambda function serves (`function_app`: the
same API without BentoML's server), the request schemas, micro-batching, the model store.

Imports nothing of the platform but the rooms it ships with: `predict` (the models' inputs, features and
forests, numpy only) and `brewing` (recipes, the hop reference, Tinseth). The bento holds those three.
"""

MODEL_NAME = "ibu_model"  # the model's name in the BentoML store
SERVICE = "beer_platform.serving.service:IBUModelService"  # what `bentoml serve` and `bentoml build` take
API_VERSION = "2.0.0"  # the HTTP API's (OpenAPI info.version): 2 added recipes, /tinseth and /hops
