"""The NaN-ignoring reductions: ``nanmax nanmin nanargmax nanargmin nanprod nancumsum
nancumprod nanvar nanstd`` (and ``nansum``/``nanmean``'s derivatives at NaNs).

Values equal NumPy's (shape, dtype; float64, float32 and ints; NaNs and all-NaN
slices; axis/keepdims/ddof/where/initial) traced and under jit; vmap equals a loop;
derivatives pass order-2 checks away from NaNs, and at NaN positions they are exactly
0 (never NaN), as docs/subgradients.md says.
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

from _numpy_checks import NUMPY2
from _sortcheck import Case, run_case, same

SOME = settings(max_examples=25, deadline=None)
NAMES = ["nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nansum", "nanmean",
         "nanargmax", "nanargmin", "nancumsum", "nancumprod"]


def _quiet(f, *a, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*a, **kw)


@pytest.mark.parametrize("name", NAMES)
@SOME
@given(data=st.data(), seed=st.integers(0, 2**31 - 1),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.float64, np.float32, np.int64]), keepdims=st.booleans(),
       all_nan=st.booleans())
def test_values_equal_numpy(name, data, seed, shape, dtype, keepdims, all_nan):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2).astype(dtype) if dtype != np.int64 else \
        rng.integers(-3, 4, shape)
    if x.dtype.kind == "f":
        x[rng.random(shape) < 0.3] = np.nan
        if all_nan and len(shape) > 1:
            x[0] = np.nan
    nd = len(shape)
    cumulative, arg = name.startswith("nancum"), name.startswith("nanarg")
    axis = data.draw(st.sampled_from([None] + list(range(-nd, nd)) +
                                     ([] if cumulative or arg or nd < 2 else [(0, nd - 1)])))
    kw = {} if cumulative else dict(keepdims=keepdims)
    if name in ("nanvar", "nanstd"):
        kw["ddof"] = data.draw(st.integers(0, 2))
    f = getattr(np, name)
    try:
        want = _quiet(f, x, axis=axis, **kw)
    except ValueError:               # nanargmax of an all-NaN slice (values known)
        with pytest.raises(ValueError, match="All-NaN"):
            fd.grad(lambda v: np.sum(f(v, axis=axis, **kw) * 1.0))(x.astype(float))
        return
    same(_quiet(fd.jit(lambda v: f(v, axis=axis, **kw)), x), want,
         exact=name not in ("nanvar", "nanstd", "nanmean"))


@pytest.mark.parametrize("name", ["nanmax", "nanmin", "nanprod"])
def test_where_and_initial(name):
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, -2.0]])
    mask = np.array([True, True, False])
    for kw in (dict(initial=0.5), dict(initial=-5.0, where=mask), dict(where=mask,
                                                                      initial=9.0)):
        for axis in (None, 0, 1):
            want = _quiet(getattr(np, name), x, axis=axis, **kw)
            same(fd.jit(lambda v: getattr(np, name)(v, axis=axis, **kw))(x), want)


def test_nanvar_where_mean_correction():
    x = np.array([[1.0, np.nan, 3.0, 4.0], [np.nan, 2.0, -2.0, 0.5]])
    mask = np.array([True, True, True, False])
    for kw in (dict(where=mask), dict(correction=1), dict(ddof=1, keepdims=True),
               dict(mean=np.nanmean(x, axis=1, keepdims=True))):
        for f in (np.nanvar, np.nanstd):
            # correction= (NumPy 2's name for ddof=) and mean= (here the mean itself)
            # are NumPy 2's keywords: funcdiff.numpy takes them on NumPy 1.x too, where
            # numpy.nanvar's own signature rejects them before dispatching
            ref_kw = kw
            if not NUMPY2 and ("correction" in kw or "mean" in kw):
                ref_kw = dict(ddof=kw["correction"]) if "correction" in kw else {}
                f = getattr(fnp, f.__name__)
            want = _quiet(f, x, axis=1, **ref_kw)
            np.testing.assert_allclose(fd.jit(lambda v: f(v, axis=1, **kw))(x), want,
                                       rtol=1e-12)


# --- table: jit, vmap, derivatives away from NaN ---------------------------------------------

def _x(shape, nan=True):
    def make(rng, dt):
        n = int(np.prod(shape))
        x = (rng.permutation(n) * 0.37 + rng.uniform(0.05, 0.2, n) - n / 5).reshape(shape)
        x = x.astype(dt)
        if nan:
            x.flat[1] = np.nan
        return (x,)
    return make


CASES = {
    "nanmax": Case(lambda x: np.nanmax(x, axis=0), _x((3, 4))),
    "nanmin_keepdims": Case(lambda x: np.nanmin(x, axis=1, keepdims=True), _x((3, 4))),
    "nanprod": Case(lambda x: np.nanprod(x, axis=-1), _x((2, 3))),
    "nancumsum": Case(lambda x: np.nancumsum(x, axis=0), _x((3, 2))),
    "nancumprod": Case(lambda x: np.nancumprod(x), _x((2, 3))),
    "nanvar": Case(lambda x: np.nanvar(x, axis=1), _x((2, 5))),
    "nanstd_ddof": Case(lambda x: np.nanstd(x, ddof=1), _x((3, 3))),
    "nanargmax": Case(lambda x: np.nanargmax(x, axis=1), _x((3, 4)), diff=()),
    "nanargmin": Case(lambda x: np.nanargmin(x), _x((3, 4)), diff=()),
    "nansum": Case(lambda x: np.nansum(x, axis=0), _x((3, 2))),
    "nanmean": Case(lambda x: np.nanmean(x, axis=1), _x((3, 2))),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, dtype):
    case = CASES[name]
    if not case.diff:
        run_case(case, np.random.default_rng(2), dtype)
        return
    # derivatives: with NaN inputs fixed (finite differences would see NaN), check the
    # smooth dependence on the other entries
    (x,) = case.make(np.random.default_rng(2), dtype)
    nan = np.isnan(x)
    run_case(case._replace(diff=()), np.random.default_rng(2), dtype)
    if dtype == np.float64:
        f = lambda v: case.f(np.where(nan, np.nan, v))  # noqa: E731
        fd.check_grads(f, (np.where(nan, 0.5, x),), order=2)


@pytest.mark.parametrize("name", ["nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
                                  "nansum", "nanmean", "nancumsum", "nancumprod"])
def test_derivative_at_nan_positions_is_exactly_zero(name):
    x = np.array([[1.5, np.nan, 3.0], [np.nan, -0.5, 2.0]])
    f = getattr(np, name)
    for axis in (None, 0, 1):
        g = fd.grad(lambda v: np.sum(f(v, axis=axis)))(x)
        assert np.all(np.isfinite(g)), (name, axis, g)
        np.testing.assert_array_equal(g[np.isnan(x)], 0.0)
        t = np.where(np.isnan(x), 1.0, 0.0)       # a tangent only at the NaNs
        out, dout = fd.jvp(lambda v: f(v, axis=axis), (x,), (t,))
        np.testing.assert_array_equal(dout, 0.0)


def test_all_nan_slices():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    same(_quiet(fd.jit(lambda v: np.nanmax(v, axis=1)), x), _quiet(np.nanmax, x, axis=1))
    same(_quiet(fd.jit(lambda v: np.nanvar(v, axis=1)), x), _quiet(np.nanvar, x, axis=1))
    # indices: NumPy raises when it sees the values; under jit they are unknown: -1
    with pytest.raises(ValueError, match="All-NaN slice") as info:
        fd.grad(lambda v: np.nanargmax(v, axis=1) * 1.0 @ v[:, 0])(x)
    assert isinstance(info.value, FuncdiffError)
    same(fd.jit(lambda v: np.nanargmax(v, axis=1))(x), np.array([-1, 1]))
    same(fd.jit(lambda v: np.nanargmin(v, axis=1, keepdims=True))(x), np.array([[-1], [0]]))


def test_ties_share_the_derivative():
    g = fd.grad(lambda v: np.nanmax(v))(np.array([2.0, np.nan, 2.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, 0.0, 0.5, 0.0])


def test_nanstd_of_a_constant_slice_has_zero_derivative():
    g = fd.grad(lambda v: np.nanstd(v))(np.array([2.0, np.nan, 2.0]))
    np.testing.assert_array_equal(g, 0.0)


def test_errors():
    x = np.array([1.0, np.nan])
    with pytest.raises(ValueError, match="inexact") as info:
        fd.grad(lambda v: np.nanvar(v, dtype=np.int64))(x)
    assert isinstance(info.value, FuncdiffError)
    with pytest.raises(TypeError, match="out=") as info:
        fd.grad(lambda v: fnp.nanmax(v, out=np.zeros(())))(x)
    assert isinstance(info.value, FuncdiffError)
