"""Differences and integrals: ``diff ediff1d gradient trapezoid`` (and ``trapz`` where
NumPy has it) and ``unwrap``.

All are slices, concatenations and elementwise arithmetic, written as NumPy writes
them (same formulas, same order of operations, same dtypes), so values match NumPy's
to rounding and every derivative is exact: these functions are linear in the array
(``unwrap``'s corrections are piecewise constant: derivative 0, so ``unwrap`` passes
the tangent through unchanged, as JAX's does).

``gradient``: spacings may be scalars or coordinate arrays, and may be traced (the
derivative with respect to the coordinates is exact too).  NumPy replaces a coordinate
array whose steps are all equal by the scalar step; funcdiff does the same for
coordinates that are constants, and uses the non-uniform formulas (equal in exact
arithmetic) for traced coordinates, whose values ``jit`` does not know.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sp
from ._core import aval, canonical_axis, implements, operand
from ._math import add, multiply, negative, not_equal, remainder, subtract, true_divide, where
from ._reductions import cumsum, sum as _sum
from ._shape import _arr, _normalize_axes, _slice_axis, concatenate, operator_index

__all__ = ["diff", "ediff1d", "gradient", "trapezoid", "unwrap"]

_NoValue = np._NoValue


def _shape(x):
    return aval(x).shape


def _ndim(x):
    return len(aval(x).shape)


def _cast(x, dtype):
    dtype = np.dtype(dtype)
    return x if aval(x).dtype == dtype and not aval(x).weak_type else \
        ew.convert_element_type(x, dtype=dtype)


def _sl(x, axis, start, stop):
    """``x[..., start:stop, ...]`` along ``axis``, NumPy's slice semantics (negative and
    None bounds)."""
    lo, hi, _ = slice(start, stop).indices(_shape(x)[axis])
    return _slice_axis(x, axis, lo, max(lo, hi))


# --- diff, ediff1d ---------------------------------------------------------------------------

@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    """NumPy's ``diff``: the ``n``-th forward difference along ``axis`` (``not_equal``
    for booleans), after joining ``prepend``/``append`` (a scalar is broadcast to one
    slice)."""
    if n == 0:
        return a
    if n < 0:
        raise FuncdiffValueError("order must be non-negative but got " + repr(n))
    x = _arr(a)
    nd = _ndim(x)
    if nd == 0:
        raise FuncdiffValueError("diff requires input that is at least one dimensional")
    axis = canonical_axis(operator_index(axis), nd)
    parts = []
    for extra in (prepend, x, append):
        if extra is x:
            parts.append(x)
        elif extra is not _NoValue:
            e = _arr(extra)
            if _ndim(e) == 0:
                shape = list(_shape(x))
                shape[axis] = 1
                e = pb.broadcast_to(e, tuple(shape))
            parts.append(e)
    if len(parts) > 1:
        x = concatenate.traced(parts, axis=axis)
    op = not_equal if aval(x).dtype == np.bool_ else subtract
    for _ in range(operator_index(n)):
        x = op(_sl(x, axis, 1, None), _sl(x, axis, None, -1))
    return x


def _ediff_extra(v, dtype, name):
    e = _arr(v)
    if not np.can_cast(aval(e).dtype, dtype, casting="same_kind"):
        raise FuncdiffTypeError(f"dtype of `{name}` must be compatible with input `ary` "
                                "under the `same_kind` rule.")
    return _cast(sp.reshape(e, (aval(e).size,)), dtype)


@implements(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """NumPy's ``ediff1d``: differences of the flattened array, with ``to_begin`` /
    ``to_end`` (cast to its dtype) around them."""
    x = _arr(ary)
    x = sp.reshape(x, (aval(x).size,))
    dtype = aval(x).dtype
    d = subtract(_sl(x, 0, 1, None), _sl(x, 0, None, -1))
    if to_begin is None and to_end is None:
        return d
    parts = [] if to_begin is None else [_ediff_extra(to_begin, dtype, "to_begin")]
    parts.append(_cast(d, dtype))
    if to_end is not None:
        parts.append(_ediff_extra(to_end, dtype, "to_end"))
    return sp.concatenate(parts, 0)


# --- gradient --------------------------------------------------------------------------------

def _spacing(distances, n, what):
    """One axis's spacing: a scalar (NumPy's uniform case) or the array of steps."""
    d = operand(distances)
    if aval(d).ndim == 0:
        return d          # as given: a Python number stays weak, as in NumPy's formulas
    if type(d) is not Tracer:
        d = np.asanyarray(d)
    da = aval(d)
    if da.ndim != 1:
        raise FuncdiffValueError("distances must be either scalars or 1d")
    if da.shape[0] != n:
        raise FuncdiffValueError("when 1d, distances must match the length of the "
                                 "corresponding dimension")
    if da.dtype.kind in "iu":
        d = _cast(d, np.float64)
    if type(d) is not Tracer:
        steps = np.diff(d)
        # NumPy's shortcut: equal steps become the scalar step (a Python number: weak,
        # so it does not promote float32 values; NumPy casts its result back anyway)
        return steps[0].item() if (steps == steps[0]).all() else steps
    return subtract(_sl(d, 0, 1, None), _sl(d, 0, None, -1))


def _along(v, axis, nd):
    """A 1-d coefficient array shaped to broadcast along ``axis``."""
    shape = [1] * nd
    shape[axis] = -1
    return sp.reshape(v, tuple(aval(v).shape[0] if s == -1 else 1 for s in shape))


def _gradient_axis(f, axis, ax_dx, edge_order, otype):
    nd = _ndim(f)
    if _shape(f)[axis] < edge_order + 1:
        raise FuncdiffValueError("Shape of array too small to calculate a numerical "
                                 "gradient, at least (edge_order + 1) elements are "
                                 "required.")

    def s(i, j):
        return _sl(f, axis, i, j)

    def at(i):
        return _sl(f, axis, i, i + 1 if i != -1 else None)

    uniform = _ndim(operand(ax_dx)) == 0
    if uniform:
        interior = true_divide(subtract(s(2, None), s(None, -2)), multiply(2.0, ax_dx))
    else:
        dx1, dx2 = _sl(ax_dx, 0, 0, -1), _sl(ax_dx, 0, 1, None)
        a = true_divide(negative(dx2), multiply(dx1, add(dx1, dx2)))
        b = true_divide(subtract(dx2, dx1), multiply(dx1, dx2))
        c = true_divide(dx1, multiply(dx2, add(dx1, dx2)))
        a, b, c = (_along(v, axis, nd) for v in (a, b, c))
        interior = add(add(multiply(a, s(None, -2)), multiply(b, s(1, -1))),
                       multiply(c, s(2, None)))

    def point(i):
        return ax_dx if uniform else _sl(ax_dx, 0, i, i + 1 if i != -1 else None)

    if edge_order == 1:
        first = true_divide(subtract(at(1), at(0)), _shaped(point(0), axis, nd))
        last = true_divide(subtract(at(-1), at(-2)), _shaped(point(-1), axis, nd))
    else:
        if uniform:
            a, b, c = (true_divide(v, ax_dx) for v in (-1.5, 2.0, -0.5))
        else:
            dx1, dx2 = point(0), point(1)
            a = true_divide(negative(add(multiply(2.0, dx1), dx2)),
                            multiply(dx1, add(dx1, dx2)))
            b = true_divide(add(dx1, dx2), multiply(dx1, dx2))
            c = true_divide(negative(dx1), multiply(dx2, add(dx1, dx2)))
        a, b, c = (_shaped(v, axis, nd) for v in (a, b, c))
        first = add(add(multiply(a, at(0)), multiply(b, at(1))), multiply(c, at(2)))
        if uniform:
            a, b, c = (true_divide(v, ax_dx) for v in (0.5, -2.0, 1.5))
        else:
            dx1, dx2 = point(-2), point(-1)
            a = true_divide(dx2, multiply(dx1, add(dx1, dx2)))
            b = true_divide(negative(add(dx2, dx1)), multiply(dx1, dx2))
            c = true_divide(add(multiply(2.0, dx2), dx1), multiply(dx2, add(dx1, dx2)))
        a, b, c = (_shaped(v, axis, nd) for v in (a, b, c))
        last = add(add(multiply(a, at(-3)), multiply(b, at(-2))), multiply(c, at(-1)))
    # NumPy assigns each piece into an array of dtype otype
    return sp.concatenate([_cast(p, otype) for p in (first, interior, last)], axis)


def _shaped(v, axis, nd):
    """A scalar, or a length-1 slice of the steps, broadcastable along ``axis``."""
    v = operand(v)
    if _ndim(v) == 0:
        return v
    return _along(v, axis, nd)


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """NumPy's ``gradient``: central differences inside, one-sided differences of
    order ``edge_order`` (1 or 2) at the ends; spacings as NumPy takes them (none, one
    scalar, or one scalar or coordinate array per axis).  One array for one axis,
    else NumPy's sequence of arrays (a tuple in NumPy 2, a list in 1.x)."""
    x = _arr(f)
    N = _ndim(x)
    axes = tuple(range(N)) if axis is None else _normalize_axes(axis, N, "gradient")
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and _ndim(operand(varargs[0])) == 0:
        dx = list(varargs) * len(axes)
    elif n == len(axes):
        dx = [_spacing(d, _shape(x)[ax], "gradient") for d, ax in zip(varargs, axes)]
    else:
        raise FuncdiffTypeError("invalid number of arguments")
    edge_order = operator_index(edge_order)
    if edge_order > 2:
        raise FuncdiffValueError("'edge_order' greater than 2 not supported")
    otype = aval(x).dtype
    if otype.kind not in "fc":
        if otype.kind in "iu":
            x = _cast(x, np.float64)
        otype = np.dtype(np.float64)
    outs = [_gradient_axis(x, ax, d, edge_order, otype) for ax, d in zip(axes, dx)]
    if len(axes) == 1:
        return outs[0]
    return _GRAD_SEQ(outs)


_GRAD_SEQ = type(np.gradient(np.zeros((2, 2))))


# --- trapezoid, trapz --------------------------------------------------------------------------

def _trapezoid(y, x=None, dx=1.0, axis=-1):
    """NumPy's ``trapezoid``: ``sum(d * (y[1:] + y[:-1]) / 2)`` along ``axis``, with
    ``d`` the steps of ``x`` (1-d, or along ``axis``) or the scalar ``dx``."""
    yy = _arr(y)
    nd = _ndim(yy)
    ax = canonical_axis(operator_index(axis), nd)
    if x is None:
        d = operand(dx)
    else:
        xx = _arr(x)
        if _ndim(xx) == 1:
            d = diff.traced(xx)
            shape = [1] * nd
            shape[ax] = _shape(d)[0]
            d = sp.reshape(d, tuple(shape))
        else:
            d = diff.traced(xx, axis=ax)
    avg = true_divide(multiply(d, add(_sl(yy, ax, 1, None), _sl(yy, ax, None, -1))), 2.0)
    return _sum.traced(avg, axis=ax)


if hasattr(np, "trapezoid"):
    trapezoid = implements(np.trapezoid)(_trapezoid)
    if hasattr(np, "trapz"):  # pragma: no cover - NumPy 2.0-2.3: a deprecated alias
        trapz = implements(np.trapz)(_trapezoid)
        __all__.append("trapz")
else:  # pragma: no cover - NumPy 1.x: trapezoid is NumPy 2's name for trapz
    trapz = trapezoid = implements(np.trapz)(_trapezoid)
    __all__.append("trapz")


# --- unwrap -----------------------------------------------------------------------------------

@implements(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """NumPy's ``unwrap``: removes jumps larger than ``discont`` (default
    ``period / 2``) between neighbours along ``axis`` by adding multiples of
    ``period``.  The added multiples are piecewise constant: the derivative is the
    identity (JAX's convention)."""
    x = _arr(p)
    nd = _ndim(x)
    ax = canonical_axis(operator_index(axis), nd)
    dd = diff.traced(x, axis=ax)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(aval(dd).dtype, aval(operand(period)).dtype) \
        if type(operand(period)) is Tracer else np.result_type(aval(dd).dtype, period)
    if dtype.kind in "iu":
        interval_high, rem = divmod(period, 2)
        boundary_ambiguous = rem == 0
    else:
        interval_high = true_divide(period, 2) if type(period) is Tracer else period / 2
        boundary_ambiguous = True
    interval_low = negative(interval_high) if type(interval_high) is Tracer \
        else -interval_high
    ddmod = add(remainder(subtract(dd, interval_low), period), interval_low)
    if boundary_ambiguous:
        ddmod = where(ew.logical_and(ew.eq(ddmod, interval_low), ew.gt(dd, 0)),
                      _cast(operand(interval_high), aval(ddmod).dtype), ddmod)
    ph_correct = subtract(ddmod, dd)
    ph_correct = where(ew.lt(ew.abs_(dd), discont),
                       np.zeros((), aval(ph_correct).dtype)[()], ph_correct)
    up = _cast(x, dtype)
    if _shape(x)[ax] == 0:
        return up
    rest = _cast(add(_sl(x, ax, 1, None), cumsum.traced(ph_correct, axis=ax)), dtype)
    return sp.concatenate([_sl(up, ax, 0, 1), rest], ax)
