"""``funcdiff.scipy.ndimage``: ``map_coordinates`` on values that trace (orders 0 and
1, as JAX's; every SciPy mode).

Outside transforms it *is* SciPy's (any order).  Inside, it follows SciPy's
``NI_GeometricTransform`` step by step, with elementwise operations and one ``gather``
per corner of the interpolation cell, so it differentiates in the input array, the
coordinates and ``cval``, batches and compiles.  Along each axis of length ``n``:

1. the coordinate is mapped into range by the mode: ``'reflect'``/``'grid-mirror'``
   (half-sample symmetric, period ``2n``), ``'mirror'`` (whole-sample symmetric, period
   ``2n - 2``), ``'wrap'`` (period ``n - 1``: the first and last samples overlap),
   ``'grid-wrap'`` (period ``n``); ``'constant'`` marks a coordinate outside ``[0, n -
   1]`` (the result is then ``cval``); ``'nearest'`` and ``'grid-constant'`` leave it;
2. the cell starts at ``floor(c)`` (order 1; weights ``1 - t``, ``t`` with ``t = c -
   floor(c)``) or ``floor(c + 0.5)`` (order 0);
3. cell indices outside ``[0, n)`` read ``cval`` (``'grid-constant'``) or are mapped by
   the mode (mirrored for ``'constant'`` and ``'wrap'``, as SciPy does).

Derivatives: piecewise linear in the coordinates for order 1 (at an integer coordinate
the derivative is the slope of the cell to its right, where ``floor`` puts it, beyond
the edge as the mode extends the input; in ``'constant'`` and ``'wrap'`` modes the last
sample takes the slope from the inside: past it is ``cval``, or SciPy's ``'wrap'`` jumps
to the first sample); zero for order 0.  Orders above 1 raise
``FuncdiffValueError`` under transforms (a spline prefilter is not implemented);
``prefilter`` is accepted (orders 0 and 1 need none).  A complex ``output`` for real
input is refused, as SciPy does.
The result has SciPy's dtype: ``output`` (a dtype) or the input's, integers rounded
half away from zero (unsigned clipped at 0), computed in double precision; complex input
is interpolated as its real and imaginary parts.  SciPy's ``RuntimeError`` for bad
orders, modes and coordinate shapes is a ``FuncdiffValueError`` here.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import numpy as fnp
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..numpy._core import aval, operand
from ._fastpath import array_arg, scipy_function

try:  # SciPy is optional at run time
    import scipy.ndimage as _nd  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _nd = None

__all__ = ["map_coordinates"]

_MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror",
          "wrap", "grid-wrap")
# how SciPy maps the indices of a cell that leaves the array ("spline mode")
_INDEX_MODE = {"constant": "mirror", "wrap": "mirror"}


def _trunc(x):
    """C's ``(npy_intp)x``: toward zero (piecewise constant, derivative 0)."""
    return fnp.trunc(x)


def _map_coordinate(c, n, mode):
    """SciPy's ``map_coordinate``: ``c`` moved into range as ``mode`` says
    (``'constant'``: -1 outside ``[0, n - 1]``)."""
    below, above = c < 0, c > n - 1
    if mode == "constant":
        return fnp.where(below | above, -1.0, c)
    if mode == "nearest":
        return fnp.clip(c, 0, n - 1)
    if n <= 1:
        return fnp.where(below | above, 0.0, c)
    if mode == "mirror":
        s = 2 * n - 2
        lo = s * _trunc(-c / s) + c
        lo = fnp.where(lo <= 1 - n, lo + s, -lo)
        hi = c - s * _trunc(c / s)
        hi = fnp.where(hi >= n, s - hi, hi)
    elif mode == "reflect":
        s = 2 * n
        lo = fnp.where(c < -s, s * _trunc(-c / s) + c, c)
        lo = fnp.where(lo < -n, lo + s, fnp.where(lo > -1e-15, 1e-15, -lo) - 1)
        hi = c - s * _trunc(c / s)
        hi = fnp.where(hi >= n, s - hi - 1, hi)
    elif mode == "wrap":
        s = n - 1
        lo = c + s * (_trunc(-c / s) + 1)
        hi = c - s * _trunc(c / s)
    else:  # grid-wrap
        lo = c + n * (_trunc((-1 - c) / n) + 1)
        hi = c - n * _trunc(c / n)
    return fnp.where(below, lo, fnp.where(above, hi, c))


def _axis_cell(c, n, mode, order):
    """For one axis: (indices, weights, outside) of the cell's ``order + 1`` samples --
    indices clipped into range, weights None for order 0, ``outside`` the samples that
    read ``cval`` ('grid-constant') -- and the 'constant' mode's in-range mask."""
    cc = c if mode in ("grid-constant", "nearest") else _map_coordinate(c, n, mode)
    valid = (cc > -1.0) if mode == "constant" else None
    start = fnp.floor(cc) if order == 1 else fnp.floor(cc + 0.5)
    if mode in ("constant", "wrap") and order == 1 and n > 1:
        # the last sample in the cell before it (same value): past it is cval
        # ('constant'), or SciPy's 'wrap' jumps to the first sample, so the derivative
        # there is the slope from the inside
        start = fnp.minimum(start, n - 2)
    idxs, outs = [], []
    for k in range(order + 1):
        i = start + k
        oob = (i < 0) | (i > n - 1)
        if mode == "grid-constant":
            outs.append(oob)
        else:
            i = fnp.where(oob, _map_coordinate(i, n, _INDEX_MODE.get(mode, mode)), i)
        idxs.append(fnp.clip(i, 0, n - 1).astype(np.intp))
    weights = None
    if order == 1:
        t = cc - start
        weights = [1.0 - t, t]
    return idxs, weights, outs, valid


def _interp_real(x, coords, order, mode, cval):
    """The interpolated values (float64) of a real array ``x`` at ``coords``."""
    x = fnp.asarray(x)      # a NumPy array indexed by traced indices records a gather
    cells = [_axis_cell(coords[d], n, mode, order)
             for d, n in enumerate(aval(x).shape)]
    total = None
    for corner in itertools.product(range(order + 1), repeat=len(cells)):
        val = x[tuple(cell[0][k] for cell, k in zip(cells, corner))]
        if mode == "grid-constant":
            out = None
            for cell, k in zip(cells, corner):
                out = cell[2][k] if out is None else out | cell[2][k]
            val = fnp.where(out, cval, val)
        if order == 1:
            for cell, k in zip(cells, corner):
                val = val * cell[1][k]
        total = val if total is None else total + val
    if mode == "constant":
        valid = None
        for cell in cells:
            valid = cell[3] if valid is None else valid & cell[3]
        total = fnp.where(valid, total, cval)
    return total


def _to_output(t, dtype):
    """SciPy's store: integers rounded half away from zero and clipped to the dtype's
    range (unsigned: negatives to 0), bools C's cast of ``t`` (truncated: True where
    ``|t| >= 1``), floats cast."""
    if dtype.kind == "b":
        return fnp.trunc(t) != 0
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        r = fnp.where(t > 0, t + 0.5, 0.0 if dtype.kind == "u" else t - 0.5)
        return fnp.clip(fnp.trunc(r), info.min, info.max).astype(dtype)
    return t.astype(dtype)


def _output_dtype(output, in_dtype, complex_in):
    """SciPy's ``_get_output`` for a dtype (a type or dtype with complex input is
    promoted to complex, with SciPy's warning; a string must fit)."""
    if output is None:
        return np.promote_types(in_dtype, np.complex64) if complex_in else in_dtype
    if isinstance(output, (type, np.dtype)):
        dt = np.dtype(output)
        if complex_in and dt.kind != "c":
            warnings.warn("promoting specified output dtype to complex", UserWarning,
                          stacklevel=4)
            dt = np.promote_types(dt, np.complex64)
        return dt
    if isinstance(output, str):
        dt = np.dtype(output)
        if complex_in and dt.kind != "c":
            raise FuncdiffTypeError("output must have complex dtype")
        if not issubclass(dt.type, np.number):
            raise FuncdiffTypeError("output must have numeric dtype")
        return dt
    raise FuncdiffTypeError("map_coordinates: output= an array is not supported on traced "
                            "values; pass a dtype (output=np.float32) and use the result")


@scipy_function(_nd, "map_coordinates")
def map_coordinates(input, coordinates, output=None, order=3, mode="constant", cval=0.0,
                    prefilter=True):
    """SciPy's ``scipy.ndimage.map_coordinates``: ``input`` interpolated at
    ``coordinates`` (shape ``(input.ndim, ...)``; the result has shape
    ``coordinates.shape[1:]``), orders 0 and 1 (see the module docstring)."""
    if not 0 <= order <= 5:
        raise FuncdiffValueError("spline order not supported")
    if order > 1:
        raise FuncdiffValueError(f"map_coordinates: order={order} is not supported on "
                                 "traced values (orders 0 and 1 are)")
    if mode not in _MODES:
        raise FuncdiffValueError(f"boundary mode not supported: {mode!r} (one of "
                                 f"{', '.join(_MODES)})")
    mode = "reflect" if mode == "grid-mirror" else mode     # SciPy's synonym
    x, c = array_arg(input), array_arg(coordinates)
    xa, ca = aval(x), aval(c)
    if ca.dtype.kind == "c":
        raise FuncdiffTypeError("Complex type not supported")
    if xa.ndim < 1 or ca.ndim < 2:
        raise FuncdiffValueError("input and output rank must be > 0")
    if ca.shape[0] != xa.ndim:
        raise FuncdiffValueError(f"invalid shape for coordinate array: {ca.shape} (the "
                                 f"first axis must have the input's rank, {xa.ndim})")
    complex_in = xa.dtype.kind == "c"
    out_dtype = _output_dtype(output, xa.dtype, complex_in)
    for dt in (xa.dtype, out_dtype):
        if dt.kind == "f" and dt.itemsize not in (4, 8) or dt.kind == "c" and \
                dt.itemsize not in (8, 16):
            raise FuncdiffTypeError(f"map_coordinates: data type {dt} is not supported "
                                    "(SciPy's ndimage takes bools, integers, float32/64 "
                                    "and complex64/128)")
    if out_dtype.kind == "c" and not complex_in:
        raise FuncdiffTypeError(f"map_coordinates: a complex output ({out_dtype}) for real "
                                "input is not supported (SciPy: 'data type not "
                                "supported'); interpolate, then convert")
    coords = [c[d].astype(np.float64) for d in range(xa.ndim)]
    cv = operand(cval)
    if complex_in:
        re = _interp_real(fnp.real(x).astype(np.float64), coords, order, mode,
                          fnp.real(cv))
        im = _interp_real(fnp.imag(x).astype(np.float64), coords, order, mode,
                          fnp.imag(cv))
        return (re + 1j * im).astype(out_dtype)
    if aval(cv).dtype.kind == "c":
        cv = fnp.real(cv)
    t = _interp_real(x.astype(np.float64), coords, order, mode, fnp.asarray(cv, np.float64))
    return _to_output(t, out_dtype)


def __dir__():
    return sorted(__all__)
