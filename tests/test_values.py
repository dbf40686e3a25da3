"""The rule for logged values (hypersweep._values): kept, converted, or refused; never unwritable."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep._values import MAX_DEPTH, Refused, clean, clean_text


def test_lone_surrogates_are_spelled_out_and_pairs_joined() -> None:
    assert clean_text("data_\udcff.csv") == (
        "data_\\xff.csv",
        True,
    )  # the byte os.listdir could not decode
    assert clean_text("a\ud800b") == ("a\\ud800b", True)
    assert clean_text("\ud83d\ude00") == ("\U0001f600", True)  # a pair is one character
    assert clean_text("plain é") == ("plain é", False)


def test_numbers_follow_the_rule() -> None:
    notes: list[str] = []
    assert clean(2**63 - 1, notes) == 2**63 - 1 and not notes
    assert clean(2**70, notes) == float(2**70) and "does not fit in 64 bits" in notes[0]
    assert math.isnan(clean(math.nan)) and clean(-math.inf) == -math.inf
    with pytest.raises(Refused, match="beyond the float range"):
        clean(2**1100)
    with pytest.raises(Refused, match="beyond the float range"):
        clean({"a": [1, -(2**1100)]})
    assert clean(2**1100, lenient=True) == math.inf and clean(-(2**1100), lenient=True) == -math.inf


def test_containers_numpy_and_bytes() -> None:
    notes: list[str] = []
    value = {
        1: (np.int64(3), np.float32(0.5)),
        "arr": np.arange(3),
        b"k": b"\xff\xfeok",
        "s": {"x\udcff"},
    }
    assert clean(value, notes) == {
        "1": [3, 0.5],
        "arr": [0, 1, 2],
        "k": "\\xff\\xfeok",
        "s": "{'x\\udcff'}",
    }  # a set: its str(), where repr escaped the surrogate
    assert any("not valid UTF-8" in n for n in notes)
    assert clean(b"utf-8 \xc3\xa9") == "utf-8 é"


def test_nesting_and_cycles_are_refused_not_recursed() -> None:
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(Refused, match="nested deeper"):
        clean(cycle)
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    assert "nested deeper" in json.dumps(clean(deep, lenient=True))


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers(min_value=-(2**1200), max_value=2**1200)
    | st.text()
    | st.binary()
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text() | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_whatever_is_kept_can_be_written_as_utf8_json_and_read_back(value) -> None:
    for lenient in (False, True):
        try:
            out = clean(value, lenient=lenient)
        except Refused:
            assert not lenient
            continue
        text = json.dumps(out, allow_nan=True, ensure_ascii=False)
        text.encode("utf-8")  # no lone surrogate survives
        assert json.dumps(json.loads(text), allow_nan=True, ensure_ascii=False) == text
