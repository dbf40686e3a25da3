"""One rule for the values a run logs: what is kept as it is, what is converted, what is refused.

Every layer a logged value crosses applies it: ``Run.log`` and its siblings in the training
process (they warn about what they changed or refused), the reader of an events file (a line it
cannot accept is skipped, alone), and the store (the last line: whatever reaches it is converted
into something SQLite can bind). The rule:

- ``None``, booleans, floats (NaN and infinities included) and strings that are valid Unicode
  are kept. Numpy scalars and arrays become their Python values (``.item()``, ``.tolist()``),
  tuples become lists, mapping keys become strings, other objects their ``str()``.
- An integer that fits in 64 bits is kept; a larger one that a float can hold becomes that float
  (with a note: digits are lost); one beyond the float range (about ±1.8e308) is refused, since no
  number column can hold it (the store, as the last line, turns it into ±inf).
- A lone surrogate in a string (``os.listdir`` returns them for file names that are not UTF-8)
  cannot be written as UTF-8: ``U+DC80..U+DCFF``, the bytes Python's ``surrogateescape`` stands
  in for, become the text ``\\xNN`` (the original byte); any other lone surrogate becomes
  ``\\uXXXX``. Bytes are decoded as UTF-8, undecodable bytes also as ``\\xNN``.
- Containers nested deeper than :data:`MAX_DEPTH` levels are refused (the store keeps a marker).

This module uses only the standard library: every training run imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Containers nested deeper than this are refused (JSON readers recurse once a level).
MAX_DEPTH = 100
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_DIGITS_SHOWN = 12


class Refused(ValueError):
    """A value that no layer can store; ``str()`` says why."""


def clean_text(text: str) -> tuple[str, bool]:
    """``text`` with every lone surrogate spelled out (``\\xNN`` or ``\\uXXXX``); True if it changed."""
    if text.isascii():
        return text, False
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        pass
    # Pairs of surrogates stand for one character: join them first, then spell out the lone ones.
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    out = []
    for ch in joined:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out), True


def _brief(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: int) -> str:
    digits = str(abs(value)) if value.bit_length() < 10_000 else None
    if digits is None:
        return f"an integer of {value.bit_length()} bits"
    if len(digits) <= _MAX_DIGITS_SHOWN:
        return str(value)
    return f"{'-' if value < 0 else ''}{digits[:6]}...({len(digits)} digits)"


def _number(value: int, notes: list[str], lenient: bool) -> int | float:
    if _INT64_MIN <= value <= _INT64_MAX:
        return int(value)
    try:
        as_float = float(value)
    except OverflowError:
        if lenient:
            notes.append(f"{_short(value)} is beyond the float range and was stored as ±inf")
            return math.inf if value > 0 else -math.inf
        raise Refused(
            f"{_short(value)} is an integer beyond the float range (about ±1.8e308), which no "
            "number column can hold; log it as a string or a float instead"
        ) from None
    notes.append(
        f"{_short(value)} does not fit in 64 bits and was logged as the float {as_float!r}"
    )
    return as_float


def clean(
    value: Any, notes: list[str] | None = None, *, lenient: bool = False, _depth: int = 0
) -> Any:
    """A copy of ``value`` that JSON can carry and SQLite can bind, following the module's rule.

    Args:
        value: what was logged.
        notes: if given, a sentence is appended for every change that alters the content.
        lenient: convert what would be refused (the store's mode): huge integers to ±inf, too
            deeply nested containers to a marker string.

    Raises:
        Refused: (unless ``lenient``) for an integer beyond the float range or nesting deeper
            than :data:`MAX_DEPTH`.
    """
    kind = type(value)  # the common cases first: logging is on the training loop's path
    if kind is float or kind is bool or value is None:
        return value
    if kind is int and _INT64_MIN <= value <= _INT64_MAX:
        return value
    if kind is str and value.isascii():
        return value
    if notes is None:
        notes = []
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return _number(value, notes, lenient)
    if isinstance(value, str):
        text, changed = clean_text(str(value))
        if changed:
            notes.append(
                f"the string {_brief(ascii(value))} holds lone surrogates (it is not valid UTF-8) "
                f"and was written as {_brief(text)}"
            )
        return text
    if isinstance(value, (bytes, bytearray, memoryview)):
        text, changed = clean_text(bytes(value).decode("utf-8", "surrogateescape"))
        if changed:
            notes.append(
                f"the bytes {_brief(repr(bytes(value)))} are not valid UTF-8 and were written as {_brief(text)}"
            )
        return text
    if _depth >= MAX_DEPTH:
        if lenient:
            notes.append(f"a value nested deeper than {MAX_DEPTH} levels was replaced by a marker")
            return f"<nested deeper than {MAX_DEPTH} levels>"
        raise Refused(f"the value is nested deeper than {MAX_DEPTH} levels (or contains itself)")
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = clean(
                k if isinstance(k, str) else _plain_key(k),
                notes,
                lenient=lenient,
                _depth=_depth + 1,
            )
            out[str(key)] = clean(v, notes, lenient=lenient, _depth=_depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [clean(v, notes, lenient=lenient, _depth=_depth + 1) for v in value]
    plain = _numpy_plain(value)
    if plain is not value:
        return clean(plain, notes, lenient=lenient, _depth=_depth + 1)
    try:
        text = str(value)
    except Exception as exc:  # noqa: BLE001 - any object's __str__ may fail
        if lenient:
            return f"<{type(value).__name__} object>"
        raise Refused(f"str() of the {type(value).__name__} object failed: {exc}") from None
    return clean(text, notes, lenient=lenient, _depth=_depth + 1)


def _plain_key(key: Any) -> Any:
    """A mapping key as JSON would write it: numbers and None as their JSON text, the rest str()."""
    if key is None or isinstance(key, bool):
        return "null" if key is None else ("true" if key else "false")
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return repr(key)
    return key if isinstance(key, (str, bytes)) else str(key)


def _numpy_plain(value: Any) -> Any:
    """The Python value of a numpy (or similar) scalar or array; ``value`` itself otherwise."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and hasattr(value, "ndim"):
        try:
            return tolist()
        except (TypeError, ValueError):
            pass
    return value
