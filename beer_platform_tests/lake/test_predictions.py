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
from beer_platform.serving.prediction_log import PredictionRecord, StdoutSink, entry, packed
from beer_platform.stream.records import ReceivedRecord

AT = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _record(request_id: str, position: int = 0, hops: list | None = None) -> PredictionRecord:
    inputs = {"name": "Buzz", "abv": 4.5, "target_fg": 1010.0, "target_og": 1044.0, "ebc": 20.0, "srm": 10.0, "ph": 4.4}
    if hops is not None:
        inputs |= {"volume_litres": 20.0, "hops": hops}
    return PredictionRecord(request_id=request_id, position=position, time="2026-12-06T12:00:00.000001+00:00",
                            model="ibu_model:v1", answered_by="recipe" if hops else "card", ibu=41.5,
                            tinseth_ibu=43.2 if hops else None, latency_ms=1.25, inputs=inputs, beer_id=1)  # fmt: skip


def _part(*datas: bytes) -> bytes:
    return raw_format.encode_part(
        raw_format.envelope_line(ReceivedRecord("shardId-000000000000", str(n), AT, "k", data))
        for n, data in enumerate(datas, start=1))  # fmt: skip


def _cloudwatch(lines: list[str], kind: str = "DATA_MESSAGE") -> bytes:
    payload = {"messageType": kind, "owner": "123456789012", "logGroup": "/aws/lambda/f", "logStream": "s",
               "subscriptionFilters": ["predictions"],
               "logEvents": [{"id": str(n), "timestamp": 0, "message": line} for n, line in enumerate(lines)]}  # fmt: skip
    return gzip.compress(json.dumps(payload).encode())


def test_the_model_servers_batches_are_read_back_record_for_record():
    records = [_record("a", 0), _record("a", 1, hops=[[5.0, 25.0, 60.0, False]]), _record("b")]
    (key, blob), = packed(records)
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
    records = [_record(f"r{n}", hops=[[noise.random() * 20, noise.random() * 500, noise.random() * 90, False]
                                      for _ in range(60)]) for n in range(600)]  # fmt: skip
    blobs = packed(records, per_blob=600)
    assert len(blobs) > 1 and all(len(blob) <= 900 * 1024 for _, blob in blobs)
    assert events(_part(*(blob for _, blob in blobs))).height == 600


def test_the_lambdas_log_lines_delivered_by_its_subscription_are_its_predictions_only():
    out = io.StringIO()
    with redirect_stdout(out):
        StdoutSink().put(entry([_record("lambda-1"), _record("lambda-1", 1)]))
    lines = ["START RequestId: x Version: 3", *out.getvalue().splitlines(), "REPORT RequestId: x Duration: 2 ms"]
    frame = events(_part(_cloudwatch(lines), _cloudwatch([], "CONTROL_MESSAGE")))
    assert frame["key"].to_list() == ["lambda-1:0", "lambda-1:1"]


def test_what_is_not_a_prediction_record_is_rejected_with_its_reason():
    frame = events(_part(json.dumps({"id": 1, "name": "a beer"}).encode(), b"\xff\xfe not json"))
    assert frame["key"].to_list() == [None, None]
    assert all(reason.startswith("not a prediction record") for reason in frame["reason"])


def test_a_single_record_in_a_batch_of_one_reads_as_a_record():
    ((_, blob),) = packed([_record("only")])
    assert events(_part(blob))["key"].to_list() == ["only:0"]
