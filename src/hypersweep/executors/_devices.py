"""The GPUs of this machine, and which trial holds which.

Where the devices come from (:func:`discover`)
    ``CUDA_VISIBLE_DEVICES`` of the driving process when it is set (its entries, as CUDA reads them:
    indexes or ``GPU-``/``MIG-`` UUIDs; an empty value or ``-1`` means none); else ROCm's
    ``HIP_VISIBLE_DEVICES`` or ``ROCR_VISIBLE_DEVICES``; else the GPUs ``nvidia-smi -L`` lists; else
    none. A trial gets its devices in the variable they were found in (from ``nvidia-smi``:
    ``CUDA_VISIBLE_DEVICES``; from ``HIP_VISIBLE_DEVICES``: that and ``CUDA_VISIBLE_DEVICES``). Where ``nvidia-smi`` exists, every entry of ``CUDA_VISIBLE_DEVICES`` must be a device it
    lists. Discovery happens only for a trial that asks for GPUs.

How they are shared (:class:`DevicePool`)
    A trial asking for ``num_gpus`` = n gets n whole free devices (n a whole number), or a share
    of one device (n < 1: trials whose shares add up to at most 1 share a device; the least used
    device first, so four trials of 0.5 on four devices get one each). Amounts are counted in
    1/10000 of a device, as Ray does, so 0.1 ten times fills a device exactly.

Across processes (:func:`pool_for`)
    Two sweeps share the devices whether one process drives both or each has its own: every
    grant is a lease file in a folder of the user's on this machine (``HYPERSWEEP_DEVICE_LEDGER``,
    by default ``<temp>/hypersweep-<uid>/devices``), written and read under a file lock, naming the
    devices by their ids, the amounts, and the driving process. A lease of a process that is gone
    (a driver killed with ``kill -9``) counts for nothing, so a crash frees its devices. Processes
    that see the same GPUs under other ids (``CUDA_VISIBLE_DEVICES=2,3`` in one, ``0,1`` in
    another) do not know they share them: give each its devices by UUID (``GPU-...``) for that.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hypersweep._validation import invalid

#: A device's capacity in pool units (Ray's granularity for fractional resources).
UNITS = 10_000
#: The tag on a run that names the devices it got.
DEVICES_TAG = "hypersweep.devices"
ROCM_VARIABLES = ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
NVIDIA_SMI_TIMEOUT = 10.0
#: The folder of the machine-wide leases (see "Across processes" above).
ENV_LEDGER = "HYPERSWEEP_DEVICE_LEDGER"


@dataclass(frozen=True)
class Devices:
    """The GPUs trials may use: their ids (as the visibility variables spell them) and where they were found."""

    ids: tuple[str, ...]
    source: str
    variable: str = "CUDA_VISIBLE_DEVICES"

    @property
    def rocm(self) -> bool:
        return self.variable in ROCM_VARIABLES

    def variables(self, ids: list[str]) -> dict[str, str]:
        """The environment variables that give a trial process the devices ``ids``.

        The ids are those of the variable they were found in: ``ROCR_VISIBLE_DEVICES`` is narrowed
        alone (HIP numbers the devices ROCr shows from 0); ``HIP_VISIBLE_DEVICES`` together with
        ``CUDA_VISIBLE_DEVICES``, which HIP also reads.
        """
        value = ",".join(ids)
        if self.variable == "ROCR_VISIBLE_DEVICES":
            return {"ROCR_VISIBLE_DEVICES": value}
        if self.variable == "HIP_VISIBLE_DEVICES":
            return {"HIP_VISIBLE_DEVICES": value, "CUDA_VISIBLE_DEVICES": value}
        return {"CUDA_VISIBLE_DEVICES": value}


def _entries(value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",")]
    if not any(parts) or parts[0] in ("-1", "NoDevFiles"):
        return []
    return [p for p in parts if p]


def nvidia_smi_devices(program: str | None = None) -> list[tuple[str, str]] | None:
    """``(index, uuid)`` of every GPU (and MIG device) ``nvidia-smi -L`` lists; None without nvidia-smi.

    MIG devices are listed with their parent's index.
    """
    program = program or shutil.which("nvidia-smi")
    if program is None:
        return None
    try:
        proc = subprocess.run(
            [program, "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return []  # installed, but no driver or no device
    found: list[tuple[str, str]] = []
    index = ""
    for line in proc.stdout.splitlines():
        gpu = re.match(r"\s*GPU (\d+):.*?\(UUID: (\S+?)\)", line)
        mig = re.match(r"\s*MIG .*?\(UUID: (\S+?)\)", line)
        if gpu:
            index = gpu.group(1)
            found.append((index, gpu.group(2)))
        elif mig:
            found.append((index, mig.group(1)))
    return found


def discover(environ: Mapping[str, str] | None = None) -> Devices:
    """This machine's GPUs for trials (see the module's docstring).

    Raises:
        InvalidConfigError: ``CUDA_VISIBLE_DEVICES`` names a device that ``nvidia-smi -L`` does not list.
    """
    environ = os.environ if environ is None else environ
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is not None:
        ids = _entries(value)
        listed = nvidia_smi_devices() if ids else None
        if listed is not None:
            indexes = {i for i, uuid in listed if not uuid.startswith("MIG-")}
            uuids = [uuid for _, uuid in listed]
            for entry in ids:
                known = (
                    entry in indexes if entry.isdigit() else any(u.startswith(entry) for u in uuids)
                )
                if not known:
                    shown = ", ".join(sorted(indexes, key=int)) or "none"
                    raise invalid(
                        "CUDA_VISIBLE_DEVICES",
                        "the environment",
                        f"devices that 'nvidia-smi -L' lists (indexes {shown}, or their UUIDs)",
                        value,
                    )
        if len(set(ids)) != len(ids):
            raise invalid(
                "CUDA_VISIBLE_DEVICES", "the environment", "a list of distinct devices", value
            )
        return Devices(tuple(ids), f"CUDA_VISIBLE_DEVICES={value}")
    for name in ROCM_VARIABLES:
        value = environ.get(name)
        if value is not None:
            ids = _entries(value)
            if len(set(ids)) != len(ids):
                raise invalid(name, "the environment", "a list of distinct devices", value)
            return Devices(tuple(ids), f"{name}={value}", name)
    listed = nvidia_smi_devices()
    if listed is None:
        return Devices((), "no CUDA_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES or nvidia-smi here")
    gpus = [index for index, uuid in listed if not uuid.startswith("MIG-")]
    return Devices(tuple(dict.fromkeys(gpus)), "nvidia-smi -L")


def units(num_gpus: float) -> int:
    """A request in pool units (a device is :data:`UNITS`)."""
    return round(num_gpus * UNITS)


def describe_request(num_gpus: float) -> str:
    return f"{num_gpus:g} GPU" + ("" if num_gpus <= 1 else "s")


def ledger_dir() -> Path:
    """The folder where this user's processes record which devices they hold."""
    configured = os.environ.get(ENV_LEDGER)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"hypersweep-{os.getuid()}" / "devices"


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), to tell it from a later one with its pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start is None or _process_start(pid) in (None, start)


@dataclass
class DevicePool:
    """Which trial holds how much of which device (thread-safe).

    With a ``ledger`` folder the pool also counts what other processes hold there and records its
    own grants in it (:func:`pool_for` gives one); without, it knows only its own grants.
    """

    devices: Devices
    ledger: Path | None = None
    holders: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _leases: dict[str, Path] = field(default_factory=dict, repr=False)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[int]]:
        """Hold the pool (and the ledger); yield what every holder uses of each device now."""
        with self.lock:
            if self.ledger is None:
                used = [0] * len(self.devices.ids)
                for pick in self.holders.values():
                    for i, amount in pick:
                        used[i] += amount
                yield used
                return
            self.ledger.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(self.ledger / ".lock", "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield self._read_ledger()
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _read_ledger(self) -> list[int]:
        assert self.ledger is not None
        index = {device: i for i, device in enumerate(self.devices.ids)}
        used = [0] * len(self.devices.ids)
        for lease in self.ledger.glob("*.lease"):
            try:
                data = json.loads(lease.read_text())
                pid, start, parts = int(data["pid"]), data.get("start"), data["parts"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # half-written by a process that died while writing: ignored
            if not _alive(pid, start):
                with contextlib.suppress(OSError):
                    lease.unlink()
                continue
            for device, amount in parts:
                if device in index:
                    used[index[device]] += int(amount)
        return used

    @property
    def used(self) -> list[int]:
        """How much of each device (in :data:`UNITS`) every holder uses now, other processes included."""
        with self._locked() as used:
            return used

    @staticmethod
    def _pick(used: list[int], need: int) -> list[tuple[int, int]] | None:
        free = [UNITS - u for u in used]
        if need <= UNITS:
            fitting = [i for i in range(len(free)) if free[i] >= need]
            if not fitting:
                return None
            best = max(
                fitting, key=lambda i: (free[i], -i)
            )  # the least used device, the first of equals
            return [(best, need)]
        whole = -(-need // UNITS)
        empty = [i for i in range(len(free)) if free[i] == UNITS]
        return [(i, UNITS) for i in empty[:whole]] if len(empty) >= whole else None

    def fits(self, num_gpus: float) -> int:
        """How many more trials asking ``num_gpus`` each could start now."""
        need = units(num_gpus)
        if need <= 0:
            return 0
        with self._locked() as used:
            count = 0
            while (pick := self._pick(used, need)) is not None:
                for i, amount in pick:
                    used[i] += amount
                count += 1
        return count

    def at_most(self, num_gpus: float) -> int:
        """How many trials asking ``num_gpus`` each the devices hold at once, when none is in use."""
        need = units(num_gpus)
        if need <= 0:
            return 0
        count = len(self.devices.ids)
        return count * (UNITS // need) if need <= UNITS else count // -(-need // UNITS)

    def acquire(self, key: str, num_gpus: float) -> list[str] | None:
        """Give ``key`` devices for ``num_gpus``; their ids, or None when they are not free now."""
        with self._locked() as used:
            pick = self._pick(used, units(num_gpus))
            if pick is None:
                return None
            ids = [self.devices.ids[i] for i, _ in pick]
            if self.ledger is not None:
                lease = self.ledger / f"{os.getpid()}-{uuid.uuid4().hex}.lease"
                pid = os.getpid()
                record = {
                    "pid": pid,
                    "start": _process_start(pid),
                    "key": key,
                    "parts": [[self.devices.ids[i], amount] for i, amount in pick],
                }
                partial = lease.with_suffix(".tmp")
                partial.write_text(json.dumps(record))
                partial.replace(lease)
                self._leases[key] = lease
            self.holders[key] = pick
            return ids

    def release(self, key: str) -> None:
        """Free what ``key`` holds (nothing if it holds nothing)."""
        with self.lock:
            self.holders.pop(key, None)
            lease = self._leases.pop(key, None)
            if lease is not None:
                with contextlib.suppress(OSError):
                    lease.unlink()


_POOLS: dict[tuple[Devices, Path], DevicePool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(devices: Devices) -> DevicePool:
    """The process's pool of these devices, which shares them with this user's other processes."""
    ledger = ledger_dir()
    with _POOLS_LOCK:
        pool = _POOLS.get((devices, ledger))
        if pool is None:
            pool = _POOLS[(devices, ledger)] = DevicePool(devices, ledger)
        return pool


def check_request(num_gpus: float, devices: Devices, owner: str) -> None:
    """Refuse a request the machine can never satisfy, naming what was found and where.

    Raises:
        InvalidConfigError: more devices are asked than there are.
    """
    have = len(devices.ids)
    if num_gpus > have:
        found = f"{have} GPU{'s' if have != 1 else ''}"
        raise invalid(
            "resources['num_gpus']",
            owner,
            f"at most the number of GPUs this machine has for trials: {found} "
            f"(found from {devices.source})",
            num_gpus,
        )


#: Thread-count variables set to a trial's ``num_cpus`` (unless already set).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def thread_variables(num_cpus: float | None, already: Mapping[str, str]) -> dict[str, str]:
    """``OMP_NUM_THREADS`` and friends for a trial of ``num_cpus`` CPUs (at least 1), except those ``already`` set."""
    if not num_cpus:
        return {}
    threads = str(max(1, int(num_cpus)))
    return {name: threads for name in THREAD_VARIABLES if name not in already}
