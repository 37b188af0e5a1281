"""Sequences: ``logspace geomspace`` (differentiable in ``start``, ``stop`` and
``base``) and the window functions ``bartlett blackman hamming hanning kaiser``
(constants, except ``kaiser``'s traced ``beta``, which is differentiated through
``i0``).  Lengths must be concrete, as for ``linspace``.

The windows are not dispatched by NumPy (``numpy.hanning(M)`` never sees a traced
value), so plain ``numpy.kaiser(M, traced_beta)`` cannot reach funcdiff: call
``funcdiff.numpy.kaiser``.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb, elementwise as ew, shape as sh
from ._core import _record, aval, operand
from ._creation import _concrete as _concrete_int, creation, linspace
from ._math import power
from ._shape import expand_dims, moveaxis
from ._ufuncs import _strong, i0

__all__ = ["logspace", "geomspace", "bartlett", "blackman", "hamming", "hanning", "kaiser"]


@creation(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """Like numpy.logspace: ``base ** linspace(start, stop, num)``."""
    num = operator.index(_concrete_int(num, "logspace's num"))
    if not isinstance(base, (float, int)) and np.ndim(base):
        # an array base broadcasts with start and stop, then takes the new axis
        ndmax = len(np.broadcast_shapes(*(aval(operand(a)).shape
                                          for a in (start, stop, base))))
        start, stop, base = (_ndmin(a, ndmax) for a in (start, stop, base))
        base = expand_dims(base, axis)
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = power(base, y)
    return out if dtype is None else pb.convert_element_type(out, dtype=np.dtype(dtype))


def _ndmin(x, n):
    x = _strong(x)
    shape = aval(x).shape
    return pb.reshape(x, (1,) * (n - len(shape)) + shape) if len(shape) < n else x


@creation(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Like numpy.geomspace (NumPy's algorithm: rotate ``start`` to the positive real
    axis, ``logspace`` of the logs, exact endpoints, rotate back).  Zero endpoints are a
    ValueError where the values are known; under ``jit``/``vmap`` they give inf/NaN."""
    num = operator.index(_concrete_int(num, "geomspace's num"))
    start, stop = _strong(start), _strong(stop)
    for v in (start, stop):
        val = v._val if type(v) is Tracer else np.asarray(v)
        if val is not None and np.any(np.asarray(val) == 0):
            raise FuncdiffValueError("Geometric sequence cannot include zero")
    dt = np.result_type(aval(start).dtype, aval(stop).dtype, float(num),
                        np.zeros((), dtype))
    dtype = dt if dtype is None else np.dtype(dtype)
    start = pb.convert_element_type(start, dtype=dt)
    stop = pb.convert_element_type(stop, dtype=dt)
    out_sign = ew.sign(start)
    start = ew.div(start, out_sign)
    stop = ew.div(stop, out_sign)
    result = logspace(ew.log10(start), ew.log10(stop), num=num, endpoint=endpoint,
                      base=10.0, dtype=dt)
    if num > 0:
        bshape = aval(result).shape[1:]
        ends = [pb.reshape(pb.broadcast_to(start, bshape), (1,) + bshape)]
        mid_end = num - 1 if (num > 1 and endpoint) else num
        if mid_end > 1:
            ends.append(sh.slice_(result, (1,) + (0,) * len(bshape), (mid_end,) + bshape))
        if num > 1 and endpoint:
            ends.append(pb.reshape(pb.broadcast_to(stop, bshape), (1,) + bshape))
        result = sh.concatenate(ends, 0) if len(ends) > 1 else ends[0]
    result = ew.mul(result, out_sign)
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return result if dtype == dt else pb.convert_element_type(result, dtype=dtype)


def _window(np_fn):
    name = np_fn.__name__

    def window(M):
        return _record(np_fn(_concrete_int(M, f"{name}'s length")))

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"Like numpy.{name}: a constant (no traced arguments)."
    globals()[name] = creation(np_fn)(window)


for _fn in (np.bartlett, np.blackman, np.hamming, np.hanning):
    _window(_fn)


@creation(np.kaiser)
def kaiser(M, beta):
    """Like numpy.kaiser: ``i0(beta * sqrt(1 - ((n - alpha) / alpha)**2)) / i0(beta)``,
    differentiable in ``beta``."""
    M = _concrete_int(M, "kaiser's length")
    if type(beta) is not Tracer:
        return _record(np.kaiser(M, beta))
    dt = np.result_type(np.float64, beta.dtype)   # numpy.array([0.0, M, beta])
    values = np.array([0.0, M], dt)
    if values[1] == 1:
        return pb.full((1,), 1, dt)
    n = np.arange(0, values[1])
    alpha = (values[1] - 1) / 2.0
    with np.errstate(all="ignore"):
        shape = np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)
    b = pb.convert_element_type(beta, dtype=dt)
    return ew.div(i0(ew.mul(b, shape)), i0(b))
