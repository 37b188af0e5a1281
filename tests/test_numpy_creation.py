"""funcdiff.numpy creation functions.

(1) Eagerly each function is NumPy's (same value, shape, dtype) and returns
funcdiff.numpy.Array; (2) traced, every call records an eqn and gives a traced value
(even on constants, so ``.at[]`` works), check_jaxpr passes and eval_jaxpr equals
NumPy; (3) values built from traced inputs (``array([x, 2 * x])``, ``full(n, x)``,
``linspace(a, b)``) differentiate (check_grads, order 2).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.trace import Tracer
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, nep50

VALUES = settings(max_examples=25, deadline=None)
GRADS = settings(max_examples=8, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([None, np.float64, np.float32, np.float16, np.int64, np.int32,
                          np.int8, np.uint8, np.bool_, np.complex128])
seeds = st.integers(0, 2**31 - 1)


#: half and single precision to 1e-3, the rest to 1e-12 (bools and integers exactly)
TOLS = {np.float16: 1e-3, np.float32: 1e-3, DEFAULT: 1e-12}

traced = functools.partial(_helpers.traced, return_jaxpr=True)   # (closed, outputs)
assert_same = functools.partial(_helpers.assert_same, tols=TOLS)


def check(fnp_fn, np_fn, *args, **kwargs):
    """Eager (exact, Array subclass) and traced (recorded, allclose) against NumPy.  The
    traced function takes a dummy input so that a trace is active."""
    want = np_fn(*args, **kwargs)
    eager = fnp_fn(*args, **kwargs)
    assert_same(eager, want, exact=True)
    if isinstance(want, np.ndarray):
        assert isinstance(eager, fnp.Array)
    seen = {}

    def f(dummy):
        out = fnp_fn(*args, **kwargs)
        seen["type"] = type(out)
        return out

    closed, (got,) = traced(f, np.float64(0.0))
    assert seen["type"] is Tracer, "creation functions must record an eqn when traced"
    assert len(closed.jaxpr.eqns) >= 1
    assert_same(got, want)


# --- constants -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["zeros", "ones"])
@VALUES
@given(shape=shapes, dtype=dtypes, as_int=st.booleans())
def test_zeros_ones(name, shape, dtype, as_int):
    shp = shape[0] if (as_int and len(shape) == 1) else shape
    check(getattr(fnp, name), getattr(np, name), shp, dtype=dtype)


@VALUES
@given(shape=shapes, dtype=dtypes)
def test_empty_shape_and_dtype(shape, dtype):
    want = np.empty(shape, dtype=dtype)
    eager = fnp.empty(shape, dtype=dtype)
    assert eager.shape == want.shape and eager.dtype == want.dtype
    _, (got,) = traced(lambda d: fnp.empty(shape, dtype=dtype), np.float64(0.0))
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, np.zeros(shape, dtype))  # zeros when traced


@VALUES
@given(shape=shapes, dtype=dtypes,
       fill=st.sampled_from([0, 3, -2, 2.5, True, np.float32(1.25), np.int8(7), 1 + 2j]))
def test_full(shape, dtype, fill):
    if isinstance(fill, complex) and dtype is not None and np.dtype(dtype).kind != "c":
        return  # NumPy warns/raises on complex -> real
    check(fnp.full, np.full, shape, fill, dtype=dtype)


@VALUES
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple), seed=seeds)
def test_full_with_array_fill(shape, seed):
    fill = np.random.default_rng(seed).normal(size=shape[-1:])
    check(fnp.full, np.full, shape, fill)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "full_like"])
@VALUES
@given(shape=shapes, in_dtype=dtypes, dtype=dtypes, new_shape=st.one_of(st.none(), shapes))
def test_like(name, shape, in_dtype, dtype, new_shape):
    a = np.ones(shape, in_dtype)
    extra = (2.7,) if name == "full_like" else ()
    if name == "full_like" and np.dtype(dtype or a.dtype) == np.bool_:
        extra = (True,)
    check(getattr(fnp, name), getattr(np, name), a, *extra, dtype=dtype, shape=new_shape)


@VALUES
@given(shape=shapes, dtype=dtypes)
def test_empty_like_shape_and_dtype(shape, dtype):
    a = np.ones(shape, np.float32)
    want = np.empty_like(a, dtype=dtype)
    _, (got,) = traced(lambda v: fnp.empty_like(v, dtype=dtype), a)
    assert got.shape == want.shape and got.dtype == want.dtype


def test_like_functions_on_traced_values_and_numpy_dispatch():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for np_fn, args in ((np.zeros_like, ()), (np.ones_like, ()), (np.full_like, (4.5,)),
                        (np.empty_like, ())):
        _, (got,) = traced(lambda v: np_fn(v, *args), x)  # via __array_function__
        assert got.shape == x.shape and got.dtype == x.dtype
        if np_fn is not np.empty_like:
            np.testing.assert_array_equal(got, np_fn(x, *args))


# --- array / asarray ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["array", "asarray", "asanyarray", "copy"])
@VALUES
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_array_of_constants(name, shape, dtype, seed):
    x = np.random.default_rng(seed).normal(size=shape) * 3
    kwargs = {} if name == "copy" else {"dtype": dtype}
    if dtype is not None and np.dtype(dtype).kind in "iub":
        x = np.abs(x)  # float -> unsigned casts of negatives are platform-defined
    check(getattr(fnp, name), getattr(np, name), x, **kwargs)
    check(getattr(fnp, name), getattr(np, name), x.tolist())


@VALUES
@given(shape=shapes, ndmin=st.integers(0, 4))
def test_array_ndmin(shape, ndmin):
    check(fnp.array, np.array, np.ones(shape), ndmin=ndmin)


@VALUES
@given(x_dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]),
       other=st.sampled_from([2.0, 3, True, np.float32(1.5), np.int8(4)]),
       dtype=st.sampled_from([None, np.float64, np.float32]), seed=seeds)
def test_array_of_mixed_list(x_dtype, other, dtype, seed):
    """Lists mixing traced values and numbers follow NumPy's sequence conversion."""
    x = np.asarray(np.random.default_rng(seed).integers(0, 3)).astype(x_dtype)

    def build(v):
        return [[v, other], [other, v]]

    want = np.array(build(x), dtype=dtype)
    _, (got,) = traced(lambda v: fnp.array(build(v), dtype=dtype), x)
    assert_same(got, want)
    _, (got,) = traced(lambda v: fnp.asarray((v, v, other)), x)
    assert_same(got, np.asarray((x, x, other)))


@VALUES
@given(shape=st.lists(st.integers(0, 3), max_size=2).map(tuple), seed=seeds)
def test_array_stacks_traced_arrays(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    _, (got,) = traced(lambda v: fnp.array([v, v * 2.0, np.zeros(shape, np.float32)]), x)
    with nep50():   # a float32 scalar times 2.0 is float32 in NumPy 2 (and traced)
        want = np.array([x, x * 2.0, np.zeros(shape, np.float32)])
    assert_same(got, want)


def test_array_on_tracer_returns_it():
    seen = {}

    def f(v):
        seen["same"] = fnp.asarray(v) is v and fnp.array(v) is v
        seen["cast"] = fnp.asarray(v, dtype=np.float32).dtype
        return v

    traced(f, np.ones(3))
    assert seen == {"same": True, "cast": np.float32}


def test_array_of_ragged_traced_list_is_an_error():
    with pytest.raises(ValueError, match="inhomogeneous"):
        traced(lambda v: fnp.array([v, np.ones(2)]), np.ones(3))


def test_creation_results_support_at_under_transforms():
    def f(v):
        z = fnp.zeros(4).at[1].set(v).at[2].add(2 * v)
        o = fnp.array([1.0, 2.0, 3.0]).at[0].multiply(v)
        return z.sum() + o.sum()

    np.testing.assert_allclose(fd.grad(f)(1.5), 3.0 + 1.0)
    check_grads(f, (1.5,), order=2)


def test_eager_results_are_arrays_with_at():
    z = fnp.zeros(3)
    assert isinstance(z, fnp.Array) and isinstance(z, np.ndarray)
    np.testing.assert_array_equal(z.at[1].set(2.0), [0.0, 2.0, 0.0])


# --- ranges ------------------------------------------------------------------------------------------

@VALUES
@given(start=st.integers(-5, 5), stop=st.one_of(st.none(), st.integers(-5, 10)),
       step=st.sampled_from([None, 1, 2, -1, 3]),
       dtype=st.sampled_from([None, np.float32, np.float64, np.int32, np.int64]))
def test_arange_int_bounds(start, stop, step, dtype):
    if stop is None:
        if step is not None:
            return
        check(fnp.arange, np.arange, start, dtype=dtype)
    else:
        check(fnp.arange, np.arange, start, stop, step, dtype=dtype)


@VALUES
@given(start=st.floats(-5, 5), length=st.floats(0, 6), step=st.sampled_from([0.5, 0.3, 1.0,
                                                                             2.5]),
       dtype=st.sampled_from([None, np.float32]))
def test_arange_float_bounds(start, length, step, dtype):
    check(fnp.arange, np.arange, start, start + length, step, dtype=dtype)
    check(fnp.arange, np.arange, np.float32(start), np.float32(start + length), step)


def test_arange_with_traced_start_is_differentiable():
    f = lambda s: fnp.arange(s, s + 3.0, 0.5)  # noqa: E731
    np.testing.assert_allclose(f(1.0), np.arange(1.0, 4.0, 0.5))
    out, t = fd.jvp(f, (1.0,), (1.0,))
    np.testing.assert_allclose(out, np.arange(1.0, 4.0, 0.5))
    np.testing.assert_allclose(t, np.ones(6))


def test_arange_with_unknown_bounds_is_a_concretization_error():
    with pytest.raises(fd.ConcretizationError):
        fd.make_jaxpr(lambda n: fnp.arange(n))(3)


@VALUES
@given(start=st.floats(-10, 10), stop=st.floats(-10, 10), num=st.integers(0, 12),
       endpoint=st.booleans(), retstep=st.booleans(),
       dtype=st.sampled_from([None, np.float32, np.float64, np.int64]))
def test_linspace_scalar(start, stop, num, endpoint, retstep, dtype):
    want = np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype)
    eager = fnp.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype)
    if retstep:
        assert_same(eager[0], want[0], exact=True)
        _, (got, step) = traced(lambda d: fnp.linspace(start, stop, num, endpoint=endpoint,
                                                       retstep=True, dtype=dtype),
                                np.float64(0))
        assert_same(got, want[0])
        np.testing.assert_allclose(step, want[1], equal_nan=True)
    else:
        check(fnp.linspace, np.linspace, start, stop, num, endpoint=endpoint, dtype=dtype)


@VALUES
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
       num=st.integers(1, 6), endpoint=st.booleans(), seed=seeds, data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32]))
def test_linspace_traced_array_bounds(shape, num, endpoint, seed, data, dtype):
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=shape) * 4).astype(dtype)
    b = (rng.normal(size=shape[-1:]) * 4).astype(dtype)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    want = np.linspace(a, b, num, endpoint=endpoint, axis=axis)
    assert_same(fnp.linspace(a, b, num, endpoint=endpoint, axis=axis), want, exact=True)
    _, (got,) = traced(lambda u, v: fnp.linspace(u, v, num, endpoint=endpoint, axis=axis),
                       a, b)
    assert_same(got, want)


@GRADS
@given(num=st.integers(1, 6), endpoint=st.booleans(), seed=seeds)
def test_linspace_grads(num, endpoint, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2,)), rng.normal(size=(2,))
    check_grads(lambda u, v: fnp.linspace(u, v, num, endpoint=endpoint, axis=1), (a, b),
                order=2)


# --- eye, identity, tri --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["eye", "tri"])
@VALUES
@given(n=st.integers(0, 5), m=st.one_of(st.none(), st.integers(0, 5)), k=st.integers(-3, 3),
       dtype=st.sampled_from([float, np.float32, np.int32, np.bool_, np.complex128]))
def test_eye_tri(name, n, m, k, dtype):
    check(getattr(fnp, name), getattr(np, name), n, m, k, dtype=dtype)


@VALUES
@given(n=st.integers(0, 5), dtype=st.sampled_from([None, np.float32, np.int64]))
def test_identity(n, dtype):
    check(fnp.identity, np.identity, n, dtype=dtype)


# --- derivatives through values built from traced inputs ---------------------------------------------

@GRADS
@given(shape=st.lists(st.integers(1, 3), max_size=2).map(tuple), seed=seeds)
def test_array_and_full_grads(shape, seed):
    x = np.random.default_rng(seed).normal(size=shape)
    check_grads(lambda v: fnp.array([v, 2.0 * v, np.ones(shape)]), (x,), order=2)
    check_grads(lambda v: fnp.asarray([[v * v, v], [1.0, v]]) if not shape else
                fnp.asarray([v * v, v]), (x,), order=2)
    check_grads(lambda v: fnp.full((2,) + shape, v), (x,), order=2)
    check_grads(lambda v: fnp.full_like(np.ones((3,) + shape, np.int32), v, dtype=float),
                (x,), order=2)
    check_grads(lambda v: fnp.copy(v) * fnp.array(v), (x,), order=2)


def test_float32_stays_float32():
    x = np.float32(1.5)
    g = fd.grad(lambda v: fnp.array([v, 2 * v]).sum())(x)
    assert g.dtype == np.float32 and g == 3.0
    g = fd.grad(lambda v: fnp.linspace(0.0, v, 5).sum())(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.linspace(0, 1, 5).sum())
