"""The prediction log read back: every shape a raw record of `predictions/` takes, each prediction
once, anything else rejected with its reason."""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
from contextlib import redirect_stdout
from datetime import UTC, datetime

from beer_platform.lake import raw_format
from beer_platform.lake.predictions import events
from beer_platform.serving.prediction_log import Answered, PredictionRecord, StdoutSink, lines, packed, records
from beer_platform.serving.schemas import EXAMPLE_REQUEST
from beer_platform.stream.records import ReceivedRecord

AT = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _record(request_id: str, position: int = 0, hops: list | None = None) -> PredictionRecord:
    inputs = {"name": "Buzz", "abv": 4.5, "target_fg": 1010.0, "target_og": 1044.0, "ebc": 20.0, "srm": 10.0, "ph": 4.4}
    if hops is not None:
        inputs |= {"volume_litres": 20.0, "hops": hops}
    return PredictionRecord(request_id=request_id, position=position, time="2026-12-06T12:00:00.000001+00:00",
                            model="ibu_model:v1", answered_by="recipe" if hops else "card", ibu=41.5,
                            tinseth_ibu=43.2 if hops else None, latency_ms=1.25, inputs=inputs, beer_id=1)  # fmt: skip


def _answered(request_id: str, beers: list[dict]) -> Answered:
    """`beers` as a client sent them, answered by the model `ibu_model:v1` with IBU 40, 41..."""
    answer = {"model": "ibu_model:v1", "predictions": [
        {"ibu": 40.0 + n, "model": "recipe", "tinseth_ibu": 66.3} if "ingredients" in beer else
        {"ibu": 40.0 + n, "model": "card", "tinseth_ibu": None} for n, beer in enumerate(beers)]}  # fmt: skip
    body = json.dumps(beers).encode()
    return Answered(request_id, "lambda", AT.timestamp(), 1.23456, len(beers), body, json.dumps(answer))


def test_an_answered_requests_records_hold_the_inputs_as_the_model_saw_them():
    card, recipe = EXAMPLE_REQUEST[0], {"id": 1, **EXAMPLE_REQUEST[3]}
    made = records(_answered("r-1", [card, recipe]))
    assert [(r["position"], r["answered_by"], r["ibu"], r["tinseth_ibu"], r["beer_id"]) for r in made] == [
        (0, "card", 40.0, None, None), (1, "recipe", 41.0, 66.3, 1)]  # fmt: skip
    assert {r["request_id"] for r in made} == {"r-1"} and {r["model"] for r in made} == {"ibu_model:v1"}
    assert made[0]["time"] == "2026-12-06T12:00:00.000000+00:00" and made[0]["latency_ms"] == 1.235
    assert made[0]["inputs"] == {"name": "Buzz", "abv": 4.5, "target_fg": 1010.0, "target_og": 1044.0, "ebc": 20.0,
                                 "srm": 10.0, "ph": 4.4}  # fmt: skip
    hops = made[1]["inputs"]["hops"]  # (alpha %, grams, boil minutes, dry hop), the names looked up
    assert made[1]["inputs"]["volume_litres"] == 20.0 and len(hops) == 5 and hops[0][1:] == (25.0, 60.0, False)


def _part(*datas: bytes) -> bytes:
    return raw_format.encode_part(
        raw_format.envelope_line(ReceivedRecord("shardId-000000000000", str(n), AT, "k", data))
        for n, data in enumerate(datas, start=1))  # fmt: skip


def _cloudwatch(messages: list[str], kind: str = "DATA_MESSAGE") -> bytes:
    payload = {"messageType": kind, "owner": "123456789012", "logGroup": "/aws/lambda/f", "logStream": "s",
               "subscriptionFilters": ["predictions"],
               "logEvents": [{"id": str(n), "timestamp": 0, "message": m} for n, m in enumerate(messages)]}  # fmt: skip
    return gzip.compress(json.dumps(payload).encode())


def test_the_model_servers_batches_are_read_back_record_for_record():
    (key, blob), = packed([lines([_record("a", 0), _record("a", 1, hops=[[5.0, 25.0, 60.0, False]])]),
                           lines([_record("b")])])  # fmt: skip
    frame = events(_part(blob))
    assert key == "a" and frame["reason"].null_count() == 3
    assert frame.select("key", "answered_by", "ibu", "tinseth_ibu", "volume_litres", "hops").rows() == [
        ("a:0", "card", 41.5, None, None, None),
        ("a:1", "recipe", 41.5, 43.2, 20.0, "[[5.0, 25.0, 60.0, false]]"),
        ("b:0", "card", 41.5, None, None, None),
    ]  # fmt: skip
    assert frame["time"][0] == datetime(2026, 12, 6, 12, 0, 0, 1, tzinfo=UTC)


def test_a_batch_too_big_for_one_stream_record_is_split():
    noise = random.Random(0)  # values gzip cannot squeeze: long recipes of distinct hops
    requests = [lines([_record(f"r{n}", hops=[[noise.random() * 20, noise.random() * 500, noise.random() * 90,
                                               False] for _ in range(60)])]) for n in range(600)]  # fmt: skip
    blobs = packed(requests, per_blob=600)
    assert len(blobs) > 1 and all(len(blob) <= 900 * 1024 for _, blob in blobs)
    assert events(_part(*(blob for _, blob in blobs))).height == 600


def test_the_lambdas_log_lines_delivered_by_its_subscription_are_its_predictions_only():
    out = io.StringIO()
    with redirect_stdout(out):
        StdoutSink().put(_answered("lambda-1", EXAMPLE_REQUEST[:2]))
    printed = ["START RequestId: x Version: 3", *out.getvalue().splitlines(), "REPORT RequestId: x Duration: 2 ms"]
    frame = events(_part(_cloudwatch(printed), _cloudwatch([], "CONTROL_MESSAGE")))
    assert frame["key"].to_list() == ["lambda-1:0", "lambda-1:1"]


def test_what_is_not_a_prediction_record_is_rejected_with_its_reason():
    frame = events(_part(json.dumps({"id": 1, "name": "a beer"}).encode(), b"\xff\xfe not json"))
    assert frame["key"].to_list() == [None, None]
    assert all(reason.startswith("not a prediction record") for reason in frame["reason"])


def test_a_single_record_in_a_batch_of_one_reads_as_a_record():
    ((_, blob),) = packed([lines([_record("only")])])
    assert events(_part(blob))["key"].to_list() == ["only:0"]
