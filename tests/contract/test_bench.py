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
    waited_on = {route.function for route in template.api_routes()} | {template.authorizer()[0]}
    assert {f"restored first request {function}" for function in waited_on} < measures
    assert sorted(m.split(" (")[0] for m in measures if m.startswith("cold first request ")) == sorted(
        f"cold first request {function}" for function in waited_on)
    assert {"batch of 20: API SQS calls", "batch of 20: where the end to end time goes (moto)"} < measures
    assert {"PDF render, 10 lines", "PDF render, 250 lines"} < measures
    units = next(row for row in rows if row[0] == "| batch of 20: write units against a raw BatchWriteItem (moto)")
    # Computed by DynamoDB's size rules (bench/units.py), so exact: each invoice's own writes cost
    # twice its raw write (a transaction), and the rest is what the batch writes besides.
    raw = float(units[1].split(" vs ")[1].split(";")[0].replace(",", ""))
    invoice = float(units[1].split("INVOICE ")[1].split(",")[0])
    assert invoice * 20 == 2 * raw, units[1]
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
        peak_mb=1.0, decode_mb=1.0, status=status, outcome="10 finalized, 0 failed", seconds=Counter(),
        units=Counter(), raw_write_units=1.0)
    assert result.rows()[0][3] == verdict


@pytest.mark.parametrize(("units", "verdict"), [(240.0, "ok"), (260.0, "MISS")])
def test_the_batch_write_units_verdict_is_ok_within_2_5x_of_the_raw_write(units: float, verdict: str) -> None:
    from collections import Counter

    result = bench.batch.Result(
        items=10, backend="DynamoDB Local", raw_seconds=1.0, transact_seconds=1.0, accept_seconds=1.0,
        drain_seconds=1.0, sqs_calls=Counter({"SendMessageBatch": 1}), dynamodb_calls=Counter({"Query": 1}),
        peak_mb=1.0, decode_mb=1.0, status="completed", outcome="10 finalized, 0 failed", seconds=Counter(),
        units=Counter({"write": units, "read": 30.0}), raw_write_units=100.0)
    row = next(row for row in result.rows() if "write units" in row[0])
    assert (row[3], row[1].split(" (")[0]) == (verdict, f"{units / 100:.2f}x")
    assert f"per item {units / 10:.1f} write + 3.0 read units" in row[1]
