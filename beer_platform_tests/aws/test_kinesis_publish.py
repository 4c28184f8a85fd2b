"""put_records partial failures, which moto never produces, through botocore's Stubber."""

import pytest
from botocore.stub import ANY, Stubber

from beer_platform.aws.clients import make_client
from beer_platform.aws.kinesis import PublishError, publish
from beer_platform.stream.records import StreamRecord

STREAM = "beer-platform-events"


@pytest.fixture
def kinesis():
    client = make_client("kinesis", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber


def ok(shard: str, seq: int) -> dict:
    return {"ShardId": shard, "SequenceNumber": str(seq)}


def throttled() -> dict:
    return {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}


def expect(stubber, keys: list[str], results: list[dict]) -> None:
    failed = sum("ErrorCode" in r for r in results)
    # The service model says FailedRecordCount >= 1 when present: leave it out when none failed.
    response = {"Records": results} | ({"FailedRecordCount": failed} if failed else {})
    stubber.add_response(
        "put_records",
        response,
        {"StreamName": STREAM, "Records": [{"Data": ANY, "PartitionKey": k} for k in keys]},
    )


def test_only_the_failed_records_are_sent_again(kinesis):
    client, stubber = kinesis
    recs = [StreamRecord(str(i), f'{{"id": {i}}}'.encode()) for i in (1, 2, 3, 4)]
    expect(stubber, ["1", "2", "3", "4"], [ok("shardId-0", 10), throttled(), ok("shardId-1", 7), throttled()])
    expect(stubber, ["2", "4"], [throttled(), ok("shardId-1", 9)])
    expect(stubber, ["2"], [ok("shardId-0", 12)])
    sleeps: list[float] = []
    report = publish(client, STREAM, recs, sleep=sleeps.append)
    stubber.assert_no_pending_responses()
    assert report.records == 4
    assert report.put_calls == 3
    assert report.retried_records == 3
    assert report.shard_ranges == {"shardId-0": [10, 12], "shardId-1": [7, 9]}
    assert len(sleeps) == 2 and all(s >= 0 for s in sleeps)


def test_records_that_keep_failing_fail_the_publish_loudly(kinesis):
    client, stubber = kinesis
    recs = [StreamRecord("1", b"{}"), StreamRecord("2", b"{}")]
    expect(stubber, ["1", "2"], [ok("shardId-0", 1), throttled()])
    expect(stubber, ["2"], [throttled()])
    expect(stubber, ["2"], [throttled()])
    with pytest.raises(PublishError, match="1 of 2 records still failed after 3 attempts.*Throughput"):
        publish(client, STREAM, recs, max_attempts=3, sleep=lambda s: None)


def test_sequence_numbers_compare_as_integers(kinesis):
    client, stubber = kinesis
    recs = [StreamRecord(str(i), b"{}") for i in range(3)]
    expect(stubber, ["0", "1", "2"], [ok("shardId-0", 9), ok("shardId-0", 10), ok("shardId-0", 100)])
    report = publish(client, STREAM, recs, sleep=lambda s: None)
    assert report.shard_ranges["shardId-0"] == [9, 100]  # as text, "9" > "100"
