"""Reading runs back from the workspace: metrics, details, files and logs of one run."""

from __future__ import annotations

import codecs
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from hypersweep import _runfiles
from hypersweep._validation import check_int
from hypersweep.errors import InvalidConfigError, NotFoundError, RunFailedError
from hypersweep.run import rows_to_columns
from hypersweep.status import RunStatus
from hypersweep.store import FILE_KIND, IMAGE_KIND, MetricRecord, RunRecord, Store


def iso(ts: float | None) -> str | None:
    """A UNIX time as an ISO-8601 UTC string (HyperDrive's ``startTimeUtc`` format)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def group_metrics(records: Iterable[MetricRecord]) -> dict[str, Any]:
    """A run's logged records as ``{name: scalar | list | {column: list}}``."""
    series: dict[str, list[Any]] = defaultdict(list)
    kinds: dict[str, str] = {}
    for record in records:
        if record.kind == FILE_KIND:  # an uploaded file, not a metric
            continue
        kinds[record.name] = record.kind
        value = record.value
        if record.kind == IMAGE_KIND and isinstance(value, dict):
            value = value.get("path")  # as Azure, an image metric's value names its file
        series[record.name].append(value)
    out: dict[str, Any] = {}
    for name, values in series.items():
        kind = kinds[name]
        if kind == "row":
            out[name] = rows_to_columns(values)
        elif kind == "table":
            out[name] = values[-1]
        else:
            out[name] = values[0] if len(values) == 1 and kind != "list" else values
    return out


class RunView:
    """Store-backed reads for one run (what ``Run``'s results methods call)."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id

    def row(self) -> RunRecord:
        """The run's record."""
        return self.store.run(self.run_id)

    def sweep_id(self) -> str | None:
        return self.row().sweep_id

    def status(self) -> str:
        return self.row().status.value

    def metrics(self) -> dict[str, Any]:
        return group_metrics(self.store.metrics(self.run_id))

    def tags(self) -> dict[str, str]:
        return self.store.tags(self.run_id)

    def details(self) -> dict[str, Any]:
        row = self.row()
        sweep = self.store.sweep(row.sweep_id)
        single = sweep.kind == "single"
        run_config = sweep.config["run_config"]
        arguments = row.arguments
        details: dict[str, Any] = {
            "runId": row.id,
            "number": row.number,
            "target": run_config.get("target", "local"),
            "status": row.status.value,
            "startTimeUtc": iso(row.started),
            "properties": {
                **self.store.properties(self.run_id),
                "Arguments": arguments,
                "hyperparameters": row.hyperparameters,
                "parent": None if single else row.sweep_id,
                "origin": row.origin,
            },
            "displayName": self.store.properties(self.run_id).get("display_name") or row.id,
            "experiment": sweep.experiment,
            "inputDatasets": [],
            "outputDatasets": [],
            "logFiles": {
                name: str(Path(row.run_dir) / name)
                for name, _ in _runfiles.list_files(row.run_dir)
                if name.startswith("logs/") and name.count("/") == 1 and name.endswith(".txt")
            },
            "submittedBy": os.environ.get("USER", ""),
            "runDefinition": {
                "script": run_config.get("script"),
                "command": run_config.get("command"),
                "arguments": arguments,
                "Arguments": arguments,
                "target": run_config.get("target", "local"),
                "sourceDirectory": run_config.get("source_directory"),
            },
            "tags": self.store.tags(self.run_id),
        }
        if row.ended is not None:
            details["endTimeUtc"] = iso(row.ended)
        if row.error:
            details["error"] = {"message": row.error}
        if row.reason:
            details["canceledReason"] = row.reason
        return details

    def _dir(self) -> Path:
        return Path(self.row().run_dir)  # not resolved: a run folder that is a link has no files

    def uploaded(self) -> list[str]:
        """Names of the files uploaded (``upload_file``) outside ``outputs/`` and ``logs/``."""
        names = {r.name for r in self.store.metrics(self.run_id, (FILE_KIND,))}
        return sorted(n for n in names if n.split("/", 1)[0] not in ("outputs", "logs"))

    def file_names(self) -> list[str]:
        """The run's files under ``outputs/`` and ``logs/`` and those it uploaded elsewhere in its folder;
        links that point outside are left out."""
        return [name for name, _ in _runfiles.list_files(self._dir(), self.uploaded())]

    def images(self) -> list[dict[str, Any]]:
        """The images logged with ``log_image``: ``{name, path, description, step}``."""
        out = []
        for r in self.store.metrics(self.run_id, (IMAGE_KIND,)):
            out.append({"name": r.name, "step": r.step, **r.value})
        return out

    def open(self, name: str) -> BinaryIO:
        """The run's file ``name`` open for reading; it must resolve inside ``outputs/`` or ``logs/``,
        or be one the run uploaded.

        A malformed name (NUL, absolute, ``..``, a component over 255 bytes) names no file of the run:
        :class:`NotFoundError`, as for a missing file, with the rule it breaks.
        """
        try:
            return _runfiles.open_file(self._dir(), name, self.run_id, self.uploaded())
        except InvalidConfigError as exc:
            raise NotFoundError(f"Run {self.run_id} has no file {name!r}: {exc}") from None

    def download_file(self, name: str, output_file_path: str | None = None) -> str:
        with self.open(name) as source:
            base = PurePosixPath(_runfiles.check_name(name)).name
            target = Path(output_file_path) if output_file_path else Path.cwd() / base
            if target.is_dir():
                target = target / base
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out)
        return str(target)

    def download_files(
        self,
        prefix: str | None,
        output_directory: str | None,
        output_paths: list[str] | None = None,
        append_prefix: bool = True,
    ) -> list[str]:
        """Copy the files whose names start with ``prefix``; return the paths written.

        Each goes to ``output_directory/<name>`` (without the prefix when ``append_prefix`` is False),
        or to ``output_paths[i]`` for the i-th file when ``output_paths`` is given.
        """
        out_dir = Path(output_directory or ".")
        names = [n for n in self.file_names() if prefix is None or n.startswith(prefix)]
        if output_paths is not None:
            if isinstance(output_paths, str) or len(output_paths) != len(names):
                from hypersweep._validation import invalid

                raise invalid(
                    "output_paths",
                    "Run.download_files",
                    f"a list of {len(names)} paths, one per file matched ({names[:5]}...)",
                    output_paths,
                )
            return [
                self.download_file(n, str(out_dir / p))
                for n, p in zip(names, output_paths, strict=True)
            ]
        written = []
        for name in names:
            local = (
                name
                if append_prefix or not prefix
                else name[len(prefix) :].lstrip("/") or Path(name).name
            )
            written.append(self.download_file(name, str(out_dir / local)))
        return written

    def log_text(self, stream: str, tail: int | None) -> str:
        """The text of ``logs/<stream>.txt``; with ``tail``, only its last ``tail`` lines (read from the end)."""
        if tail is not None:
            check_int(tail, "tail", "get_logs()", low=0)
        f = _runfiles.open_log(self._dir(), stream, self.run_id)
        if f is None:
            return ""
        with f:
            data = f.read() if tail is None else _runfiles.tail_bytes(f, tail)
        text = data.decode(errors="replace")
        if tail is not None:
            text = text.removesuffix("\n")  # as before: the lines joined by newlines
        return text

    def follow(
        self, stream: str = "stdout", offset: int = 0, interval: float = 0.2
    ) -> Iterator[str]:
        """The text the run writes to ``stream`` after byte ``offset``, as it comes, until the run ends."""
        root = self._dir()
        decoder = codecs.getincrementaldecoder("utf-8")(
            errors="replace"
        )  # a character may span two reads
        while True:
            ended = (
                self.row().status.is_terminal
            )  # read before the file, so nothing written last is missed
            f = _runfiles.open_log(root, stream, self.run_id)
            if f is not None:
                with f:
                    f.seek(offset)
                    while chunk := f.read(1 << 20):
                        offset += len(chunk)
                        if text := decoder.decode(chunk):
                            yield text
            if ended:
                if text := decoder.decode(b"", final=True):
                    yield text
                return
            time.sleep(interval)

    def wait(self, show_output: bool, raise_on_error: bool) -> dict[str, Any]:
        if show_output:
            for text in self.follow():
                print(text, end="")
        else:
            while not self.row().status.is_terminal:
                time.sleep(0.2)
        details = self.details()
        status = details["status"]
        if raise_on_error and status == RunStatus.FAILED.value:
            raise RunFailedError(
                f"Run {self.run_id} failed: {details.get('error', {}).get('message')}"
            )
        return details
