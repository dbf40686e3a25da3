"""The wire format between a trial and its sweep (``hypersweep._wire``), and the training side's
public interface: the live run the executors make current, and the store side the package connects."""

from __future__ import annotations

import math
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep._wire import KINDS, Kind, Record, decode, encode
from hypersweep.executors.base import parse_record
from hypersweep.run import LiveRun, Run, current_run, reset_current_run, set_current_run


class ListSink:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def write(self, record: Record) -> None:
        self.records.append(record)


def test_kinds_are_an_enum_whose_values_are_the_names_on_the_wire() -> None:
    assert KINDS == tuple(k.value for k in Kind) and len(KINDS) == 15
    assert Kind("metric") is Kind.METRIC and str(Kind.CONFUSION_MATRIX) == "confusion_matrix"
    assert f"log_{Kind.RESIDUALS}" == "log_residuals"
    assert {k for k in Kind if k.is_document} == {
        Kind.CONFUSION_MATRIX,
        Kind.ACCURACY_TABLE,
        Kind.RESIDUALS,
        Kind.PREDICTIONS,
    }
    assert not any(
        k.is_metric
        for k in (Kind.TAG, Kind.UNTAG, Kind.PROPERTY, Kind.DISPLAY_NAME, Kind.FAIL, Kind.FILE)
    )
    assert (
        Kind.TABLE.accepts({"c": [1]})
        and not Kind.TABLE.accepts({"c": 1})
        and Kind.UNTAG.accepts(None)
    )


def test_a_record_is_one_line_and_reads_back_the_same() -> None:
    rec = Record(Kind.ROW, "r", {"a": 1, "b": [1.5, None]}, 12.5, 3)
    line = encode(rec)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert line == b'{"k": "row", "n": "r", "v": {"a": 1, "b": [1.5, null]}, "t": 12.5, "s": 3}\n'
    assert decode(line) == rec and decode(line.decode()) == rec
    assert b'"s"' not in encode(Record(Kind.METRIC, "m", 1, 1.0))  # the step only when given
    nan = decode(encode(Record(Kind.METRIC, "m", math.nan, 1.0)))
    assert nan is not None and math.isnan(nan.value)  # NaN survives the wire


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[1]",
        b'{"k": "metric", "n": "x", "v": 1, "t": "now"}',
        b'{"k": ["metric"], "n": "x", "v": 1}',
        b'{"k": "bogus", "n": "x", "v": 1, "t": 1}',
        b'{"k": "tag", "n": "t", "v": 5, "t": 1}',
        b'{"k": "metric", "n": "x", "v": 1, "t": 1, "s": true}',
    ],
)
def test_a_line_not_in_the_shape_encode_writes_decodes_to_none(line: bytes) -> None:
    assert decode(line) is None and parse_record("r", line) is None


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(list(Kind)),
    st.text(max_size=5),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.lists(st.integers(), max_size=2), max_size=3),
    ),
    st.floats(0, 2e9),
    st.none() | st.integers(-5, 5),
)
def test_property_what_a_kind_accepts_reads_back_as_written(kind, name, value, when, step) -> None:
    name = name.encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"
    )  # valid Unicode, as Run cleans it
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    rec = Record(kind, name, value, when, step)
    back = decode(encode(rec))
    assert (back == rec) is kind.accepts(value)
    event = parse_record("r", encode(rec))
    assert (event is None) is (back is None)
    if event is not None:  # the executors' event carries the kind's name, as it always did
        assert type(event.kind) is str and (event.kind, event.name, event.value, event.step) == (
            kind.value,
            name,
            value,
            step,
        )


def test_every_log_call_sends_one_record_through_the_sink() -> None:
    sink = ListSink()
    run = LiveRun("r1", sink)
    run.log("m", 0.5, step=2)
    run.log_list("l", [1, 2])
    run.tag("t", 3)
    run.add_properties({"p": "v"})
    run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": {}})
    assert [(r.kind, r.name, r.value, r.step) for r in sink.records] == [
        (Kind.METRIC, "m", 0.5, 2),
        (Kind.LIST, "l", [1, 2], None),
        (Kind.TAG, "t", "3", None),
        (Kind.PROPERTY, "p", "v", None),
        (Kind.CONFUSION_MATRIX, "cm", {"schema_type": "confusion_matrix", "data": {}}, None),
    ]
    assert all(decode(encode(r)) == r for r in sink.records)


def test_the_current_run_is_per_thread_and_public() -> None:
    run = LiveRun("r2", ListSink())
    seen: list[object] = []
    token = set_current_run(run)
    try:
        assert current_run() is run and Run.get_context() is run
        thread = threading.Thread(target=lambda: seen.append(current_run()))
        thread.start()
        thread.join()
    finally:
        reset_current_run(token)
    assert seen == [None] and current_run() is None


def test_a_training_script_loads_no_store_layer_and_no_dataclasses() -> None:
    code = (
        "import sys; from hypersweep import Run; run = Run.get_context(); run.log('x', 1)\n"
        "print(sorted(m for m in ('hypersweep.experiment', 'hypersweep.store', 'hypersweep._results', "
        "'hypersweep.model', 'inspect', 'dataclasses', 'sqlite3') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_run_read_back_reaches_the_store_through_the_side_the_package_connected(
    workspace,
) -> None:
    import hypersweep.run as run_module
    from hypersweep.errors import HypersweepError
    from hypersweep.experiment import STORE_SIDE

    assert run_module._store_side() is STORE_SIDE
    saved = run_module._STORE_SIDE
    run_module._STORE_SIDE = None
    try:
        with pytest.raises(HypersweepError, match="No store is connected"):
            Run(object(), "HD_x_0").get_status()
    finally:
        run_module.connect_store(saved)  # type: ignore[arg-type]
    assert run_module._store_side() is STORE_SIDE
