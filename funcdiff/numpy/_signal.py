"""``convolve`` and ``correlate`` of 1-d sequences (modes ``full``, ``same``, ``valid``).

One composition serves both: the full convolution ``out[k] = sum_j h[j] x[k - j]`` is a
gather of the sliding windows of the zero-padded longer sequence ``x`` (shape
``(len(x) + len(h) - 1, len(h))``) times the reversed shorter one ``h``: one
``dot_general``, so it is linear in each operand, differentiates and batches as a
matrix product, and costs memory ``O(len(out) * min(len(a), len(v)))``.
``correlate(a, v)`` is ``convolve(a, conj(v)[::-1])`` (NumPy conjugates ``v``), cut to
NumPy's ``same``/``valid`` window.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffValueError
from ..primitives import base as pb, elementwise as ew, shape as sh
from ._core import aval, implements
from ._products import matmul
from ._ufuncs import _strong

__all__ = ["convolve", "correlate"]


def _seq(x, scalar_ok=True):
    """``numpy.array(x, ndmin=1)``: a strong 1-d operand (convolve accepts scalars,
    correlate does not)."""
    x = _strong(x)
    a = aval(x)
    if a.ndim == 0:
        if not scalar_ok:
            raise FuncdiffValueError("object of too small depth for desired array")
        x = pb.reshape(x, (1,))
    elif a.ndim > 1:
        raise FuncdiffValueError("object too deep for desired array")
    return x


def _conv_full(x, h):
    """The full convolution of 1-d ``x`` and ``h`` (``len(h) <= len(x)``), in their
    common dtype."""
    n, k = aval(x).shape[0], aval(h).shape[0]
    dt = np.result_type(aval(x).dtype, aval(h).dtype)
    x = x if aval(x).dtype == dt else pb.convert_element_type(x, dtype=dt)
    h = h if aval(h).dtype == dt else pb.convert_element_type(h, dtype=dt)
    if k == 1:
        return ew.mul(x, pb.reshape(h, ()))
    xpad = sh.pad(x, np.zeros((), dt)[()], ((k - 1, k - 1, 0),))
    idx = np.arange(n + k - 1)[:, None] + np.arange(k)[None, :]
    windows = xpad[idx]                       # (n + k - 1, k): a gather
    return matmul(windows, sh.rev(h, (0,)))


def _check(a, v):
    if aval(a).shape[0] == 0:
        raise FuncdiffValueError("a cannot be empty")
    if aval(v).shape[0] == 0:
        raise FuncdiffValueError("v cannot be empty")


def _window(full, mode, n, m, offset_same):
    """NumPy's ``mode`` cut of the full result (``n``, ``m``: the operand lengths)."""
    if mode in ("full", 2):
        return full
    lo, hi = min(n, m), max(n, m)
    if mode in ("same", 1):
        start, length = offset_same, hi
    elif mode in ("valid", 0):
        start, length = lo - 1, hi - lo + 1
    else:
        raise FuncdiffValueError(f"mode must be one of 'valid', 'same', or 'full' "
                                 f"(got {mode!r})")
    return sh.slice_(full, (start,), (start + length,))


@implements(np.convolve)
def convolve(a, v, mode="full"):
    """Like numpy.convolve (no conjugation)."""
    a, v = _seq(a), _seq(v)
    _check(a, v)
    n, m = aval(a).shape[0], aval(v).shape[0]
    x, h = (a, v) if n >= m else (v, a)
    return _window(_conv_full(x, h), mode, n, m, (min(n, m) - 1) // 2)


@implements(np.correlate)
def correlate(a, v, mode="valid"):
    """Like numpy.correlate: ``c[k] = sum_n a[n + k] conj(v[n])``."""
    a, v = _seq(a, False), _seq(v, False)
    _check(a, v)
    n, m = aval(a).shape[0], aval(v).shape[0]
    w = sh.rev(pb.conj(v) if aval(v).dtype.kind == "c" else v, (0,))
    full = _conv_full(a, w) if n >= m else _conv_full(w, a)
    # NumPy's 'same' window: centred on the longer operand; when v is the longer one it
    # computes the correlation the other way round and reverses, which moves the centre
    same = (m - 1) // 2 if n >= m else (n - 1) - (n - 1) // 2
    return _window(full, mode, n, m, same)
