"""``funcdiff.numpy.frompyfunc`` and ``funcdiff.numpy.vectorize`` against NumPy's.

NumPy's ``frompyfunc`` computes on Python objects and returns object arrays: its
results, cast to the dtype funcdiff computes, are the reference.  Each ufunc and
method runs traced, jitted, vmapped and differentiated (``check_all``); hypothesis
varies the broadcast shapes; every error path has a test.
"""
from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import ConcretizationError, FuncdiffError, TracerArrayConversionError

from _helpers import traced
from _numpy_checks import check_all, same

FEW = settings(max_examples=12, deadline=None)


def f2(x, y):
    """A smooth binary scalar function written with plain NumPy (dispatches on tracers)."""
    return x * y + np.sin(x)


def f1(x):
    return np.exp(-x) * x


def np_ref(func, nin, nout, identity=None):
    """NumPy's frompyfunc ufunc of ``func``."""
    return np.frompyfunc(func, nin, nout, identity=identity)


def obj(out, dtype):
    """NumPy's object result(s) as ``dtype`` arrays."""
    if isinstance(out, tuple):
        return tuple(obj(o, dtype) for o in out)
    return np.asarray(out, dtype=dtype)


def _x(shape, dtype=np.float64, seed=0, lo=0.2, hi=1.5):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


# --- the call ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sx,sy", [((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 3)),
                                   ((), (3,)), ((), ()), ((0, 2), (2,))])
def test_frompyfunc_call_matches_numpy(sx, sy, dtype):
    x, y = _x(sx, dtype), _x(sy, dtype, seed=1)
    u = fnp.frompyfunc(f2, 2, 1)
    want = obj(np_ref(f2, 2, 1)(x, y), dtype)
    # float32: NumPy's objects are Python floats (float64 arithmetic)
    same(u(x, y), want)
    check_all(lambda a, b: u(a, b), x, y, vmap=bool(sx and sy))


def test_frompyfunc_python_scalar_stays_weak():
    u = fnp.frompyfunc(operator.mul, 2, 1)
    x32 = _x((3,), np.float32)
    assert u(x32, 2.0).dtype == np.float32
    assert fd.jit(lambda x: u(x, 2.0))(x32).dtype == np.float32
    assert u(2.0, 3) == 6.0


def test_frompyfunc_two_outputs():
    u = fnp.frompyfunc(lambda a: (np.sin(a), a * a), 1, 2)
    x = _x((2, 3))
    assert (u.nin, u.nout, u.nargs) == (1, 2, 3)
    want = obj(np_ref(lambda a: (np.sin(a), a * a), 1, 2)(x), np.float64)
    same(u(x), want)
    check_all(lambda a: u(a), x)


def test_frompyfunc_attributes():
    u = fnp.frompyfunc(f2, 2, 1, identity=0.0)
    n = np_ref(f2, 2, 1, identity=0.0)
    assert (u.nin, u.nout, u.nargs, u.identity) == (n.nin, n.nout, n.nargs, n.identity)
    assert u.__name__ == n.__name__
    assert fnp.frompyfunc(f2, 2, 1).identity is None
    assert u == fnp.frompyfunc(f2, 2, 1, identity=0.0) and hash(u) == hash(
        fnp.frompyfunc(f2, 2, 1, identity=0.0))
    assert isinstance(u, fnp.ufunc)


@FEW
@given(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(0, 100))
def test_frompyfunc_broadcasting(nx, ny, k, seed):
    rng = np.random.default_rng(seed)
    sx = tuple(rng.choice([1, k], nx))
    sy = tuple(rng.choice([1, k], ny))
    x, y = _x(sx, seed=seed), _x(sy, seed=seed + 1)
    u = fnp.frompyfunc(f2, 2, 1)
    same(u(x, y), obj(np_ref(f2, 2, 1)(x, y), np.float64))
    same(fd.jit(lambda a, b: u(a, b))(x, y), obj(np_ref(f2, 2, 1)(x, y), np.float64))


def test_frompyfunc_ints_and_dtype_keyword():
    u = fnp.frompyfunc(operator.add, 2, 1)
    a, b = np.arange(4), np.arange(4)[::-1].copy()
    same(u(a, b), obj(np_ref(operator.add, 2, 1)(a, b), np.int64))
    same(u(a, b, dtype=np.float32), (a + b).astype(np.float32))
    same(traced(lambda a, b: u(a, b), a, b)[0], a + b)


def test_frompyfunc_branching_function_under_grad_loops():
    """A Python `if` on the value: vmap cannot trace it, so funcdiff loops over the
    elements where the values are known (as NumPy does)."""
    def relu2(a):
        return a * a if a > 0 else -0.5 * a
    u = fnp.frompyfunc(relu2, 1, 1)
    x = np.array([-1.5, 0.5, 2.0, -0.25])
    same(u(x), obj(np_ref(relu2, 1, 1)(x), np.float64))
    g = fd.grad(lambda a: u(a).sum())(x)
    same(g, np.where(x > 0, 2 * x, -0.5))
    with pytest.raises(ConcretizationError, match="funcdiff.numpy.where"):
        fd.jit(lambda a: u(a))(x)
    with pytest.raises(ConcretizationError, match="lax.cond"):
        fd.vmap(lambda a: u(a))(x.reshape(2, 2))


# --- the methods ---------------------------------------------------------------------------

def g2(a, b):
    """Not associative and not commutative: the order of the fold shows."""
    return a * 0.5 + np.sin(b) * a + b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", [((5,), {}), ((3, 4), {"axis": 1}),
                                      ((3, 4), {"axis": -2, "keepdims": True}),
                                      ((2, 3, 2), {"axis": 1}), ((1, 3), {}),
                                      ((2, 3), {"initial": 0.5, "axis": 1})])
def test_reduce_matches_numpy(shape, kw, dtype):
    x = _x(shape, dtype)
    u, n = fnp.frompyfunc(g2, 2, 1), np_ref(g2, 2, 1)
    want = obj(n.reduce(x, **kw), dtype)
    same(u.reduce(x, **kw), want)
    check_all(lambda a: u.reduce(a, **kw), x)


def test_reduce_several_axes_with_identity():
    x = _x((2, 3, 2))
    u, n = fnp.frompyfunc(g2, 2, 1, identity=0.0), np_ref(g2, 2, 1, identity=0.0)
    for axis in [None, (0, 2), (2, 0), ()]:
        same(u.reduce(x, axis=axis), obj(n.reduce(x, axis=axis), np.float64))
    check_all(lambda a: u.reduce(a, axis=(0, 2)), x)


def test_reduce_where_initial_and_empty():
    x = _x((2, 4))
    m = np.array([True, False, True, True])
    u, n = fnp.frompyfunc(g2, 2, 1, identity=0.0), np_ref(g2, 2, 1, identity=0.0)
    want = obj(n.reduce(x, axis=1, where=m, initial=0.25), np.float64)
    same(u.reduce(x, axis=1, where=m, initial=0.25), want)
    check_all(lambda a: u.reduce(a, axis=1, where=m, initial=0.25), x)
    # an empty reduction is the identity
    same(u.reduce(x[:, :0], axis=1), obj(n.reduce(x[:, :0], axis=1), np.float64))
    # a one-element reduction is the element
    same(u.reduce(x[:1], axis=0), x[0])


def test_reduce_ints():
    u, n = fnp.frompyfunc(lambda a, b: a * 10 + b, 2, 1), np_ref(lambda a, b: a * 10 + b, 2, 1)
    x = np.arange(1, 7).reshape(2, 3)
    same(u.reduce(x, axis=1), obj(n.reduce(x, axis=1), np.int64))
    same(fd.jit(lambda a: u.reduce(a))(x), obj(n.reduce(x), np.int64))


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((1, 2), 0)])
def test_accumulate_matches_numpy(shape, axis):
    x = _x(shape)
    u, n = fnp.frompyfunc(g2, 2, 1), np_ref(g2, 2, 1)
    same(u.accumulate(x, axis=axis), obj(n.accumulate(x, axis=axis), np.float64))
    check_all(lambda a: u.accumulate(a, axis=axis), x)
    same(u.accumulate(x[:0]), x[:0])


def test_outer_reduceat_at():
    u, n = fnp.frompyfunc(g2, 2, 1), np_ref(g2, 2, 1)
    a, b = _x((3,)), _x((2, 2), seed=1)
    same(u.outer(a, b), obj(n.outer(a, b), np.float64))
    check_all(lambda p, q: u.outer(p, q), a, b)
    x = _x((8,))
    idx = [0, 4, 1, 5, 5]
    same(u.reduceat(x, idx), obj(n.reduceat(x, idx), np.float64))
    check_all(lambda p: u.reduceat(p, idx), x)
    x2 = _x((3, 6))
    same(u.reduceat(x2, [0, 2], axis=1), obj(n.reduceat(x2, [0, 2], axis=1), np.float64))
    # at: unbuffered, so the repeated index 0 applies g2 twice
    want = np.array(x, dtype=object)
    n.at(want, [0, 0, 2], 0.7)
    got = x.copy()
    assert u.at(got, [0, 0, 2], 0.7) is None
    same(got, want.astype(np.float64))
    same(u.at(x, [0, 0, 2], 0.7, inplace=False), want.astype(np.float64))
    check_all(lambda p: u.at(p, np.array([0, 0, 2]), 0.7, inplace=False), x)
    vals = np.array([0.1, 0.2, 0.3])
    want = np.array(x, dtype=object)
    n.at(want, [1, 3, 1], vals)
    same(u.at(x, [1, 3, 1], vals, inplace=False), want.astype(np.float64))
    check_all(lambda p, v: u.at(p, [1, 3, 1], v, inplace=False), x, vals)
    neg = fnp.frompyfunc(lambda t: -2 * t, 1, 1)
    want = np.array(x, dtype=object)
    np_ref(lambda t: -2 * t, 1, 1).at(want, slice(2, 5))
    same(neg.at(x, slice(2, 5), inplace=False), want.astype(np.float64))


def test_method_errors():
    u = fnp.frompyfunc(g2, 2, 1)
    x = _x((2, 3))
    with pytest.raises(ValueError, match="not reorderable"):
        u.reduce(x, axis=None)
    with pytest.raises(ValueError, match="no identity"):
        u.reduce(x[:, :0], axis=1)
    with pytest.raises(ValueError, match="initial"):
        u.reduce(x, where=x > 0.5)
    with pytest.raises(TypeError, match="boolean"):
        fnp.frompyfunc(g2, 2, 1, identity=0).reduce(x, where=x)
    with pytest.raises(ValueError, match="multiple axes"):
        u.accumulate(x, axis=None)
    with pytest.raises(ValueError, match="at least one dimension"):
        u.accumulate(1.0)
    un = fnp.frompyfunc(f1, 1, 1)
    for meth, args in [("reduce", (x,)), ("accumulate", (x,)), ("reduceat", (x, [0]))]:
        with pytest.raises(ValueError, match="binary"):
            getattr(un, meth)(*args)
    with pytest.raises(ValueError, match="binary"):
        un.outer(x, x)
    with pytest.raises(ValueError, match="nin=1"):
        un.at(x, 0, 1.0, inplace=False)
    with pytest.raises(IndexError, match="out of range"):
        u.reduceat(x, [0, 3], axis=1)
    with pytest.raises(TypeError, match="1-d"):
        u.reduceat(x, [[0]], axis=1)
    with pytest.raises(ConcretizationError):
        fd.jit(lambda a, i: u.reduceat(a, i, axis=1))(x, np.array([0, 1]))
    with pytest.raises(TypeError, match="inplace=False"):
        fd.grad(lambda a: u.at(a, [0], 1.0).sum())(x[0])
    with pytest.raises(TypeError, match="inplace=False"):
        u.at([1.0, 2.0], [0], 1.0)
    with pytest.raises(TypeError, match="out="):
        u.reduce(x, out=np.empty(3))


def test_call_errors():
    u = fnp.frompyfunc(f2, 2, 1)
    x = _x((3,))
    with pytest.raises(TypeError, match="takes 2 positional"):
        u(x)
    with pytest.raises(TypeError, match="out="):
        u(x, x, out=np.empty(3))
    with pytest.raises(TypeError, match="where"):
        u(x, x, where=x > 0.5)
    with pytest.raises(ValueError, match="broadcast"):
        u(x, _x((4,)))
    with pytest.raises(ValueError, match="at least 1"):
        fnp.frompyfunc(f2, 0, 1)
    with pytest.raises(TypeError, match="callable"):
        fnp.frompyfunc(3, 1, 1)
    with pytest.raises(ValueError, match="must return 2 values"):
        fnp.frompyfunc(f1, 1, 2)(x)
    for e in (ValueError, FuncdiffError):
        with pytest.raises(e):
            fd.jit(lambda a: fnp.frompyfunc(f1, 1, 2)(a))(x)


def test_numpy_frompyfunc_on_traced_value_points_to_funcdiff():
    with pytest.raises(FuncdiffError, match="funcdiff.numpy.frompyfunc"):
        fd.grad(lambda a: np.frompyfunc(f1, 1, 1)(a).sum())(_x((3,)))


# --- vectorize -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vectorize_scalar_function(dtype):
    x, y = _x((2, 3), dtype), _x((3,), dtype, seed=1)
    v, n = fnp.vectorize(f2), np.vectorize(f2)
    same(v(x, y), n(x, y))
    check_all(lambda a, b: v(a, b), x, y)


@pytest.mark.parametrize("sig,func,shapes", [
    ("(n),(n)->()", lambda a, b: np.dot(a, b), [(3, 4), (4,)]),
    ("(m,n),(n)->(m)", lambda a, b: a @ b, [(2, 3, 4), (2, 4)]),
    ("(n)->(n),()", lambda a: (np.cumsum(a), np.sum(a * a)), [(2, 5)]),
    ("()->(k)", lambda a: np.stack([a, a * a, np.sin(a)]), [(4,)]),
])
def test_vectorize_signature(sig, func, shapes):
    args = [_x(s, seed=i) for i, s in enumerate(shapes)]
    v, n = fnp.vectorize(func, signature=sig), np.vectorize(func, signature=sig)
    same(v(*args), n(*args))
    check_all(lambda *a: v(*a), *args)


def test_vectorize_excluded_otypes_decorator_and_branches():
    x = _x((4,))
    v = fnp.vectorize(lambda a, p: a ** p, excluded={1})
    same(v(x, 3), np.vectorize(lambda a, p: a ** p, excluded={1})(x, 3))
    kw = fnp.vectorize(lambda a, scale=1.0: a * scale, excluded={"scale"})
    same(kw(x, scale=2.0), x * 2.0)
    same(fnp.vectorize(lambda a, b=1.0: a * b)(x, b=x), x * x)
    same(fnp.vectorize(f1, otypes=[np.float32])(x), f1(x).astype(np.float32))
    same(fnp.vectorize(f1, otypes="f")(x), f1(x).astype(np.float32))

    @fnp.vectorize
    def tri(a):
        return a * 3
    assert tri.__name__ == "tri"
    same(tri(np.arange(3)), np.arange(3) * 3)

    @fnp.vectorize(signature="(n)->(n)")
    def rev(a):
        return a[::-1]
    same(rev(np.arange(6.0).reshape(2, 3)), np.arange(6.0).reshape(2, 3)[:, ::-1])

    def piece(a):
        if a < 0.8:
            return a * a
        return 2 * a - 0.5
    x = np.array([0.3, 0.9, 1.2, 0.5])
    v = fnp.vectorize(piece)
    same(v(x), np.vectorize(piece)(x))
    same(fd.grad(lambda a: v(a).sum())(x), np.where(x < 0.8, 2 * x, 2.0))


def test_vectorize_errors():
    with pytest.raises(ValueError, match="signature"):
        fnp.vectorize(f1, signature="(n->()")
    v = fnp.vectorize(lambda a, b: a @ b, signature="(n),(n)->()")
    with pytest.raises(ValueError, match="core dimension 'n'"):
        v(_x((3,)), _x((4,)))
    with pytest.raises(ValueError, match="need 1"):
        v(1.0, _x((4,)))
    with pytest.raises(TypeError, match="2 input"):
        v(_x((3,)))
    with pytest.raises(ValueError, match="does not match"):
        fnp.vectorize(lambda a: a, signature="(n)->()")(_x((2, 3)))
    with pytest.raises(ValueError, match="otypes"):
        fnp.vectorize(f1, otypes=[np.float64, np.float64])(_x((3,)))


# --- the methods of NumPy's own binary ufuncs on traced values ------------------------------
# (numpy.maximum.accumulate(x) & co. that funcdiff has no dedicated rule for: the same
# fold, in NumPy's loop dtype, with NumPy's reorderability)

UFUNCS = [np.maximum, np.minimum, np.subtract, np.logaddexp, np.hypot, np.true_divide,
          np.arctan2, np.logical_and, np.copysign, np.floor_divide]
METHOD_CALLS = [("reduce", (), {}), ("reduce", (), {"axis": 1, "keepdims": True}),
                ("reduce", (), {"axis": None}), ("reduce", (), {"axis": 1, "initial": 2}),
                ("accumulate", (), {}), ("accumulate", (), {"axis": -1}),
                ("reduceat", ([0, 2, 1, 3],), {"axis": 1})]


@pytest.mark.parametrize("uf", UFUNCS, ids=lambda u: u.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8])
def test_numpy_ufunc_methods_on_traced_values(uf, dtype):
    x = (np.random.default_rng(4).standard_normal((3, 4)) * 3).astype(dtype)
    if dtype == np.int8:
        x = np.where(x == 0, 1, x).astype(dtype)
    for method, extra, kw in METHOD_CALLS:
        def f(a):
            return getattr(uf, method)(a, *extra, **kw)
        try:
            with np.errstate(all="ignore"):
                want = f(x)
        except (ValueError, TypeError) as e:      # e.g. subtract over several axes
            with pytest.raises(type(e)):
                fd.jit(f)(x)
            continue
        with np.errstate(all="ignore"):
            same(fd.jit(f)(x), want)
            same(traced(f, x)[0], want)
        if dtype == np.float64 and uf in (np.maximum, np.subtract, np.logaddexp, np.hypot):
            check_all(f, np.abs(x) + np.arange(12).reshape(3, 4) * 0.1 + 0.5)


def test_maximum_accumulate_derivative_at_ties():
    """The running maximum's derivative: maximum's convention, ties split evenly."""
    g = fd.grad(lambda a: np.maximum.accumulate(a).sum())(np.array([1.0, 3, 2, 3, 5]))
    np.testing.assert_allclose(g, [1.0, 2.5, 0.0, 0.5, 1.0])


def test_numpy_vectorize_on_traced_values_points_to_funcdiff():
    """NumPy's vectorize converts its arguments to arrays (of Python objects): the error
    says to use funcdiff.numpy.vectorize, under grad and under jit."""
    x = _x((3,))
    for sig in (None, "()->()"):
        with pytest.raises(TracerArrayConversionError, match="funcdiff.numpy.vectorize"):
            fd.grad(lambda a: np.vectorize(f1, signature=sig)(a).sum())(x)
    with pytest.raises(TracerArrayConversionError, match="funcdiff.numpy.vectorize"):
        fd.jit(lambda a: np.vectorize(f1)(a))(x)
