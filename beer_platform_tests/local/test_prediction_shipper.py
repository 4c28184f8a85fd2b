"""The model server's shipper: prediction records sent to the predictions stream from a child
process (a server killed outright leaves none behind: serving/test_prediction_log.py)."""

from __future__ import annotations

import dataclasses
import gzip
import json

import psutil
import pytest

from beer_platform.aws.clients import AwsClients
from beer_platform.local.prediction_shipper import ShipFailed, Shipper
from beer_platform.serving.prediction_log import Answered
from beer_platform.serving.schemas import EXAMPLE_REQUEST

pytestmark = pytest.mark.integration


def _answered(request_id: str) -> Answered:
    answer = {"predictions": [{"ibu": 40.0, "model": "card", "tinseth_ibu": None}], "model": "ibu_model:x"}
    return Answered(request_id, "server", 1.8e9, 1.0, 1, json.dumps(EXAMPLE_REQUEST[:1]).encode(), json.dumps(answer))


def _lines_on(settings) -> list[bytes]:
    kinesis = AwsClients.from_settings(settings).client("kinesis")
    stream = settings.names.predictions_stream
    lines = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
        lines += [line for record in kinesis.get_records(ShardIterator=iterator)["Records"]
                  for line in gzip.decompress(record["Data"]).splitlines()]  # fmt: skip
    return lines


def test_a_shipper_that_died_fails_its_batch_and_the_next_one_goes_through_a_new_one(own_settings):
    before = {child.pid for child in psutil.Process().children()}
    shipper = Shipper(own_settings)
    try:
        shipper([_answered("first")])
        for child in psutil.Process().children():
            if child.pid not in before and "resource_tracker" not in " ".join(child.cmdline()):
                child.kill()  # the shipper's process
        with pytest.raises(ShipFailed, match="died"):
            shipper([_answered("lost")])
        shipper([_answered("second")])
    finally:
        shipper.close()
    sent = b"".join(_lines_on(own_settings))
    assert b'"first"' in sent and b'"second"' in sent and b'"lost"' not in sent


def test_a_stream_that_is_down_is_a_failure_naming_it(own_settings):
    shipper = Shipper(dataclasses.replace(own_settings, aws_endpoint_url="http://127.0.0.1:9"))  # nothing listens
    try:
        with pytest.raises(ShipFailed, match="127.0.0.1:9"):
            shipper([_answered("nowhere")])
    finally:
        shipper.close()
