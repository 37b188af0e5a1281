"""Every public docstring of ``funcdiff``, ``funcdiff.lax``, ``funcdiff.tree_util``,
``funcdiff.debug`` and ``funcdiff.checkpoint_policies`` (and ``funcdiff.typing``) is a NumPy-style reference
entry whose Examples run: each is collected here by ``doctest`` and must pass, and each
must have the sections ``help()`` readers expect."""
from __future__ import annotations

import doctest
import inspect
import re

import numpy as np
import pytest

import funcdiff
import funcdiff.numpy as fnp
from funcdiff import checkpoint_policies, debug, lax, tree_util, typing as fd_typing

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
# values, not functions or classes: no docstring of their own (documented where used)
VALUES = {"funcdiff.float0"}


def _public():
    """``{qualified name: object}`` for every public function and class."""
    out = {}
    for prefix, mod, names in [
            ("funcdiff", funcdiff, funcdiff.__all__),
            ("funcdiff.lax", lax, lax.__all__),
            ("funcdiff.tree_util", tree_util, tree_util.__all__),
            ("funcdiff.debug", debug, debug.__all__),
            ("funcdiff.typing", fd_typing, ["Array"])]:
        for n in names:
            out[f"{prefix}.{n}"] = getattr(mod, n)
    out["funcdiff.config"] = type(funcdiff.config)   # an instance: its class documents it
    for n, v in vars(checkpoint_policies).items():
        if not n.startswith("_"):                 # policies are values; their factories
            v = getattr(checkpoint_policies, n)   # are functions
            if inspect.isfunction(v):
                out[f"funcdiff.checkpoint_policies.{n}"] = v
    return {k: v for k, v in out.items() if k not in VALUES}


PUBLIC = _public()


def _sections(doc):
    return set(re.findall(r"^\s*(Parameters|Returns|Raises|Examples|See Also)\n\s*-{3,}\s*$",
                          doc, re.M))


def _required(obj):
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return {"Examples"}                       # errors: what raises them
    if inspect.isclass(obj):
        return {"Examples", "See Also"}
    return {"Parameters", "Returns", "Examples", "See Also"}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_has_sections(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert doc and "\n" in doc, f"{name} has no multi-line docstring"
    summary = doc.split("\n\n")[0]
    assert summary.rstrip().endswith(".") and len(summary) < 250, \
        f"{name}: the docstring should start with a short summary sentence"
    missing = _required(obj) - _sections(doc)
    assert not missing, f"{name}'s docstring lacks the section(s) {sorted(missing)}"


def _doctests(name):
    obj = PUBLIC[name]
    finder = doctest.DocTestFinder(recurse=inspect.isclass(obj))
    globs = {"np": np, "fd": funcdiff, "funcdiff": funcdiff, "fnp": fnp}
    # (module=False: a class's methods are searched too, whatever module they are in)
    return [t for t in finder.find(obj, name, module=False, globs=globs) if t.examples]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_examples_run(name):
    tests = _doctests(name)
    assert tests, f"{name} has no >>> examples"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out = []
    for t in tests:
        runner.run(t, out=out.append)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted and not failed, "".join(out)
