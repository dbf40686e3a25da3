"""JSON encoding with pre-encoded fragments (the big arrays are built as text by SQLite)."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any


class Raw:
    """A piece of JSON text to be inserted as is (it must already be valid JSON)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def marker(value: float) -> str:
    """How a non-finite number is named where the pages show it: ``inf``, ``-inf`` or ``nan``."""
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def finite(obj: Any, marks: dict[str, str] | None = None, path: str = "") -> Any:
    """``obj`` with every NaN and infinity (at any depth) replaced by None, which JSON can carry.

    Args:
        obj: decoded data: dicts, lists, tuples, numbers, strings.
        marks: if given, receives ``{dotted path: marker}`` for each value replaced (e.g.
            ``{"lr": "inf", "sizes.1": "nan"}``), so an answer can say which values were not finite.
        path: the prefix of the paths recorded in ``marks``.
    """
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        if marks is not None:
            marks[path] = marker(obj)
        return None
    if isinstance(obj, dict):
        return {str(k): finite(v, marks, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v, marks, f"{path}.{i}" if path else str(i)) for i, v in enumerate(obj)]
    return obj


def dumps(obj: Any) -> str:
    """Compact JSON of ``obj``; :class:`Raw` values are spliced in verbatim.

    NaN and infinities anywhere become ``null`` (strict JSON has neither), so no stored value can
    make an answer invalid.
    """
    obj = finite(obj)
    raws: dict[str, str] = {}
    mark = uuid.uuid4().hex

    def default(value: Any) -> Any:
        if isinstance(value, Raw):
            key = f"{mark}{len(raws)}"
            raws[key] = value.text
            return key
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=default)
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw, 1)
    return text
