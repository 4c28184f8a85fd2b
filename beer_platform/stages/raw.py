"""The raw zone: land the stream's new records, as received, in append-only gzipped JSON-lines parts.

Each shard is read from its committed position, parents before children (`lineage_order`), a
bounded batch at a time; a batch becomes one part per ingestion day it spans (usually one), named
by the shard and its first and last sequence numbers (`object_keys.raw_part_key`); the shard's
position is committed after the batch's parts are written. No part is ever read back or
rewritten, so a landing costs what is new, and memory is bounded by the batch.

Exactly once: a run that died between writing a part and committing its position left a part
that starts right after the committed position. The next run, before writing a part, looks for
a part starting at the same record (a key prefix, `raw_parts_starting_at`) and, finding one,
counts the records it covers as landed instead of writing them again, until it finds none.

Reported once: the days a landing wrote parts for (`days_touched`, the cleaned zone's partitions
to redo) reach the cleaned zone only through the report of a landing that finished. A run killed
after committing but before its report was recorded would take its days with it, so every
commit also stores the days written since the last reported landing (`unreported_days`), and a
landing that starts from positions its caller never saw reported (`reported_positions`: where
the last reported landing ended) reports those days again. A part found written by a dead run
counts as a day touched too: whoever wrote it never reported it. Reporting a day twice costs a
cleaning run (idempotent); losing it would leave the day uncleaned.

Fell behind: if a shard's position was last read to the tip longer ago than the stream's
retention and the record at that position is no longer in the stream, records may have been
trimmed unread. The landing then fails (`TrimmedGapError`, naming each shard and the gap) unless
it is told to accept the gap, in which case those shards are read from their trim horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from beer_platform.aws import kinesis as kinesis_ops
from beer_platform.aws import s3 as s3_ops
from beer_platform.lake import object_keys
from beer_platform.lake import raw_format
from beer_platform.stream.records import ReceivedRecord, Shard, lineage_order

def checkpoint_key(zone: str = object_keys.RAW_PREFIX) -> str:
    """Where the landing of a raw zone (`beers`, `predictions`) keeps its shards' positions."""
    return object_keys.state_key(f"raw_{zone}", "checkpoint.json")


CHECKPOINT_KEY = checkpoint_key()
BATCH_RECORDS = 10_000
BATCH_BYTES = 64 * 2**20


class TrimmedGapError(RuntimeError):
    """Records may have expired from the stream before they were landed."""


@dataclass
class ShardState:
    sequence_number: str | None = None  # the last record landed
    read_to_tip_at: str | None = None  # ISO time the landing last reached the shard's tip
    ended: bool = False  # closed and read to its end

    def as_json(self) -> dict[str, Any]:
        return {"sequence_number": self.sequence_number, "read_to_tip_at": self.read_to_tip_at, "ended": self.ended}


@dataclass(frozen=True)
class ShardGap:
    shard_id: str
    landed_through: str | None
    read_to_tip_at: str
    oldest_available: ReceivedRecord | None  # None: the shard is gone, or holds nothing

    def describe(self) -> str:
        through = f"landed through sequence number {self.landed_through}" if self.landed_through else "nothing landed"
        if self.oldest_available is None:
            now = "the shard now holds no records (or is gone)"
        else:
            oldest = self.oldest_available
            now = (f"the oldest record it still holds is sequence number {oldest.sequence_number}, "
                   f"arrived {oldest.arrival_timestamp.isoformat()}")  # fmt: skip
        return f"{self.shard_id}: {through}, last read to its tip at {self.read_to_tip_at}; {now}"


@dataclass
class LandingReport:
    read: int = 0
    landed: int = 0
    already_landed: int = 0
    batches: int = 0
    parts_written: list[str] = field(default_factory=list)
    days_touched: list[str] = field(default_factory=list)  # days with a part written (or found) by this landing
    shards_read: list[str] = field(default_factory=list)  # in the order read (parents first)
    positions: dict[str, str | None] = field(default_factory=dict)
    gaps_accepted: list[str] = field(default_factory=list)
    expired_iterators: int = 0


def load_checkpoint(s3: Any, state_bucket: str, key: str = CHECKPOINT_KEY) -> dict[str, ShardState]:
    stored = s3_ops.get_json(s3, state_bucket, key) or {}
    return {shard_id: ShardState(**state) for shard_id, state in stored.get("shards", {}).items()}


def load_unreported_days(s3: Any, state_bucket: str, key: str = CHECKPOINT_KEY) -> set[str]:
    return set((s3_ops.get_json(s3, state_bucket, key) or {}).get("unreported_days", []))


def commit(s3: Any, state_bucket: str, shards: dict[str, ShardState], unreported_days: set[str] = frozenset(),
           key: str = CHECKPOINT_KEY) -> None:  # fmt: skip
    s3_ops.put_json(s3, state_bucket, key,
                    {"version": 2, "shards": {sid: state.as_json() for sid, state in sorted(shards.items())},
                     "unreported_days": sorted(unreported_days)})  # fmt: skip


def positions(checkpoint: dict[str, ShardState]) -> dict[str, str | None]:
    """Where each shard's landing stands: what a report records, and what the next landing compares."""
    return {sid: state.sequence_number for sid, state in sorted(checkpoint.items())}


def find_gaps(
    kinesis: Any, stream: str, shards: list[Shard], checkpoint: dict[str, ShardState], now: datetime,
    backoff: kinesis_ops.Backoff,
) -> list[ShardGap]:  # fmt: skip
    """The shards whose unlanded records may have expired (see the module's docstring)."""
    cutoff = now - timedelta(hours=kinesis_ops.retention_hours(kinesis, stream, backoff))
    listed = {shard.shard_id for shard in shards}
    gaps: list[ShardGap] = []
    for shard_id, state in sorted(checkpoint.items()):
        if state.ended or state.read_to_tip_at is None or datetime.fromisoformat(state.read_to_tip_at) > cutoff:
            continue  # whatever it has not landed arrived after it was read to the tip: still there
        oldest = kinesis_ops.first_available(kinesis, stream, shard_id, backoff) if shard_id in listed else None
        anchored = (oldest is not None and state.sequence_number is not None
                    and int(oldest.sequence_number) <= int(state.sequence_number))  # fmt: skip
        if not anchored:  # the landed position itself has expired: what followed it may have too
            gaps.append(ShardGap(shard_id, state.sequence_number, state.read_to_tip_at, oldest))
    return gaps


def land(
    kinesis: Any,
    s3: Any,
    stream: str,
    raw_bucket: str,
    state_bucket: str,
    *,
    zone: str = object_keys.RAW_PREFIX,
    accept_trimmed_gap: bool = False,
    reported_positions: dict[str, str | None] | None = None,
    batch_records: int = BATCH_RECORDS,
    batch_bytes: int = BATCH_BYTES,
    backoff: kinesis_ops.Backoff | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LandingReport:
    """Land `stream`'s new records in the raw zone `zone` (its prefix in `raw_bucket`); see the module."""
    backoff = backoff or kinesis_ops.Backoff()
    key = checkpoint_key(zone)
    checkpoint = load_checkpoint(s3, state_bucket, key)
    shards = lineage_order(kinesis_ops.list_shards(kinesis, stream, backoff))
    gaps = find_gaps(kinesis, stream, shards, checkpoint, clock(), backoff) if checkpoint else []
    if gaps and not accept_trimmed_gap:
        raise TrimmedGapError(_gap_message(stream, gaps))
    report = LandingReport(gaps_accepted=[gap.describe() for gap in gaps])
    unreported = reported_positions is not None and positions(checkpoint) != reported_positions
    days: set[str] = load_unreported_days(s3, state_bucket, key) if unreported else set()
    for gap in gaps:
        checkpoint.pop(gap.shard_id, None)  # read from its trim horizon
    for shard in shards:
        state = checkpoint.setdefault(shard.shard_id, ShardState())
        writer = _PartWriter(s3, raw_bucket, zone, shard.shard_id, report, days)
        reader = kinesis_ops.ShardReader(kinesis, stream, shard, state.sequence_number, batch_records=batch_records,
                                         batch_bytes=batch_bytes, backoff=backoff, clock=clock)  # fmt: skip
        for batch in reader.batches():
            report.read += len(batch)
            report.batches += 1
            for day, run in raw_format.day_runs(batch):
                writer.write(day.isoformat(), run)
            state.sequence_number = batch[-1].sequence_number
            commit(s3, state_bucket, checkpoint, days, key)  # after the batch's parts: a crash re-lands, never skips
        report.shards_read.append(shard.shard_id)
        report.expired_iterators += reader.expired_iterators
        state.ended = reader.ended
        if reader.caught_up_at is not None:
            state.read_to_tip_at = reader.caught_up_at.isoformat()
    listed = {shard.shard_id for shard in shards}
    for shard_id in [sid for sid in checkpoint if sid not in listed]:
        del checkpoint[shard_id]  # expired after being read to its end (or its gap was accepted)
    commit(s3, state_bucket, checkpoint, days, key)
    report.positions = positions(checkpoint)
    report.days_touched = sorted(days)
    return report


def _gap_message(stream: str, gaps: list[ShardGap]) -> str:
    return (f"raw_beers fell behind the retention of stream {stream!r}: records may have expired before they were "
            f"landed. {'; '.join(gap.describe() for gap in gaps)}. To land from the trim horizon and accept the gap, "
            'run raw_beers with the run config {"accept_trimmed_gap": true}.')  # fmt: skip


class _PartWriter:
    """Writes one shard's runs as parts, skipping what a run that died before its commit wrote."""

    def __init__(self, s3: Any, bucket: str, zone: str, shard_id: str, report: LandingReport, days: set[str]) -> None:
        self.s3, self.bucket, self.zone, self.shard_id, self.report, self.days = s3, bucket, zone, shard_id, report, days
        self.probing = True  # until a probe finds nothing: then nothing later was written either
        self.landed_through = -1  # records up to this sequence number were found already landed

    def write(self, day: str, run: Sequence[ReceivedRecord]) -> None:
        run = self._skip_landed(run)
        while run and self.probing:
            prefix = object_keys.raw_parts_starting_at(day, self.shard_id, run[0].sequence_number, self.zone)
            found = s3_ops.list_objects(self.s3, self.bucket, prefix)
            if not found:
                self.probing = False
                break
            self.landed_through = max(int(object_keys.parse_raw_part_key(o.key).last_sequence) for o in found)
            self.days.add(day)  # the run that wrote it died before it could have the day cleaned
            run = self._skip_landed(run)
        if not run:
            return
        key = object_keys.raw_part_key(day, self.shard_id, run[0].sequence_number, run[-1].sequence_number, self.zone)
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=raw_format.encode_part(raw_format.envelope_line(r) for r in run),
            ContentType="application/x-ndjson", ContentEncoding="gzip", Metadata={"records": str(len(run))},
        )  # fmt: skip
        self.report.landed += len(run)
        self.report.parts_written.append(s3_ops.uri(self.bucket, key))
        self.days.add(day)

    def _skip_landed(self, run: Sequence[ReceivedRecord]) -> Sequence[ReceivedRecord]:
        skipped = 0
        while skipped < len(run) and int(run[skipped].sequence_number) <= self.landed_through:
            skipped += 1
        self.report.already_landed += skipped
        return run[skipped:]
