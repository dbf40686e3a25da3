"""JSON encoding with pre-encoded fragments (the big arrays are built as text by SQLite)."""

from __future__ import annotations

import json
import uuid
from typing import Any


class Raw:
    """A piece of JSON text to be inserted as is (it must already be valid JSON)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(obj: Any) -> str:
    """Compact JSON of ``obj``; :class:`Raw` values are spliced in verbatim. NaN is refused."""
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
