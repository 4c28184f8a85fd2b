"""The IBU model on AWS Lambda: bento -> build context -> image -> verify the image -> push -> deploy.

Plain functions over an engine, boto3 clients and paths (the Dagster asset and the CLI sit on top):

- `bento`: `build_bento` (offline `bentoml build`, pinned to one model version);
- `packages`: the locked `lambda` group installed on the host for the image (cached);
- `build_context`: `build_context` (Dockerfile, packages, handler, bento, model, bytecode);
- `image`: the one Dockerfile and the image's paths; `base_image`: its Debian 12 base (public
  in AWS, made with mmdebstrap here); `engine`: podman or docker, found once;
- `runtime_api`: a Lambda Runtime API server; `sandbox`: the image run as Lambda runs it;
  `function_url`: Function URL payloads (event in, HTTP answer out);
- `verify`: `verify` (the built image in a fresh sandbox: checks + timings);
- `registry`: ECR login and push, by digest; `lambda_api`: `deploy`, `rollback`, `live_version`;
- `release`: `prepare_context`, `build_image`, `release` (nothing pushed or deployed unless
  verification passes).

`handler.py` is the file shipped into the image as `lambda_handler.py`; it is never imported here
(importing it starts the service).
"""
