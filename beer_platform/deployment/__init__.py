"""The IBU model on AWS Lambda: bento -> image build context -> verified artifact -> function.

Plain functions over boto3 clients and paths (the Dagster asset and the CLI sit on top):

- `bento`: `build_bento` (offline `bentoml build`, pinned to one model version);
- `image`: the image's base, Python, entry point (the Dockerfile) and Lambda's size limits;
- `context`: `build_context` (assemble the image build context);
- `artifact`: `pack` (deterministic tarball named by its sha256), `upload`, `download_and_unpack`;
- `sizing`: `image_size_estimate` against Lambda's limits;
- `events`: `function_url_event` (Lambda Function URL payload v2.0);
- `harness`: runs the shipped handler in a fresh process (no Docker here);
- `verify`: `verify` (read-only copy, fresh process, checks + timings), `invoke_local`;
- `lambda_api`: ECR repository/image, `deploy`, `rollback`, `live_version`, `invoke_remote`;
- `release`: `prepare_context` + `release` (nothing is deployed unless verification passes),
  `live_artifact` / `invoke_live_locally` for the local stack.

`handler.py` is the file shipped into the image as `lambda_handler.py`; it is never imported here
(importing it starts the service).
"""
