"""The command line speaks to people: a mistake gets one line saying what is wrong and what to do,
a non-zero exit, and no traceback unless asked for with --debug."""

from __future__ import annotations

import socket

import pytest

from beer_platform_tests.conftest import run_cli


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"BEER_PLATFORM_ENV": "aws", "PUNKAPI_BASE_URL": ""}, "BEER_PLATFORM_ENV=aws needs PUNKAPI_BASE_URL"),
        ({"BEER_PLATFORM_ENV": "prod"}, "BEER_PLATFORM_ENV must be 'local' or 'aws', not 'prod'"),
    ],
)
def test_a_settings_error_is_one_line_not_a_traceback(env, says, tmp_path):
    done = run_cli("query", "SELECT 1", env={"BEER_PLATFORM_STACK_DIR": str(tmp_path), **env})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"beer-platform: {done.stderr.split(': ', 1)[1].strip()}"]
    assert says in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["query", "SELECT count(*) FROM beers"], ["lambda", "rollback"],
                                     ["clean", "2026-12-01"]])
def test_commands_that_need_the_local_stack_say_how_to_start_it(command, tmp_path):
    done = run_cli(*command, env={"BEER_PLATFORM_STACK_DIR": str(tmp_path), "BEER_PLATFORM_ENV": "local"})
    assert done.returncode == 1
    assert done.stderr.strip() == "beer-platform: the local stack is not running: beer-platform stack up --detach"


def test_debug_shows_the_traceback(tmp_path):
    done = run_cli("--debug", "query", "SELECT 1", env={"BEER_PLATFORM_STACK_DIR": str(tmp_path),
                                                         "BEER_PLATFORM_ENV": "prod"})  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "SettingsError" in done.stderr


@pytest.mark.integration
def test_cleaning_a_day_that_is_not_an_ingestion_day_says_so(local_stack, stack_dir):
    done = run_cli("clean", "2026-13-01", "1999-01-01", env={"BEER_PLATFORM_STACK_DIR": str(stack_dir),
                                                             "BEER_PLATFORM_ENV": "local"})  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("beer-platform: nothing was landed on 1999-01-01, 2026-13-01 (YYYY-MM-DD; landed days:")


def test_a_stack_whose_port_is_taken_says_which_port(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run_cli("stack", "up", "--detach", "--aws-port", str(port), "--punkapi-port", "0",
                       "--state-dir", str(tmp_path), timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (f"beer-platform: 127.0.0.1:{port} is already in use by another process: "
                                   "stop it or choose another port")  # fmt: skip


def test_serve_with_an_empty_model_store_says_to_run_first(tmp_path):
    done = run_cli("serve", "--port", "0", env={"BENTOML_HOME": str(tmp_path / "bentoml")})
    assert done.returncode == 1
    assert done.stderr.strip() == f"no ibu_model in the model store ({tmp_path / 'bentoml'}): run `make run` first"
