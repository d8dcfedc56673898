"""Reconciliation verdicts: drift per check, a readable table, and the exit code."""

from __future__ import annotations

from analytics.drift import Check, compare_counts, compare_maps, exit_code, render


def test_equal_counts_are_no_drift_and_a_missing_row_is_drift_of_one() -> None:
    checks = compare_counts({"fct_sales_lines": 10, "fct_order_status": 4}, {"fct_sales_lines": 11,
                                                                             "fct_order_status": 4})
    by_name = {c.name: c for c in checks}
    assert by_name["fct_order_status rows"].status == "ok"
    assert by_name["fct_sales_lines rows"].drifted == 1
    assert by_name["fct_sales_lines rows"].examples == ("duckdb=10 topics=11",)
    assert exit_code(checks) == 1


def test_a_key_on_one_side_only_or_with_another_value_is_drift() -> None:
    check = compare_maps("stock", {("s1", "n1"): (5, 0), ("s2", "n1"): (1, 0)},
                         {("s1", "n1"): (5, 0), ("s2", "n1"): (2, 0), ("s3", "n1"): (0, 0)})
    assert (check.compared, check.drifted) == (3, 2)
    assert "duckdb=(1, 0) authority=(2, 0)" in check.examples[0]


def test_no_drift_exits_zero_a_check_that_could_not_run_exits_two_and_drift_wins_over_it() -> None:
    ok = Check("a", compared=3)
    unchecked = Check("b", error="GET /stock/x/ answered nothing")
    drift = Check("c", compared=3, drifted=1)
    assert exit_code([ok]) == 0
    assert exit_code([ok, unchecked]) == 2
    assert exit_code([unchecked, drift]) == 1
    assert exit_code([]) == 2


def test_the_report_is_one_line_per_check_with_details_indented() -> None:
    text = render([Check("fct_sales_lines rows", compared=10, drifted=2, examples=("duckdb=8 topics=10",)),
                   Check("stock on hand (sku, node)", error="GET /stock/x/ answered nothing")])
    lines = text.splitlines()
    assert lines[0].split() == ["check", "compared", "drifted", "status"]
    assert lines[2].split()[-3:] == ["10", "2", "drift"]
    assert lines[3] == "    duckdb=8 topics=10"
    assert lines[4].endswith("unchecked") and lines[5].startswith("    GET")


def test_a_late_wallet_timer_is_reported_as_behind_apart_from_drift_and_exits_three() -> None:
    from analytics.reconcile import _due_check

    due = {"cus-a": (400.0, "mature 54"), "cus-b": (2.0, "expire_hold 10"), "cus-c": (90.0, "tier -> base")}
    behind = _due_check(due, compared=10, grace_s=60)
    assert (behind.status, behind.drifted) == ("behind", 2)
    assert behind.examples[0] == "cus-a: mature 54 due 400 s ago, not yet posted"
    assert behind.notes == ("1 wallets with changes due under 60 s ago (the timer posts them next)",)
    assert exit_code([Check("a", compared=3), behind]) == 3
    assert exit_code([Check("c", compared=3, drifted=1), behind]) == 1  # a wrong projection wins
    assert _due_check({"cus-b": (2.0, "mature 1")}, 10, 60).status == "ok"
