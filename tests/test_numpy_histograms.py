"""Interpolation and binning: ``interp bincount histogram histogram_bin_edges
histogram2d histogramdd``.

Values equal NumPy's bit for bit (weighted histograms with array bins: to rounding,
NumPy sums those differently), traced and under jit, in float64 and float32; vmap
equals a loop; derivatives pass order-2 checks where the functions are smooth (interp
away from knots, density and edges through min/max, weights linearly) and counts have
zero derivative.  The derivative conventions of interp at knots and outside the data are
checked against closed forms (docs/subgradients.md rows in tests/test_subgradients.py).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import ConcretizationError, FuncdiffError

from _numpy_checks import NUMPY2
from _sortcheck import Case, run_case, same

SOME = settings(max_examples=25, deadline=None)


def _quiet(f, *a, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return f(*a, **kw)


def _knots(rng, n, dt):
    xp = np.sort(rng.uniform(0, 10, n)).astype(dt)
    return xp, rng.standard_normal(n).astype(dt)


def _interp_args(nx, nxp, inside=False):
    def make(rng, dt):
        xp, fp = _knots(rng, nxp, dt)
        lo, hi = (float(xp[0]) + 0.01, float(xp[-1]) - 0.01) if inside else (-2, 12)
        x = rng.uniform(lo, hi, nx).astype(dt)
        # keep finite differences away from the knots (kinks)
        x = np.where(np.min(np.abs(x[:, None] - xp[None]), axis=1) < 1e-3, x + 2e-3, x)
        return x, xp, fp
    return make


def _data(shape):
    return lambda rng, dt: (rng.standard_normal(shape).astype(dt),)


CASES = {
    "interp": Case(lambda x, xp, fp: np.interp(x, xp, fp), _interp_args(9, 5),
                   diff=(0, 2)),
    "interp_xp": Case(lambda x, xp, fp: np.interp(x, xp, fp), _interp_args(6, 4, True),
                      diff=(0, 1, 2)),
    "interp_left_right": Case(lambda x, xp, fp: np.interp(x, xp, fp, left=-3.0, right=2.0),
                              _interp_args(8, 3), diff=(0, 2)),
    "interp_period": Case(lambda x, xp, fp: np.interp(x, xp, fp, period=4.0),
                          _interp_args(7, 4), diff=(0, 2), order=1),
    "interp_2d_x": Case(lambda x, xp, fp: np.interp(x.reshape(3, 2), xp, fp),
                        _interp_args(6, 5), diff=(0, 2)),
    "histogram": Case(lambda a: np.histogram(a)[0], _data((40,)), diff=()),
    "histogram_edges": Case(lambda a: np.histogram(a, bins=6)[1], _data((30,))),
    "histogram_range": Case(lambda a: np.histogram(a, bins=4, range=(-1.0, 1.0)),
                            _data((30,)), diff=()),
    "histogram_density": Case(lambda a: np.histogram(a, bins=5, density=True),
                              _data((3, 10))),
    "histogram_weights": Case(lambda a, w: np.histogram(a, bins=3, weights=w)[0],
                              lambda rng, dt: (rng.standard_normal(20).astype(dt),
                                               rng.uniform(0, 1, 20).astype(dt)),
                              diff=(1,)),
    "histogram_bin_edges": Case(lambda a: np.histogram_bin_edges(a, bins=4), _data((12,))),
    "histogram2d": Case(lambda x, y: np.histogram2d(x, y, bins=(3, 4)),
                        lambda rng, dt: (rng.standard_normal(25).astype(dt),
                                         rng.standard_normal(25).astype(dt)), diff=(),
                        exact=False),
    "histogramdd_density": Case(lambda s: np.histogramdd(s, bins=3, density=True)[0],
                                _data((20, 2)), exact=False),
    "bincount_weights": Case(lambda w: np.bincount(np.array([0, 3, 1, 3, 3]), w),
                             lambda rng, dt: (rng.standard_normal(5).astype(dt),)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, dtype):
    run_case(CASES[name], np.random.default_rng(3), dtype)


# --- interp ----------------------------------------------------------------------------------

@SOME
@given(seed=st.integers(0, 2**31 - 1), nx=st.integers(1, 9), nxp=st.integers(1, 7),
       dups=st.booleans(), lr=st.booleans(), period=st.booleans(), cplx=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32, np.int64]))
def test_interp_values_equal_numpy(seed, nx, nxp, dups, lr, period, cplx, dtype):
    rng = np.random.default_rng(seed)
    xp = np.sort(np.round(rng.uniform(0, 6, nxp), 1 if dups else 6))
    fp = rng.standard_normal(nxp)
    if cplx:
        fp = fp + 1j * rng.standard_normal(nxp)
    x = np.concatenate([rng.uniform(-1, 7, nx), xp]).astype(dtype)
    kw = dict(left=-9.0, right=9.0) if lr else {}
    if period:
        kw = dict(period=2.5)
    got = _quiet(fd.jit(lambda x, xp, fp: np.interp(x, xp, fp, **kw)), x, xp, fp)
    want = _quiet(np.interp, x, xp, fp, **kw)
    same(got, want, exact=not cplx)


def test_interp_derivative_conventions():
    """d/dx: the segment's slope; at an interior knot the right segment's, at the last
    knot the left one's (JAX's convention); 0 outside [xp[0], xp[-1]]."""
    xp, fp = np.array([1.0, 2.0, 3.0]), np.array([0.0, 10.0, 30.0])
    x = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 3.5])
    d = fd.jacfwd(lambda x: np.interp(x, xp, fp))(x).diagonal()
    np.testing.assert_array_equal(d, [0.0, 10.0, 10.0, 20.0, 20.0, 0.0])
    np.testing.assert_array_equal(fd.jacrev(lambda x: np.interp(x, xp, fp))(x).diagonal(),
                                  d)
    # in fp: the interpolation weights (left/right values take fp[0] / fp[-1])
    g = fd.jacfwd(lambda fp: np.interp(x, xp, fp))(fp)
    np.testing.assert_array_equal(g, [[1, 0, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 1, 0],
                                      [0, 0, 1], [0, 0, 1]])


def test_interp_nan_x_is_nan_and_single_knot():
    same(fd.jit(lambda x: np.interp(x, np.array([0.0, 1.0]), np.array([1.0, 3.0])))(
        np.array([np.nan, 0.5])), np.array([np.nan, 2.0]))
    x = np.array([-1.0, 2.0, 3.0])
    same(fd.jit(lambda x: np.interp(x, np.array([2.0]), np.array([5.0]), left=0.0))(x),
         np.interp(x, np.array([2.0]), np.array([5.0]), left=0.0))


# --- histogram, histogram_bin_edges ----------------------------------------------------------

BINS = [10, 3, "array", "auto", "fd", "sturges", "doane", "scott", "stone", "rice", "sqrt"]


@SOME
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 40), bins=st.sampled_from(BINS),
       rng_kind=st.sampled_from([None, "inside", "degenerate"]), density=st.booleans(),
       weights=st.booleans(), dtype=st.sampled_from([np.float64, np.float32, np.int64,
                                                      np.bool_]))
def test_histogram_values_equal_numpy(seed, n, bins, rng_kind, density, weights, dtype):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 2).astype(dtype)
    if bins == "array":
        bins = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    kw = dict(bins=bins, density=density)
    if rng_kind == "inside":
        kw["range"] = (-1.0, 1.5)
    elif rng_kind == "degenerate":
        kw["range"] = (0.5, 0.5)
    if weights and not isinstance(bins, str):
        kw["weights"] = rng.uniform(0, 2, n)
    try:
        want = _quiet(np.histogram, a, **kw)
    except ValueError:
        return
    if isinstance(bins, str):
        got = fd.jvp(lambda v: np.histogram(v, **kw), (a.astype(np.float64),),
                     (np.zeros(n),))[0] if dtype == np.float64 else None
    else:
        got = _quiet(fd.jit(lambda v: np.histogram(v, **kw)), a)
    if got is not None:
        same(got, want, exact="weights" not in kw or not isinstance(bins, np.ndarray))
    kw.pop("density")
    if not isinstance(bins, str):
        same(_quiet(fd.jit(lambda v: np.histogram_bin_edges(v, **kw)), a),
             _quiet(np.histogram_bin_edges, a, **kw))


def test_histogram_derivatives():
    rng = np.random.default_rng(4)
    a = rng.standard_normal(20)
    # counts: zero derivative in the data; edges: through min and max only
    g = fd.grad(lambda v: np.sum(np.histogram(v, bins=4)[0] * 1.0) +
                np.sum(np.histogram(v, bins=4)[1]))(a)
    expected = np.zeros(20)
    expected[np.argmin(a)] += 5 * 1.0 - np.sum(np.linspace(0, 1, 5))
    expected[np.argmax(a)] += np.sum(np.linspace(0, 1, 5))
    np.testing.assert_allclose(g, expected, atol=1e-12)
    # with a range the edges are constants
    np.testing.assert_array_equal(
        fd.grad(lambda v: np.sum(np.histogram(v, bins=4, range=(-1, 1), density=True)[0]))(a),
        0.0)
    # weights enter linearly
    w = rng.uniform(0, 1, 20)
    gw = fd.grad(lambda w: np.histogram(a, bins=4, weights=w)[0] @ np.arange(4.0))(w)
    np.testing.assert_array_equal(gw, np.histogram(a, bins=4)[1].searchsorted(a, "right")
                                  .clip(1, 4) - 1.0)


@SOME
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 30), d=st.integers(1, 3),
       bins=st.sampled_from([2, 5, "mixed"]), density=st.booleans(), weights=st.booleans(),
       ranged=st.booleans())
def test_histogramdd_values_equal_numpy(seed, n, d, bins, density, weights, ranged):
    rng = np.random.default_rng(seed)
    s = np.round(rng.standard_normal((n, d)), 1)
    if bins == "mixed":
        bins = [np.array([-1.0, 0.0, 0.5, 2.0])] + [3] * (d - 1)
    kw = dict(bins=bins, density=density)
    if weights:
        kw["weights"] = rng.uniform(0, 1, n)
    if ranged:
        kw["range"] = [(-1.0, 1.0)] * d
    want = _quiet(np.histogramdd, s, **kw)
    same(_quiet(fd.jit(lambda v: np.histogramdd(v, **kw)), s), want, exact=False)
    if d == 2:
        want2 = _quiet(np.histogram2d, s[:, 0], s[:, 1], **kw)
        same(_quiet(fd.jit(lambda x, y: np.histogram2d(x, y, **kw)), s[:, 0], s[:, 1]),
             want2, exact=False)


# --- bincount --------------------------------------------------------------------------------

@SOME
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 12), minlength=st.integers(0, 8),
       weights=st.booleans(), dtype=st.sampled_from([np.int64, np.int32, np.uint8,
                                                      np.bool_]))
def test_bincount_values_equal_numpy(seed, n, minlength, weights, dtype):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, n).astype(dtype)
    w = rng.standard_normal(n).astype(np.float32) if weights else None
    want = np.bincount(x, w, minlength=minlength)
    got = fd.jvp(lambda v: np.bincount(x, v, minlength=minlength), (w,), (w,))[0] \
        if weights else fd.jvp(lambda v: (np.bincount(x, minlength=minlength), v),
                               (np.ones(1),), (np.ones(1),))[0][0]
    same(got, want)
    # under jit: JAX's length= (negative values count as 0, values >= length dropped)
    length = 4
    want_j = np.bincount(np.clip(x.astype(np.int64), 0, None)[x < length],
                         None if w is None else w[x < length], minlength=length)[:length]
    want_j = want_j.astype(np.intp if w is None else np.float64)   # (empty: NumPy's ints)
    same(fd.jit(lambda x: fnp.bincount(x, w, length=length))(x), want_j)


def test_bincount_needs_length_under_jit_and_negative_values():
    with pytest.raises(ConcretizationError, match=r"`bincount`.*length="):
        fd.jit(lambda x: np.bincount(x))(np.array([1, 2]))
    same(fd.jit(lambda x: fnp.bincount(x, length=3))(np.array([-2, 0, 1, 5])),
         np.array([2, 1, 0]))


# --- errors ----------------------------------------------------------------------------------

ERRORS = {
    "interp xp 2-D": (lambda x: np.interp(x, x.reshape(3, 1), x), ValueError, "1-D"),
    "interp lengths": (lambda x: np.interp(x, x, x[:2]), ValueError, "same length"),
    "interp empty": (lambda x: np.interp(x, x[:0], x[:0]), ValueError, "empty"),
    "interp period 0": (lambda x: np.interp(x, x, x, period=0.0), ValueError, "period"),
    "bincount float": (lambda x: np.bincount(x), TypeError, "Cannot cast"),
    "bincount 2-D": (lambda x: fnp.bincount(np.ones((2, 2), int)) + x[0], ValueError,
                     "too deep"),
    "bincount minlength": (lambda x: fnp.bincount(np.array([1]), minlength=-1) + x[0],
                           ValueError, "minlength"),
    "bincount weights": (lambda x: np.bincount(np.array([1, 2]), x), ValueError,
                         "same length"),
    "bincount negative": (lambda x: np.bincount(np.array([1, -2]), x[:2]), ValueError,
                          "negative"),
    "histogram bins 0": (lambda x: np.histogram(x, bins=0)[1], ValueError, "positive"),
    "histogram estimator": (lambda x: np.histogram(x, bins="bogus")[1], ValueError,
                            "estimator"),
    "histogram auto weights": (lambda x: np.histogram(x, bins="auto", weights=x)[1],
                               TypeError, "weighted"),
    "histogram range order": (lambda x: np.histogram(x, range=(1, 0))[1], ValueError,
                              "larger"),
    "histogram range finite": (lambda x: np.histogram(x, range=(0, np.inf))[1], ValueError,
                               "finite"),
    "histogram data finite": (lambda x: np.histogram(x / 0.0)[1], ValueError, "finite"),
    "histogram bins order": (lambda x: np.histogram(x, bins=np.array([1.0, 0.0]))[1],
                             ValueError, "monotonically"),
    "histogram bins 2-D": (lambda x: np.histogram(x, bins=np.ones((2, 2)))[1], ValueError,
                           "1d"),
    "histogram weights": (lambda x: np.histogram(x, weights=x[:2])[1], ValueError,
                          "same shape"),
    "histogramdd bins": (lambda x: np.histogramdd(x.reshape(3, 1), bins=[2, 2])[0],
                         ValueError, "dimension"),
    "histogramdd range": (lambda x: np.histogramdd(x.reshape(3, 1), range=[(0, 1)] * 2)[0],
                          ValueError, "one entry"),
    "histogramdd bins 0": (lambda x: np.histogramdd(x.reshape(3, 1), bins=0)[0], ValueError,
                           "positive"),
    "histogram bins float": (lambda x: np.histogram(x, bins=2.5)[1], TypeError, "integer"),
    "histogram too many bins": (lambda x: np.histogram(x, bins=4, range=(0.0, 5e-324))[1],
                                ValueError, "Too many bins"),
    "histogramdd bins float": (lambda x: np.histogramdd(x.reshape(3, 1), bins=2.5)[0],
                               TypeError, "integer"),
    "histogramdd bins 2-D": (lambda x: np.histogramdd(x.reshape(3, 1),
                                                      bins=[np.ones((2, 2))])[0],
                             ValueError, "1d"),
    "bincount complex weights": (lambda x: np.bincount(np.array([0, 1, 2]), x + 1j),
                                 TypeError, "complex"),
    "histogramdd bins order": (lambda x: np.histogramdd(
        x.reshape(3, 1), bins=[np.array([1.0, 0.0])])[0], ValueError, "monotonically"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    f, kind, match = ERRORS[name]
    x = np.array([3.0, 1.0, 2.0])
    with pytest.raises(kind, match=match) as info:
        _quiet(fd.grad(lambda v: np.sum(f(v) * 1.0)), x)
    assert isinstance(info.value, FuncdiffError)
    if name == "histogram too many bins" and not NUMPY2:
        return   # NumPy 2's check (funcdiff has it on NumPy 1.x too)
    with pytest.raises((kind, IndexError)):          # NumPy raises it too
        _quiet(f, x)


def test_estimator_bins_need_values_under_jit():
    with pytest.raises(ConcretizationError, match=r"`histogram`.*bins=N"):
        fd.jit(lambda a: np.histogram(a, bins="auto")[1])(np.ones(4))
