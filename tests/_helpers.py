"""Helpers shared by the test modules: trace-and-run a function, compare a result with
NumPy's, random values per dtype kind.

``assert_same`` checks shape and dtype, then values: exactly when asked (``exact``) or
when the dtype kind is in ``exact_kinds``, else ``assert_allclose`` (NaNs equal) to the
tolerance its table gives the dtype.  A table maps dtypes to ``t`` (``rtol = atol = t``)
or ``(rtol, atol)``, with the key ``DEFAULT`` for all other dtypes; a module with its own
tolerances passes its table (``tols=TOLS``), usually through a thin module wrapper.
``traced`` returns the list of outputs, a lone output bare with ``unpack=True``, and
``(closed_jaxpr, outputs)`` with ``return_jaxpr=True``.  ``nep50`` computes a NumPy
reference with NumPy 2's promotion rules, which funcdiff follows under transforms on
NumPy 1.26 too."""
from __future__ import annotations

import contextlib
import os
import pathlib
import tracemalloc
from unittest import mock

import numpy as np

import funcdiff as fd
from funcdiff._np_compat import NUMPY2

DEFAULT = "default"

#: single precision to 1e-4, everything else to 1e-10
TOLS = {np.float32: 1e-4, np.complex64: 1e-4, DEFAULT: 1e-10}


def traced(f, *args, return_jaxpr=False, unpack=False):
    """make_jaxpr + check_jaxpr + eval_jaxpr on ``args``: the outputs."""
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    out = fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    if unpack and len(out) == 1:
        out = out[0]
    return (closed, out) if return_jaxpr else out


@contextlib.contextmanager
def nep50():
    """NumPy 2's promotion (NEP 50: Python scalars weak, NumPy scalars and 0-d arrays
    strong) inside the block, for NumPy reference values: NumPy 1.x promotes 0-d operands
    by value unless told otherwise.  Run only NumPy in it (funcdiff.numpy outside
    transforms is NumPy), never a transform, whose own promotion on NumPy 1.x is under
    test."""
    if NUMPY2:
        yield
        return
    before = np._get_promotion_state()
    np._set_promotion_state("weak")
    try:
        yield
    finally:
        np._set_promotion_state(before)


# --- NumPy 2 keywords NumPy 1.26 lacks, written with NumPy 1.26's own functions: the
# references for funcdiff.numpy, which takes NumPy 2's keywords on both versions -------

def _H(a):
    return np.conj(np.swapaxes(a, -1, -2))


def np_cholesky(a, upper=False):
    """``np.linalg.cholesky(a, upper=...)``: the upper factor reads the upper triangle."""
    if NUMPY2:
        return np.linalg.cholesky(a, upper=upper)
    return _H(np.linalg.cholesky(_H(a))) if upper else np.linalg.cholesky(a)


def np_matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``np.linalg.matrix_rank`` with NumPy 2's ``rtol`` (relative to the largest
    singular value)."""
    if NUMPY2 or rtol is None or tol is not None or np.ndim(A) < 2:
        kw = {"rtol": rtol} if NUMPY2 else {}
        return np.linalg.matrix_rank(A, tol, hermitian, **kw)
    S = np.linalg.svd(A, compute_uv=False, hermitian=hermitian)
    return np.count_nonzero(S > S.max(axis=-1, keepdims=True) * np.asarray(rtol)[..., None],
                            axis=-1)


def np_pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """``np.linalg.pinv`` with NumPy 2's ``rtol`` (``None``: ``max(m, n) * eps``)."""
    if NUMPY2:
        return np.linalg.pinv(a, rcond, hermitian, rtol=rtol)
    if rtol is not np._NoValue:
        rcond = max(np.shape(a)[-2:]) * np.finfo(np.asarray(a).dtype).eps if rtol is None \
            else rtol
    return np.linalg.pinv(a, 1e-15 if rcond is None else rcond, hermitian)


def tol(dtype, tols=None):
    """``dict(rtol=..., atol=...)`` for ``dtype`` from the table ``tols`` (or ``TOLS``)."""
    tols = TOLS if tols is None else tols
    dtype = np.dtype(dtype)
    t = next((t for d, t in tols.items() if not isinstance(d, str) and np.dtype(d) == dtype),
             tols[DEFAULT])
    rtol, atol = t if isinstance(t, tuple) else (t, t)
    return dict(rtol=rtol, atol=atol)


def leaves(x):
    """The leaves of nested lists and tuples, in order (anything else is a leaf)."""
    if isinstance(x, (list, tuple)):
        return [leaf for e in x for leaf in leaves(e)]
    return [x]


def assert_same(got, want, exact=False, tols=None, *, exact_kinds="biu", tol_dtype=None,
                tree=False, pytree=False):
    """Same shape, dtype and values (exact or to ``tol``); ``tree``: leaf by leaf of
    nested lists and tuples; ``pytree``: leaf by leaf of pytrees of the same structure
    (``funcdiff.tree_util``)."""
    if pytree:
        got_leaves, got_tree = fd.tree_util.tree_flatten(got)
        want_leaves, want_tree = fd.tree_util.tree_flatten(want)
        assert got_tree == want_tree, (got_tree, want_tree)
        for g, w in zip(got_leaves, want_leaves):
            assert_same(g, w, exact, tols, exact_kinds=exact_kinds, tol_dtype=tol_dtype)
        return
    if tree:
        got, want = leaves(got), leaves(want)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, exact, tols, exact_kinds=exact_kinds, tol_dtype=tol_dtype)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact or want.dtype.kind in exact_kinds:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, equal_nan=True,
                                   **tol(tol_dtype or want.dtype, tols))


def values(rng, shape, dtype):
    """Random ``dtype`` values: bools, integers in [-5, 5], standard normal (complex too)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.kind in "iu":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def measured_peak(f, *args):
    """Peak bytes ``tracemalloc`` sees during one call of ``f(*args)`` above what was
    allocated before it (a first call outside the measurement compiles/warms up)."""
    f(*args)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = f(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del out
    return peak


ROOT = pathlib.Path(__file__).resolve().parent.parent


def checkout_env(**extra):
    """``os.environ`` plus ``extra``, with this checkout first on ``PYTHONPATH``: a script
    run in a subprocess (an example, the benchmarks) imports the funcdiff under test, not
    whichever one happens to be installed."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@contextlib.contextmanager
def blocking(on=True, min_size=1, block=7):
    """jit's blocked fusion on (from ``min_size`` elements, in blocks of ``block``) or
    off, numexpr off: the NumPy-only program is the reference."""
    with mock.patch.object(fd.config, "blocked_fusion", on), \
            mock.patch.object(fd.config, "_blocked_fusion_min_size", min_size), \
            mock.patch.object(fd.config, "_blocked_fusion_block_size", block), \
            mock.patch.object(fd.config, "numexpr_fusion", False):
        yield


def run_blocking(f, *args, on=True, **kw):
    """``(outputs, source)`` of a fresh ``jit(f)`` under ``blocking(on, ...)``."""
    with blocking(on, **kw):
        j = fd.jit(f)
        return j(*args), j.lower(*args).source
