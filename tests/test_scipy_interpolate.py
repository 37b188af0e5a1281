"""funcdiff.scipy.interpolate.RegularGridInterpolator and funcdiff.scipy.integrate's
trapezoid.

RegularGridInterpolator: values (jit, traced values and points) against SciPy over
hypothesis grids (1-3 dimensions, ascending and descending, a one-point dimension),
trailing value dimensions, dtypes, methods linear/nearest/slinear, fill values (NaN,
None = extrapolation, a number), the xi forms SciPy takes, NaN points; bounds errors
(values known) and their ConcretizationError under jit; check_grads order 2 in the
values, the points and the grid; the pytree; vmap; errors; the namespace.
trapezoid: values against SciPy (dtypes, x 1-d and n-d, dx, axis), grads, vmap, jit.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy
import scipy.integrate as si
import scipy.interpolate as sint
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.scipy import integrate as I
from funcdiff.scipy import interpolate as IP
from funcdiff.scipy.interpolate import RegularGridInterpolator as R
from funcdiff.test_util import check_grads

import _helpers

traced = functools.partial(_helpers.traced, unpack=True)
VALUES = settings(max_examples=40, deadline=None)
# one-point grid dimensions interpolate (funcdiff follows SciPy 1.17; older SciPy: NaN)
ONE_POINT = tuple(int(v) for v in scipy.__version__.split(".")[:2]) >= (1, 17)


def close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, \
        (got.shape, want.shape, got.dtype, want.dtype)
    tol = 1e-6 if want.dtype in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


@st.composite
def grid_case(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    nd = draw(st.integers(1, 3))
    grid = []
    for _ in range(nd):
        n = draw(st.integers(1 if ONE_POINT else 2, 5))
        g = np.sort(rng.uniform(-2, 3, n)) if n > 1 else np.array([rng.uniform(-2, 3)])
        if n > 1 and draw(st.booleans()):
            g = g[::-1].copy()
        grid.append(g)
    trail = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.complex128]))
    vals = _helpers.values(rng, tuple(len(g) for g in grid) + trail, dtype)
    lo = np.array([g.min() for g in grid])
    hi = np.array([g.max() for g in grid])
    inside = lo + (hi - lo) * rng.uniform(0, 1, (6, nd))
    corners = np.stack([[g[0] for g in grid], [g[-1] for g in grid]])
    outside = lo + (hi - lo + 1) * rng.uniform(-0.6, 1.6, (6, nd))
    return tuple(grid), vals, np.concatenate([inside, corners]), outside


@VALUES
@given(case=grid_case(), method=st.sampled_from(["linear", "nearest", "slinear"]),
       fill=st.sampled_from([np.nan, None, -3.0]))
def test_values_match_scipy(case, method, fill):
    grid, vals, inside, outside = case
    if vals.dtype.kind in "iu" and any(g[0] > g[-1] for g in grid if len(g) > 1):
        vals = vals.astype(np.float64)     # (SciPy keeps ints there: its own quirk)
    if method == "slinear" and any(len(g) < 2 for g in grid):
        with pytest.raises(ValueError, match="at least"):
            traced(lambda v: R(grid, v, method)(inside), vals)
        return
    want = sint.RegularGridInterpolator(grid, vals, method)(inside)
    close(traced(lambda v: R(grid, v, method)(inside), vals), want)
    if all(g[0] <= g[-1] for g in grid):     # traced points inside jit: taken ascending
        close(fd.jit(lambda v, p: R(p, v, method, bounds_error=False)(inside))(vals, grid),
              want)
    close(R(grid, vals, method)(inside), want)                 # eager: SciPy's own
    kw = dict(bounds_error=False, fill_value=fill)
    want = sint.RegularGridInterpolator(grid, vals, method, **kw)(outside)
    close(fd.jit(lambda v, x: R(grid, v, method, **kw)(x))(vals, outside), want)


def test_xi_forms_and_nans(rng):
    grid = (np.array([0.0, 1.0, 3.0]), np.array([0.0, 0.5, 2.0, 2.5]))
    vals = rng.normal(size=(3, 4, 2))
    sr = sint.RegularGridInterpolator(grid, vals, bounds_error=False)
    for xi in [(np.array([1.0, 2.0]), np.array([[0.5], [1.0]])), np.array([1.0, 1.0]),
               rng.uniform(0, 2, (3, 2, 2)), (np.array([1.0, np.nan]), 0.3),
               [[0.5, 0.5], [1.0, 2.0]]]:
        close(traced(lambda v: R(grid, v, bounds_error=False)(xi), vals), sr(xi))
    close(traced(lambda v: R(grid, v)(np.array([[1.0, 1.0]]), method="nearest"), vals),
          sint.RegularGridInterpolator(grid, vals)(np.array([[1.0, 1.0]]),
                                                   method="nearest"))


def test_bounds(rng):
    grid = (np.array([0.0, 1.0, 3.0]),)
    vals = np.array([1.0, 2.0, 5.0])
    f = lambda v, x: R(grid, v)(x).sum()        # noqa: E731
    with pytest.raises(ValueError, match="out of bounds in dimension 0"):
        fd.grad(f, argnums=1)(vals, np.array([[4.0]]))        # values known: SciPy's error
    with pytest.raises(ValueError, match="out of bounds"):
        traced(lambda v: R(grid, v)(np.array([[np.nan]])), vals)   # (SciPy's too)
    with pytest.raises(fd.ConcretizationError, match="bounds_error=False"):
        fd.jit(f)(vals, np.array([[1.0]]))
    # constant points inside jit are known: checked, fine
    close(fd.jit(lambda v: R(grid, v)(np.array([[1.5]])))(vals),
          sint.RegularGridInterpolator(grid, vals)(np.array([[1.5]])))


def test_check_grads(rng):
    g1, g2 = np.array([0.0, 1.0, 3.0, 4.0]), np.array([-1.0, 0.5, 2.0])
    vals = rng.normal(size=(4, 3))
    x = np.array([[1.3, 1.1], [2.2, -0.7], [0.4, 1.9]])
    check_grads(lambda v, x: R((g1, g2), v)(x), (vals, x), order=2)
    check_grads(lambda a, b: R((a, b), vals)(x), (g1, g2), order=2)
    check_grads(lambda a: R((a[::-1], g2), vals[::-1])(x), (g1,), order=1)  # descending
    check_grads(lambda v, x: R((g1, g2), v, bounds_error=False, fill_value=None)(x),
                (vals, 3 * x), order=2)
    check_grads(lambda v: R((g1, g2), v, method="nearest")(x), (vals,), order=2)
    check_grads(lambda v: R((g1, g2), v + 1j * v[::-1])(x), (vals,), order=1)
    g = fd.grad(lambda x: R((g1, g2), vals, method="nearest")(x).sum())(x)
    np.testing.assert_array_equal(g, np.zeros_like(x))


def test_pytree_vmap_jit(rng):
    grid = (np.array([0.0, 1.0, 3.0]), np.array([0.0, 0.5, 2.0]))
    vals = rng.normal(size=(3, 3))
    x = rng.uniform(0, 2, (5, 2))
    want = sint.RegularGridInterpolator(grid, vals, bounds_error=False)(x)
    interp = R(grid, vals, bounds_error=False)
    close(fd.jit(lambda r, x: r(x))(interp, x), want)
    made = fd.jit(lambda v: R(grid, v, bounds_error=False))(vals)      # returned out of jit
    close(made(x), want)
    leaves = fd.tree_util.tree_leaves(interp)
    assert sum(np.size(leaf) for leaf in leaves) == 3 + 3 + 9 + 1
    xs = rng.uniform(0, 2, (4, 5, 2))
    close(fd.vmap(lambda x: R(grid, vals, bounds_error=False)(x))(xs),
          np.stack([sint.RegularGridInterpolator(grid, vals, bounds_error=False)(v)
                    for v in xs]))
    vs = rng.normal(size=(4, 3, 3))
    close(fd.vmap(lambda v: R(grid, v, bounds_error=False)(x))(vs),
          np.stack([sint.RegularGridInterpolator(grid, v, bounds_error=False)(x)
                    for v in vs]))


def test_errors(rng):
    g = np.array([0.0, 1.0, 2.0])
    vals = rng.normal(size=(3, 3))
    cases = [
        (lambda v: R((g, g), v, method="cubic")(np.ones((1, 2))), "not supported on "
                                                                   "traced"),
        (lambda v: R((g, g), v, method="spline"), "not defined"),
        (lambda v: R((np.array([0.0, 2.0, 1.0]), g), v), "strictly ascending"),
        (lambda v: R((g, g, g), v), "3 point arrays"),
        (lambda v: R((g, g[:2]), v), "2 points and 3 values"),
        (lambda v: R((g, g), v, fill_value=1j), "fill_value"),
        (lambda v: R((g, g), v)(np.ones((2, 3))), "dimension 3"),
        (lambda v: R((g, g), v)(np.ones((1, 2)), nu=1), "derivatives"),
        (lambda v: R((g, np.ones((3, 1))), v), "1-dimensional"),
    ]
    for f, msg in cases:
        with pytest.raises(ValueError, match=msg):
            traced(f, vals)


def test_namespace():
    assert IP.__all__ == ["RegularGridInterpolator"]
    assert dir(IP) == ["RegularGridInterpolator"]
    assert dir(I) == sorted(I.__all__) == ["odeint", "trapezoid"]


# --- integrate.trapezoid ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.complex128,
                                   np.float16])
def test_trapezoid_values(dtype, rng):
    y = _helpers.values(rng, (3, 7), dtype)
    xs = [None, np.sort(rng.normal(size=7)), np.cumsum(rng.random((3, 7)), axis=1),
          np.cumsum(rng.random((1, 7)), axis=1).astype(np.float32)]
    for x in xs:
        for kw in (dict(), dict(dx=0.5)):
            want = si.trapezoid(y, x, axis=-1, **kw)
            got = traced(lambda y: I.trapezoid(y, x, axis=-1, **kw), y)
            _helpers.assert_same(got, want, tols={np.float16: 3e-3, np.float32: 1e-5,
                                                  _helpers.DEFAULT: 1e-12})
    want = si.trapezoid(y, axis=0)
    _helpers.assert_same(traced(lambda y: I.trapezoid(y, axis=0), y), want,
                         tols={np.float16: 3e-3, np.float32: 1e-5, _helpers.DEFAULT: 1e-12})


def test_trapezoid_grads_vmap_jit(rng):
    y, x = rng.normal(size=(3, 6)), np.sort(rng.normal(size=6))
    check_grads(lambda y, x, dx: I.trapezoid(y, x) + I.trapezoid(y, dx=dx), (y, x, 0.3),
                order=2)
    np.testing.assert_allclose(fd.vmap(lambda v: I.trapezoid(v, x))(y),
                               [si.trapezoid(v, x) for v in y], rtol=1e-12)
    f = lambda y, x: I.trapezoid(y ** 2, x, axis=0)    # noqa: E731
    np.testing.assert_allclose(fd.jit(f)(y, x[:3]), traced(f, y, x[:3]), rtol=1e-12)
