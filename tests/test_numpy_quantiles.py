"""Order statistics: ``median percentile quantile`` and ``nanmedian nanpercentile
nanquantile``, every NumPy ``method=``, ``axis`` (int, tuple, None), ``keepdims``,
``weights=`` and traced ``q``.

Values must be NumPy's bit for bit (dtype and shape included) in float64, float32, ints
and float16, with and without NaNs; derivatives (in the data and in ``q``) must pass
jvp/vjp checks against finite differences at tie-free points; vmap equals a loop and jit
the interpreter.  The derivative conventions at ties and for the interpolation weights
are docs/subgradients.md rows (tests/test_subgradients.py); here they are checked
against closed forms.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import FuncdiffError
from funcdiff.numpy._quantiles import METHODS

from _helpers import nep50
from _numpy_checks import NUMPY2
from _sortcheck import Case, run_case, same

FEW = settings(max_examples=12, deadline=None)
SOME = settings(max_examples=30, deadline=None)
DISCRETE = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")


def distinct(rng, shape, dtype=np.float64):
    n = int(np.prod(shape))
    v = rng.permutation(n).astype(np.float64) * 0.7 + rng.uniform(0.05, 0.2, n)
    return v.reshape(shape).astype(dtype)


def _quiet(f, *a, **kw):
    """``f(*a, **kw)`` quietly, with NumPy 2's promotion on NumPy 1.x too (funcdiff's)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), nep50():
        warnings.simplefilter("ignore")
        return f(*a, **kw)


#: Where NumPy 1.x's own quantile differs from NumPy 2's (funcdiff computes NumPy 2's on
#: both): 1.x has no ``weights=``, its ``closest_observation`` rounds ties of the
#: virtual index the other way (fixed in NumPy 2.0), and it interpolates float16/float32
#: data in float64 (NumPy 2: in the data's type, and returns it).
NUMPY1_DIFFERS = "NumPy 1.x's quantile differs here from NumPy 2's, which funcdiff follows"


def same_as_numpy2(got, want, data_dtype):
    """``same``, except on NumPy 1.x for float16/float32 data: NumPy 2's dtype, values to
    the data type's precision (NumPy 1.x worked in float64)."""
    if NUMPY2 or np.dtype(data_dtype).kind != "f" or np.dtype(data_dtype).itemsize > 4:
        return same(got, want)
    got, want = np.asarray(got), np.asarray(want)
    tol = 2e-3 if np.dtype(data_dtype) == np.float16 else 2e-6
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                               rtol=tol, atol=tol, equal_nan=True)
    assert got.shape == want.shape


def _axis(draw, ndim):
    opts = [None] + list(range(-ndim, ndim))
    if ndim > 1:
        opts.append(tuple(range(ndim))[::-1][:2])
    return draw(st.sampled_from(opts))


# --- values ----------------------------------------------------------------------------------

Q_KINDS = {
    "float": 0.37, "zero": 0.0, "one": 1.0, "half": 0.5, "int": 1,
    "array": np.array([0.1, 0.5, 0.93]), "array0d": np.array(0.25),
    "f32array": np.array([0.3, 0.7], np.float32), "grid": np.linspace(0, 1, 11),
}


@pytest.mark.parametrize("method", METHODS)
@SOME
@given(data=st.data(), seed=st.integers(0, 2**31 - 1),
       shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float64, np.float32, np.int64, np.float16]),
       q=st.sampled_from(sorted(Q_KINDS)), keepdims=st.booleans(),
       fn=st.sampled_from(["quantile", "percentile", "nanquantile", "nanpercentile"]))
def test_quantile_values_equal_numpy(method, data, seed, shape, dtype, q, keepdims, fn):
    if method == "closest_observation" and not NUMPY2:
        pytest.skip(NUMPY1_DIFFERS)
    rng = np.random.default_rng(seed)
    x = (rng.integers(-4, 5, shape) if dtype == np.int64 else
         rng.standard_normal(shape) * 3).astype(dtype)
    if rng.random() < 0.5:
        x = np.round(x)                                  # ties
    q = Q_KINDS[q]
    if fn == "quantile" and np.asarray(q).dtype.kind == "i" and method != "linear":
        q = float(q)
    if fn.endswith("percentile"):
        q = q * 100
    axis = _axis(data.draw, len(shape))
    f = getattr(np, fn)
    try:
        want = _quiet(f, x, q, axis=axis, method=method, keepdims=keepdims)
    except ValueError:
        if NUMPY2:
            raise
        return    # NumPy 1.x's weibull at q = 1 can index past the end ("kth out of bounds")
    got = _quiet(fd.jit(lambda v: f(v, q, axis=axis, method=method, keepdims=keepdims)), x)
    same_as_numpy2(got, want, dtype)


@pytest.mark.parametrize("method", METHODS)
@FEW
@given(seed=st.integers(0, 2**31 - 1), data=st.data(),
       shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float64, np.float32]), keepdims=st.booleans())
def test_nan_slices(method, seed, data, shape, dtype, keepdims):
    """A NaN makes quantile's slice NaN; nanquantile drops NaNs (all-NaN slices: NaN)."""
    if method == "closest_observation" and not NUMPY2:
        pytest.skip(NUMPY1_DIFFERS)
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x[rng.random(shape) < 0.3] = np.nan
    if len(shape) > 1:
        x[0] = np.nan
    axis = _axis(data.draw, len(shape))
    q = data.draw(st.sampled_from([0.4, np.array([0.0, 0.6, 1.0])]))
    for f in (np.quantile, np.nanquantile):
        if isinstance(q, np.ndarray) and dtype == np.float32:
            continue    # NumPy's dtype then depends on the values (docs/sharp-edges.md)
        want = _quiet(f, x, q, axis=axis, method=method, keepdims=keepdims)
        got = _quiet(fd.jit(lambda v: f(v, q, axis=axis, method=method,
                                         keepdims=keepdims)), x)
        same_as_numpy2(got, want, dtype)


@SOME
@given(seed=st.integers(0, 2**31 - 1), data=st.data(),
       shape=st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float64, np.float32, np.int32, np.float16, np.bool_]),
       keepdims=st.booleans(), nans=st.booleans())
def test_median_values_equal_numpy(seed, data, shape, dtype, keepdims, nans):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * 3).astype(dtype)
    if nans and x.dtype.kind == "f" and x.size:
        x[rng.random(shape) < 0.4] = np.nan
    axis = _axis(data.draw, len(shape))
    for f in (np.median, np.nanmedian):
        if dtype == np.float16 and f is np.nanmedian:
            continue    # NumPy's masked median sums float16 pairs differently
        try:
            want = _quiet(f, x, axis=axis, keepdims=keepdims)
        except (ValueError, IndexError):
            continue
        got = _quiet(fd.jit(lambda v: f(v, axis=axis, keepdims=keepdims)), x)
        same(got, want)


WEIGHT_AXES = [None, 0, 1, -1, (0, 1)]


@pytest.mark.parametrize("axis", WEIGHT_AXES, ids=str)
@FEW
@given(seed=st.integers(0, 2**31 - 1), q=st.sampled_from([0.0, 0.3, 1.0,
                                                          np.array([0.2, 0.5, 0.99])]),
       zeros=st.booleans(), nan=st.booleans(), one_d=st.booleans())
def test_weighted_inverted_cdf(axis, seed, q, zeros, nan, one_d):
    if not NUMPY2:
        pytest.skip(NUMPY1_DIFFERS)
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((4, 5)) * 2)
    w = rng.uniform(0.1, 2.0, (4, 5))
    if zeros:
        w[:, :2] = 0.0                              # leading zero weights
    if nan:
        x[1, 1] = np.nan
    if one_d and isinstance(axis, int):
        w = w[0] if axis in (1, -1) else w[:, 0]
    for f in (np.quantile, np.nanquantile, np.percentile):
        qq = q * 100 if f is np.percentile else q
        try:
            want = _quiet(f, x, qq, axis=axis, method="inverted_cdf", weights=w)
        except (ValueError, IndexError):   # (NumPy's nanquantile fails on 1-D weights)
            continue
        got = fd.jit(lambda v, w: f(v, qq, axis=axis, method="inverted_cdf",
                                     weights=w))(x, w)
        same(got, want)


# --- the table (jit, vmap, derivatives) ------------------------------------------------------

def _x(shape):
    return lambda rng, dt: (distinct(rng, shape, dt),)


CASES = {
    "median": Case(lambda x: np.median(x), _x((7,))),
    "median_even_axis": Case(lambda x: np.median(x, axis=1, keepdims=True), _x((3, 4))),
    "median_axes": Case(lambda x: np.median(x, axis=(0, 2)), _x((2, 3, 2))),
    "nanmedian": Case(lambda x: np.nanmedian(x, axis=0), _x((5, 3))),
    "quantile": Case(lambda x: np.quantile(x, 0.3), _x((9,))),
    "quantile_array_axis": Case(lambda x: np.quantile(x, np.array([0.25, 0.8]), axis=0),
                                _x((5, 3))),
    "percentile_keepdims": Case(lambda x: np.percentile(x, 40.0, axis=-1, keepdims=True),
                                _x((2, 6))),
    "nanquantile": Case(lambda x: np.nanquantile(x, [0.1, 0.9], axis=1), _x((3, 5))),
    "nanpercentile": Case(lambda x: np.nanpercentile(x, 65.0), _x((4, 2))),
    "quantile_in_q": Case(lambda x, q: np.quantile(x, q),
                          lambda rng, dt: (distinct(rng, (6,), dt),
                                           np.array([0.13, 0.58], dt)), diff=(0, 1),
                          order=1),
    "quantile_hazen_in_q": Case(lambda x, q: np.quantile(x, q, axis=0, method="hazen"),
                                lambda rng, dt: (distinct(rng, (6, 2), dt),
                                                 np.array(0.44, dt)), diff=(0, 1),
                                order=1),
    "nanquantile_in_q": Case(lambda x, q: np.nanquantile(x, q, axis=1),
                             lambda rng, dt: (distinct(rng, (2, 7), dt),
                                              np.array([0.31, 0.77], dt)), diff=(0, 1),
                             order=1),
    "quantile_weighted": Case(
        lambda x, w: np.quantile(x, 0.4, axis=1, method="inverted_cdf", weights=w),
        lambda rng, dt: (distinct(rng, (3, 5), dt), rng.uniform(0.5, 1.5, (3, 5)).astype(dt)),
        diff=(0,)),
}
for _m in METHODS:
    CASES[f"method_{_m}"] = Case(
        lambda x, _m=_m: np.quantile(x, np.array([0.07, 0.5, 0.91]), axis=0, method=_m),
        _x((7, 2)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, dtype):
    if not NUMPY2 and (dtype == np.float32 and name != "median" and "median" not in name
                       or name in ("quantile_weighted", "method_closest_observation")):
        pytest.skip(NUMPY1_DIFFERS)
    run_case(CASES[name], np.random.default_rng(1), dtype)


# --- derivatives: closed forms ---------------------------------------------------------------

def test_linear_interpolation_weights():
    """d quantile / d x: (1 - g) to the lower and g to the upper order statistic."""
    x = np.array([3.0, 0.0, 2.0, 1.0])           # sorted: x1 x3 x2 x0
    g = fd.grad(lambda v: np.quantile(v, 0.25))(x)   # v = 0.75: 0.25 s0 + 0.75 s1
    np.testing.assert_allclose(g, [0.0, 0.25, 0.0, 0.75])
    g = fd.grad(lambda v: np.percentile(v, 90.0))(x)  # v = 2.7: 0.3 s2 + 0.7 s3
    np.testing.assert_allclose(g, [0.7, 0.0, 0.3, 0.0])


def test_derivative_in_q_is_the_slope():
    x = np.array([3.0, 0.0, 2.0, 1.0])
    for q in (0.1, 0.5, 0.8):
        np.testing.assert_allclose(fd.grad(lambda q: np.quantile(x, q))(q), 3.0)
    # discrete methods are piecewise constant in q
    assert fd.grad(lambda q: np.quantile(x, q, method="lower"))(0.4) == 0.0


def test_median_derivative_even_and_odd():
    np.testing.assert_allclose(fd.grad(np.median)(np.array([4.0, 1.0, 3.0, 2.0])),
                               [0.0, 0.0, 0.5, 0.5])
    np.testing.assert_allclose(fd.grad(np.median)(np.array([4.0, 1.0, 3.0])), [0, 0, 1.0])


def test_nanmedian_and_nanquantile_give_zero_derivative_at_nans():
    x = np.array([[4.0, np.nan, 3.0, 2.0], [np.nan, np.nan, 1.0, 5.0]])
    g = fd.grad(lambda v: np.sum(np.nanmedian(v, axis=1)))(x)
    np.testing.assert_allclose(g, [[0, 0, 1, 0], [0, 0, 0.5, 0.5]])
    g = fd.grad(lambda v: np.sum(np.nanquantile(v, 0.5, axis=1)))(x)
    np.testing.assert_allclose(g, [[0, 0, 1, 0], [0, 0, 0.5, 0.5]])
    assert np.all(np.isfinite(fd.grad(lambda v: np.sum(np.nanpercentile(v, 30.0)))(x)))


@pytest.mark.skipif(not NUMPY2, reason="NumPy 1.x has no weights= (its finite "
                    "differences cannot run)")
def test_weights_have_zero_derivative():
    x, w = np.array([3.0, 0.0, 2.0, 1.0]), np.array([1.0, 2.0, 1.0, 1.0])
    gx, gw = fd.grad(lambda x, w: np.quantile(x, 0.5, method="inverted_cdf", weights=w),
                     argnums=(0, 1))(x, w)
    np.testing.assert_array_equal(gw, 0.0)
    np.testing.assert_array_equal(gx, [0, 0, 0, 1.0])


def test_traced_q_under_vmap_and_jit():
    x = np.array([3.0, 0.0, 2.0, 1.0, 7.0])
    qs = np.array([0.0, 0.2, 0.55, 1.0])
    for m in METHODS:
        same(fd.vmap(lambda q: np.quantile(x, q, method=m))(qs),
             np.quantile(x, qs, method=m))
        same(fd.jit(lambda q: np.percentile(x, q, method=m))(qs * 100),
             np.percentile(x, qs * 100, method=m))


# --- errors ----------------------------------------------------------------------------------

# quantile with weights=: NumPy 1.x's has no such keyword (not even to dispatch on)
_WQ = np.quantile if NUMPY2 else fnp.quantile

ERRORS = {
    "method": (lambda x: np.quantile(x, 0.5, method="bogus"), ValueError, "not a valid"),
    "q range": (lambda x: np.quantile(x, 1.5), ValueError, r"\[0, 1\]"),
    "percentile range": (lambda x: np.percentile(x, -1.0), ValueError, r"\[0, 100\]"),
    "q ndim": (lambda x: np.quantile(x, np.full((1, 1, 2), 0.5)), ValueError, "1d"),
    "complex": (lambda x: np.quantile(x + 1j, 0.5), TypeError, "real"),
    "weights method": (lambda x: _WQ(x, 0.5, weights=x), ValueError, "inverted_cdf"),
    "weights no axis": (lambda x: _WQ(x, 0.5, method="inverted_cdf",
                                              weights=x[:2]), TypeError, "Axis"),
    "weights shape": (lambda x: _WQ(x, 0.5, axis=0, method="inverted_cdf",
                                            weights=x[:2]), ValueError, "consistent"),
    "weights negative": (lambda x: _WQ(x, 0.5, method="inverted_cdf",
                                               weights=-np.ones(3)), ValueError,
                         "non-negative"),
    "weights zero": (lambda x: _WQ(x, 0.5, method="inverted_cdf",
                                           weights=np.zeros(3)), ValueError, "all zero"),
    "empty": (lambda x: np.quantile(x[:0], 0.5), IndexError, "out of bounds"),
    "out": (lambda x: fnp.median(x, out=np.zeros(())), TypeError, "out="),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    f, kind, match = ERRORS[name]
    x = np.array([3.0, 1.0, 2.0])
    with pytest.raises(kind, match=match) as info:
        _quiet(fd.grad(lambda v: np.sum(f(v))), x)
    assert isinstance(info.value, FuncdiffError)
    if name.startswith("weights") and not NUMPY2:
        return                                      # (NumPy 1.x has no weights=)
    if name != "out":                               # (NumPy writes into out=)
        with pytest.raises(kind):                   # NumPy raises the same kind
            _quiet(f, x)


def test_empty_nan_versions_and_median_as_numpy():
    x = np.zeros((0, 3))
    for f in (lambda v: np.median(v, axis=0), lambda v: np.nanmedian(v, axis=0),
              lambda v: np.nanquantile(v, 0.5, axis=0)):
        same(_quiet(fd.jit(f), x), _quiet(f, x))

