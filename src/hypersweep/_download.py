"""Inputs given as http(s) URLs: downloaded once into the workspace's cache, read offline afterwards."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from hypersweep.errors import InvalidConfigError

CACHE_DIR = "cache/inputs"  # inside the workspace's state folder


def cached_path(url: str, cache_dir: Path) -> Path:
    """Where ``url`` is (or will be) kept in ``cache_dir``: a folder per URL, the URL's file name inside."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    return cache_dir / key / name


def fetch_input(url: str, cache_dir: Path, field: str, timeout: float = 60.0) -> Path:
    """The local copy of ``url``: from the cache, or downloaded (with a progress bar on stderr).

    Nothing is written unless the whole file arrived: it goes to a temporary file first.

    Raises:
        InvalidConfigError: naming ``field`` when the server answers an error or cannot be reached.
    """
    dest = cached_path(url, cache_dir)
    if dest.is_file():
        return dest
    try:
        response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http(s) only, checked by the caller
    except urllib.error.HTTPError as exc:
        raise InvalidConfigError(
            f"{field} is {url!r}, which answered HTTP {exc.code} ({exc.reason}); nothing was downloaded. "
            f"Check the URL, or download the file yourself and pass it with --set {field}=./FILE."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InvalidConfigError(
            f"{field} is {url!r}, which cannot be reached ({reason}); nothing was downloaded. "
            f"Download the file yourself and pass it with --set {field}=./FILE."
        ) from None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    fd, tmp_name = tempfile.mkstemp(prefix="hypersweep-download-")
    tmp = Path(tmp_name)
    try:
        with response, os.fdopen(fd, "wb") as out:
            size = response.headers.get("Content-Length")
            total = int(size) if size and size.isdigit() else None
            columns = (
                TextColumn(f"Downloading {dest.name}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
            )
            with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("download", total=total)
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    progress.advance(task, len(chunk))
        if total is not None and tmp.stat().st_size != total:
            raise InvalidConfigError(
                f"{field}: the download of {url!r} stopped after {tmp.stat().st_size} of {total} bytes; "
                "nothing was kept. Try again."
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp), dest)
    except (OSError, urllib.error.URLError) as exc:
        raise InvalidConfigError(
            f"{field}: the download of {url!r} failed ({exc}); nothing was kept."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
