"""The raw landing at stream scale: batches, crashes, resharding, retention, throttling.

S3 is the local stack's moto. The stream is moto's where moto behaves as Kinesis does, and the
in-memory stand-in (`kinesis_standin`) where it does not: resharding (moto keeps writing to the
closed parents), retention (moto never trims) and the clock (to cross midnight).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from beer_platform.aws import s3 as s3_ops
from beer_platform.aws.clients import make_client
from beer_platform.aws.kinesis import Backoff, ShardReader, publish
from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.stream.records import Shard
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.stages import raw
from beer_platform.stages.ingestion import to_stream_records
from beer_platform_tests.kinesis_standin import InMemoryKinesis

pytestmark = pytest.mark.integration


def landed(s3, bucket: str) -> list[dict]:
    """Every line of every raw part, and each part's name checked against what it holds."""
    lines = []
    for obj in s3_ops.list_objects(s3, bucket, object_keys.RAW_PREFIX + "/"):
        part = raw_format.decode_part(s3_ops.get_bytes(s3, bucket, obj.key))
        name = object_keys.parse_raw_part_key(obj.key)
        assert {line["shard_id"] for line in part} == {name.shard_id}  # one shard a part
        assert (part[0]["sequence_number"], part[-1]["sequence_number"]) == (name.first_sequence, name.last_sequence)
        assert {line["arrival_timestamp"][:10] for line in part} == {name.day}  # one day a part
        lines += part
    return lines


def identities(lines: list[dict]) -> list[tuple[str, str]]:
    return [(line["shard_id"], line["sequence_number"]) for line in lines]


def land(kinesis, s3, names, **kwargs) -> raw.LandingReport:
    return raw.land(kinesis, s3, names.stream, names.raw_bucket, names.artifacts_bucket, **kwargs)


def changed(beers: list[dict], **fields) -> list[dict]:
    return [{**beer, **fields} for beer in beers]


def test_a_backlog_of_many_batches_lands_in_bounded_parts_each_record_once(own_names, own_clients):
    kinesis, s3 = own_clients.client("kinesis"), own_clients.client("s3")
    beers = load_beers()
    publish(kinesis, own_names.stream, to_stream_records(beers) + to_stream_records(changed(beers, abv=1.0)))
    report = land(kinesis, s3, own_names, batch_records=40)
    lines = landed(s3, own_names.raw_bucket)
    assert report.read == report.landed == len(lines) == 650 and report.batches >= 650 // 40
    assert len(set(identities(lines))) == 650
    sizes = [s3_ops.head_metadata(s3, own_names.raw_bucket, o.key)["records"]
             for o in s3_ops.list_objects(s3, own_names.raw_bucket, "beers/")]  # fmt: skip
    assert max(map(int, sizes)) <= 40 and len(sizes) == len(report.parts_written)
    assert sorted(report.shards_read) == ["shardId-000000000000", "shardId-000000000001"]  # the local stream has 2
    again = land(kinesis, s3, own_names, batch_records=40)
    assert (again.read, again.landed, again.parts_written) == (0, 0, [])


def test_a_run_killed_between_a_parts_write_and_its_commit_lands_nothing_twice(own_names, own_clients, monkeypatch):
    kinesis, s3 = own_clients.client("kinesis"), own_clients.client("s3")
    beers = load_beers()
    publish(kinesis, own_names.stream, to_stream_records(beers))
    commits = []

    def die_on_third(*args, **kwargs):
        commits.append(1)
        if len(commits) == 3:
            raise RuntimeError("killed between writing a part and committing its position")
        real_commit(*args, **kwargs)

    real_commit = raw.commit
    monkeypatch.setattr(raw, "commit", die_on_third)
    with pytest.raises(RuntimeError, match="killed"):
        land(kinesis, s3, own_names, batch_records=60)
    monkeypatch.undo()
    written = len(landed(s3, own_names.raw_bucket))
    publish(kinesis, own_names.stream, to_stream_records(changed(beers[:7], abv=4.6)))  # more arrive meanwhile
    # Batches of another size: the re-run's boundaries differ from the dead run's.
    report = land(kinesis, s3, own_names, batch_records=100)
    lines = landed(s3, own_names.raw_bucket)
    assert len(lines) == len(set(identities(lines))) == 332
    # What the dead run wrote after its last commit is found and counted, not written again.
    assert report.already_landed > 0 and report.landed == 332 - written
    assert report.read == report.landed + report.already_landed
    assert land(kinesis, s3, own_names).read == 0


def test_a_landing_that_died_before_its_report_has_its_days_reported_by_the_next(own_names, own_clients):
    kinesis, s3 = own_clients.client("kinesis"), own_clients.client("s3")
    publish(kinesis, own_names.stream, to_stream_records(load_beers()))
    lost = land(kinesis, s3, own_names, reported_positions={})  # committed; its report never recorded
    assert lost.landed == 325 and len(lost.days_touched) == 1
    again = land(kinesis, s3, own_names, reported_positions={})  # the last report seen is still the empty one
    assert (again.landed, again.days_touched) == (0, lost.days_touched)  # nothing twice, the day not lost
    reported = land(kinesis, s3, own_names, reported_positions=again.positions)
    assert (reported.landed, reported.days_touched) == (0, [])  # reported once: not again


def test_a_part_a_dead_run_wrote_before_committing_counts_as_its_day_touched(own_names, own_clients, monkeypatch):
    s3 = own_clients.client("s3")
    stream = InMemoryKinesis(own_names.stream, shards=1)
    publish(stream, own_names.stream, to_stream_records(load_beers()))

    def killed(*args, **kwargs):
        raise RuntimeError("killed between writing the part and committing its position")

    monkeypatch.setattr(raw, "commit", killed)
    with pytest.raises(RuntimeError, match="killed"):
        land(stream, s3, own_names, clock=stream.clock)
    monkeypatch.undo()
    report = land(stream, s3, own_names, clock=stream.clock, reported_positions={})
    assert (report.landed, report.already_landed) == (0, 325)  # all of it written by the dead run
    assert report.days_touched == [stream.clock().date().isoformat()]


def test_throttled_reads_and_expired_iterators_are_retried():
    client = make_client("kinesis", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    shard = Shard("shardId-000000000000")
    when = datetime(2026, 12, 1, 6, tzinfo=UTC)

    def page(*seqs: int, behind: int = 0) -> dict:
        return {"Records": [{"SequenceNumber": str(s), "ApproximateArrivalTimestamp": when, "PartitionKey": str(s),
                             "Data": b"{}"} for s in seqs], "NextShardIterator": "it-next" + "x" * 20,
                "MillisBehindLatest": behind}  # fmt: skip

    iterator = {"StreamName": "s", "ShardId": shard.shard_id}
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("get_shard_iterator", {"ShardIterator": "it-1" + "x" * 20},
                          iterator | {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "4"})  # fmt: skip
        for _ in range(3):
            stub.add_client_error("get_records", "ProvisionedThroughputExceededException", http_status_code=400)
        stub.add_response("get_records", page(5, 6, behind=500))
        stub.add_client_error("get_records", "ExpiredIteratorException", http_status_code=400)
        stub.add_response("get_shard_iterator", {"ShardIterator": "it-2" + "x" * 20},
                          iterator | {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "6"})  # fmt: skip
        stub.add_client_error("get_records", "ProvisionedThroughputExceededException", http_status_code=400)
        stub.add_response("get_records", page(7))
        stub.add_response("get_records", page())
        reader = ShardReader(client, "s", shard, "4", batch_records=10, batch_bytes=2**20,
                             backoff=Backoff(sleep=sleeps.append))  # fmt: skip
        records = [r.sequence_number for batch in reader.batches() for r in batch]
        stub.assert_no_pending_responses()
    assert records == ["5", "6", "7"] and reader.position == "7" and reader.expired_iterators == 1
    assert len(sleeps) == 4 and reader.caught_up_at is not None


def test_throttling_that_never_ends_fails_after_the_attempts():
    client = make_client("kinesis", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("list_shards", "LimitExceededException", http_status_code=400)
        with pytest.raises(Exception, match="LimitExceededException"):
            Backoff(max_attempts=3, sleep=lambda s: None).call(client.list_shards, StreamName="s")


def test_a_reshard_between_two_landings_loses_and_duplicates_nothing_parents_first(own_names, own_clients):
    s3 = own_clients.client("s3")
    stream = InMemoryKinesis(own_names.stream, shards=2)
    beers = load_beers()
    publish(stream, own_names.stream, to_stream_records(beers))
    first = land(stream, s3, own_names, clock=stream.clock)
    stream.advance(minutes=5)
    publish(stream, own_names.stream, to_stream_records(changed(beers[:100], abv=0.5)))  # on the parents, unread
    stream.update_shard_count(StreamName=own_names.stream, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    stream.advance(minutes=5)
    publish(stream, own_names.stream, to_stream_records(changed(beers, abv=9.9)))  # on the children
    second = land(stream, s3, own_names, clock=stream.clock)
    lines = landed(s3, own_names.raw_bucket)
    assert first.landed == 325 and second.landed == 100 + 325 and len(set(identities(lines))) == len(lines) == 750
    order = second.shards_read
    for child in ("shardId-000000000002", "shardId-000000000003"):
        assert order.index("shardId-000000000000") < order.index(child)
    for child in ("shardId-000000000004", "shardId-000000000005"):
        assert order.index("shardId-000000000001") < order.index(child)
    # Per key, the order holds: each beer's three versions in the order published.
    versions: dict[int, list[float]] = {}
    for line in sorted(lines, key=lambda line: int(line["sequence_number"])):
        versions.setdefault(line["data"]["id"], []).append(line["data"]["abv"])
    assert versions[1] == [4.5, 0.5, 9.9] and versions[200][1:] == [9.9]
    third = land(stream, s3, own_names, clock=stream.clock)
    assert third.read == 0


def test_a_reshard_on_the_local_stream_loses_and_duplicates_nothing(own_names, own_clients):
    kinesis, s3 = own_clients.client("kinesis"), own_clients.client("s3")
    beers = load_beers()
    publish(kinesis, own_names.stream, to_stream_records(beers))
    land(kinesis, s3, own_names)
    kinesis.update_shard_count(StreamName=own_names.stream, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    publish(kinesis, own_names.stream, to_stream_records(changed(beers, abv=9.9)))
    second = land(kinesis, s3, own_names)
    lines = landed(s3, own_names.raw_bucket)
    assert second.landed == 325 and len(set(identities(lines))) == len(lines) == 650
    assert len(second.shards_read) == 6  # two closed parents, then their four children


def test_a_landing_across_midnight_names_both_days(own_names, own_clients):
    s3 = own_clients.client("s3")
    stream = InMemoryKinesis(own_names.stream, now=datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC))
    beers = load_beers()
    publish(stream, own_names.stream, to_stream_records(beers[:10]))
    stream.advance(minutes=1)
    publish(stream, own_names.stream, to_stream_records(beers[10:20]))
    report = land(stream, s3, own_names, clock=stream.clock)
    assert report.days_touched == ["2026-11-30", "2026-12-01"]
    assert {object_keys.day_of_key(o.key) for o in s3_ops.list_objects(s3, own_names.raw_bucket, "beers/")} == {
        "2026-11-30", "2026-12-01"}  # fmt: skip


def test_a_checkpoint_behind_the_trim_horizon_fails_loudly_unless_acknowledged(own_names, own_clients):
    s3 = own_clients.client("s3")
    stream = InMemoryKinesis(own_names.stream, shards=1, retention_hours=24)
    beers = load_beers()
    publish(stream, own_names.stream, to_stream_records(beers[:5]))
    land(stream, s3, own_names, clock=stream.clock)
    stream.advance(hours=10)
    publish(stream, own_names.stream, to_stream_records(beers[5:10]))  # never landed: expires below
    stream.advance(hours=30)
    publish(stream, own_names.stream, to_stream_records(beers[10:15]))
    with pytest.raises(raw.TrimmedGapError) as failure:
        land(stream, s3, own_names, clock=stream.clock)
    message = str(failure.value)
    oldest = stream.shards["shardId-000000000000"].records[10].sequence_number
    assert "shardId-000000000000" in message and "retention" in message and "accept_trimmed_gap" in message
    assert f"oldest record it still holds is sequence number {oldest}" in message
    assert len(landed(s3, own_names.raw_bucket)) == 5  # nothing landed, the checkpoint kept
    report = land(stream, s3, own_names, clock=stream.clock, accept_trimmed_gap=True)
    assert report.landed == 5 and len(report.gaps_accepted) == 1
    assert sorted(line["data"]["id"] for line in landed(s3, own_names.raw_bucket)) == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15]


def test_landing_daily_within_a_retention_of_two_days_is_never_a_gap(own_names, own_clients):
    s3 = own_clients.client("s3")
    stream = InMemoryKinesis(own_names.stream, shards=1, retention_hours=48)
    beers = load_beers()
    for day in range(4):
        publish(stream, own_names.stream, to_stream_records(changed(beers[:5], abv=float(day))))
        report = land(stream, s3, own_names, clock=stream.clock)
        assert report.landed == 5 and not report.gaps_accepted
        stream.advance(hours=25)  # a day late each time: the landed position expires, nothing unread does


def test_an_on_demand_stream_lands_like_any_other(own_names, own_clients):
    kinesis, s3 = own_clients.client("kinesis"), own_clients.client("s3")
    stream = own_names.stream + "-od"
    kinesis.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    publish(kinesis, stream, to_stream_records(load_beers()))
    report = raw.land(kinesis, s3, stream, own_names.raw_bucket, own_names.artifacts_bucket)
    assert report.landed == 325 and len(report.shards_read) == 4  # moto starts ON_DEMAND with 4
    assert sorted(line["data"]["id"] for line in landed(s3, own_names.raw_bucket)) == list(range(1, 326))
