"""Types: ``mypy --strict`` accepts a user program written against the public API
(and rejects one with a type error, so the check can fail); every public module has an
``__all__`` naming what exists, and ``dir()`` shows no internals."""
from __future__ import annotations

import ast
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
import types

import pytest

import funcdiff
from funcdiff.typing import Array, ArrayLike

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAM = pathlib.Path(__file__).resolve().parent / "typing_programs" / "user_program.py"
PUBLIC_MODULES = ["funcdiff", "funcdiff.lax", "funcdiff.tree_util", "funcdiff.numpy",
                  "funcdiff.numpy.fft", "funcdiff.numpy.linalg", "funcdiff.typing",
                  "funcdiff.flatten_util", "funcdiff.test_util", "funcdiff.scipy",
                  "funcdiff.scipy.optimize", "funcdiff.scipy.special",
                  "funcdiff.scipy.linalg"]


def _mypy(tmp_path, source):
    """Run ``mypy --strict`` on ``source`` (as ``prog.py``); the errors in it."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    prog = tmp_path / "prog.py"
    prog.write_text(source)
    # funcdiff's own modules are followed silently: only the user program's errors count
    env = dict(os.environ, MYPYPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-error-summary", "--cache-dir", str(tmp_path / ".mypy_cache"), "prog.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode in (0, 1), f"mypy crashed:\n{r.stdout}\n{r.stderr}"
    return [line for line in r.stdout.splitlines() if line.startswith("prog.py:")]


def test_mypy_strict_accepts_a_user_program(tmp_path):
    errors = _mypy(tmp_path, PROGRAM.read_text())
    assert not errors, "mypy --strict on a user program:\n" + "\n".join(errors)


def test_mypy_strict_rejects_a_type_error(tmp_path):
    bad = PROGRAM.read_text() + (
        "\n\ndef wrong(x: ArrayLike) -> str:\n"
        "    return fd.grad(loss, argnums='w')(x)\n")
    errors = _mypy(tmp_path, bad)
    n = len(bad.splitlines())
    assert any(e.startswith(f"prog.py:{n}:") and "argnums" in e for e in errors), errors


def test_user_program_runs():
    # (the program type-checked above also runs: its annotations are the truth)
    r = subprocess.run([sys.executable, str(PROGRAM)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist_and_dir_shows_no_internals(name):
    if name.startswith("funcdiff.scipy"):
        pytest.importorskip("scipy")
    mod = importlib.import_module(name)
    assert mod.__all__, name
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"
    shown = [n for n in dir(mod) if not n.startswith("__")]
    internal = [n for n in shown if n.startswith("_") or (
        isinstance(getattr(mod, n), types.ModuleType)
        and not getattr(mod, n).__name__.startswith(name + "."))]
    assert not internal, f"dir({name}) shows internals: {internal}"
    assert "np" not in shown and "annotations" not in shown


def test_top_level_dir_hides_the_layers():
    shown = set(dir(funcdiff))
    for layer in ("core", "api", "primitives", "transforms", "higher_order", "analysis",
                  "sys"):
        assert layer not in shown
    assert {"grad", "jit", "vmap", "lax", "numpy", "tree_util", "Array"} <= shown
    assert "numpy" not in funcdiff.__all__    # a star import must not bind `numpy`


def test_array_is_the_type_of_arrays_and_traced_values():
    import numpy as np
    import funcdiff.numpy as fnp
    seen = []

    def f(x):
        seen.append(isinstance(x, Array))
        return fnp.sum(x ** 2)

    funcdiff.grad(f)(np.ones(2))
    funcdiff.jit(f)(np.ones(2))
    assert seen == [True, True]
    assert isinstance(fnp.zeros(2), Array) and isinstance(np.float64(1.0), Array)
    assert not isinstance(1.0, Array) and not isinstance([1.0], Array)
    assert isinstance(1.0, ArrayLike) and isinstance(np.ones(2), ArrayLike)
    assert issubclass(fnp.Array, Array)
    with pytest.raises(TypeError, match="abstract type"):
        Array()


def _stub_names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module != "typing":
            names.update(a.asname for a in node.names if a.asname == a.name)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", ["funcdiff.numpy", "funcdiff.numpy.fft",
                                  "funcdiff.numpy.linalg"])
def test_stubs_declare_only_what_exists(name):
    mod = importlib.import_module(name)
    stub = pathlib.Path(mod.__file__).with_suffix(".pyi")
    assert stub.exists()
    missing = sorted(n for n in _stub_names(stub) if n not in mod.__all__ and not (
        isinstance(getattr(mod, n, None), types.ModuleType)))
    assert not missing, f"{stub.name} declares names {name} does not have: {missing}"
