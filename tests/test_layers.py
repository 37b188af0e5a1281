"""The package's layers, enforced: every import points down (or stays in its layer),
no import cycle exists, and function-level imports of funcdiff modules are few and say
why.  Imports inside functions count as much as those at the top of a module: they run
too.  docs/architecture.md describes the layers; this table is the same order."""
from __future__ import annotations

import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "funcdiff"

# bottom to top; a module belongs to the layer of its longest matching prefix
LAYERS = [
    ("base", ["funcdiff._np_compat"]),
    ("core", ["funcdiff.core"]),
    ("support", ["funcdiff.config", "funcdiff.tree_util"]),
    ("primitives", ["funcdiff.primitives"]),
    ("transforms", ["funcdiff.transforms"]),
    ("higher_order", ["funcdiff.higher_order"]),
    ("jit", ["funcdiff.jit"]),
    ("analysis", ["funcdiff.analysis"]),
    ("api", ["funcdiff.api"]),
    ("libraries", ["funcdiff.numpy", "funcdiff.lax"]),
    ("scipy", ["funcdiff.scipy"]),
    ("top", ["funcdiff", "funcdiff.checkpoint", "funcdiff.debug", "funcdiff.flatten_util",
             "funcdiff.test_util"]),
]
MAX_FUNCTION_LEVEL = 10


def _modules():
    """``{module name: (path, is_package)}`` for every module of the package."""
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (p, is_pkg)
    return out


MODULES = _modules()


def _layer(mod):
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for pre in prefixes:
            if (mod == pre or mod.startswith(pre + ".")) and (
                    best is None or len(pre) > best[1]):
                best = (i, len(pre))
    return None if best is None else best[0]


def _targets(mod, is_pkg, node):
    """The funcdiff modules an import statement loads (a name imported from a package
    that is a submodule counts as that submodule)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.split(".")[0] == "funcdiff"]
    else:
        if node.level:
            base = mod.split(".")
            if not is_pkg:
                base = base[:-1]
            base = base[:len(base) - (node.level - 1)]
            pkg = ".".join(base + ([node.module] if node.module else []))
        else:
            pkg = node.module or ""
            if pkg.split(".")[0] != "funcdiff":
                return []
        names = [f"{pkg}.{a.name}" if f"{pkg}.{a.name}" in MODULES else pkg
                 for a in node.names]
    out = []
    for name in names:
        while name not in MODULES and "." in name:   # a name inside a module
            name = name.rsplit(".", 1)[0]
        out.append(name)
    return out


def _imports():
    """``[(module, target, line number, function_level, source line)]``."""
    edges = []
    for mod, (path, is_pkg) in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()

        def walk(node, in_function):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for t in _targets(mod, is_pkg, child):
                        edges.append((mod, t, child.lineno, in_function,
                                      lines[child.lineno - 1]))
                walk(child, in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        walk(ast.parse(text), False)
    return edges


EDGES = _imports()


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if _layer(m) is None)
    assert not missing, f"modules missing from LAYERS (place them): {missing}"


def test_imports_point_down():
    up = [f"{m} ({LAYERS[_layer(m)][0]}) imports {t} ({LAYERS[_layer(t)][0]}) at line {n}"
          for m, t, n, _, _ in EDGES
          if t != m and _layer(t) is not None and _layer(m) is not None
          and _layer(t) > _layer(m)]
    assert not up, "imports going up a layer:\n" + "\n".join(up)


def _cycles(edges):
    graph = {m: set() for m in MODULES}
    for m, t, *_ in edges:
        if t != m:
            graph[m].add(t)
    index, low, stack, on, sccs = {}, {}, [], set(), []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
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
                sccs.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return sccs


def test_no_import_cycles():
    cycles = _cycles(EDGES)
    assert not cycles, f"import cycles (function-level imports included): {cycles}"


def test_cycle_detection_sees_function_level_imports():
    """The checks above would notice a cycle closed by an import inside a function."""
    fake = [("funcdiff.core.ir", "funcdiff.core.trace", 1, True, "")]
    assert _cycles(EDGES + fake)


def test_few_function_level_imports_each_saying_why():
    local = [(m, n, line.strip()) for m, _, n, in_function, line in EDGES if in_function]
    statements = sorted(set(local))
    assert len(statements) <= MAX_FUNCTION_LEVEL, \
        "function-level imports of funcdiff modules:\n" + "\n".join(map(str, statements))
    silent = [s for s in statements if "#" not in s[2] or not s[2].split("#", 1)[1].strip()]
    assert not silent, f"function-level imports without a comment saying why: {silent}"


@pytest.mark.parametrize("layer", [name for name, _ in LAYERS])
def test_layer_table_matches_the_tree(layer):
    """Each layer of the table names modules that exist."""
    prefixes = dict(LAYERS)[layer]
    for pre in prefixes:
        assert pre in MODULES, f"layer {layer!r} names {pre}, which is not a module"
