"""Reconcile's distinct-key counter (a scratch DuckDB file) against Python sets."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.distinct_keys import DistinctKeys

keys = st.lists(st.tuples(st.sampled_from(["e-1", "e-2", "e-3", "e-10"]), st.integers(1, 4)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(keys, keys, st.integers(1, 7))
def test_counts_equal_the_distinct_keys_whatever_the_batches(a: list, b: list, flush_every: int) -> None:  # type: ignore[type-arg]
    with DistinctKeys(flush_every=flush_every) as distinct:
        for n in range(0, len(a), 5):  # several adds between flushes, repeats across flushes
            distinct.add("fct_sales_lines", a[n:n + 5])
        distinct.add("fct_holds", ((x,) for x, _ in b))
        counts = distinct.counts()
    want = {"fct_sales_lines": len(set(a)), "fct_holds": len({x for x, _ in b})}
    assert {table: counts.get(table, 0) for table in want} == want and set(counts) <= set(want)


def test_the_scratch_file_is_gone_after_close() -> None:
    distinct = DistinctKeys()
    scratch = Path(distinct._dir.name)
    distinct.add("fct_holds", [("h-1",), ("h-1",), ("h-2",)])
    assert distinct.counts() == {"fct_holds": 2}
    distinct.close()
    assert not scratch.exists()
