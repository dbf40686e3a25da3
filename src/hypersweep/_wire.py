"""The wire format between a trial and its sweep: one record a line, and the kinds of record.

A training run (:mod:`hypersweep.run`) turns each ``log``, ``tag``, ``upload_file``... into one
:class:`Record`; a sink sends it on: a script appends :func:`encode`'s line to the file named by
``HYPERSWEEP_EVENTS`` with one unbuffered ``write``, a Ray task sends the same line to the driver,
a callable in a thread hands the record over as it is. A reader turns each line back into a record
with :func:`decode`, which accepts a line only in the shape :func:`encode` writes. A line is one
JSON object: ``{"k": kind, "n": name, "v": value, "t": time, "s": step}`` (``s`` only when given).

This module imports only the standard library: every training run pays for its import.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any, NamedTuple

from hypersweep._values import clean


class Kind(str, enum.Enum):
    """What a record is: a metric, a tag, or one of the records of the rest of Azure's ``Run``."""

    METRIC = "metric"
    LIST = "list"
    ROW = "row"
    TABLE = "table"
    TAG = "tag"
    UNTAG = "untag"
    PROPERTY = "property"
    DISPLAY_NAME = "display_name"
    FAIL = "fail"
    IMAGE = "image"
    FILE = "file"
    CONFUSION_MATRIX = "confusion_matrix"
    ACCURACY_TABLE = "accuracy_table"
    RESIDUALS = "residuals"
    PREDICTIONS = "predictions"

    def __str__(self) -> str:
        return self.value

    @property
    def is_document(self) -> bool:
        """True for the JSON documents in Azure's schemas (``log_confusion_matrix`` and friends)."""
        return self in _DOCUMENTS

    @property
    def is_metric(self) -> bool:
        """True for the kinds ``get_metrics`` returns (the others set tags, properties, files or the outcome)."""
        return self in _METRICS

    def accepts(self, value: Any) -> bool:
        """True if ``value`` has this kind's shape: a list for ``list``, an object for ``row``, an
        object of lists for ``table``, text for tags, properties, the display name and ``fail``,
        None for ``untag``, an object for images, files and documents; anything for ``metric``."""
        if self is Kind.LIST:
            return isinstance(value, list)
        if self is Kind.ROW:
            return isinstance(value, dict)
        if self is Kind.TABLE:
            return isinstance(value, dict) and all(isinstance(v, list) for v in value.values())
        if self in (Kind.TAG, Kind.PROPERTY, Kind.DISPLAY_NAME, Kind.FAIL):
            return isinstance(value, str)
        if self is Kind.UNTAG:
            return value is None
        if self in (Kind.IMAGE, Kind.FILE) or self.is_document:
            return isinstance(value, dict)
        return True


_DOCUMENTS = frozenset(
    {Kind.CONFUSION_MATRIX, Kind.ACCURACY_TABLE, Kind.RESIDUALS, Kind.PREDICTIONS}
)
_METRICS = frozenset({Kind.METRIC, Kind.LIST, Kind.ROW, Kind.TABLE, Kind.IMAGE, *_DOCUMENTS})

#: Every kind's name, as written on the wire.
KINDS = tuple(k.value for k in Kind)


class Record(NamedTuple):
    """One thing a run logged: its kind, name, value, the time it was logged and an optional step.

    (A named tuple, not a dataclass: ``dataclasses`` imports ``inspect``, which a training script
    would pay for at ``from hypersweep import Run``.)
    """

    kind: Kind
    name: str
    value: Any
    time: float
    step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as the JSON object of its line (``k``, ``n``, ``v``, ``t``, and ``s`` when given)."""
        data: dict[str, Any] = {
            "k": str(self.kind),
            "n": self.name,
            "v": self.value,
            "t": self.time,
        }
        if self.step is not None:
            data["s"] = self.step
        return data


def encode(record: Record) -> bytes:
    """The record as one line of UTF-8 JSON, newline included (NaN and infinities written as
    ``NaN``, ``Infinity`` and ``-Infinity``, which :func:`decode` reads back)."""
    return (json.dumps(record.to_dict(), allow_nan=True) + "\n").encode()


def decode(line: bytes | str) -> Record | None:
    """The record of one line; None for a line that is torn, foreign or malformed.

    A line is accepted only in the shape :func:`encode` writes: a JSON object with a known kind
    ``k``, a string name ``n``, a value ``v`` of the kind's shape (:meth:`Kind.accepts`), a finite
    time ``t`` and an optional integer step ``s``. Its name and value then pass the rule of
    :mod:`hypersweep._values` (lone surrogates spelled out, large integers as floats); a line that
    rule refuses (an integer beyond the float range, nesting deeper than 100 levels) is None too.
    Whatever a line holds, only that line is lost.
    """
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            return None
        kind, name, value, when, step = (
            data["k"],
            data["n"],
            data["v"],
            data.get("t", 0.0),
            data.get("s"),
        )
        if not isinstance(kind, str) or kind not in KINDS or not isinstance(name, str):
            return None
        if not Kind(kind).accepts(value):
            return None
        if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
            return None
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or abs(step) >= 2**63
        ):
            return None
        return Record(Kind(kind), clean(name), clean(value), float(when), step)
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return (
            None  # Refused and UnicodeDecodeError are ValueErrors; deep JSON raises RecursionError
        )
