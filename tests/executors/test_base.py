"""Decoding an events file: a malformed or hostile line is skipped alone."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.executors.base import coerce_number, parse_record, parse_records

GOOD = b'{"k": "metric", "n": "score", "v": 0.5, "t": 1.0}'

HOSTILE = [
    b"\xff\xfe not json at all",
    b"[" * 100_000,  # deep enough to exhaust the recursion limit
    b'{"k": "metric", "n": "x", "v": ' + b"9" * 400 + b', "t": 1}',  # beyond the float range
    b'{"k": "metric", "n": "x", "v": ' + b"9" * 5000 + b', "t": 1}',  # beyond int parsing limits
    b'{"k": "metric", "n": "x", "v": 1, "t": NaN}',
    b'{"k": "metric", "n": "x", "v": 1, "t": 1e999}',
    b'{"k": "metric", "n": "x", "v": 1, "t": "now"}',
    b'{"k": "metric", "n": "x", "v": 1, "t": 1, "s": 99999999999999999999}',
    b'{"k": "bogus", "n": "x", "v": 1, "t": 1}',
    b'{"k": "metric", "n": {"a": 1}, "v": 1, "t": 1}',
    b'{"k": "row", "n": "r", "v": 5, "t": 1}',
    b'{"k": "table", "n": "t", "v": {"c": 5}, "t": 1}',
    b'{"k": "list", "n": "l", "v": 5, "t": 1}',
    b'{"k": "tag", "n": "t", "v": 5, "t": 1}',
    b'{"k": "metric"}',
    b"null",
    b'"a string"',
    b"",
]


def test_each_hostile_line_is_skipped_and_its_neighbours_kept() -> None:
    lines = [GOOD]
    for bad in HOSTILE:
        lines += [bad, GOOD]
    records = parse_records("r", lines)
    assert [(r.name, r.value) for r in records] == [("score", 0.5)] * (len(HOSTILE) + 1)


def test_what_a_line_holds_is_cleaned() -> None:
    rec = parse_record("r", b'{"k": "tag", "n": "f\\udcff", "v": "data_\\udcff.csv", "t": 1}')
    assert rec is not None and (rec.name, rec.value) == ("f\\xff", "data_\\xff.csv")
    rec = parse_record("r", b'{"k": "row", "n": "r", "v": {"big": 18446744073709551616}, "t": 1}')
    assert rec is not None and rec.value == {"big": 1.8446744073709552e19}


def test_coerce_number_never_raises() -> None:
    assert coerce_number(2**1100) == float("inf") and coerce_number(-(2**1100)) == float("-inf")
    assert coerce_number("x") != coerce_number("x")  # NaN


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200)
    | st.builds(
        lambda v: json.dumps({"k": "metric", "n": "x", "v": v, "t": 1}).encode(),
        st.recursive(
            st.none() | st.integers() | st.floats() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        ),
    )
)
def test_no_line_raises(line) -> None:
    rec = parse_record("r", line)
    if rec is not None:
        json.dumps(rec.value, ensure_ascii=False, allow_nan=True).encode("utf-8")
