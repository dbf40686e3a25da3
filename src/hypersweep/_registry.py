"""Registries of the pluggable kinds: each class declares itself once, as it is defined.

A sampler or a policy carries its HyperDrive name (``sampling_name``, ``policy_name``: the ``name``
of the stored JSON form) and its sweep file ``type`` (``yaml_type``) as class attributes; the base
class's ``__init_subclass__`` adds it to its kind's :class:`Registry`. The sweep file, the stored
sweep and ``HyperDriveConfig`` look classes up there, so a new class, defined anywhere (a plugin
module in a user's project included), is usable by its ``type`` and its name as soon as its module is
imported.

The keys of a policy's sweep file form are its constructor's keyword parameters
(:func:`constructor_keys`, :func:`kwargs_from_data`): no list of keys is written twice.

An installed distribution can make its classes known to every process, the ``hypersweep`` command
included, with an entry point in the group ``hypersweep.plugins`` naming the module that defines
them (``[project.entry-points."hypersweep.plugins"] mine = "my_package.my_sampler"``): the first
lookup a registry cannot answer, and every listing of a kind, imports them first (:func:`load_plugins`).

Standard library only; below every layer that registers or reads (sampling, policy, executors,
config, sweepfile).
"""

from __future__ import annotations

import importlib
import inspect
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from typing import Any, Generic, TypeVar

from hypersweep.errors import InvalidConfigError

T = TypeVar("T", bound=type)

PLUGIN_GROUP = "hypersweep.plugins"
_loaded = False
_loading = threading.RLock()  # a plugin module that looks a class up while it is imported


def load_plugins() -> None:
    """Import the modules that installed distributions name in the entry point group ``hypersweep.plugins``.

    Once per process; a module that fails to import is skipped with a warning naming it.
    """
    global _loaded
    with _loading:
        if _loaded:
            return
        _loaded = True
        for entry in metadata.entry_points(group=PLUGIN_GROUP):
            try:
                entry.load()
            except Exception as exc:  # a broken plugin must not stop the sweeps that do not use it
                warnings.warn(
                    f"The hypersweep plugin {entry.name!r} ({entry.value}) could not be imported: "
                    f"{type(exc).__name__}: {exc}",
                    UserWarning,
                    stacklevel=2,
                )


class Registry(Generic[T]):
    """The classes of one kind, by HyperDrive name and by sweep file ``type`` (case-insensitive).

    Args:
        kind: what the classes are, for messages ("sampling method", "early-termination policy").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_name: dict[str, T] = {}
        self._by_type: dict[str, T] = {}

    def add(self, cls: T, name: str, types: Sequence[str] = ()) -> None:
        """Register ``cls`` under its HyperDrive ``name`` and its sweep file ``types``.

        Defining the same class again (a module imported twice) replaces it; another class with a
        name or type already taken is an error.

        Raises:
            TypeError: the name or a type belongs to another class already.
        """
        for table, key in [(self._by_name, name), *((self._by_type, t.lower()) for t in types)]:
            other = table.get(key)
            if other is not None and _qualified(other) != _qualified(cls):
                raise TypeError(
                    f"{cls.__qualname__} declares the {self.kind} {key!r}, which {_qualified(other)} already has."
                )
        self._by_name[name] = cls
        for t in types:
            self._by_type[t.lower()] = cls

    def declare(self, cls: T, attribute: str) -> None:
        """Register ``cls`` as its class attributes declare it (called by the kind's ``__init_subclass__``).

        ``attribute`` holds its HyperDrive name (``policy_name``, ``sampling_name``); it is also set
        in HyperDrive's capitals (``POLICY_NAME``). A class that sets none and inherits none gets
        :func:`implicit_name`; a subclass of a named class that sets none is stored under its
        parent's name and not registered. Its sweep file types are its own ``yaml_type`` and
        ``yaml_aliases``.
        """
        if attribute not in cls.__dict__:
            if hasattr(cls, attribute):
                return  # a subclass of a named class: stored under its parent's name
            name = implicit_name(cls)  # a user's class that declares no name: its import path
            if name is None:
                return
            setattr(cls, attribute, name)
        name = getattr(cls, attribute)
        setattr(cls, attribute.upper(), name)  # HyperDrive's spelling of the constant
        own = cls.__dict__
        types = [own["yaml_type"]] if own.get("yaml_type") else []
        self.add(cls, name, [*types, *own.get("yaml_aliases", ())])

    def by_name(self, name: Any) -> T | None:
        """The class with this HyperDrive name (``to_json()["name"]``), or None.

        A name the registry does not know yet is looked for in the plugins, then, when it is a
        class's import path (:func:`implicit_name`), in the module it names, imported now.
        """
        if not isinstance(name, str):
            return None
        if name not in self._by_name:
            load_plugins()
        if name not in self._by_name and "." in name:
            _import_owner(name)
        return self._by_name.get(name)

    def by_type(self, kind: Any) -> T | None:
        """The class with this sweep file ``type`` (any case, surrounding spaces ignored), or None."""
        if not isinstance(kind, str):
            return None
        key = kind.strip().lower()
        if key not in self._by_type:
            load_plugins()
        return self._by_type.get(key)

    def types(self) -> list[str]:
        """Every sweep file ``type``, in the order the classes were defined."""
        load_plugins()
        return list(self._by_type)

    def __iter__(self) -> Iterator[T]:
        load_plugins()
        return iter(dict.fromkeys(self._by_name.values()))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def implicit_name(cls: type) -> str | None:
    """The name a user's class that declares none is stored under: its import path, ``module.Class``.

    None for the package's own classes (each of those that is usable by name declares one).
    """
    if cls.__module__ == "hypersweep" or cls.__module__.startswith("hypersweep."):
        return None
    return _qualified(cls)


def unknown_note(name: Any) -> str:
    """What to do about a stored name no registry knows: "" unless it is an import path."""
    if not isinstance(name, str) or "." not in name:
        return ""
    return (
        f" It is the class {name}: define it in a module that this process can import (a class"
        " defined in a script or a notebook is known only while that script runs)."
    )


def _import_owner(path: str) -> None:
    """Import the module that an import path (``package.module.Class``) names, if there is one."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:end])
        if module == "__main__":
            return  # a script's or a notebook's class: defined there, or nowhere in this process
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        except Exception as exc:  # the module exists but fails: say so, as for a broken plugin
            warnings.warn(
                f"{module} (named by the stored class {path}) could not be imported: "
                f"{type(exc).__name__}: {exc}",
                UserWarning,
                stacklevel=3,
            )
        return


def constructor_keys(cls: type) -> tuple[list[str], list[str]]:
    """The keyword parameters of ``cls``'s constructor: (all of them in order, the required ones)."""
    keys, required = [], []
    for param in inspect.signature(cls).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        keys.append(param.name)
        if param.default is param.empty:
            required.append(param.name)
    return keys, required


def kwargs_from_data(
    cls: type, data: Mapping[str, Any], *, where: str, kind: str, first: Sequence[str] = ()
) -> dict[str, Any]:
    """``data`` (a sweep file section, its ``type`` left out) as keyword arguments of ``cls``.

    Args:
        cls: the class to build.
        data: the section's keys and values.
        where: the section, for messages (``early_termination``).
        kind: the section's ``type``, for messages.
        first: keys listed first in the message naming the allowed keys (those every class of the
            kind shares), the others follow in the constructor's order.

    Raises:
        InvalidConfigError: a key the constructor does not take (the message lists those it takes),
            or a required one missing.
    """
    keys, required = constructor_keys(cls)
    for key in data:
        if key not in keys:
            shown = [k for k in first if k in keys] + [k for k in keys if k not in first]
            allowed = ", ".join(shown) if shown else "none besides type"
            raise InvalidConfigError(
                f"{where}.{key} is not a known key for type {kind}; allowed: {allowed}."
            )
    for key in required:
        if key not in data:
            raise InvalidConfigError(f"{where}.{key} is required for type {kind}.")
    return dict(data)
