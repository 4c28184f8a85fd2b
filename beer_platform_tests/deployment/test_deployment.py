"""The Lambda deployment for real: the image built from the context, run under our Runtime API
with awslambdaric inside, pushed to the local stack's registry and deployed on its moto (no mocks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from beer_platform.deployment import engine as engines
from beer_platform.deployment import lambda_api
from beer_platform.deployment.bento import build_bento
from beer_platform.serving import SERVICE
from beer_platform.deployment.build_context import build_context, compile_bytecode
from beer_platform.deployment.function_url import function_url_event
from beer_platform.deployment.image import IMAGE_LIMIT_BYTES
from beer_platform.deployment.release import LOCAL_REPOSITORY, build_image, release
from beer_platform.deployment.sandbox import FunctionConfig, InvocationError, WarmFunction
from beer_platform.deployment.verify import BUZZ, VerificationError, verify
from beer_platform.local import registry
from beer_platform.local.function_url_server import FunctionURLServer
from beer_platform.local.live_function import LiveFunction
from beer_platform.local.stack import free_port, start_detached, stop_detached
from beer_platform.names import DEFAULT_NAMES as NAMES
from beer_platform.settings import cache_dir, load_settings
from beer_platform_tests.deployment.conftest import ROOT, run_in_image, train_model
from beer_platform_tests.prediction_lake import land_clean_and_query

PUNK_IPA = {"name": "Punk IPA", "abv": 5.6, "target_fg": 1010, "target_og": 1053, "ebc": 15, "srm": 7.5, "ph": 4.4}


def variant(context_dir: Path, dest: Path, handler_source: str) -> Path:
    """A copy of the good context (hard links) with its handler replaced and recompiled: an
    unchecked-hash .pyc would otherwise keep the old handler alive. py_compile replaces files
    atomically, so the links into the good context are never written through."""
    shutil.copytree(context_dir, dest, copy_function=os.link)
    (dest / "lambda_handler.py").unlink()
    (dest / "lambda_handler.py").write_text(handler_source)
    compile_bytecode(dest)
    return dest


# --- the image ----------------------------------------------------------------------------------


def test_the_image_holds_the_locked_packages_the_bento_and_nothing_from_the_host_venv(engine, image, context_dir,
                                                                                        bento):  # fmt: skip
    target = {"implementation_name": "cpython", "platform_python_implementation": "CPython", "sys_platform": "linux",
              "platform_system": "Linux", "platform_machine": "x86_64", "python_version": "3.11", "os_name": "posix",
              "python_full_version": "3.11.2"}  # fmt: skip
    pins = [Requirement(line) for line in (context_dir / "requirements.txt").read_text().splitlines() if line]
    pinned = {canonicalize_name(pin.name): str(pin.specifier).removeprefix("==")
              for pin in pins if pin.marker is None or pin.marker.evaluate(target)}  # fmt: skip
    looked = run_in_image(engine, image.ref, """
import importlib.metadata as m, json, os, sys
dists = {d.metadata["Name"]: d.version for d in m.distributions()}
try:
    import beer_platform
    found = beer_platform.__file__
except ImportError:
    found = None
print(json.dumps({"dists": dists, "python": sys.version, "executable": sys.executable, "beer_platform": found,
                  "task": sorted(os.listdir("/var/task")), "cwd": os.getcwd(),
                  "src": sorted(os.listdir("/var/task/bento/src/beer_platform")),
                  "hop_reference": os.path.isfile("/var/task/bento/src/beer_platform/brewing/data/hop_alpha_acids.csv")}))
""")
    assert looked.returncode == 0, looked.stderr
    inside = json.loads(looked.stdout)
    inside["dists"] = {canonicalize_name(name): version for name, version in inside["dists"].items()}
    assert inside["dists"] == pinned  # exactly the locked `lambda` group: no dagster, moto, pytest, ...
    assert {"awslambdaric", "bentoml", "mangum", "numpy"} <= set(inside["dists"])
    assert not {"scikit-learn", "scipy", "polars", "dagster"} & set(inside["dists"])  # serving imports none of them
    assert inside["executable"] == "/usr/bin/python3.11" and inside["python"].startswith("3.11.")
    assert inside["beer_platform"] is None  # only the bento's own copy, put on sys.path by the handler
    assert inside["cwd"] == "/var/task"
    assert {"lambda_handler.py", "__pycache__", "bento", "bentoml_home", "context.json"} <= set(inside["task"])
    assert set(inside["src"]) - {"__init__.py", "__pycache__"} == {"serving", "predict", "brewing", "stream"}  # only those rooms
    assert inside["hop_reference"]  # the recipe model's hop reference ships with the code (brewing/data)
    info = yaml.safe_load((context_dir / "bento" / "bento.yaml").read_text())
    assert info["service"] == SERVICE and [m["tag"] for m in info["services"][0]["models"]] == [bento.model_tag]
    assert image.size_bytes == engine.size(image.ref) < IMAGE_LIMIT_BYTES / 5  # the engine's own figure


def test_the_container_runs_as_lambda_does_read_only_warm_and_replaced_after_an_error(engine, image):
    with WarmFunction(engine, image.ref, FunctionConfig(name="f", version="7")) as function:
        answer = function.invoke(function_url_event("POST", "/predict", [BUZZ, PUNK_IPA]))
        assert answer["statusCode"] == 200 and len(json.loads(answer["body"])["predictions"]) == 2
        sandbox = function.sandbox
        inside = sandbox.exec("/usr/bin/python3.11", "-c", """
import json, os
def write(path):
    try:
        open(path, "w").write("x")
        return "ok"
    except OSError as err:
        return err.strerror
print(json.dumps({"task": write("/var/task/x"), "root": write("/x"), "tmp": write("/tmp/x"), "uid": os.getuid(),
                  "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_"))}}))
""")
        assert inside.returncode == 0, inside.stderr
        seen = json.loads(inside.stdout)
        assert (seen["task"], seen["root"], seen["tmp"]) == ("Read-only file system", "Read-only file system", "ok")
        assert seen["uid"] != 0
        assert seen["env"]["AWS_LAMBDA_RUNTIME_API"] == sandbox.api.address
        assert (seen["env"]["AWS_LAMBDA_FUNCTION_NAME"], seen["env"]["AWS_LAMBDA_FUNCTION_VERSION"]) == ("f", "7")
        assert seen["env"]["LAMBDA_TASK_ROOT"] == "/var/task" and seen["env"]["AWS_REGION"] == "eu-west-1"
        assert function.invoke(function_url_event("GET", "/readyz"))["statusCode"] == 200
        assert function.sandboxes_started == 1  # kept warm
        with pytest.raises(InvocationError) as failed:  # not a Function URL event: the handler raises
            function.invoke({"not": "an http event"})
        assert failed.value.kind != "Runtime.InitError"
        assert function.sandbox is None  # the failed environment is gone ...
        assert function.invoke(function_url_event("GET", "/healthz"))["statusCode"] == 200
        assert function.sandboxes_started == 2  # ... and a fresh one answers


MAPPED_PACKAGES = """
import json
site = "/usr/local/lib/python3.11/dist-packages/"
paths = {line.split(None, 5)[5].strip() for line in open("/proc/1/maps") if len(line.split(None, 5)) == 6}
print(json.dumps(sorted({path[len(site):].split("/")[0] for path in paths if path.startswith(site)})))
"""


def test_the_running_function_has_loaded_no_scikit_learn_scipy_or_polars(engine, image):
    # the runtime's own process (PID 1: python -m awslambdaric), after answering both models: a
    # package imported there has its compiled extensions mapped into it
    with WarmFunction(engine, image.ref, FunctionConfig()) as function:
        recipe = {**BUZZ, "volume": {"value": 20, "unit": "litres"}, "ingredients": {"hops": [
            {"name": "Fuggles", "amount": {"value": 25, "unit": "grams"}, "add": "start"}]}}  # fmt: skip
        answer = function.invoke(function_url_event("POST", "/predict", [BUZZ, recipe]))
        assert answer["statusCode"] == 200, answer
        assert [p["model"] for p in json.loads(answer["body"])["predictions"]] == ["card", "recipe"]
        looked = function.sandbox.exec("/usr/bin/python3.11", "-c", MAPPED_PACKAGES)
        assert looked.returncode == 0, looked.stderr
        mapped = set(json.loads(looked.stdout))
    assert {"numpy", "pydantic_core"} <= mapped  # what it does load shows up
    training = ("sklearn", "scikit_learn", "scipy", "polars")  # scikit_learn.libs, _polars_runtime_32 too
    assert not {name for name in mapped if name.split(".")[0].lstrip("_").startswith(training)}


def test_the_function_serves_the_bentos_document_swagger_ui_and_health_as_bentomls_server_does(engine, image, bento):
    with WarmFunction(engine, image.ref, FunctionConfig()) as function:
        def get(path: str) -> dict:
            answer = function.invoke(function_url_event("GET", path))
            assert answer["statusCode"] == 200, (path, answer)
            return answer

        document = json.loads(get("/docs.json")["body"])
        assert document == yaml.safe_load((bento.path / "apis" / "openapi.yaml").read_text())  # what `bentoml build` rendered
        assert document["info"]["title"] == "Beer bitterness (IBU) API" and "/predict" in document["paths"]
        assert json.loads(get("/schema.json")["body"])["name"] == "ibu_model_service"
        assert "swagger-ui-bundle.js" in get("/")["body"]  # Swagger UI, and what it loads:
        assert get("/static_content/swagger-ui-bundle.js")["headers"]["content-type"].startswith("text/javascript")
        assert all(get(path)["body"] == "\n" for path in ("/healthz", "/livez", "/readyz"))
        assert "python_info" in get("/metrics")["body"]
        assert function.invoke(function_url_event("GET", "/nothing-here"))["statusCode"] == 404


def test_a_call_past_the_function_timeout_replaces_the_container(engine, image):
    with WarmFunction(engine, image.ref, FunctionConfig(timeout_s=0.001)) as function:
        assert function.invoke(function_url_event("GET", "/healthz"))["statusCode"] == 200  # init has its own limit
        first = function.sandbox
        with pytest.raises(InvocationError, match="Sandbox.Timedout"):
            function.invoke(function_url_event("POST", "/predict", [BUZZ] * 50))
        assert function.sandbox is None and not first.running


@pytest.fixture(scope="module")
def broken_context(context_dir, tmp_path_factory) -> Path:
    """The good context with a handler that fails at import, i.e. in Lambda's init phase."""
    return variant(context_dir, tmp_path_factory.mktemp("broken") / "context", "raise RuntimeError('boom at init')\n")


def test_an_init_failure_reported_through_init_error_fails_verification(engine, broken_context):
    broken_image = build_image(engine, broken_context)
    with pytest.raises(VerificationError, match=r"Runtime.InitError: init failed: RuntimeError: boom at init"):
        verify(engine, broken_image.ref, broken_image.model)


# --- registry, function, rollback on the local stack --------------------------------------------


@pytest.fixture(scope="module")
def second_context(tmp_path_factory) -> Path:
    """Another model's context: a second release serves something a user can tell apart."""
    return build_context(build_bento(train_model(force=True)), tmp_path_factory.mktemp("second") / "context",
                         cache_dir())  # fmt: skip


@pytest.fixture(scope="module")
def releases(engine, aws, context_dir, second_context):
    return release(engine, aws, NAMES, context_dir), release(engine, aws, NAMES, second_context)


@pytest.mark.integration
def test_each_release_is_verified_then_deployed_as_a_new_version_by_digest_live_on_the_newest(engine, aws, releases,
                                                                                            stack_state):  # fmt: skip
    first, second = releases
    # the pruning after each release keeps the live image and the one a rollback needs
    held = {image_id[:12] for image_id in engine.image_ids(LOCAL_REPOSITORY)}
    assert {release.image.image_id.removeprefix("sha256:")[:12] for release in releases} <= held
    assert first.image.model != second.image.model
    # each image answered Function URL events through the Runtime API before it was pushed
    report = first.verification
    assert report.model == first.image.model and len(report.checks) == 9
    assert "GET /docs.json -> 200 with /predict" in report.checks
    assert "GET /hops -> 200 with the hop reference (the bento ships brewing/data)" in report.checks
    assert f"POST /predict with 4 beers -> 200, 4 IBUs (card, card, card, recipe), model {report.model}" in report.checks
    assert "POST /predict bad_ph -> 4xx naming 'ph'" in report.checks
    assert 0 < report.init_s <= report.cold_start_s and report.warm_p50_ms > 0
    # version 1 is Terraform's: the stack's apply of infra/ created the function from its first image
    assert (first.deployment.version, second.deployment.version) == ("2", "3")
    assert not first.deployment.created and not second.deployment.created
    lambda_client = aws.client("lambda")
    uris = [lambda_client.get_function(FunctionName=NAMES.lambda_function, Qualifier=v)["Code"]["ImageUri"]
            for v in ("2", "3")]  # fmt: skip
    assert uris == [first.image_uri, second.image_uri]
    repository = f"{stack_state['registry']}/{NAMES.ecr_repository}"
    assert all(uri.startswith(f"{repository}@sha256:") for uri in uris) and uris[0] != uris[1]
    assert lambda_api.live_image_uri(lambda_client, NAMES) == second.image_uri
    function = lambda_client.get_function(FunctionName=NAMES.lambda_function)["Configuration"]
    assert (function["PackageType"], function["MemorySize"], function["Timeout"]) == ("Image", 1024, 30)
    url = lambda_client.get_function_url_config(FunctionName=NAMES.lambda_function, Qualifier=NAMES.lambda_alias)
    assert url["AuthType"] == "AWS_IAM"
    _, description = lambda_api.live_version(lambda_client, NAMES)
    assert lambda_api.parse_description(description)["model"] == second.image.model


@pytest.mark.integration
def test_the_image_uri_of_live_is_pullable_as_returned_even_after_the_stack_restarts(engine, aws, releases,
                                                                                     stack_state):  # fmt: skip
    state_dir = Path(stack_state["state_dir"])
    stop_detached(state_dir)
    restarted = start_detached(state_dir, aws_port=stack_state["aws_port"], punkapi_port=free_port())
    assert restarted["registry"] == stack_state["registry"]  # the same address, so recorded URIs still hold
    uri = lambda_api.live_image_uri(aws.client("lambda"), NAMES)
    assert uri == releases[1].image_uri
    engine.remove_image(uri)
    pulled = subprocess.run([engine.path, *engine.global_flags, "pull", "--tls-verify=false", uri],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    assert engine.inspect(uri)["Id"].removeprefix("sha256:") == releases[1].image.image_id.removeprefix("sha256:")


@pytest.mark.integration
def test_rollback_changes_the_image_that_invoke_and_serve_answer_from(engine, aws, releases):
    first, second = releases
    buzz_event = function_url_event("POST", "/predict", [BUZZ])
    with LiveFunction(engine, aws, NAMES) as live:
        server = FunctionURLServer(live, port=free_port()).start()
        try:
            assert json.loads(live.invoke(buzz_event)["body"])["model"] == second.image.model
            served = httpx.post(f"{server.url}/predict", json=[BUZZ, PUNK_IPA], timeout=300)
            assert served.status_code == 200 and served.json()["model"] == second.image.model
            assert len(served.json()["predictions"]) == 2
            bad = httpx.post(f"{server.url}/predict", json=[{**BUZZ, "ph": 79}], timeout=60)
            assert bad.status_code == 400 and "ph" in bad.text
            assert httpx.get(f"{server.url}/readyz", timeout=60).status_code == 200

            assert lambda_api.rollback(aws.client("lambda"), NAMES) == ("3", "2")
            served = httpx.post(f"{server.url}/predict", json=[BUZZ], timeout=300)
            assert served.status_code == 200 and served.json()["model"] == first.image.model
            assert live.image == first.image_uri
            assert json.loads(live.invoke(buzz_event)["body"])["model"] == first.image.model
        finally:
            server.stop()
    with pytest.raises(lambda_api.NoPreviousVersion):  # version 1, Terraform's, is not a release
        lambda_api.rollback(aws.client("lambda"), NAMES)


@pytest.mark.integration
def test_the_functions_answers_reach_the_predictions_table_through_its_log_group(engine, aws, releases, stack_state):
    """Lambda's path: the function prints a line per prediction, the log group's subscription
    filter delivers them to the predictions stream, the platform lands and cleans them."""
    with LiveFunction(engine, aws, NAMES) as live:
        server = FunctionURLServer(live, port=free_port()).start()
        try:
            served = httpx.post(f"{server.url}/predict", json=[BUZZ, PUNK_IPA], headers={"X-Request-ID": "lambda-7"},
                                timeout=300)  # fmt: skip
        finally:
            server.stop()
    # closed: the function's last lines shipped to its log group
    assert served.status_code == 200 and served.headers["x-request-id"] == "lambda-7"
    settings = load_settings({"BEER_PLATFORM_STACK_DIR": stack_state["state_dir"], "BEER_PLATFORM_ENV": "local"})
    answer = land_clean_and_query(settings, "SELECT position, host, model, answered_by, ibu FROM predictions "
                                  "WHERE request_id = 'lambda-7' ORDER BY position")  # fmt: skip
    model = served.json()["model"]
    assert answer.rows == [(position, "lambda", model, prediction["model"], prediction["ibu"])
                           for position, prediction in enumerate(served.json()["predictions"])]  # fmt: skip


@pytest.mark.integration
def test_a_failed_verification_pushes_and_deploys_nothing(engine, aws, releases, broken_context, stack_state):
    lambda_client = aws.client("lambda")
    versions = lambda_api.published_versions(lambda_client, NAMES.lambda_function)
    live_before = lambda_api.live_version(lambda_client, NAMES)
    tags_before = registry.tags(stack_state["registry"], NAMES.ecr_repository)
    with pytest.raises(VerificationError, match="boom at init"):
        release(engine, aws, NAMES, broken_context)
    assert registry.tags(stack_state["registry"], NAMES.ecr_repository) == tags_before
    assert lambda_api.published_versions(lambda_client, NAMES.lambda_function) == versions
    assert lambda_api.live_version(lambda_client, NAMES) == live_before


@pytest.mark.integration
def test_the_cli_invokes_the_live_image_and_says_so_plainly_without_an_engine(releases, stack_state):
    env = {**os.environ, "BEER_PLATFORM_STACK_DIR": stack_state["state_dir"], "BEER_PLATFORM_ENV": "local"}
    command = [sys.executable, "-m", "beer_platform.cli", "lambda", "invoke", "--json", json.dumps([PUNK_IPA])]
    answer = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["model"] in {r.image.model for r in releases}
    bare = subprocess.run(command, cwd=ROOT, env={**env, "PATH": str(Path(sys.executable).parent)},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bare.returncode == 1 and "no container engine: install podman" in bare.stderr


def test_without_an_engine_the_detection_names_what_to_install(monkeypatch):
    engines.detect.cache_clear()
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    try:
        with pytest.raises(engines.EngineMissing, match="install podman .*make setup"):
            engines.detect()
        assert engines.find() is None
    finally:
        monkeypatch.undo()
        engines.detect.cache_clear()


@pytest.mark.integration
def test_the_asset_says_plainly_that_no_image_was_built_without_an_engine(aws, model_tag, monkeypatch):
    from dagster import materialize

    from beer_platform.assets.serving import ibu_model_lambda
    from beer_platform.resources import AWSResource, LambdaImageResource, NamesResource

    names = NamesResource.from_names(NAMES.with_terraform_outputs({"lambda_function": "no-engine-here"}))
    resource = AWSResource(region_name=NAMES.region, endpoint_url=aws.endpoint_url,
                           aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    engines.detect.cache_clear()
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    try:
        result = materialize([ibu_model_lambda], resources={"aws": resource, "names": names,
                                                            "lambda_image": LambdaImageResource()})  # fmt: skip
    finally:
        monkeypatch.undo()
        engines.detect.cache_clear()
    metadata = {key: value.value for key, value in result.asset_materializations_for_node("ibu_model_lambda")[0]
                .metadata.items()}  # fmt: skip
    assert metadata["deployed"] is False
    assert metadata["image"].startswith("NOT built, nothing pushed or deployed: no container engine: install podman")
    with pytest.raises(aws.client("lambda").exceptions.ResourceNotFoundException):
        aws.client("lambda").get_function(FunctionName="no-engine-here")
