"""The checks the sorting-family test modules run on every table row: a function written
against plain ``numpy``, applied to traced values, equals NumPy's result (traced with
make_jaxpr + check_jaxpr + eval_jaxpr, and under ``jit``), ``vmap`` equals a Python loop,
and jvp/vjp agree with central finite differences (``check_grads``)."""
from __future__ import annotations

import warnings
from typing import Callable, NamedTuple

import numpy as np

import funcdiff as fd
from funcdiff.tree_util import tree_leaves

from _helpers import DEFAULT, assert_same, nep50, traced

#: single precision to 1e-5, double to 1e-12 (integers, bools exactly)
TOLS = {np.float32: 1e-5, np.complex64: 1e-5, np.float16: 1e-3, DEFAULT: 1e-12}


class Case(NamedTuple):
    """``f(*args)`` written with ``numpy``; ``make(rng, dtype) -> args``; ``diff``: the
    indices of the arguments to differentiate (empty: integer-valued); ``order`` of the
    derivative check; ``exact``: values must be bit-equal to NumPy's."""
    f: Callable
    make: Callable
    diff: tuple = (0,)
    order: int = 2
    exact: bool = True


def _quiet(f, *args):
    """``f(*args)`` without warnings, promoting as NumPy 2 (NEP 50) on NumPy 1.x too:
    funcdiff's traced results follow NumPy 2 on both."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), nep50():
        warnings.simplefilter("ignore")
        return f(*args)


def same(got, want, exact=True):
    got, want = tree_leaves(got), tree_leaves(want)
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert_same(g, w, exact=exact and np.asarray(w).dtype.kind not in "c", tols=TOLS)


def check_values(case, args):
    """Traced and jitted results equal NumPy's (shape, dtype, values)."""
    want = _quiet(case.f, *args)
    got = _quiet(traced, case.f, *args)
    same(got if isinstance(want, (tuple, list)) else got[0], want, case.exact)
    same(_quiet(fd.jit(case.f), *args), want, case.exact)


def check_vmap(case, batches):
    """``vmap`` over the leading axis of every argument equals a loop over NumPy."""
    stacked = [np.stack(col) for col in zip(*batches)]
    got = _quiet(fd.vmap(case.f), *stacked)
    loop = [_quiet(case.f, *ex) for ex in batches]
    want = [np.stack(col) for col in zip(*[tree_leaves(w) for w in loop])]
    same(tree_leaves(got), want, case.exact)


def check_derivatives(case, args):
    """Order-``case.order`` jvp/vjp checks in float64; in float32, the gradient's dtype."""
    if not case.diff:
        return
    if np.asarray(args[case.diff[0]]).dtype == np.float32:
        out = fd.vjp(case.f, *args)[0] if len(case.diff) == len(args) else None
        if out is not None and all(np.asarray(o).dtype.kind == "f" for o in tree_leaves(out)):
            g = fd.grad(lambda *a: sum(np.sum(o) for o in tree_leaves(case.f(*a))),
                        argnums=case.diff)(*args)
            assert all(np.asarray(v).dtype == np.float32 for v in g)
        return
    def restricted(*d):
        a = list(args)
        for i, v in zip(case.diff, d):
            a[i] = v
        return case.f(*a)
    fd.check_grads(restricted, tuple(args[i] for i in case.diff), order=case.order,
                   modes=("fwd", "rev"))


def run_case(case, rng, dtype):
    args = case.make(rng, dtype)
    check_values(case, args)
    check_vmap(case, [case.make(rng, dtype) for _ in range(3)])
    check_derivatives(case, args)
