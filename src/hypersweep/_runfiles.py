"""The files of a run that may be listed, read and served: those under its ``outputs/`` and ``logs/``.

Every reader of a run's files (the results API, the CLI, the dashboard and its report) goes through
this module, so one rule holds everywhere: a name is run-relative (no NUL, not absolute, no ``..``,
each component at most 255 bytes), and the file it names must *resolve* inside the run's
``outputs/`` or ``logs/`` folder, symbolic links included. A link that points outside the run is
neither listed nor opened, and a file is opened only after checking where the opened descriptor
really is, so swapping a folder for a link between the check and the open does not help either.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from hypersweep._validation import invalid
from hypersweep.errors import NotFoundError

TOPS = ("outputs", "logs")
STREAMS = ("stdout", "stderr")
MAX_COMPONENT_BYTES = 255
MAX_NAME_BYTES = 4096
_BLOCK = 64 * 1024


def check_name(name: object, owner: str = "a run's file") -> str:
    """``name`` as a clean run-relative POSIX name (``outputs/model.txt``), or :class:`InvalidConfigError`.

    Refused: anything that is not a string, NUL or other characters a file system cannot take, an
    absolute name, a ``..`` component, a component over 255 bytes, a name over 4096 bytes.
    """
    if not isinstance(name, str):
        raise invalid("name", owner, "a string", name)
    if "\x00" in name:
        raise invalid("name", owner, "free of NUL characters", name)
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:
        raise invalid("name", owner, "encodable as a file name", name) from None
    if len(encoded) > MAX_NAME_BYTES:
        raise invalid("name", owner, f"at most {MAX_NAME_BYTES} bytes long", name[:64] + "...")
    if name.startswith("/") or os.path.isabs(name):
        raise invalid(
            "name", owner, "relative to the run's folder (e.g. 'outputs/model.txt')", name
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    for part in parts:
        if part == "..":
            raise invalid("name", owner, "free of '..' components", name)
        if len(os.fsencode(part)) > MAX_COMPONENT_BYTES:
            raise invalid(
                "name",
                owner,
                f"made of components of at most {MAX_COMPONENT_BYTES} bytes",
                name[:64] + "...",
            )
    return "/".join(parts)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _real_root(run_dir: str | os.PathLike[str]) -> str | None:
    """The run folder's real path; None when the folder itself is a link (it then has no files)."""
    if os.path.islink(run_dir):
        return None
    return os.path.realpath(run_dir)


def _allowed(real: str, root: str, extra: Iterable[str] = ()) -> bool:
    """Whether the resolved path ``real`` lies under the run's real ``outputs/`` or ``logs/``, or is
    exactly one of the run-relative names ``extra`` (files the run uploaded elsewhere in its folder)."""
    return any(_inside(real, os.path.join(root, top)) for top in TOPS) or any(
        real == os.path.join(root, name) for name in extra
    )


def _clean_names(names: Iterable[str]) -> list[str]:
    """The well-formed names among ``names`` (see :func:`check_name`); the others name no file."""
    out = []
    for name in names:
        try:
            clean = check_name(name)
        except ValueError:
            continue
        if clean:
            out.append(clean)
    return out


def list_files(run_dir: str | os.PathLike[str], extra: Iterable[str] = ()) -> list[tuple[str, int]]:
    """``[(name, size)]`` of the run's regular files under ``outputs/`` and ``logs/``, sorted by name.

    Symbolic links are listed only when they resolve to a regular file inside those folders; links
    to folders are not followed (no loops, nothing outside). The run-relative names ``extra`` (files
    the run uploaded elsewhere in its folder) are listed too when each is a regular file reached
    through no link at all.
    """
    root = _real_root(run_dir)
    out: list[tuple[str, int]] = []
    if root is None:
        return out  # a linked run folder has no files
    for name in _clean_names(extra):
        if name.split("/", 1)[0] in TOPS:
            continue  # listed by the walk below
        path = os.path.join(root, name)
        if os.path.realpath(path) == path and os.path.isfile(path):
            out.append((name, os.stat(path).st_size))
    for top in TOPS:
        base = os.path.join(root, top)
        if os.path.islink(base) or not os.path.isdir(base):
            continue
        for folder, dirs, files in os.walk(base, followlinks=False):
            dirs.sort()
            for entry in files:  # links to files are here; links to folders are in dirs, not walked
                path = os.path.join(folder, entry)
                real = os.path.realpath(path)
                if not _allowed(real, root):
                    continue
                try:
                    info = os.stat(real)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                rel = os.path.relpath(path, root)
                try:
                    name = check_name(rel.replace(os.sep, "/"))
                except ValueError:
                    continue
                out.append((name, info.st_size))
    out.sort()
    return out


def open_file(
    run_dir: str | os.PathLike[str], name: str, run_id: str = "this run", extra: Iterable[str] = ()
) -> BinaryIO:
    """The run's file ``name`` opened for binary reading.

    ``extra``: run-relative names of files the run uploaded outside ``outputs/`` and ``logs/``, which
    may be opened too (each only at its own place, through no link).

    Raises:
        InvalidConfigError: ``name`` is malformed (see :func:`check_name`).
        NotFoundError: no such regular file that resolves inside the run's ``outputs/`` or ``logs/``.
    """
    clean = check_name(name, f"the files of run {run_id}")
    root = _real_root(run_dir)

    def missing() -> NotFoundError:
        return NotFoundError(
            f"Run {run_id} has no file {name!r}; its files are listed by get_file_names()."
        )

    if root is None or not clean:
        raise missing()
    real = os.path.realpath(os.path.join(root, clean))
    extra = _clean_names(extra)
    if not _allowed(real, root, extra):
        raise missing()
    try:
        fd = os.open(
            real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        )
    except OSError:
        raise missing() from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise missing()
        proc = f"/proc/self/fd/{fd}"
        if os.path.exists(proc) and not _allowed(os.path.realpath(proc), root, extra):
            raise missing()  # a folder on the way was swapped for a link after the check
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_log(
    run_dir: str | os.PathLike[str], stream: str, run_id: str = "this run"
) -> BinaryIO | None:
    """``logs/<stream>.txt`` opened for binary reading, or None when it does not exist (or points outside)."""
    if stream not in STREAMS:
        raise invalid("stream", f"the logs of run {run_id}", f"one of {STREAMS}", stream)
    try:
        return open_file(run_dir, f"logs/{stream}.txt", run_id)
    except NotFoundError:
        return None


def tail_bytes(
    f: BinaryIO,
    lines: int,
    end: int | None = None,
    *,
    limit: int | None = None,
    block: int = _BLOCK,
) -> bytes:
    """The last ``lines`` lines of the open file ``f`` (up to byte ``end``), reading back from the end.

    Reads blocks of ``block`` bytes backwards until ``lines`` line breaks are found, so the memory
    used is that of the answer plus one block, whatever the file's size. A last line without a
    trailing newline counts as a line. With ``limit``, reading stops once ``limit`` bytes are
    gathered and at most the last ``limit`` bytes are returned (the first line may then be partial).
    """
    if end is None:
        end = f.seek(0, os.SEEK_END)
    if lines <= 0 or end <= 0:
        return b""
    f.seek(end - 1)
    # a trailing newline ends the last line; it does not start another one
    needed = lines + 1 if f.read(1) == b"\n" else lines
    chunks: list[bytes] = []
    found = 0
    pos = end
    while pos > 0:
        size = min(block, pos)
        pos -= size
        f.seek(pos)
        chunk = f.read(size)
        count = chunk.count(b"\n")
        if found + count >= needed:
            cut = len(chunk)
            for _ in range(needed - found):
                cut = chunk.rindex(b"\n", 0, cut)
            chunks.append(chunk[cut + 1 :])
            break
        found += count
        chunks.append(chunk)
        if limit is not None and end - pos >= limit:
            break
    chunks.reverse()
    data = b"".join(chunks)
    return data[-limit:] if limit is not None and len(data) > limit else data


class FileChunks(Iterator[bytes]):
    """The first ``total`` bytes of ``f`` in chunks of at most ``size`` bytes; closes ``f`` at the end.

    A file still being written (a running run's log) is served as it was when its size was taken.
    ``f`` is closed when the last chunk has been read, when :meth:`close` is called, and, failing
    both, when this iterator is freed: a response the client walked away from before its first
    chunk still gives its descriptor back.
    """

    def __init__(self, f: BinaryIO, total: int, size: int = _BLOCK) -> None:
        self._f = f
        self._left = total
        self._size = size
        f.seek(0)

    def __next__(self) -> bytes:
        if self._f.closed:
            raise StopIteration
        chunk = self._f.read(min(self._size, self._left)) if self._left > 0 else b""
        if not chunk:
            self.close()
            raise StopIteration
        self._left -= len(chunk)
        return chunk

    def close(self) -> None:
        """Close the file (at once; reading ends)."""
        self._f.close()

    def __del__(self) -> None:
        self.close()
