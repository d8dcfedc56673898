"""Bad records for dead-letter tests: each one fails decode for the reason it claims."""

from __future__ import annotations

import pytest

from sim.bad import DEFAULT_MAX_BYTES, bad_records
from streams.codec import DecodeError, decode


@pytest.mark.parametrize("max_bytes", [2_048, DEFAULT_MAX_BYTES])
def test_every_bad_record_is_rejected_with_its_reason(max_bytes: int) -> None:
    for spec, raw, reason in bad_records(max_bytes):
        with pytest.raises(DecodeError) as caught:
            decode(spec, raw, max_bytes)
        assert reason in caught.value.reason


def test_the_bad_records_fail_in_six_different_ways() -> None:
    reasons = [record.reason for record in bad_records()]
    assert len(set(reasons)) == 6
    assert any("invalid JSON" in r for r in reasons) and any("too large" in r for r in reasons)


def test_the_oversized_record_is_otherwise_a_valid_event() -> None:
    spec, raw, _ = bad_records(4_096)[-1]
    assert len(raw) == 4_097
    assert decode(spec, raw, 10_000).type == "pos.sale"


def test_a_limit_too_small_for_the_other_records_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        bad_records(100)
