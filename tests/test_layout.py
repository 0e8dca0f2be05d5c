"""The package layout is the data flow: read -> segment -> analyse -> extract -> classify -> store -> serve.

Why a test: a layout only stays readable if nothing quietly imports upwards. This reads every
module's imports (module level and inside functions, except `if TYPE_CHECKING:` blocks) and fails on
an import cycle between modules or between subpackages, on a lower layer importing a higher one,
and on any module that `polclaims process` loads importing evaluation, corpus-building, training or
benchmark code.
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "pipeline"

# Lower number = lower layer. A module may import its own subpackage and any lower or equal
# layer (equal layers only without a cycle between the two subpackages).
LAYERS = {
    "pipeline": 0,  # pipeline/__init__.py (version) and pipeline/config.py (settings)
    "io": 1,
    "text": 2,
    "nlp": 3,
    "claims": 4,
    "topics": 4,
    "store": 5,
    "threads": 6,
    "batch": 6,
    "web": 7,
    "corpora": 8,
    "evaluation": 9,
    "training": 10,
    "cli": 11,
    "benchmarks": 12,
}
OFF_THE_RUN_PATH = {"evaluation", "corpora", "training", "benchmarks", "cli"}
RUN_PATH_ROOTS = ["pipeline.batch.runner", "pipeline.batch.analyse", "pipeline.batch.ray_engine"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.split(".")[0] == "pipeline":
                        found.add(_known(a.name, modules))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                if mod.split(".")[0] != "pipeline":
                    continue
                for a in child.names:
                    sub = f"{mod}.{a.name}"
                    found.add(sub if sub in modules else _known(mod, modules))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return found


def _known(mod: str, modules: set[str]) -> str:
    while mod not in modules and "." in mod:
        mod = mod.rsplit(".", 1)[0]
    return mod


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, name, modules) for name, path in files.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] == "config"):
        return "pipeline"
    return parts[1]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_every_subpackage_has_a_layer_and_says_what_it_owns():
    rooms = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms <= set(LAYERS), f"new subpackage(s) {sorted(rooms - set(LAYERS))}: give them a layer here"
    top = {p.stem for p in PKG.glob("*.py")} - {"__init__", "config"}
    assert not top, f"modules {sorted(top)} sit beside the subpackages: put each in the room of its step"
    undocumented = [r for r in sorted(rooms) if not ast.get_docstring(ast.parse((PKG / r / "__init__.py").read_text()))]
    assert not undocumented, f"subpackage(s) without a docstring saying what they own: {undocumented}"


def test_no_import_cycles_between_modules():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_import_cycles_between_subpackages():
    rooms: dict[str, set[str]] = {}
    for mod, deps in import_graph().items():
        rooms.setdefault(_room(mod), set()).update(_room(d) for d in deps if _room(d) != _room(mod))
    cycles = _cycles(rooms)
    assert not cycles, "subpackages import each other: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_lower_layers_never_import_higher_ones():
    upward = []
    for mod, deps in import_graph().items():
        for d in deps:
            if LAYERS[_room(d)] > LAYERS[_room(mod)]:
                upward.append(f"{mod} ({_room(mod)}, layer {LAYERS[_room(mod)]}) imports {d} (layer {LAYERS[_room(d)]})")
    assert not upward, "\n".join(sorted(upward))


def test_the_process_path_does_not_import_evaluation_or_tooling():
    graph = import_graph()
    seen, todo = set(), list(RUN_PATH_ROOTS)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(graph.get(m, ()))
    off = sorted(m for m in seen if _room(m) in OFF_THE_RUN_PATH)
    assert not off, f"`polclaims process` loads {off}"


def test_the_checks_catch_a_cycle_and_an_upward_import():
    """The checks themselves: a made-up graph with a cycle and an upward import fails them."""
    graph = {"pipeline.io.records": {"pipeline.claims.extract"}, "pipeline.claims.extract": {"pipeline.io.records"}}
    assert _cycles(graph) == [["pipeline.claims.extract", "pipeline.io.records"]]
    assert LAYERS[_room("pipeline.claims.extract")] > LAYERS[_room("pipeline.io.records")]
