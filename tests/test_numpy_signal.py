"""``convolve``/``correlate``, the window functions and ``logspace``/``geomspace``
(funcdiff/numpy/_signal.py, _sequences.py) against NumPy: values, shapes and dtypes
traced, through NumPy's dispatch and under ``jit``; derivatives (order 2) against finite
differences; ``vmap`` equal to a loop; error paths.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffValueError
from funcdiff.test_util import check_grads

import _helpers
from _helpers import traced

VALUES = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**31 - 1)
TOLS = {np.float32: 1e-5, np.complex64: 1e-5, "default": 1e-12}
MODES = ["full", "same", "valid"]


def seq(rng, n, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(n) < 0.5
    if dtype.kind in "iu":
        return rng.integers(-4, 5, n).astype(dtype)
    x = rng.standard_normal(n)
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(n)
    return x.astype(dtype)


@VALUES
@given(n=st.integers(1, 9), m=st.integers(1, 9), mode=st.sampled_from(MODES),
       da=st.sampled_from([np.float64, np.float32, np.complex128, np.int64, np.int8,
                           np.bool_]),
       dv=st.sampled_from([np.float64, np.complex64, np.int32]), seed=seeds)
def test_convolve_correlate_values(n, m, mode, da, dv, seed):
    rng = np.random.default_rng(seed)
    a, v = seq(rng, n, da), seq(rng, m, dv)
    for name in ("convolve", "correlate"):
        f = getattr(np, name)
        want = f(a, v, mode)
        for g in (f, getattr(fnp, name)):
            for args in ((a, v), (v, a)):
                want = f(*args, mode)
                (got,) = traced(lambda x, y: g(x, y, mode), *args)
                _helpers.assert_same(got, want, tols=TOLS)
        _helpers.assert_same(fd.jit(lambda x, y: f(x, y, mode))(a, v), f(a, v, mode),
                             tols=TOLS)


def test_scalars_lists_and_default_modes():
    for a, v in ((2.0, [1.0, 2.0]), ([1, 2, 3], 4), (np.float32(1.5), np.float32(2.0)),
                 ([1.0, 2.0], [0.5, 1.0, 3.0])):
        for f in ("convolve", "correlate"):
            try:
                want = getattr(np, f)(a, v)
            except ValueError:      # correlate takes no scalars
                with pytest.raises(ValueError, match="too small depth"):
                    traced(lambda: getattr(fnp, f)(a, v))
                continue
            (got,) = traced(lambda: getattr(fnp, f)(a, v))
            _helpers.assert_same(got, want, tols=TOLS)


@settings(max_examples=6, deadline=None)
@given(n=st.integers(1, 6), m=st.integers(1, 6), mode=st.sampled_from(MODES), seed=seeds)
def test_convolve_correlate_grads(n, m, mode, seed):
    rng = np.random.default_rng(seed)
    a, v = rng.standard_normal(n), rng.standard_normal(m)
    check_grads(lambda x, y: fnp.convolve(x, y, mode), (a, v), order=2)
    check_grads(lambda x, y: fnp.correlate(x, y, mode), (a, v), order=2)
    c = a + 1j * rng.standard_normal(n)
    check_grads(lambda x, y: fnp.correlate(x, y, mode), (c, v + 0.5j), order=1)


def test_convolve_is_linear_with_the_flipped_transpose():
    """The gradient of <w, convolve(a, v)> in a is correlate(w, v, 'valid')-shaped: the
    adjoint NumPy users expect."""
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal(8), rng.standard_normal(3)
    w = rng.standard_normal(10)
    g = fd.grad(lambda x: fnp.sum(w * fnp.convolve(x, v)))(a)
    np.testing.assert_allclose(g, np.correlate(w, v, "valid"), rtol=1e-12)


def test_convolve_vmap_equals_a_loop():
    rng = np.random.default_rng(1)
    A, V = rng.standard_normal((4, 7)), rng.standard_normal((4, 3))
    for mode in MODES:
        for f in (fnp.convolve, fnp.correlate):
            got = fd.vmap(lambda x, y: f(x, y, mode))(A, V)
            want = np.stack([getattr(np, f.__name__)(x, y, mode) for x, y in zip(A, V)])
            np.testing.assert_allclose(got, want, rtol=1e-12)
            got = fd.vmap(lambda x: f(x, V[0], mode))(A)
            want = np.stack([getattr(np, f.__name__)(x, V[0], mode) for x in A])
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_convolve_errors():
    with pytest.raises(FuncdiffValueError, match="cannot be empty"):
        traced(lambda x: fnp.convolve(x, np.zeros(0)), np.ones(3))
    with pytest.raises(FuncdiffValueError, match="cannot be empty"):
        traced(lambda x: fnp.correlate(x[:0], x), np.ones(3))
    with pytest.raises(FuncdiffValueError, match="too deep"):
        traced(lambda x: fnp.convolve(x[None], x), np.ones(3))
    with pytest.raises(FuncdiffValueError, match="mode"):
        traced(lambda x: fnp.convolve(x, x, "middle"), np.ones(3))


# --- windows --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("M", [-1, 0, 1, 2, 5, 8])
def test_windows(name, M):
    want = getattr(np, name)(M)
    _helpers.assert_same(getattr(fnp, name)(M), want, exact=True)
    (got,) = traced(lambda: getattr(fnp, name)(M))
    _helpers.assert_same(got, want)
    # a traced (concrete) length, and a window inside a differentiated function
    g = fd.grad(lambda x: fnp.sum(getattr(fnp, name)(fnp.asarray(M)) * x))(np.ones(max(M, 0)))
    _helpers.assert_same(g, want.astype(float))


@pytest.mark.parametrize("M", [0, 1, 2, 5, 8])
def test_kaiser(M):
    for beta in (0.0, 3.0, 14.0):
        want = np.kaiser(M, beta)
        _helpers.assert_same(fnp.kaiser(M, beta), want, exact=True)
        got = fd.vjp(lambda b: fnp.kaiser(M, b), beta)[0]
        _helpers.assert_same(got, want)
        _helpers.assert_same(fd.jit(lambda b: fnp.kaiser(M, b))(beta), want)
    if M > 1:
        check_grads(lambda b: fnp.kaiser(M, b), (3.0,), order=2)
        got = fd.vmap(lambda b: fnp.kaiser(M, b))(np.array([1.0, 5.0]))
        _helpers.assert_same(got, np.stack([np.kaiser(M, 1.0), np.kaiser(M, 5.0)]))
        assert fd.jit(lambda b: fnp.kaiser(M, b))(np.float32(2.0)).dtype == np.float64


def test_window_length_must_be_concrete():
    from funcdiff import ConcretizationError
    with pytest.raises(ConcretizationError, match="hanning"):
        fd.jit(lambda m: fnp.hanning(m))(5)


# --- logspace, geomspace --------------------------------------------------------------------

@VALUES
@given(num=st.integers(0, 6), endpoint=st.booleans(), seed=seeds,
       dtype=st.sampled_from([None, np.float32, np.complex128]),
       base=st.sampled_from([10.0, 2.0, np.e, "array"]), shape=st.sampled_from([(), (2,)]),
       axis=st.sampled_from([0, -1]))
def test_logspace(num, endpoint, seed, dtype, base, shape, axis):
    rng = np.random.default_rng(seed)
    start, stop = rng.uniform(-1, 1, shape), rng.uniform(0, 2, shape)
    b = rng.uniform(1.5, 3.0, shape or (1,)) if base == "array" else base
    kw = dict(num=num, endpoint=endpoint, base=b, dtype=dtype, axis=axis)
    want = np.logspace(start, stop, **kw)
    got = fd.vjp(lambda s, e: fnp.logspace(s, e, **kw), start, stop)[0]
    _helpers.assert_same(got, want, tols=TOLS)
    _helpers.assert_same(fd.jit(lambda s, e: np.logspace(s, e, **kw))(start, stop), want,
                         tols=TOLS)
    if num > 1 and dtype is None:
        check_grads(lambda s, e: fnp.logspace(s, e, **kw), (start, stop), order=2)


@VALUES
@given(num=st.integers(0, 6), endpoint=st.booleans(), seed=seeds,
       dtype=st.sampled_from([None, np.float32, np.complex128]),
       kind=st.sampled_from(["pos", "neg", "complex", "array", "float32", "int"]),
       axis=st.sampled_from([0, -1]))
def test_geomspace(num, endpoint, seed, dtype, kind, axis):
    rng = np.random.default_rng(seed)
    start, stop = rng.uniform(0.5, 2.0), rng.uniform(3.0, 50.0)
    if kind == "neg":
        start, stop = -start, -stop
    elif kind == "complex":
        start, stop = start * (1 + 1j), stop * (-1 + 0.5j)
    elif kind == "array":
        start, stop = np.array([start, -start]), np.array([stop, -2 * stop])
    elif kind == "float32":
        start, stop = np.float32(start), np.float32(stop)
    elif kind == "int":
        start, stop = int(start * 4) + 1, int(stop)
    start, stop = np.asarray(start), np.asarray(stop)
    kw = dict(num=num, endpoint=endpoint, dtype=dtype, axis=axis if start.ndim else 0)
    want = np.geomspace(start, stop, **kw)
    if start.dtype.kind in "fc":
        got = fd.vjp(lambda s, e: np.geomspace(s, e, **kw), start, stop)[0]
    else:
        (got,) = traced(lambda: fnp.geomspace(start, stop, **kw))
    _helpers.assert_same(got, want, tols={np.float32: 1e-5, np.complex64: 1e-5,
                                          "default": 1e-11})
    if num > 1 and dtype is None and start.dtype == np.float64:
        check_grads(lambda s, e: fnp.geomspace(s, e, **kw), (start, stop), order=2)


def test_geomspace_endpoints_are_exact_and_zero_is_an_error():
    got = fd.vjp(lambda s, e: fnp.geomspace(s, e, 7), 3.0, 1000.0)[0]
    assert got[0] == 3.0 and got[-1] == 1000.0
    g = fd.grad(lambda s: fnp.geomspace(s, 1000.0, 7)[0])(3.0)
    assert g == 1.0
    with pytest.raises(FuncdiffValueError, match="cannot include zero"):
        fd.grad(lambda s: fnp.geomspace(s, 2.0, 3).sum())(0.0)


def test_logspace_geomspace_vmap():
    S, E = np.array([0.5, 1.0, 2.0]), np.array([5.0, 9.0, 20.0])
    got = fd.vmap(lambda s, e: fnp.geomspace(s, e, 4))(S, E)
    np.testing.assert_allclose(got, np.stack([np.geomspace(s, e, 4) for s, e in zip(S, E)]),
                               rtol=1e-12)
    got = fd.vmap(lambda s, e: fnp.logspace(s, e, 4, base=2.0))(S, E)
    np.testing.assert_allclose(
        got, np.stack([np.logspace(s, e, 4, base=2.0) for s, e in zip(S, E)]), rtol=1e-12)
