"""``funcdiff.scipy.interpolate``: ``RegularGridInterpolator`` on values that trace
(methods ``'linear'``, ``'nearest'`` and ``'slinear'``).

The interpolator is a pytree (its grid, values and fill value are the leaves), so it
can be passed into and returned from ``jit``/``vmap``/``grad``-transformed functions.
Made and called outside transforms with NumPy values it *is* SciPy's (every method,
SciPy's checks and errors).  Otherwise it follows SciPy's algorithm: per dimension the
interval ``grid[i] <= x < grid[i + 1]`` (clipped to the first and last interval, so
``fill_value=None`` extrapolates linearly) found by a branch-free binary search, then
the multilinear combination of the cell's corners (``'linear'``; ``'slinear'`` is the
same piecewise-linear spline), or the nearer corner (``'nearest'``, ties to the lower
one) -- so the result differentiates in ``values``, ``xi`` and the grid ``points``
(derivatives with respect to ``xi``: piecewise constant, the right-hand interval's slope
at a grid point; zero for ``'nearest'``).

Out-of-bounds points give ``fill_value`` (NaN by default) with ``bounds_error=False``;
with SciPy's default ``bounds_error=True`` they raise ``ValueError`` -- checked on the
values when they are known (outside ``jit``/``vmap``), and a ``ConcretizationError``
asking for ``bounds_error=False`` where they are not.  Grid points must be strictly
ascending or descending (descending grids are flipped, as SciPy does); traced grid
points whose values are unknown (inside ``jit``) are taken to be ascending.
Dtypes are SciPy's: integer values become float64; ``'linear'`` returns at least
float64, ``'nearest'`` the values' dtype.
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import numpy as fnp
from ..core.errors import ConcretizationError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, state
from ..numpy._core import aval, operand
from ..numpy._sizes import known
from ..tree_util import register_pytree_node
from ._search import interval

try:  # SciPy is optional at run time
    import scipy.interpolate as _si  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _si = None

__all__ = ["RegularGridInterpolator"]

_TRACED_METHODS = ("linear", "nearest", "slinear")
_SCIPY_METHODS = ("linear", "nearest", "slinear", "cubic", "quintic", "pchip")


def _is_traced(x):
    return type(x) is Tracer or (isinstance(x, (list, tuple))
                                 and any(_is_traced(v) for v in x))


def _check_points(points):
    """SciPy's ``_check_points``: float64 grids, strictly ascending or descending
    (descending ones are flipped; which dimensions, returned)."""
    grid, descending = [], []
    for i, p in enumerate(points):
        p = fnp.asarray(p, np.float64) if _is_traced(p) else np.asarray(p, dtype=float)
        if aval(p).ndim != 1:
            raise FuncdiffValueError(f"The points in dimension {i} must be 1-dimensional")
        v = known(p)
        if v is not None and not np.all(v[1:] > v[:-1]):
            if np.all(v[1:] < v[:-1]):
                descending.append(i)
                p = fnp.flip(p) if type(p) is Tracer else np.flip(p)
            else:
                raise FuncdiffValueError(f"The points in dimension {i} must be strictly "
                                         "ascending or descending")
        grid.append(p)
    return tuple(grid), tuple(descending)


def _check_method(method, allowed):
    if method not in _SCIPY_METHODS and method not in ("slinear_legacy", "cubic_legacy",
                                                        "quintic_legacy"):
        raise FuncdiffValueError(f"Method '{method}' is not defined")
    if method not in allowed:
        raise FuncdiffValueError(
            f"RegularGridInterpolator: method '{method}' is not supported on traced values "
            f"(supported: {', '.join(_TRACED_METHODS)}); outside transforms, with NumPy "
            "values, SciPy's interpolator runs it")


class RegularGridInterpolator:
    """SciPy's ``scipy.interpolate.RegularGridInterpolator(points, values,
    method='linear', bounds_error=True, fill_value=nan)`` on values that trace (see the
    module docstring)."""

    def __init__(self, points, values, method="linear", bounds_error=True,
                 fill_value=np.nan, *, solver=None, solver_args=None):
        self._scipy = None
        concrete = not (_is_traced(points) or _is_traced(values) or _is_traced(fill_value))
        if concrete and not state.stack and _si is not None:
            # SciPy's own object: its checks, and every method, outside transforms
            self._scipy = _si.RegularGridInterpolator(
                points, values, method, bounds_error, fill_value, solver=solver,
                solver_args=solver_args)
        else:
            _check_method(method, _SCIPY_METHODS)
        self.method = method
        self.bounds_error = bounds_error
        grid, descending = _check_points(points)
        vals = fnp.asarray(values) if _is_traced(values) else np.asarray(values)
        if aval(vals).dtype.kind not in "fc":
            vals = vals.astype(np.float64)
        if len(grid) > aval(vals).ndim:
            raise FuncdiffValueError(f"There are {len(grid)} point arrays, but values has "
                                     f"{aval(vals).ndim} dimensions")
        for i, p in enumerate(grid):
            if aval(vals).shape[i] != aval(p).shape[0]:
                raise FuncdiffValueError(f"There are {aval(p).shape[0]} points and "
                                         f"{aval(vals).shape[i]} values in dimension {i}")
        if fill_value is not None:
            fdt = aval(operand(fill_value)).dtype
            if not np.can_cast(fdt, aval(vals).dtype, casting="same_kind"):
                raise FuncdiffValueError("fill_value must be either 'None' or of a type "
                                         "compatible with values")
        if descending:
            vals = fnp.flip(vals, descending) if type(vals) is Tracer else \
                np.flip(vals, descending)
        self._grid, self._values, self.fill_value = grid, vals, fill_value

    @property
    def grid(self):
        return self._grid

    @property
    def values(self):
        return self._values

    def __call__(self, xi, method=None, *, nu=None):
        method = self.method if method is None else method
        if self._scipy is not None and not state.stack and not _is_traced(xi):
            return self._scipy(xi, method, nu=nu)
        _check_method(method, _TRACED_METHODS)
        if nu is not None:
            raise FuncdiffValueError("Can only compute derivatives for methods "
                                     f"{{'slinear', 'cubic', 'quintic'}}, got {method=}.")
        ndim = len(self._grid)
        if method == "slinear":
            for i, p in enumerate(self._grid):
                if aval(p).shape[0] <= 1:
                    raise FuncdiffValueError(f"There are {aval(p).shape[0]} points in "
                                             f"dimension {i}, but method slinear requires "
                                             "at least  2 points per dimension.")
        pts = _coords(xi, ndim)
        if aval(pts).shape[-1] != ndim:
            raise FuncdiffValueError(
                f"The requested sample points xi have dimension {aval(pts).shape[-1]} but "
                f"this RegularGridInterpolator has dimension {ndim}")
        xi_shape = aval(pts).shape
        if self.bounds_error:
            self._check_bounds(pts)
        pts = fnp.reshape(pts, (-1, ndim)).astype(np.float64)
        cols = [pts[:, d] for d in range(ndim)]
        nans = fnp.any(fnp.isnan(pts), axis=-1)
        oob = None
        if not self.bounds_error:
            for x, g in zip(cols, self._grid):
                out = (x < g[0]) | (x > g[-1])
                oob = out if oob is None else oob | out
        grids = [fnp.asarray(g) for g in self._grid]   # (indexed by traced indices)
        idx, dist = [], []
        for x, g in zip(cols, grids):
            i = interval(g, x)
            n = aval(g).shape[0]
            if n > 1:
                dist.append((x - g[i]) / (g[i + 1] - g[i]))
            else:
                dist.append(fnp.zeros_like(x))
            idx.append(i)
        vals = fnp.asarray(self._values)
        trail = (slice(None),) + (None,) * (aval(vals).ndim - ndim)
        if method == "nearest":
            result = vals[tuple(fnp.where(t <= 0.5, i, i + 1) for i, t in zip(idx, dist))]
        else:
            result = None
            for corner in itertools.product((0, 1), repeat=ndim):
                ids, w = [], None
                for (i, t, g), k in zip(zip(idx, dist, self._grid), corner):
                    ids.append(fnp.minimum(i + k, aval(g).shape[0] - 1))
                    wk = t if k else 1.0 - t
                    w = wk if w is None else w * wk
                term = vals[tuple(ids)] * w[trail]
                result = term if result is None else result + term
        if oob is not None and self.fill_value is not None:
            result = fnp.where(oob[trail], fnp.asarray(self.fill_value).astype(
                aval(result).dtype), result)
        result = fnp.where(nans[trail], np.nan, result)
        return fnp.reshape(result, xi_shape[:-1] + aval(vals).shape[ndim:])

    def _check_bounds(self, pts):
        v = known(pts)
        if v is None:
            raise ConcretizationError(
                "RegularGridInterpolator(bounds_error=True) checks that every point is "
                "inside the grid, which needs the points' values: they are unknown inside "
                "jit/vmap.  Pass bounds_error=False (with fill_value=..., or None to "
                "extrapolate).")
        v = v.reshape(-1, len(self._grid)).astype(float)
        for i, g in enumerate(self._grid):
            gv = known(g)
            if gv is None:
                raise ConcretizationError(
                    "RegularGridInterpolator(bounds_error=True) with traced grid points "
                    "inside jit/vmap: pass bounds_error=False.")
            p = v[:, i]
            if not (np.all(gv[0] <= p) and np.all(p <= gv[-1])):
                raise FuncdiffValueError(f"One of the requested xi is out of bounds in "
                                         f"dimension {i}")


def _coords(xi, ndim):
    """SciPy's ``_ndim_coords_from_arrays``: a tuple of coordinate arrays (broadcast and
    stacked on a last axis) or an array ``(..., ndim)`` (a 1-d array: ``(-1, ndim)``)."""
    if isinstance(xi, tuple) and len(xi) == 1:
        xi = xi[0]
    xnp = fnp if _is_traced(xi) else np      # NumPy values stay NumPy (checkable)
    if isinstance(xi, tuple):
        parts = xnp.broadcast_arrays(*[xnp.asarray(p, np.float64) for p in xi])
        return xnp.stack(parts, axis=-1)
    pts = xnp.asarray(xi)
    if aval(pts).dtype.kind == "c":
        raise FuncdiffTypeError("RegularGridInterpolator: complex sample points xi")
    if aval(pts).ndim == 1:
        pts = xnp.reshape(pts, (-1, ndim))
    return pts


def _flatten(r):
    return (r._grid, r._values, r.fill_value), (r.method, r.bounds_error)


def _unflatten(aux, children):
    r = object.__new__(RegularGridInterpolator)
    r._grid, r._values, r.fill_value = children
    r._grid = tuple(r._grid)
    r.method, r.bounds_error = aux
    r._scipy = None
    return r


register_pytree_node(RegularGridInterpolator, _flatten, _unflatten)


def __dir__():
    return sorted(__all__)
