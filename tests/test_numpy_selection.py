"""Selection (``_selection.py``): ``choose``, ``select``, ``piecewise``, ``place``, ``put``.

Each against NumPy (values, shapes and dtypes; float32 and float64, integers, booleans,
Python scalars), over hypothesis-drawn broadcasting shapes: eagerly (NumPy itself),
traced (``make_jaxpr`` + ``eval_jaxpr`` with ``check_jaxpr``, every array argument
traced), under ``jit``, and under ``vmap`` (equal to a Python loop); reached through the
plain ``numpy.X`` names; derivatives by ``check_grads`` (order 2, float64); NumPy's
errors.  The derivative conventions at ties and boundaries are rows of
docs/subgradients.md (tests/test_subgradients.py).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffError
from funcdiff.test_util import check_grads

from _helpers import DEFAULT, assert_same as _assert_same, nep50, traced, values
from _numpy_checks import NUMPY2

CASES = settings(max_examples=30, deadline=None)
GRADS = settings(max_examples=6, deadline=None)
TOLS = {np.float32: 1e-6, DEFAULT: 1e-13}
ARRAY_DTYPES = [np.float64, np.float32, np.int32, np.bool_]
seeds = st.integers(0, 2 ** 32 - 1)


def assert_same(got, want, exact=False):
    if not NUMPY2 and LOOSE_DTYPES[0]:
        # NumPy 1.x promotes Python scalars and 0-d arrays by value, and its select and
        # choose differ from NumPy 2's even in NEP 50 mode: funcdiff gives NumPy 2's
        # dtypes on both (test_dtype_floor.py), so on 1.x only the values are compared
        got, want = np.asarray(got), np.asarray(want)
        if got.dtype != want.dtype:
            low = got.dtype if np.can_cast(got.dtype, want.dtype) else want.dtype
            common = np.promote_types(got.dtype, want.dtype)
            _assert_same(got.astype(common), want.astype(common), exact, TOLS,
                         tol_dtype=low)
            return
    _assert_same(got, want, exact, TOLS, tree=True)


#: whether the current call mixes Python scalars or 0-d arrays in (set by ``everywhere``)
LOOSE_DTYPES = [False]


def everywhere(f, np_f, args, batch_args=None):
    """``f(*args)`` equals ``np_f(*args)`` eagerly, traced (ndarray arguments traced),
    under jit, and (with ``batch_args``, a second example) under vmap."""
    LOOSE_DTYPES[0] = any(np.ndim(a) == 0 for a in args)
    with nep50():   # NumPy 2's promotion on NumPy 1.x too, as traced funcdiff's
        want = np_f(*args)
        assert_same(f(*args), want, exact=True)
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def g(*xs):
        full = list(args)
        for i, x in zip(arrays, xs):
            full[i] = x
        return f(*full)

    xs = [args[i] for i in arrays]
    assert_same(traced(g, *xs, unpack=True), want)
    assert_same(fd.jit(g)(*xs), want)
    if batch_args is not None:
        xs2 = [batch_args[i] for i in arrays]
        got = fd.vmap(g)(*[np.stack([a, b]) for a, b in zip(xs, xs2)])
        with nep50():
            want2 = np_f(*batch_args)
        assert_same(got, np.stack([want, want2]))
    return want


@st.composite
def broadcastable(draw, n):
    """``n`` shapes that broadcast together (suffixes of one shape, some 1s)."""
    base = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
    out = []
    for _ in range(n):
        s = [1 if draw(st.booleans()) else d for d in base]
        out.append(tuple(s[draw(st.integers(0, len(s))):]))
    return out


def _val(rng, shape, dtype):
    if dtype in (int, float):
        return dtype(values(rng, (), np.float64 if dtype is float else np.int64))
    return np.asarray(values(rng, shape, dtype))


# --- select ------------------------------------------------------------------------------------

@CASES
@given(st.integers(1, 3), st.data(), seeds)
def test_select_matches_numpy(n, data, seed):
    rng = np.random.default_rng(seed)
    shapes = data.draw(broadcastable(2 * n + 1))
    dts = [data.draw(st.sampled_from(ARRAY_DTYPES + [float, int])) for _ in range(n + 1)]
    conds = [np.asarray(rng.random(s) < 0.5) for s in shapes[:n]]
    choices = [_val(rng, s, d) for s, d in zip(shapes[n:2 * n], dts)]
    default = _val(rng, shapes[-1], dts[-1])

    def f(*a):
        return np.select(list(a[:n]), list(a[n:2 * n]), a[-1])   # plain NumPy dispatches


    args = conds + choices + [default]
    args2 = [np.asarray(rng.random(s) < 0.5) for s in shapes[:n]] + [
        _val(rng, np.shape(a), d) if isinstance(a, np.ndarray) else a
        for a, d in zip(choices + [default], dts)]
    everywhere(lambda *a: fnp.select(list(a[:n]), list(a[n:2 * n]), a[-1]), f, args, args2)


@GRADS
@given(st.data(), seeds)
def test_select_derivatives(data, seed):
    rng = np.random.default_rng(seed)
    shapes = data.draw(broadcastable(3))
    c1, c2 = rng.random(shapes[0]) < 0.5, rng.random(shapes[0]) < 0.3
    a, b, d = (rng.standard_normal(s) for s in shapes)
    check_grads(lambda a, b, d: np.select([c1, c2], [np.sin(a), a * b], d ** 2), (a, b, d),
                order=2)


def test_select_errors_as_numpy():
    x = np.arange(3.0)
    for f in (np.select, lambda *a: fd.grad(lambda x: fnp.sum(np.select(*a)))(x)):
        with pytest.raises(ValueError, match="same length"):
            f([x > 0], [x, x])
        with pytest.raises(ValueError, match="empty condition list"):
            f([], [])
        with pytest.raises(TypeError, match="invalid entry 0 in condlist"):
            f([np.array([1, 0, 1])], [x])
    with pytest.raises(TypeError, match="invalid entry 1"):
        fd.jit(lambda x: fnp.select([x > 0, x], [x, x]))(x)


# --- choose ------------------------------------------------------------------------------------

@CASES
@given(st.integers(1, 4), st.sampled_from(["raise", "wrap", "clip", None]), st.data(), seeds)
def test_choose_matches_numpy(n, mode, data, seed):
    rng = np.random.default_rng(seed)
    shapes = data.draw(broadcastable(n + 1))
    dts = [data.draw(st.sampled_from(ARRAY_DTYPES + [float])) for _ in range(n)]
    lo, hi = (0, n) if mode in ("raise", None) else (-2, n + 2)
    idx, idx2 = (rng.integers(lo, hi, shapes[0]) for _ in range(2))
    choices = [_val(rng, s, d) for s, d in zip(shapes[1:], dts)]
    choices2 = [_val(rng, np.shape(c), d) if isinstance(c, np.ndarray) else c
                for c, d in zip(choices, dts)]
    everywhere(lambda i, *c: fnp.choose(i, list(c), mode=mode),
               lambda i, *c: np.choose(i, list(c), mode=mode),
               [idx] + choices, [idx2] + choices2)
    # plain NumPy, and the method of a traced index array
    with nep50():
        want = np.choose(idx, choices, mode=mode)
    LOOSE_DTYPES[0] = any(np.ndim(a) == 0 for a in choices)
    assert_same(fd.jit(lambda i: np.choose(i, choices, mode=mode))(idx), want)
    assert_same(fd.jit(lambda i: fnp.asarray(i).choose(choices, mode=mode))(idx), want)


def test_choose_derivatives_and_forms():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    idx = np.array([[0, 1, 2], [2, 1, 0]])
    check_grads(lambda a, b: np.choose(idx, [a, b ** 2, np.exp(a)]), (a, b), order=2)
    g = fd.grad(lambda a, b: fnp.sum(fnp.choose(idx % 2, [a, b])), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(g[0], (idx % 2 == 0) * 1.0)     # only the chosen
    np.testing.assert_array_equal(g[1], (idx % 2 == 1).sum(0) * 1.0)
    # choices as one array (its first axis) and as a traced array
    stacked = rng.standard_normal((3, 2, 3))
    assert_same(fd.jit(lambda s: np.choose(idx, s))(stacked), np.choose(idx, stacked))


def test_choose_errors():
    x = np.arange(4.0)
    bad = np.array([0, 2, 1, 0])
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        np.choose(bad, [x, x])
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        fd.grad(lambda x: fnp.sum(np.choose(bad, [x, x])))(x)
    # under jit the indices are unknown: checked when the program runs
    for i in (bad, np.array([0, -1, 1, 0])):
        with pytest.raises(IndexError):
            fd.jit(lambda i, x: np.choose(i, [x, 2 * x]))(i, x)
        with pytest.raises(IndexError):
            fd.vmap(lambda i, x: np.choose(i, [x, 2 * x]))(i[None], x[None])
    with pytest.raises(TypeError):
        np.choose(x, [x, x])
    with pytest.raises(TypeError, match="integers"):
        fd.jit(lambda x: fnp.choose(x, [x, x]))(x)
    with pytest.raises(ValueError, match="mode"):
        fd.jit(lambda x: fnp.choose(bad % 2, [x, x], mode="bogus"))(x)
    with pytest.raises(TypeError, match="out="):
        fd.jit(lambda x: fnp.choose(bad % 2, [x, x], out=x))(x)


# --- piecewise ----------------------------------------------------------------------------------

FUNCS = [lambda v: v ** 2, np.sin, lambda v: 2.0 * v + 1.0, 0.5, -2, lambda v, *a, **k: v]


@st.composite
def piecewise_case(draw):
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=2).map(tuple))
    n = draw(st.integers(1, 3))
    nf = n + draw(st.integers(0, 1))
    funcs = [FUNCS[draw(st.integers(0, len(FUNCS) - 1))] for _ in range(nf)]
    cuts = sorted(draw(st.lists(st.floats(-1.5, 1.5), min_size=n, max_size=n)))
    return shape, funcs, cuts


def _conds(m, x, cuts):
    # overlapping pieces, so later conditions overwrite earlier ones somewhere
    return [x < c if k % 2 else x > c - 1.0 for k, c in enumerate(cuts)]


@CASES
@given(piecewise_case(), st.sampled_from([np.float64, np.float32, np.int64]), seeds)
def test_piecewise_matches_numpy(case, dtype, seed):
    shape, funcs, cuts = case
    rng = np.random.default_rng(seed)
    x, x2 = (np.asarray(rng.uniform(-2, 2, shape) * (3 if dtype == np.int64 else 1),
                        dtype=dtype) for _ in range(2))

    def ref(x):
        with np.errstate(all="ignore"):
            return np.piecewise(x, _conds(np, x, cuts), funcs)

    def f(x):
        return np.piecewise(x, _conds(np, x, cuts), funcs)

    # jit, vmap (conditions unknown: JAX's rule) and the traced interpreter
    everywhere(f, ref, [x], [x2])
    # concrete conditions (grad/jvp trace with values): NumPy's own steps
    if dtype != np.int64:
        out, _ = fd.jvp(f, (x,), (np.ones_like(x),))
        assert_same(out, ref(x))


@GRADS
@given(piecewise_case(), seeds)
def test_piecewise_derivatives(case, seed):
    shape, funcs, cuts = case
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.uniform(-2, 2, shape))
    # keep away from the cuts, where finite differences would cross a boundary
    for c in cuts:
        x = np.where(np.abs(x - c) < 0.05, c + 0.1, x)
        x = np.where(np.abs(x - c + 1.0) < 0.05, c - 0.9, x)

    def f(x):
        return np.piecewise(x, _conds(np, x, cuts), funcs)
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(fd.jit(fd.grad(lambda x: fnp.sum(f(x))))(x),
                               fd.grad(lambda x: fnp.sum(f(x)))(x), rtol=1e-12)


def test_piecewise_forms_as_numpy():
    x = np.array([1.0, 2.0, 3.0])
    xi = np.array([1, 2, 3])
    M = np.arange(6.0).reshape(2, 3)
    cases = [
        (xi, [np.array([True, False, True])], [lambda v: v * 1.5]),     # cast to int
        (x, [True, False, True], [lambda v: v * 2]),                     # one condition
        (x, [[True, False, True]], [lambda v: v * 2]),
        (np.array(2.0), [True], [lambda v: v * 2]),                       # 0-d x
        (np.array(2.0), True, [lambda v: v * 2, 7.0]),
        (x, [np.array([True, False, False]), np.array([True, True, False])], [1, 2, 3]),
        (M, [np.array([True, False])], [lambda v: -v]),                   # rows
        (x, [x > 1.5], [lambda v, a, b=0: v * a + b, 9.0]),               # args, kw
    ]
    for xs, conds, funcs in cases:
        kw = {"b": 1.0} if len(funcs) == 2 and funcs[1] == 9.0 else {}
        a = (2.0,) if kw else ()
        want = np.piecewise(xs, conds, funcs, *a, **kw)
        for t in (fd.jit, lambda f: (lambda v: fd.jvp(f, (v,), (np.ones_like(v),))[0])):
            if xs.dtype.kind != "f" and t is not fd.jit:
                continue
            got = t(lambda v: fnp.piecewise(v, conds, funcs, *a, **kw))(xs)
            assert_same(got, want)
    # a single traced condition array (not in a list) is one condition, as in NumPy
    f = (lambda v: np.piecewise(v, v > 1.5, [lambda w: w * 2, 7.0]))
    for t in (fd.jit, lambda f: (lambda v: fd.jvp(f, (v,), (np.ones_like(v),))[0])):
        assert_same(t(f)(x), f(x))
    with pytest.raises(ValueError, match="either 1 or 2 functions"):
        fd.jit(lambda v: fnp.piecewise(v, [v > 1], [1, 2, 3]))(x)
    with pytest.raises(ValueError, match="either 1 or 2 functions"):
        np.piecewise(x, [x > 1], [1, 2, 3])


def test_piecewise_never_differentiates_a_function_outside_its_piece():
    """sqrt is not differentiable at negative numbers: its derivative there never
    reaches the result (no NaN), outside jit (NumPy's steps) and under it."""
    x = np.array([-1.0, 0.25, -4.0, 4.0])

    def f(x):
        return np.piecewise(x, [x > 0], [np.sqrt, lambda v: v ** 2])
    want = np.where(x > 0, 0.5 / np.sqrt(np.abs(x)), 2 * x)
    for g in (fd.grad(lambda x: fnp.sum(f(x))), fd.jit(fd.grad(lambda x: fnp.sum(f(x))))):
        np.testing.assert_allclose(g(x), want)
    _, t = fd.jvp(fd.jit(f), (x,), (np.ones(4),))
    np.testing.assert_allclose(t, want)
    np.testing.assert_allclose(fd.vmap(fd.grad(lambda x: fnp.sum(f(x))))(x[None]), want[None])


def test_piecewise_mixing_functions_see_the_piece_outside_jit_and_elements_under_it():
    x = np.array([-1.0, -3.0, 2.0])
    f = (lambda x: np.piecewise(x, [x < 0], [lambda v: v - v.mean(), 1.0]))
    out, _ = fd.jvp(f, (x,), (np.ones(3),))
    assert_same(out, f(x))                                  # NumPy's: the piece's mean
    assert_same(fd.jit(f)(x), np.array([0.0, 0.0, 1.0]))     # JAX's: one element at a time
    with pytest.raises(ValueError, match="one value per element"):
        fd.jit(lambda x: np.piecewise(x, [x < 0], [lambda v: np.stack([v, v]), 1.0]))(x)


# --- place, put ---------------------------------------------------------------------------------

def _np_inplace(np_fn, a, *args):
    b = a.copy()
    assert np_fn(b, *args) is None
    return b


@CASES
@given(st.lists(st.integers(0, 4), min_size=0, max_size=2).map(tuple), st.integers(1, 4),
       st.sampled_from([np.float64, np.float32, np.int32]), seeds)
def test_place_matches_numpy(shape, nv, dtype, seed):
    rng = np.random.default_rng(seed)
    a, a2 = (np.asarray(values(rng, shape, dtype)) for _ in range(2))
    m, m2 = (np.asarray(rng.random(shape) < 0.5) for _ in range(2))
    v = values(rng, (nv,), dtype)
    everywhere(lambda a, m, v: fnp.place(a, m, v, inplace=False),
               lambda a, m, v: _np_inplace(np.place, a, m, v), [a, m, v], [a2, m2, v + 1])


@CASES
@given(st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple), st.integers(0, 5),
       st.integers(0, 3), st.sampled_from(["raise", "wrap", "clip"]),
       st.sampled_from([np.float64, np.float32, np.int32]), seeds)
def test_put_matches_numpy(shape, ni, nv, mode, dtype, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    lo, hi = (-n, n) if mode == "raise" else (-2 * n, 2 * n + 1)
    a, a2 = (np.asarray(values(rng, shape, dtype)) for _ in range(2))
    i, i2 = rng.integers(lo, hi, ni), rng.integers(lo, hi, ni)
    v = values(rng, (nv,), np.float64)
    everywhere(lambda a, i, v: fnp.put(a, i, v, mode=mode, inplace=False),
               lambda a, i, v: _np_inplace(np.put, a, i, v, mode), [a, i, v],
               [a2, i2, v + 1])


def test_place_put_derivatives():
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal((2, 3)), rng.standard_normal(2)
    m = np.array([[True, False, True], [False, True, True]])
    check_grads(lambda a, v: fnp.place(a ** 2, m, np.sin(v), inplace=False), (a, v),
                order=2)
    ind = np.array([4, 0, 4, -1])                  # duplicates: the last write wins
    check_grads(lambda a, v: fnp.put(a, ind, v ** 3, inplace=False), (a, v), order=2)
    g = fd.grad(lambda v: fnp.sum(fnp.put(a, ind, v, inplace=False)))(np.ones(4))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0])
    g = fd.jit(fd.grad(lambda v: fnp.sum(fnp.put(a, ind, v, inplace=False))))(np.ones(4))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0])


def test_place_put_in_place_and_errors():
    a = np.arange(6.0)
    # plainly (no transform), with inplace=True (the default): NumPy's own, in place
    b = a.copy()
    assert fnp.put(b, [0], [9.0]) is None and b[0] == 9.0
    assert fnp.place(b, b > 4, [7.0]) is None and b[5] == 7.0
    assert isinstance(fnp.put(a, [0], [9.0], inplace=False), fnp.Array)
    # on traced values: the JAX error, also through plain NumPy
    for f in (lambda x: np.put(x, [0], [1.0]), lambda x: fnp.place(x, x > 1, [1.0]),
              lambda x: np.place(x, x > 1, [1.0])):
        with pytest.raises(FuncdiffError, match="inplace=False"):
            fd.jit(f)(a)
    with pytest.raises(ValueError, match="same size"):
        fd.jit(lambda x: fnp.place(x, np.ones(3, bool), [1.0], inplace=False))(a)
    with pytest.raises(ValueError, match="empty array"):
        fd.grad(lambda x: fnp.sum(fnp.place(x, x > 1, [], inplace=False)))(a)
    assert_same(fd.grad(lambda x: fnp.sum(fnp.place(x, x > 9, [], inplace=False)))(a),
                np.ones(6))
    f32 = a.astype(np.float32)
    with pytest.raises(TypeError, match="safe"):
        np.place(f32.copy(), f32 > 1, np.ones(1))
    with pytest.raises(TypeError, match="safe"):
        fd.jit(lambda x: fnp.place(x, x > 1, np.ones(1), inplace=False))(f32)
    assert_same(fd.jit(lambda x: fnp.place(x, x > 1, [1.5], inplace=False))(f32),
                _np_inplace(np.place, f32, f32 > 1, [1.5]))
    with pytest.raises(ValueError, match="cannot be checked"):
        fd.jit(lambda x: fnp.place(x, x > 1, [], inplace=False))(a)
    with pytest.raises(IndexError, match="out of bounds"):
        fd.grad(lambda x: fnp.sum(fnp.put(x, [6], [1.0], inplace=False)))(a)
    with pytest.raises(IndexError):                           # checked when it runs
        fd.jit(lambda x, i: fnp.put(x, i, [1.0], inplace=False))(a, np.array([6]))
    with pytest.raises(IndexError, match="empty array"):
        fnp.put(np.zeros(0), [0], [1.0], inplace=False)
    with pytest.raises(ValueError, match="mode"):
        fnp.put(a, [0], [1.0], mode="bogus", inplace=False)
