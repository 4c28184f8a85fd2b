"""The Lambda deployment: the image context, its artifact, the handler run from it in a fresh
process on a read-only copy, and releases against a real moto server (no mocks).

One model (trained once by `python -m beer_platform_tests.shipped_model --no-evaluate` into the
session's BENTOML_HOME, see conftest.py), one bento, one context for the whole module.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from beer_platform.deployment import lambda_api
from beer_platform.deployment.bento import BuiltBento, build_bento
from beer_platform.serving import SERVICE
from beer_platform.deployment.artifact import ARTIFACT_PREFIX, artifact_key, download_and_unpack, pack, upload
from beer_platform.deployment.context import build_context, compile_bytecode, pyc_problems
from beer_platform.deployment.image import IMAGE_LIMIT_BYTES
from beer_platform.deployment.sizing import image_size_estimate, pinned_distributions, unavailable_wheels
from beer_platform.aws.clients import AwsClients
from beer_platform.deployment.release import invoke_live_locally, release
from beer_platform.deployment.verify import VerificationError, verify
from beer_platform.local.stack import free_port, start_detached, stop_detached
from beer_platform.names import DEFAULT_NAMES as NAMES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_tag() -> str:
    # conftest's pytest_configure gave the session a temporary BENTOML_HOME: train into it
    done = subprocess.run([sys.executable, "-m", "beer_platform_tests.shipped_model", "--no-evaluate"],
                          cwd=ROOT, env={**os.environ, "BENTOML_HOME": os.environ["BENTOML_HOME"]},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    return last if last.startswith("ibu_model:") else json.loads(last)["tag"]


@pytest.fixture(scope="module")
def bento(model_tag: str) -> BuiltBento:
    return build_bento(model_tag)


@pytest.fixture(scope="module")
def context_dir(bento: BuiltBento, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_context(bento, tmp_path_factory.mktemp("image") / "context")


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsClients]:
    """A moto server of our own (`stack up --detach` on free ports, in a throwaway state dir)."""
    state_dir = tmp_path_factory.mktemp("deploy-stack")
    state = start_detached(state_dir, aws_port=free_port(), punkapi_port=free_port())
    try:
        yield AwsClients.for_local_endpoint(state["aws_endpoint_url"], NAMES.region)
    finally:
        stop_detached(state_dir)


def variant(context_dir: Path, dest: Path, handler_source: str | None = None, drop_model: bool = False) -> Path:
    """A copy of the good context with its handler replaced or its model removed."""
    shutil.copytree(context_dir, dest)
    if handler_source is not None:
        (dest / "lambda_handler.py").write_text(handler_source)
        compile_bytecode(dest)  # an unchecked-hash .pyc would otherwise keep the old handler alive
    if drop_model:
        shutil.rmtree(dest / "bentoml_home" / "models" / "ibu_model")
    return dest


# --- the build context -----------------------------------------------------------------------


def test_dockerfile_builds_a_lambda_image_whose_entry_point_is_the_handler(context_dir):
    lines = (context_dir / "Dockerfile").read_text().splitlines()
    assert [line for line in lines if line.startswith("FROM ")] == ["FROM public.ecr.aws/lambda/provided:al2023"]
    assert any("pip install" in line and "-r requirements.txt" in line for line in lines)
    assert 'ENTRYPOINT ["/usr/bin/python3.11", "-m", "awslambdaric"]' in lines
    assert lines[-1] == 'CMD ["lambda_handler.handler"]'


def test_requirements_are_pinned_installable_on_the_base_and_match_the_model(context_dir):
    requirements = (context_dir / "requirements.txt").read_text()
    pins = dict(pinned_distributions(requirements))
    assert all("==" in line for line in requirements.splitlines() if line and not line.startswith("#"))
    assert {"bentoml", "scikit-learn", "mangum", "polars", "awslambdaric"} <= set(pins)
    # the model is a pickle: the image must run the scikit-learn (and BentoML) it was saved with
    for name in ("bentoml", "scikit-learn", "numpy"):
        assert pins[name] == importlib.metadata.version(name)
    # every pin has a wheel for CPython 3.11 on the AL2023 base; AL2's glibc 2.26 (the
    # lambda/python:3.11 base) would have none for these three
    assert unavailable_wheels(requirements) == []
    assert unavailable_wheels(requirements, glibc=(2, 26)) == ["numpy==2.4.6", "scikit-learn==1.9.1", "scipy==1.17.1"]


def test_context_ships_the_bento_its_model_and_valid_bytecode(context_dir, bento):
    info = yaml.safe_load((context_dir / "bento" / "bento.yaml").read_text())
    assert info["service"] == SERVICE
    assert [model["tag"] for model in info["services"][0]["models"]] == [bento.model_tag]
    assert (context_dir / "bento" / "src" / "beer_platform" / "serving" / "service.py").is_file()
    assert not (context_dir / "bento" / "src" / "beer_platform" / "assets").exists()  # only what serving needs
    assert (context_dir / "bento" / "src" / "beer_platform" / "core" / "data" / "hop_alpha_acids.csv").is_file()
    name, version = bento.model_tag.split(":")
    model_dir = context_dir / "bentoml_home" / "models" / name / version
    assert {path.name for path in model_dir.iterdir()} >= {"model.yaml", "saved_model.pkl"}
    assert (model_dir.parent / "latest").read_text() == version
    assert all((context_dir / "bentoml_home" / sub).is_dir() for sub in ("bentos", "envs", "tmp"))
    assert json.loads((context_dir / "context.json").read_text())["model"] == bento.model_tag
    assert (context_dir / "lambda_handler.py").read_text() == (ROOT / "beer_platform/deployment/handler.py").read_text()
    assert pyc_problems(context_dir) == []
    assert len(list(context_dir.rglob("*.cpython-311.pyc"))) >= 10
    # Lambda runs the code as an unprivileged user; BentoML creates model dirs with mode 0700
    assert all(path.stat().st_mode & 0o004 for path in context_dir.rglob("*"))


def test_tarball_is_deterministic_and_named_by_its_content(context_dir, tmp_path):
    data, sha = pack(context_dir)
    assert pack(context_dir) == (data, sha) and hashlib.sha256(data).hexdigest() == sha
    moved = shutil.copytree(context_dir, tmp_path / "elsewhere")
    for path in moved.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # other place, other times: same bytes
    assert pack(moved)[1] == sha
    assert artifact_key(sha) == f"{ARTIFACT_PREFIX}{sha[:16]}.tar.gz"


def test_image_estimate_is_far_below_the_image_limit_and_above_the_zip_limit(context_dir):
    estimate = image_size_estimate(context_dir)
    assert estimate["packages_measured"] >= 50 and estimate["largest_packages"]["scikit-learn"] > 10 * 2**20
    assert estimate["total_bytes"] < IMAGE_LIMIT_BYTES / 5 and estimate["fits_image_limit"]
    assert not estimate["fits_zip_limit"]  # why this is an image and not a .zip


def test_a_bento_for_an_older_model_names_that_model_not_the_newest(bento, tmp_path):
    """`ibu_model:latest` in the service resolves at build time: the build must see only the asked one."""
    home = tmp_path / "home"
    older = bento.model_tag.split(":")[1]
    shutil.copytree(bento.model_path, home / "models" / "ibu_model" / older)
    newer = home / "models" / "ibu_model" / "zzzznewermodel00"
    shutil.copytree(bento.model_path, newer)
    (newer / "model.yaml").write_text((newer / "model.yaml").read_text().replace(older, newer.name))
    (newer.parent / "latest").write_text(newer.name)
    script = ("import json, sys; from beer_platform.deployment.bento import build_bento; "
              "b = build_bento(sys.argv[1]); print(json.dumps([b.model_tag, str(b.path)]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, bento.model_tag], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "BENTOML_HOME": str(home)}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    model_tag, path = json.loads(done.stdout.strip().splitlines()[-1])
    assert model_tag == bento.model_tag
    info = yaml.safe_load((Path(path) / "bento.yaml").read_text())
    assert [model["tag"] for model in info["services"][0]["models"]] == [bento.model_tag]
    assert (newer.parent / "latest").read_text() == newer.name  # the store itself is left as it was


# --- verification: the handler in a fresh process, from a read-only copy ----------------------


def test_verification_fails_when_the_handler_raises_at_init(context_dir, tmp_path):
    broken = variant(context_dir, tmp_path / "raises", handler_source="raise RuntimeError('boom at init')\n")
    with pytest.raises(VerificationError, match="boom at init"):
        verify(broken)


def test_verification_holds_the_code_dir_read_only(context_dir, tmp_path):
    scribbler = variant(context_dir, tmp_path / "writes", handler_source=(
        "from pathlib import Path\nPath(__file__).with_name('scribble.txt').write_text('x')\n"
        "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"))  # fmt: skip
    with pytest.raises(VerificationError) as failure:
        verify(scribbler, warm_calls=0)
    assert "scribble.txt" in str(failure.value)  # PermissionError writing it (or the change seen)


def test_verification_fails_when_the_service_starts_per_invocation(context_dir, tmp_path):
    """Mangum's default lifespan ("auto") runs BentoML's start-up, a model load, around every call."""
    handler = (context_dir / "lambda_handler.py").read_text()
    assert 'Mangum(app, lifespan="off")' in handler
    per_call = variant(context_dir, tmp_path / "per-call", handler_source=handler.replace(
        'Mangum(app, lifespan="off")', "Mangum(app)"))  # fmt: skip
    with pytest.raises(VerificationError, match=r"started once for 7 calls: started [2-9] times"):
        verify(per_call, warm_calls=0)


def test_verification_fails_when_the_model_is_missing(context_dir, tmp_path):
    with pytest.raises(VerificationError, match="is missing from"):
        verify(variant(context_dir, tmp_path / "no-model", drop_model=True))


# --- artifacts and releases on a real moto server --------------------------------------------


@pytest.mark.integration
def test_upload_is_skipped_for_stored_content_and_download_checks_it(aws, context_dir, tmp_path):
    data, sha = pack(context_dir)
    first = upload(aws.client("s3"), NAMES.artifacts_bucket, data, sha)
    again = upload(aws.client("s3"), NAMES.artifacts_bucket, data, sha)
    assert (first.key, again.key) == (artifact_key(sha), artifact_key(sha)) and not again.uploaded
    unpacked = download_and_unpack(aws.client("s3"), NAMES.artifacts_bucket, first.key, tmp_path / "cache")
    assert pack(unpacked)[1] == sha
    aws.client("s3").put_object(Bucket=NAMES.artifacts_bucket, Key=f"{ARTIFACT_PREFIX}0000000000000000.tar.gz", Body=data)
    with pytest.raises(ValueError, match="not what its key names"):
        download_and_unpack(aws.client("s3"), NAMES.artifacts_bucket, f"{ARTIFACT_PREFIX}0000000000000000.tar.gz", tmp_path)


@pytest.fixture(scope="module")
def first_release(aws, context_dir, tmp_path_factory):
    return release(aws, NAMES, context_dir, tmp_path_factory.mktemp("release"), push=False)


@pytest.mark.integration
def test_release_verifies_the_stored_artifact_then_deploys_it(aws, first_release, bento):
    report = first_release.verification
    assert report.model == bento.model_tag and len(report.checks) == 9
    assert "the service (model) started once for 207 calls" in report.checks
    assert 0 < report.cold_start_s < 60 and 0 < report.warm_p50_ms < 1000
    assert first_release.deployment.version == "1" and first_release.deployment.created
    function = aws.client("lambda").get_function(FunctionName=NAMES.lambda_function)["Configuration"]
    assert (function["PackageType"], function["MemorySize"], function["Timeout"]) == ("Image", 1024, 30)
    assert function["Role"].endswith(f":role/{NAMES.lambda_role}")
    url = aws.client("lambda").get_function_url_config(FunctionName=NAMES.lambda_function, Qualifier=NAMES.lambda_alias)
    assert url["AuthType"] == "AWS_IAM" and url["FunctionUrl"] == first_release.deployment.function_url
    version, description = lambda_api.live_version(aws.client("lambda"), NAMES)
    assert version == "1"
    assert lambda_api.parse_description(description) == {"sha256": first_release.artifact.sha256,
                                                         "artifact": first_release.artifact.key,
                                                         "model": bento.model_tag}  # fmt: skip
    aws.client("s3").head_object(Bucket=NAMES.artifacts_bucket, Key=first_release.artifact.key)


@pytest.mark.integration
def test_second_deploy_publishes_a_version_and_rollback_moves_live_back(aws, first_release):
    description = lambda_api.release_description("f" * 64, first_release.artifact.key, first_release.model)
    second = lambda_api.deploy(aws.client("lambda"), aws.client("iam"), NAMES, first_release.image_uri + "-2", description)
    assert (second.version, second.created, second.function_url) == ("2", False, first_release.deployment.function_url)
    assert sorted(lambda_api.published_versions(aws.client("lambda"), NAMES.lambda_function)) == [1, 2]
    assert lambda_api.live_version(aws.client("lambda"), NAMES)[0] == "2"
    assert lambda_api.rollback(aws.client("lambda"), NAMES) == ("2", "1")
    assert lambda_api.live_version(aws.client("lambda"), NAMES)[0] == "1"
    with pytest.raises(lambda_api.NoPreviousVersion):
        lambda_api.rollback(aws.client("lambda"), NAMES)


@pytest.mark.integration
def test_a_failing_verification_deploys_nothing(aws, first_release, context_dir, tmp_path):
    before = lambda_api.published_versions(aws.client("lambda"), NAMES.lambda_function)
    live_before = lambda_api.live_version(aws.client("lambda"), NAMES)
    broken = variant(context_dir, tmp_path / "broken", handler_source="raise ImportError('no bentoml here')\n")
    with pytest.raises(VerificationError, match="no bentoml here"):
        release(aws, NAMES, broken, tmp_path / "work", push=False)
    assert lambda_api.published_versions(aws.client("lambda"), NAMES.lambda_function) == before
    assert lambda_api.live_version(aws.client("lambda"), NAMES) == live_before


@pytest.mark.integration
def test_local_invoke_answers_from_the_artifact_live_points_at(aws, first_release, tmp_path):
    beers = [{"name": "Punk IPA", "abv": 5.6, "target_fg": 1010, "target_og": 1053, "ebc": 15, "srm": 7.5, "ph": 4.4}]
    response = invoke_live_locally(aws, NAMES, beers, tmp_path / "cache")
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and len(body["predictions"]) == 1
    assert body["model"] == first_release.model


@pytest.mark.integration
def test_remote_invoke_sends_a_function_url_event_to_live(aws, first_release):
    # moto (use_docker=false) runs no image: it echoes the event, which is not a response
    with pytest.raises(lambda_api.InvocationFailed, match='"rawPath": "/predict"'):
        lambda_api.invoke_remote(aws.client("lambda"), NAMES, [{"name": "Buzz"}])


@pytest.mark.integration
@pytest.mark.skipif(lambda_api.container_engine() is not None, reason="a container engine is present")
def test_pushing_without_a_container_engine_does_nothing(aws, first_release, context_dir, tmp_path):
    before = lambda_api.published_versions(aws.client("lambda"), NAMES.lambda_function)
    with pytest.raises(RuntimeError, match="needs a container engine"):
        release(aws, NAMES, context_dir, tmp_path, push=True)
    assert lambda_api.published_versions(aws.client("lambda"), NAMES.lambda_function) == before
