"""funcdiff.numpy reductions and cumulative ops, and NumPy's ufunc reduce/accumulate
dispatched on traced values.

For each function, over hypothesis-chosen shapes (0-d and size-0 included), dtypes and
axis/keepdims/ddof/dtype/where/initial arguments: (1) eagerly the value is NumPy's
exactly (value, shape, dtype); (2) traced with make_jaxpr, checked with check_jaxpr
and run with eval_jaxpr it matches NumPy (allclose, same shape and dtype), and where
NumPy raises, the traced call raises the same kind of error; (3) derivatives (order 2,
forward and reverse) match finite differences in float64.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffTypeError
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, traced

VALUES = settings(max_examples=25, deadline=None)
GRADS = settings(max_examples=8, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
all_dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int32,
                              np.int8, np.uint8, np.bool_, np.complex128])
seeds = st.integers(0, 2**31 - 1)


def make(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        return rng.integers(0, 4, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


@st.composite
def axis_for(draw, ndim, allow_tuple=True):
    """None, an int (possibly negative) or a tuple of distinct axes, valid for ndim."""
    kinds = ["none"] + (["int", "tuple"] if ndim else [])
    kind = draw(st.sampled_from(kinds if allow_tuple else kinds[:2]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


#: half precision to 2e-2, single to 1e-4, the rest to 1e-10 (bools and integers exactly)
TOLS = {np.float16: 2e-2, np.float32: 1e-4, np.complex64: 1e-4, DEFAULT: 1e-10}

assert_same = functools.partial(_helpers.assert_same, tols=TOLS)


def check_against_numpy(fnp_call, np_call, x):
    """Eager equality, then traced equality (or the same kind of error)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = np_call(x)
        except (ValueError, TypeError) as e:
            kind = ValueError if isinstance(e, ValueError) else TypeError
            with pytest.raises(kind):
                fnp_call(x)
            with pytest.raises(kind):
                traced(fnp_call, x)
            return
        assert_same(fnp_call(x), want, exact=True)
        (got,) = traced(fnp_call, x)
        assert_same(got, want)


# --- values: the reductions with axis / keepdims -----------------------------------------------

REDUCTIONS = ["sum", "prod", "mean", "max", "min", "amax", "amin", "all", "any", "nansum",
              "nanmean", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds, keepdims=st.booleans())
def test_reduction_values(name, data, shape, dtype, seed, keepdims):
    if name in ("nanmean", "var", "std", "mean") and np.dtype(dtype) == np.float16:
        dtype = np.float32  # float16 accumulation order differs too much to compare
    x = make(seed, shape, dtype)
    if name.startswith("nan") and x.dtype.kind == "f" and x.size:
        x.flat[0] = np.nan
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, keepdims=keepdims),
                        lambda v: getattr(np, name)(v, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "var", "std", "all",
                                  "any", "cumsum", "cumprod", "argmax", "argmin"])
@VALUES
@given(shape=shapes, dtype=all_dtypes, seed=seeds)
def test_reduction_numpy_dispatch(name, shape, dtype, seed):
    """``np.sum(tracer)`` and ``tracer.sum()`` run funcdiff's function."""
    x = make(seed, shape, dtype)
    check_against_numpy(lambda v: getattr(np, name)(v), lambda v: getattr(np, name)(v), x)
    if name not in ("amax", "amin"):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                want = getattr(x, name)()
            except ValueError:
                return
            (got,) = traced(lambda v: getattr(v, name)(), x)
            assert_same(got, want)


@pytest.mark.parametrize("name", ["sum", "prod", "mean"])
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds,
       out_dtype=st.sampled_from([np.float32, np.float64, np.int64, np.complex128]))
def test_dtype_argument(name, data, shape, dtype, seed, out_dtype):
    x = make(seed, shape, dtype)
    if x.dtype.kind == "c" and np.dtype(out_dtype).kind != "c":
        return  # NumPy refuses complex -> real here (ComplexWarning / TypeError)
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, dtype=out_dtype),
                        lambda v: getattr(np, name)(v, axis=axis, dtype=out_dtype), x)


@pytest.mark.parametrize("name", ["var", "std"])
@VALUES
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(
    [np.float64, np.float32, np.int32, np.bool_, np.complex128]), seed=seeds,
    ddof=st.integers(0, 2), keepdims=st.booleans())
def test_var_std_ddof(name, data, shape, dtype, seed, ddof, keepdims):
    x = make(seed, shape, dtype)
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(
        lambda v: getattr(fnp, name)(v, axis=axis, ddof=ddof, keepdims=keepdims),
        lambda v: getattr(np, name)(v, axis=axis, ddof=ddof, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "all", "any",
                                  "nansum"])
@VALUES
@given(data=st.data(), shape=nonempty_shapes, seed=seeds)
def test_where_mask(name, data, shape, seed):
    x = make(seed, shape, np.float64)
    mask = np.random.default_rng(seed + 7).integers(0, 2, size=shape[-1:]).astype(bool)
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, where=mask),
                        lambda v: getattr(np, name)(v, axis=axis, where=mask), x)


@pytest.mark.parametrize("name", ["max", "min"])
@VALUES
@given(data=st.data(), shape=shapes, dtype=st.sampled_from([np.float64, np.int32]),
       seed=seeds, initial=st.sampled_from([-1.5, 0.0, 2.0]), masked=st.booleans())
def test_max_min_initial_where(name, data, shape, dtype, seed, initial, masked):
    x = make(seed, shape, dtype)
    mask = np.random.default_rng(seed).integers(0, 2, size=shape).astype(bool)
    kw = dict(initial=initial)
    if masked:
        kw["where"] = mask
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, **kw),
                        lambda v: getattr(np, name)(v, axis=axis, **kw), x)


@VALUES
@given(data=st.data(), shape=shapes, dtype=st.sampled_from([np.float32, np.int8, np.bool_]),
       seed=seeds, initial=st.sampled_from([0, 2, -3]))
def test_sum_initial(data, shape, dtype, seed, initial):
    x = make(seed, shape, dtype)
    axis = data.draw(axis_for(len(shape)))
    check_against_numpy(lambda v: fnp.sum(v, axis=axis, initial=initial),
                        lambda v: np.sum(v, axis=axis, initial=initial), x)


def test_where_without_initial_is_an_error():
    x = np.arange(3.0)
    with pytest.raises(ValueError, match="initial"):
        traced(lambda v: fnp.max(v, where=np.array([True, False, True])), x)


def test_non_boolean_where_is_a_clear_type_error():
    with pytest.raises(FuncdiffTypeError, match="boolean"):
        traced(lambda v: fnp.sum(v, where=np.array([1, 0, 1])), np.arange(3.0))


def test_out_is_rejected_on_traced_values():
    with pytest.raises(FuncdiffTypeError, match="out="):
        traced(lambda v: fnp.sum(v, out=np.zeros(())), np.arange(3.0))


def test_mean_axis_of_0d_is_an_axis_error_as_in_numpy():
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions")
                       else np.AxisError):
        traced(lambda v: fnp.mean(v, axis=0), np.float64(2.0))


def test_python_scalar_reductions_are_strong():
    (got,) = traced(lambda v: fnp.sum(2.0) + v, np.float32(1.0))
    assert np.asarray(got).dtype == np.float64  # np.sum(2.0) is a float64, not weak
    (got,) = traced(lambda v: fnp.max(v * 2.0), np.ones(3, np.float32))
    assert np.asarray(got).dtype == np.float32


# --- argmax / argmin, cumsum / cumprod -----------------------------------------------------------

@pytest.mark.parametrize("name", ["argmax", "argmin"])
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds, keepdims=st.booleans())
def test_arg_reductions(name, data, shape, dtype, seed, keepdims):
    if np.dtype(dtype).kind == "c":
        dtype = np.float64
    x = make(seed, shape, dtype)
    axis = data.draw(axis_for(len(shape), allow_tuple=False))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, keepdims=keepdims),
                        lambda v: getattr(np, name)(v, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds,
       out_dtype=st.sampled_from([None, np.float64, np.int64]))
def test_cumulative(name, data, shape, dtype, seed, out_dtype):
    x = make(seed, shape, dtype)
    if x.dtype.kind == "c" and out_dtype is not None:
        out_dtype = None
    axis = data.draw(axis_for(len(shape), allow_tuple=False))
    check_against_numpy(lambda v: getattr(fnp, name)(v, axis=axis, dtype=out_dtype),
                        lambda v: getattr(np, name)(v, axis=axis, dtype=out_dtype), x)


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="NumPy < 2.1")
@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
@VALUES
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=1).map(tuple),
       dtype=all_dtypes, seed=seeds, include=st.booleans())
def test_cumulative_include_initial(name, shape, dtype, seed, include):
    x = make(seed, shape, dtype)
    check_against_numpy(lambda v: getattr(fnp, name)(v, include_initial=include),
                        lambda v: getattr(np, name)(v, include_initial=include), x)


# --- ufunc methods through NumPy's __array_ufunc__ ------------------------------------------------

@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.maximum, np.minimum])
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds, keepdims=st.booleans())
def test_ufunc_reduce(ufunc, data, shape, dtype, seed, keepdims):
    x = make(seed, shape, dtype)
    default = data.draw(st.booleans())
    if default:  # axis defaults to 0 for ufunc.reduce
        check_against_numpy(lambda v: ufunc.reduce(v, keepdims=keepdims),
                            lambda v: ufunc.reduce(v, keepdims=keepdims), x)
    else:
        axis = data.draw(axis_for(len(shape)))
        check_against_numpy(lambda v: ufunc.reduce(v, axis=axis, keepdims=keepdims),
                            lambda v: ufunc.reduce(v, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("ufunc", [np.add, np.multiply])
@VALUES
@given(data=st.data(), shape=shapes, dtype=all_dtypes, seed=seeds)
def test_ufunc_accumulate(ufunc, data, shape, dtype, seed):
    x = make(seed, shape, dtype)
    if len(shape) and data.draw(st.booleans()):
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        check_against_numpy(lambda v: ufunc.accumulate(v, axis=axis),
                            lambda v: ufunc.accumulate(v, axis=axis), x)
    else:
        check_against_numpy(lambda v: ufunc.accumulate(v), lambda v: ufunc.accumulate(v), x)


# --- derivatives -----------------------------------------------------------------------------------

GRAD_CASES = {
    "sum": lambda x, axis, kd: fnp.sum(x, axis=axis, keepdims=kd),
    "prod": lambda x, axis, kd: fnp.prod(x, axis=axis, keepdims=kd),
    "mean": lambda x, axis, kd: fnp.mean(x, axis=axis, keepdims=kd),
    "max": lambda x, axis, kd: fnp.max(x, axis=axis, keepdims=kd),
    "min": lambda x, axis, kd: np.min(x, axis=axis, keepdims=kd),
    "var": lambda x, axis, kd: fnp.var(x, axis=axis, keepdims=kd),
    "var_ddof1": lambda x, axis, kd: fnp.var(x, axis=axis, ddof=1, keepdims=kd),
    "std": lambda x, axis, kd: fnp.std(x, axis=axis, keepdims=kd),
    "nansum": lambda x, axis, kd: fnp.nansum(x, axis=axis, keepdims=kd),
    "nanmean": lambda x, axis, kd: fnp.nanmean(x, axis=axis, keepdims=kd),
    "sum_where": lambda x, axis, kd: fnp.sum(x, axis=axis, keepdims=kd,
                                             where=np.arange(x.shape[-1]) % 2 == 0
                                             if x.ndim else True),
    "max_initial": lambda x, axis, kd: fnp.max(x, axis=axis, keepdims=kd, initial=-0.5),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
@GRADS
@given(data=st.data(), shape=nonempty_shapes, seed=seeds, keepdims=st.booleans())
def test_reduction_grads(name, data, shape, seed, keepdims):
    x = make(seed, shape, np.float64)
    axis = data.draw(axis_for(len(shape)))
    if name == "var_ddof1":
        n = int(np.prod([shape[a] for a in np.atleast_1d(
            range(len(shape)) if axis is None else axis)], dtype=np.int64)) if shape else 1
        assume(n > 1)
    if name == "std":
        assume(x.size > 1)  # std of one element is the non-differentiable point 0
        axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
        assume(all(shape[a] > 1 for a in axes))
    f = GRAD_CASES[name]
    check_grads(lambda v: f(v, axis, keepdims), (x,), order=2)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@GRADS
@given(data=st.data(), shape=nonempty_shapes, seed=seeds)
def test_cumulative_grads(name, data, shape, seed):
    x = make(seed, shape, np.float64)
    if shape and x.size > 1:
        x.flat[1] = 0.0  # cumprod's derivative is exact at zeros
    axis = data.draw(axis_for(len(shape), allow_tuple=False))
    check_grads(lambda v: getattr(fnp, name)(v, axis=axis), (x,), order=2)


@pytest.mark.parametrize("ufunc,method", [(np.add, "reduce"), (np.multiply, "reduce"),
                                          (np.maximum, "reduce"), (np.minimum, "reduce"),
                                          (np.add, "accumulate"),
                                          (np.multiply, "accumulate")])
@GRADS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=seeds)
def test_ufunc_method_grads(ufunc, method, shape, seed):
    x = make(seed, shape, np.float64)
    check_grads(lambda v: getattr(ufunc, method)(v), (x,), order=2)


def test_prod_grad_exact_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])
    g = fd.grad(lambda v: fnp.prod(v, axis=1).sum())(x)
    np.testing.assert_allclose(g, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    check_grads(lambda v: fnp.prod(v, axis=1), (x,), order=2)


def test_max_ties_split_evenly():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_allclose(fd.grad(fnp.max)(x), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(fd.grad(lambda v: np.min(v))(-x), [0.0, 0.5, 0.5, 0.0])


def test_std_at_constant_input_has_zero_gradient():
    """Documented choice: derivative 0 (not JAX's NaN) where the variance is exactly 0;
    the Hessian there is finite too."""
    x = np.full((3,), 2.0)
    np.testing.assert_array_equal(fd.grad(fnp.std)(x), np.zeros(3))
    assert np.all(np.isfinite(fd.hessian(fnp.std)(x)))
    g = fd.grad(lambda v: fnp.std(v, axis=1).sum())(np.array([[1.0, 1.0], [0.0, 2.0]]))
    np.testing.assert_allclose(g, [[0.0, 0.0], [-0.5, 0.5]])


def test_grad_dtypes_follow_the_input():
    x = np.arange(1.0, 5.0, dtype=np.float32)
    for f in (fnp.sum, fnp.mean, fnp.var, fnp.std, fnp.prod, fnp.max):
        g = fd.grad(f)(x)
        assert g.dtype == np.float32, f
    g = fd.grad(lambda v: fnp.mean(v.astype(np.float16)).astype(np.float32))(x)
    assert g.dtype == np.float32


def test_reductions_of_lists_mixing_traced_values_and_numbers():
    """``fnp.mean([a, b])`` stacks its list (API.md): derivatives reach each element."""
    f = lambda a, b: fnp.mean([a, 2.0 * b, 3.0])  # noqa: E731
    np.testing.assert_allclose(f(1.0, 2.0), np.mean([1.0, 4.0, 3.0]))
    ga, gb = fd.grad(f, argnums=(0, 1))(1.0, 2.0)
    np.testing.assert_allclose([ga, gb], [1 / 3, 2 / 3])
    check_grads(lambda a, b: fnp.std([a, b, a * b]), (1.5, -0.5), order=2)
    (got,) = traced(lambda v: fnp.max([v, v + 1.0, np.zeros(3)], axis=0), np.arange(3.0) - 1)
    assert_same(got, np.max([np.arange(3.0) - 1, np.arange(3.0), np.zeros(3)], axis=0))
