"""The architecture, read from the source: the layers of ``src/hypersweep``, and no import cycles.

Every import counts: at the top of a module, inside functions (lazy imports) and under
``TYPE_CHECKING`` alike, since a lazy or type-only import upward is still a dependency upward (a
type a lower layer needs is a ``Protocol`` of its own). The one exemption is the package itself:
``import hypersweep`` (for ``__file__``) or ``from hypersweep import __version__`` loads nothing
above the module that does it, so it is allowed anywhere; ``from hypersweep import Workspace`` is not
(import a name from its module).

:data:`LAYERS` is the picture, bottom first, in one place. Each entry names its modules (a package
covers its submodules) and the layers it may import besides its own; a module of ``src/hypersweep``
that no entry names fails :func:`test_every_module_has_a_layer`, so a new module must be placed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "hypersweep"


class Layer(NamedTuple):
    name: str
    modules: tuple[str, ...]  # module or package names, without the leading "hypersweep."
    may_import: frozenset[str]  # the other layers it may use (its own is always allowed)
    stdlib_only: bool = False  # nothing outside the standard library, even lazily


def _layer(name: str, modules: str, may_import: str = "", stdlib_only: bool = False) -> Layer:
    return Layer(name, tuple(modules.split()), frozenset(may_import.split()), stdlib_only)


_BASE = "foundation"
_TRAINING = f"{_BASE} training"
LAYERS: tuple[Layer, ...] = (
    # errors, statuses, the rule for logged values, the wire format: what every layer may know
    _layer(
        "foundation",
        "errors _paths _filelock _values _validation status goal _wire _registry",
        stdlib_only=True,
    ),
    # what a training script imports: Run.get_context() and the live run the executors drive
    _layer("training", "run", _BASE, stdlib_only=True),
    _layer("space", "_space_rules space space_nested", _BASE),
    _layer(
        "sampling", "sampling", f"{_BASE} space"
    ),  # samplers and policies know nothing of each other
    _layer("policy", "policy", f"{_BASE} space"),
    _layer("store", "store snapshot _runfiles", _BASE),  # persistence: the only SQL
    _layer(
        "trial plugins", "mlflow", _TRAINING
    ),  # MLflow's plugins in a trial, the live run behind them
    _layer(
        "executors", "executors", f"{_TRAINING} trial-plugins"
    ),  # no store, no samplers or policies
    # what runs a compute target is the executors' own declaration (their registry)
    _layer(
        "resources",
        "_download conda_dependencies environment compute compute_target model",
        f"{_TRAINING} store executors",
    ),
    _layer(
        "configuration", "config sweepfile", f"{_BASE} space sampling policy executors resources"
    ),
    _layer("controller", "controller", f"{_BASE} sampling policy executors store"),
    _layer(
        "launch",
        "_launch",
        f"{_TRAINING} space sampling policy store trial-plugins executors resources configuration controller",
    ),
    # reads a sweep through a protocol of its own; asks the launch layer whether a driver holds it
    _layer("display", "display", f"{_BASE} space launch"),
    _layer(
        "results api",
        "_results experiment importance",
        f"{_TRAINING} space store resources configuration controller launch display",
    ),
    _layer("cli common", "_cli_common", f"{_TRAINING} store display results-api"),
    _layer("dashboard", "dashboard", f"{_TRAINING} space store display results-api cli-common"),
    _layer(
        "front ends",
        "cli __main__ widgets v2",
        f"{_TRAINING} space sampling policy store resources configuration launch display results-api "
        "cli-common dashboard",
    ),
    # the package's lazy public names (and the one hook it connects: run's store side)
    _layer("package", "", "*"),
)


def _key(name: str) -> str:
    return name.replace(" ", "-")


def modules(src: Path = SRC, package: str = PACKAGE) -> dict[str, Path]:
    """``{dotted module name: file}`` for every module of ``package`` under ``src``."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


class Edge(NamedTuple):
    source: str
    target: str
    line: int


def _targets(
    module: str, path: Path, node: ast.Import | ast.ImportFrom, known: Iterable[str], package: str
) -> list[str]:
    """The package's modules an import statement loads (the package itself for dunder names)."""
    known = set(known)
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in known]
        rest = [a.name for a in node.names if f"{prefix}.{a.name}" not in known]
        if rest:
            if prefix == package and any(
                not (n.startswith("__") and n.endswith("__")) for n in rest
            ):
                names.append(
                    f"{package}:{','.join(rest)}"
                )  # a public name through the package: refused
            else:
                names.append(prefix)
    out = []
    for name in names:
        if ":" in name:
            out.append(name)
            continue
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module and (name == package or name.startswith(package + ".")):
            out.append(name)
    return out


def imports(src: Path = SRC, package: str = PACKAGE) -> list[Edge]:
    """Every import of one of the package's modules by another, wherever it is written."""
    mods = modules(src, package)
    edges = []
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges += [
                    Edge(module, t, node.lineno)
                    for t in _targets(module, path, node, mods, package)
                ]
    return edges


def third_party(src: Path = SRC, package: str = PACKAGE) -> dict[str, set[str]]:
    """``{module: top-level names it imports from outside the standard library and the package}``."""
    mods = modules(src, package)
    out: dict[str, set[str]] = {}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top != package and top not in sys.stdlib_module_names and top != "__future__":
                    out.setdefault(module, set()).add(top)
    return out


def layer_of(
    module: str, layers: tuple[Layer, ...] = LAYERS, package: str = PACKAGE
) -> Layer | None:
    """The layer whose entry names ``module`` (the longest match: a package covers its submodules)."""
    if module == package:
        return layers[-1]
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for entry in layer.modules:
            full = f"{package}.{entry}"
            if (module == full or module.startswith(full + ".")) and (
                best is None or len(full) > best[0]
            ):
                best = (len(full), layer)
    return best[1] if best else None


def upward(
    edges: list[Edge], layers: tuple[Layer, ...] = LAYERS, package: str = PACKAGE
) -> list[str]:
    """The imports that break the table, each as ``source:line -> target (why)``."""
    bad = []
    for edge in edges:
        if ":" in edge.target:
            bad.append(
                f"{edge.source}:{edge.line} -> {edge.target} (a public name through the package: "
                "import it from its module)"
            )
            continue
        if edge.target == package:
            continue  # the package itself, for a dunder name: it loads nothing above
        source, target = (
            layer_of(edge.source, layers, package),
            layer_of(edge.target, layers, package),
        )
        if source is None or target is None or source is target or "*" in source.may_import:
            continue
        if _key(target.name) not in {_key(n) for n in source.may_import}:
            bad.append(
                f"{edge.source}:{edge.line} -> {edge.target} ({source.name} may not import {target.name})"
            )
    return bad


def cycles(edges: list[Edge], package: str = PACKAGE) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), edges into the package
    itself left out (it loads nothing when a dunder name is read)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.target != package and ":" not in edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


# -- the picture of src/hypersweep --------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) is None]
    assert not missing, f"place these modules in tests/test_layering.py's LAYERS: {missing}"


def test_the_table_names_only_layers_it_has() -> None:
    names = {_key(layer.name) for layer in LAYERS}
    for layer in LAYERS:
        assert {_key(n) for n in layer.may_import} - {"*"} <= names, layer.name
        lower = {_key(x.name) for x in LAYERS[: LAYERS.index(layer)]}
        assert {_key(n) for n in layer.may_import} - {"*"} <= lower, (
            f"{layer.name} may import only layers below it"
        )


def test_no_import_cycles() -> None:
    assert cycles(imports()) == []


def test_each_layer_imports_only_the_layers_below_it() -> None:
    assert upward(imports()) == []


def test_the_wire_module_and_the_training_side_run_use_only_the_standard_library() -> None:
    outside = third_party()
    for layer in LAYERS:
        if layer.stdlib_only:
            for module in modules():
                if layer_of(module) is layer:
                    assert not outside.get(module), f"{module} imports {sorted(outside[module])}"


def test_the_graph_sees_imports_inside_functions_and_under_type_checking() -> None:
    edges = {(e.source, e.target) for e in imports()}
    assert ("hypersweep", "hypersweep.experiment") in edges  # inside the package's store-side hook
    assert ("hypersweep.executors", "hypersweep.executors.ray") in edges  # lazy, in __getattr__
    assert ("hypersweep.mlflow", "hypersweep.mlflow._store") in edges  # TYPE_CHECKING and lazy


# -- the checks themselves, on a package made for them --------------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checks_find_lazy_cycles_type_checking_upward_imports_and_names_through_the_package(
    tmp_path,
) -> None:
    src = _package(
        tmp_path,
        {
            "__init__.py": "__version__ = '1'\n",
            "low.py": "import pkg\nfrom pkg import __version__\n"
            "def f():\n    from pkg.high import g\n",  # lazy, upward, and a cycle with high
            "high.py": "from typing import TYPE_CHECKING\nfrom . import low\n"
            "if TYPE_CHECKING:\n    from pkg.sub import thing\n",
            "sub/__init__.py": "",
            "sub/thing.py": "from pkg import helper\nimport numpy\n",  # a public name through the package
        },
    )
    layers = (
        _layer("low", "low", stdlib_only=True),
        _layer("high", "high sub", "low"),
        _layer("package", "", "*"),
    )
    edges = imports(src, "pkg")
    assert {(e.source, e.target) for e in edges} >= {
        ("pkg.low", "pkg.high"),
        ("pkg.high", "pkg.low"),
        ("pkg.high", "pkg.sub.thing"),
        ("pkg.sub.thing", "pkg:helper"),
    }
    assert ("pkg.low", "pkg") in {
        (e.source, e.target) for e in edges
    }  # `import pkg`: allowed, no cycle
    assert cycles(edges, "pkg") == [["pkg.high", "pkg.low"]]
    bad = upward(edges, layers, "pkg")
    assert len(bad) == 2
    assert bad[0].startswith("pkg.low:4 -> pkg.high (low may not import high)")
    assert "a public name through the package" in bad[1]
    assert third_party(src, "pkg") == {"pkg.sub.thing": {"numpy"}}
    assert (
        layer_of("pkg.sub.thing", layers, "pkg") is layers[1]
        and layer_of("pkg.other", layers, "pkg") is None
    )
