"""One-line helpers for the common shapes of rules (as JAX's ``ad.defjvp``,
``deflinear``; autograd's ``unbroadcast``).  Every helper is written with primitives'
``bind``, so the rules it builds differentiate again."""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ..core.ad_types import UndefPrimal, Zero, is_undefined  # noqa: F401
from ..core.avals import ShapedArray, weak_sample
from ..core.errors import ShapeError
from ..core.trace import get_aval


def aval(x) -> ShapedArray:
    return x.aval if isinstance(x, (Zero, UndefPrimal)) else get_aval(x)


# --- dtype and shape rules -------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def numpy_result_dtype(np_fn, key):
    """The dtype NumPy gives ``np_fn`` on operands of these (dtype, weak) kinds."""
    samples = [weak_sample(dt) if weak else np.ones((1,), dt) for dt, weak in key]
    if all(weak for _, weak in key):
        samples[0] = np.ones((1,), np.result_type(samples[0]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = np_fn(*samples)
    if isinstance(out, tuple):
        return tuple(np.asarray(o).dtype for o in out)
    return np.asarray(out).dtype


_RESULT_DTYPES: dict = {}


def result_dtype(np_fn, *avals):
    key = (np_fn,) + tuple((a.dtype, a.weak_type) for a in avals)
    dt = _RESULT_DTYPES.get(key)
    if dt is None:
        dt = _RESULT_DTYPES[key] = numpy_result_dtype(np_fn, key[1:])
    return dt


def broadcast_shapes(opname, *shapes):
    first = shapes[0]
    if all(s == first or s == () for s in shapes[1:]):
        return first
    if first == () and all(s == shapes[1] or s == () for s in shapes[2:]):
        return shapes[1]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            f"`{opname}`: operand shapes {', '.join(map(str, shapes))} do not broadcast "
            "together (NumPy broadcasting compares trailing dimensions, which must be "
            "equal or 1).  Reshape or transpose an operand, e.g. with x[:, None].") from None


# --- jvp helpers ----------------------------------------------------------------------

def zeros_like_aval(a: ShapedArray):
    if _shape is None:
        _load_modules()
    return _shape.full(a.shape, 0, a.dtype)


def instantiate(t, a=None):
    """A symbolic Zero becomes a real zeros array; anything else is returned as is."""
    if type(t) is Zero:
        return zeros_like_aval(t.aval)
    return t


def add_tangents(x, y):
    if type(x) is Zero:
        return y
    if type(y) is Zero:
        return x
    if _ew is None:
        _load_modules()
    return _ew.add(x, y)


def tangent_aval(a: ShapedArray) -> ShapedArray:
    return a.strengthen()


def defjvp(prim, *rules):
    """jvp from one rule per argument: ``rule(t_i, *primals, **params) -> contribution``
    (``None`` for a non-differentiable argument).  Zero tangents are skipped, the
    contributions summed, and the primal output computed with ``prim.bind``."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        out_aval = aval(out)
        total = Zero(out_aval.strengthen())
        for rule, t in zip(rules, tangents):
            if rule is None or type(t) is Zero:
                continue
            total = add_tangents(total, rule(t, *primals, **params))
        if type(total) is not Zero:
            total = fit_to(total, out_aval)
        return out, total

    prim.jvp = jvp
    return jvp


def defjvp_out(prim, rule):
    """jvp for unary ops whose derivative is cheapest from the output:
    ``rule(t, out, x, **params)``."""

    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        if type(t) is Zero:
            return out, Zero(aval(out).strengthen())
        return out, fit_to(rule(t, out, x, **params), aval(out))

    prim.jvp = jvp
    return jvp


def defjvp_zero(prim):
    """Piecewise-constant or integer-valued primitives: derivative zero everywhere."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if prim.multiple_results:
            return out, [Zero(aval(o).strengthen()) for o in out]
        return out, Zero(aval(out).strengthen())

    prim.jvp = jvp
    return jvp


def deflinear(prim, transpose_rule):
    """A primitive linear in all its (array) arguments: jvp applies it to the tangents."""

    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            return out, Zero(aval(out).strengthen())
        tans = [instantiate(t) for t in tangents]
        return out, prim.bind(*tans, **params)

    prim.jvp = jvp
    prim.transpose = transpose_rule
    prim.linear = True
    return jvp


def fit_to(t, a: ShapedArray):
    """Make a tangent have exactly aval ``a``'s shape and dtype (broadcast, cast)."""
    ta = aval(t)
    if _ew is None:
        _load_modules()
    if ta.shape != a.shape:
        t = _shape.broadcast_to(t, a.shape)
    if ta.dtype != a.dtype:
        t = _ew.convert_element_type(t, dtype=a.dtype)
    return t


# --- transpose helpers ----------------------------------------------------------------

def unbroadcast(ct, a: ShapedArray):
    """Sum ``ct`` down to aval ``a``'s shape (undoing broadcasting) and cast it to
    ``a``'s dtype: the one cotangent-fitting rule for every broadcasting primitive."""
    if type(ct) is Zero:
        return Zero(a.strengthen())
    cta = aval(ct)
    if _ew is None:
        _load_modules()
    if cta.shape != a.shape:
        lead = len(cta.shape) - len(a.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, d in enumerate(a.shape) if d == 1 and cta.shape[lead + i] != 1)
        if axes:
            ct = _reduce.reduce_sum(ct, axes=axes)
        if aval(ct).shape != a.shape:
            ct = _shape.reshape(ct, shape=a.shape)
    return cast_ct(ct, a)


def cast_ct(ct, a: ShapedArray):
    """Cotangents take their primal's dtype (complex->real takes the real part)."""
    cta = aval(ct)
    if cta.dtype == a.dtype:
        return ct
    if _ew is None:
        _load_modules()
    if np.issubdtype(cta.dtype, np.complexfloating) and not np.issubdtype(
            a.dtype, np.complexfloating):
        ct = _ew.real(ct)
    if not np.issubdtype(a.dtype, np.inexact):
        return Zero(a.strengthen())
    return _ew.convert_element_type(ct, dtype=a.dtype)


# The primitive modules these helpers bind.  They import this module, so they are
# loaded on first use (once: a function-level import costs ~1 us per call).
_ew = _reduce = _shape = None


def _load_modules():
    global _ew, _reduce, _shape
    from . import elementwise, reduce, shape
    _ew, _reduce, _shape = elementwise, reduce, shape
