import json

import pytest

from beer_platform.names import DEFAULT_NAMES
from beer_platform.settings import SettingsError, load_settings


def test_local_is_the_default_and_reads_the_running_stack(tmp_path):
    (tmp_path / "stack.json").write_text(
        json.dumps({"aws_endpoint_url": "http://127.0.0.1:5000", "punkapi_base_url": "http://127.0.0.1:5001/v2"})
    )
    settings = load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path)})
    assert settings.env == "local"
    assert settings.aws_endpoint_url == "http://127.0.0.1:5000"
    assert settings.punkapi_base_url == "http://127.0.0.1:5001/v2"
    assert settings.aws_access_key_id == "test"  # never the user's real credentials
    assert settings.names == DEFAULT_NAMES


def test_punkapi_base_url_overrides_the_replica(tmp_path):
    settings = load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path), "PUNKAPI_BASE_URL": "http://127.0.0.1:8081/v2"})
    assert settings.punkapi_base_url == "http://127.0.0.1:8081/v2"
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"


def test_aws_takes_names_from_terraform_outputs_and_no_endpoint(tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({
        "raw_bucket": {"value": "acme-beer-raw", "type": "string", "sensitive": False},
        "stream_arn": {"value": "arn:aws:kinesis:eu-west-1:1:stream/x", "type": "string"},
        "region": {"value": "eu-central-1", "type": "string"},
    }))  # fmt: skip
    settings = load_settings(
        {"BEER_PLATFORM_ENV": "aws", "BEER_PLATFORM_TF_OUTPUTS": str(outputs), "PUNKAPI_BASE_URL": "https://x/v2"}
    )
    assert settings.aws_endpoint_url is None and settings.aws_access_key_id is None
    assert settings.names.raw_bucket == "acme-beer-raw"
    assert settings.names.cleaned_bucket == DEFAULT_NAMES.cleaned_bucket
    assert settings.region == "eu-central-1"


def test_bad_environment_and_missing_outputs_are_clear_errors(tmp_path):
    with pytest.raises(SettingsError, match="'local' or 'aws'"):
        load_settings({"BEER_PLATFORM_ENV": "prod"})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"BEER_PLATFORM_ENV": "aws", "BEER_PLATFORM_TF_OUTPUTS": str(tmp_path / "nope.json"),
                       "PUNKAPI_BASE_URL": "https://x/v2"})  # fmt: skip


def test_aws_takes_names_from_the_environment_where_there_is_no_outputs_file(tmp_path):
    """The ECS tasks of infra/modules/dagster get the names as JSON (BEER_PLATFORM_NAMES)."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"raw_bucket": {"value": "from-the-file"}}))
    environ = {"BEER_PLATFORM_ENV": "aws", "PUNKAPI_BASE_URL": "https://x/v2", "BEER_PLATFORM_TF_OUTPUTS": str(outputs),
               "BEER_PLATFORM_NAMES": json.dumps({"raw_bucket": "acme-raw", "stream_shards": 4})}  # fmt: skip
    names = load_settings(environ).names
    assert (names.raw_bucket, names.stream_shards, names.cleaned_bucket) == ("acme-raw", 4, DEFAULT_NAMES.cleaned_bucket)
    for bad in ("{not json", "[1, 2]"):
        with pytest.raises(SettingsError, match="BEER_PLATFORM_NAMES must be a JSON object"):
            load_settings(environ | {"BEER_PLATFORM_NAMES": bad})
def test_the_executor_is_dagsters_default_unless_named_and_a_wrong_one_is_refused(tmp_path):
    assert load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path)}).executor == ""
    named = load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path), "BEER_PLATFORM_EXECUTOR": "in_process"})
    assert named.executor == "in_process"
    with pytest.raises(SettingsError, match="BEER_PLATFORM_EXECUTOR must be one of"):
        load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path), "BEER_PLATFORM_EXECUTOR": "threads"})
