"""The benchmark command runs and prints its one table (a small batch, one cold-start round: the
timings are not checked here, only that every measure is there and the DynamoDB call targets,
which are deterministic, are met)."""

from __future__ import annotations

import pytest

from bench import __main__ as bench
from devstack import template


def test_make_bench_prints_every_measure_and_meets_the_call_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--batch-items", "20", "--batch-rounds", "2", "--rounds", "1", "--receivables-invoices", "200",
                       "--markdown"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    measures = {row[0].removeprefix("| ") for row in rows}
    assert all(len(row) == 4 for row in rows)  # a table, nothing else on stdout
    calls = [row for row in rows if "DynamoDB calls:" in row[1]]
    assert len(calls) == 20 and all(row[3] == "ok |" for row in calls)
    assert {f"cold import {fn.logical_id}" for fn in template.functions().values()} < measures
    assert f"cold import {bench.cold_start.FLOOR_NAME}" in measures
    assert {"batch of 20: API SQS calls", "batch of 20: where the end to end time goes (moto)"} < measures
    receivables = [row for row in rows if row[0].endswith(", 200 invoices (60 unpaid)")]
    assert [row[0].removeprefix("| ") for row in receivables] == [
        "aging, 200 invoices (60 unpaid)", "metrics, 200 invoices (60 unpaid)"]
    assert all("60 items read" in row[1] and "x the unpaid invoices' keys alone" in row[1] and row[3] == "ok |"
               for row in receivables)
    end_to_end = next(row for row in rows if row[0] == "| batch of 20, finalize + sweep, end to end (moto)")
    assert "the median of 2 rounds: " in end_to_end[1] and "completed, 20 finalized, 0 failed" in end_to_end[1]


@pytest.mark.parametrize(("ratio", "status", "verdict"), [
    (2.9, "completed", "ok"), (3.1, "completed", "MISS"), (2.0, "completed_with_errors", "MISS"),
    (2.0, "processing", "MISS")])
def test_the_batch_time_verdict_is_ok_within_3x_of_the_raw_write_for_a_completed_batch(
        ratio: float, status: str, verdict: str) -> None:
    from collections import Counter

    result = bench.batch.Result(
        items=10, backend="moto", raw_seconds=1.0, transact_seconds=1.0, accept_seconds=ratio / 2,
        drain_seconds=ratio / 2, sqs_calls=Counter({"SendMessageBatch": 1}), dynamodb_calls=Counter({"Query": 1}),
        peak_mb=1.0, decode_mb=1.0, status=status, outcome="10 finalized, 0 failed", seconds=Counter())
    assert result.rows()[0][3] == verdict
