"""The rest of NumPy's ufuncs (and a few elementwise non-ufuncs: ``angle``, ``i0``,
``isposinf``, ``isneginf``, ``nan_to_num``), built as compositions of the elementwise
primitives wherever one expresses the function exactly; the ``ufunc`` primitive
(zero derivative: ``signbit``, ``spacing``, ``gcd``, ``lcm``, shifts, ``bitwise_count``),
``nextafter`` and ``ldexp`` are the only primitives they add.

dtypes come from NumPy itself (``result_dtype(numpy.X, ...)`` on sample operands), so
they follow NumPy's promotion, and the dtypes NumPy rejects raise the same TypeError.
Derivative conventions (docs/subgradients.md): ``fmax``/``fmin`` give the tangent of the
operand they return (NaN operands get none) and split ties as ``maximum`` does;
``heaviside`` is 0 in ``x1`` and 1 in ``x2`` where ``x1 == 0``; ``copysign`` is
``abs(x1)`` with a sign, so 0 at ``x1 = 0``; ``nan_to_num`` is 1 where ``x`` is finite
and 0 where it replaces a value; ``modf``'s fractional part and ``frexp``'s mantissa
are linear in ``x`` (slopes 1 and ``2**-e``); ``nextafter`` has slope 1 in ``x``;
integer and boolean results have none.
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..primitives import base as pb, elementwise as ew, shape as sh
from ..primitives.base import result_dtype
from ..primitives.special import i0 as _i0
from ._core import UFUNC_METHODS, aval, canonical_axes, cast, implements, operand
from ._math import _no_out, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, \
    floor_divide, invert, power, remainder
from ._reductions import all as _all, max as _max, min as _min

__all__ = ["acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow",
           "bitwise_not", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift"]

# the array-API spellings are NumPy's own aliases (numpy.acos is numpy.arccos)
acos, acosh, asin, asinh, atan, atan2, atanh = (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh)
pow = power  # noqa: A001
bitwise_not = bitwise_invert = invert


def _export(f):
    globals()[f.__name__] = f
    __all__.append(f.__name__)
    return f


def _strong(x):
    """``numpy.asanyarray(x)`` as an operand: a weak Python scalar becomes the NumPy
    scalar NumPy's non-ufunc functions make of it (``asanyarray(2.0)`` is float64)."""
    x = operand(x)
    return cast(x, aval(x).dtype)


_to = cast   # x as a dtype (weak Python scalars become strong), only if needed


def _ufunc(np_fn, nin, compute):
    """Register ``compute(*operands, dtypes)`` as NumPy's ufunc ``np_fn``: NumPy's
    calling convention (positional operands, ``dtype=``; ``out=``/``where=`` rejected),
    ``dtypes`` = NumPy's output dtype(s) for these operands."""
    name = np_fn.__name__

    def f(*args, out=None, where=True, **kwargs):
        if len(args) != nin:
            raise FuncdiffTypeError(f"`{name}` takes {nin} positional operand(s), got "
                                    f"{len(args)}")
        dtype = _no_out(name, out, where, kwargs)
        ops = [operand(a) for a in args]
        res = compute(*ops, result_dtype(np_fn, *[aval(o) for o in ops]))
        if dtype is None:
            return res
        if isinstance(res, tuple):
            return tuple(_to(r, dtype) for r in res)
        return _to(res, dtype)

    f.__name__ = f.__qualname__ = name
    return f


def _def(np_fn, nin, doc):
    def deco(compute):
        f = _ufunc(np_fn, nin, compute)
        f.__doc__ = doc
        return _export(implements(np_fn)(f))
    return deco


def _zero_grad(np_fn, nin, doc):
    """A ufunc bound to the ``ufunc`` primitive (derivative zero)."""
    name = np_fn.__name__
    return _def(np_fn, nin, doc)(lambda *a: ew.zero_grad_ufunc(name, *a[:-1]))


# --- angles -------------------------------------------------------------------------------

_RAD = np.pi / 180.0
_DEG = 180.0 / np.pi


def _scale(c):
    return lambda x, dt: ew.mul(_to(x, dt), c)


for _np_fn, _c in ((np.deg2rad, _RAD), (np.radians, _RAD), (np.rad2deg, _DEG),
                   (np.degrees, _DEG)):
    _def(_np_fn, 1, f"Like numpy.{_np_fn.__name__}: ``x * {_c!r}``.")(_scale(_c))


@implements(np.angle)
def angle(z, deg=False):
    """Like numpy.angle: ``arctan2(imag(z), real(z))`` (in degrees with ``deg``).  At 0
    the derivative is 0, as ``arctan2``'s at the origin (docs/subgradients.md)."""
    z = _strong(z)
    if aval(z).dtype.kind == "c":
        a = arctan2(pb.imag(z), pb.real(z))
    else:
        a = arctan2(0, z)
    if deg:
        a = ew.div(ew.mul(a, 180), np.pi)
    return a


# --- magnitude and sign -------------------------------------------------------------------

@_def(np.fabs, 1, "Like numpy.fabs: ``abs`` of real operands, as floats.")
def fabs(x, dt):
    return ew.abs_(_to(x, dt))


@_def(np.copysign, 2, "Like numpy.copysign: ``abs(x1)`` with the sign bit of ``x2``; "
      "d/dx1 is 0 at x1 = 0 (as abs'), d/dx2 is 0.")
def copysign(x1, x2, dt):
    a = ew.abs_(_to(x1, dt))
    return ew.select(ew.zero_grad_ufunc("signbit", _to(x2, dt)), pb.neg(a), a)


_zero_grad(np.signbit, 1, "Like numpy.signbit (boolean; no derivative).")
_zero_grad(np.spacing, 1, "Like numpy.spacing: the distance to the next float away "
           "from 0 (piecewise constant: derivative 0).")


@_def(np.heaviside, 2, "Like numpy.heaviside: 0 for x1 < 0, x2 at x1 == 0, 1 for x1 > 0 "
      "(NaN for NaN); derivative 0 in x1, 1 in x2 where x1 == 0.")
def heaviside(x1, x2, dt):
    x1, x2 = _to(x1, dt), _to(x2, dt)
    at0 = ew.select(ew.eq(x1, 0), x2, np.nan)
    return ew.select(ew.lt(x1, 0), 0.0, ew.select(ew.gt(x1, 0), 1.0, at0))


# --- max and min ignoring NaN --------------------------------------------------------------

def _fminmax(pick):
    def compute(x1, x2, dt):
        x1, x2 = _to(x1, dt), _to(x2, dt)
        m = pick(x1, x2)
        if dt.kind not in "fc":
            return m
        return ew.select(ew.isnan(x1), x2, ew.select(ew.isnan(x2), x1, m))
    return compute


fmax = _def(np.fmax, 2, "Like numpy.fmax: ``maximum`` ignoring a NaN operand.  The "
            "tangent is that of the operand returned; ties split it evenly (as "
            "``maximum``).")(_fminmax(ew.maximum))
fmin = _def(np.fmin, 2, "Like numpy.fmin: ``minimum`` ignoring a NaN operand (tangents "
            "as ``fmax``).")(_fminmax(ew.minimum))


# --- powers, logarithms, exponents ----------------------------------------------------------

@_def(np.float_power, 2, "Like numpy.float_power: ``power`` in at least float64 (a Python "
      "scalar exponent stays one, so ``power``'s rules for constant exponents apply).")
def float_power(x1, x2, dt):
    return ew.power(_to(x1, dt), x2 if type(x2) in (int, float, complex) else _to(x2, dt))


_LN2 = float(np.log(2.0))


@_def(np.logaddexp2, 2, "Like numpy.logaddexp2: ``logaddexp(x1 ln2, x2 ln2) / ln2``, so "
      "its derivative ``2**(x - out)`` is exact over the whole float range.")
def logaddexp2(x1, x2, dt):
    return ew.div(ew.logaddexp(ew.mul(_to(x1, dt), _LN2), ew.mul(_to(x2, dt), _LN2)), _LN2)


@_def(np.ldexp, 2, "Like numpy.ldexp: ``x1 * 2**x2`` exactly (integer ``x2``); linear "
      "in ``x1``.")
def ldexp(x1, x2, dt):
    return ew.ldexp(x1, x2)


@_def(np.frexp, 1, "Like numpy.frexp: ``(m, e)`` with ``x = m * 2**e``, ``0.5 <= |m| < "
      "1`` (``(x, 0)`` for 0, inf, NaN).  ``dm/dx = 2**-e``; ``e`` is an integer.")
def frexp(x, dts):
    x = _to(x, dts[0])
    regular = ew.logical_and(ew.isfinite(x), ew.ne(x, 0))
    # floor(log2|x|) + 1 is the exponent up to one step of rounding; ldexp (exact)
    # then tells which way to correct it
    ax = ew.select(regular, ew.abs_(x), 1.0)
    e = pb.add(pb.convert_element_type(ew.floor(ew.log2(ax)), dtype=dts[1]), 1)
    am = ew.abs_(ew.ldexp(x, pb.neg(e)))
    up = pb.convert_element_type(ew.logical_and(regular, ew.ge(am, 1.0)), dtype=dts[1])
    down = pb.convert_element_type(ew.logical_and(regular, ew.lt(am, 0.5)), dtype=dts[1])
    e = ew.select(regular, ew.sub(pb.add(e, up), down), 0)
    return ew.ldexp(x, pb.neg(e)), e


@_def(np.modf, 1, "Like numpy.modf: ``(frac, whole)`` with ``whole = trunc(x)`` "
      "(derivative 0) and ``frac`` of ``x``'s sign (derivative 1).")
def modf(x, dts):
    x = _to(x, dts[0])
    whole = ew.trunc(x)
    neg = ew.zero_grad_ufunc("signbit", x)
    # x - trunc(x) has C's sign: -(trunc(x) - x) for negative x (so -2.0 gives -0.0)
    frac = ew.select(neg, pb.neg(ew.sub(whole, x)), ew.sub(x, whole))
    zero = np.zeros((), dts[0])
    frac = ew.select(ew.isinf(x), ew.select(neg, -zero, zero), frac)
    return frac, whole


@_def(np.divmod, 2, "Like numpy.divmod: ``(floor_divide, remainder)``.")
def divmod(x1, x2, dts):  # noqa: A001
    return floor_divide(x1, x2), remainder(x1, x2)


@_def(np.nextafter, 2, "Like numpy.nextafter: the next float after x1 towards x2; "
      "slope 1 in x1, 0 in x2.")
def nextafter(x1, x2, dt):
    return ew.nextafter(_to(x1, dt), _to(x2, dt))


@implements(np.i0)
def i0(x):
    """Like numpy.i0 (the modified Bessel function of order 0); derivative ``i1``."""
    x = _strong(x)
    if aval(x).dtype.kind == "c":
        raise FuncdiffTypeError("i0 not supported for complex values")
    dt = result_dtype(np.i0, aval(x))
    work = dt if dt in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)
    return _to(_i0(_to(x, work)), dt)


# --- integers and bits ---------------------------------------------------------------------

_zero_grad(np.gcd, 2, "Like numpy.gcd (integers).")
_zero_grad(np.lcm, 2, "Like numpy.lcm (integers).")
_zero_grad(np.left_shift, 2, "Like numpy.left_shift (integers).")
_zero_grad(np.right_shift, 2, "Like numpy.right_shift (integers).")
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift  # noqa: F821
if hasattr(np, "bitwise_count"):   # NumPy >= 2.0
    _zero_grad(np.bitwise_count, 1, "Like numpy.bitwise_count: the 1 bits of |x|, uint8.")


def _bits_axis(x, axis):
    """``x`` flattened (``axis=None``) or with ``axis`` moved last; and how to undo it."""
    if axis is None:
        return pb.reshape(x, (aval(x).size,)), lambda y: y
    nd = aval(x).ndim
    (ax,) = canonical_axes(axis, nd)
    perm = tuple(i for i in range(nd) if i != ax) + (ax,)
    inv = tuple(int(i) for i in np.argsort(perm))
    return pb.transpose(x, perm), lambda y: pb.transpose(y, inv)


def _bit_weights(bitorder):
    if bitorder not in ("big", "little"):
        raise FuncdiffValueError("'order' must be either 'little' or 'big'")
    w = 2 ** np.arange(8, dtype=np.uint8)
    return w[::-1] if bitorder == "big" else w


@implements(np.packbits)
def packbits(a, /, axis=None, bitorder="big"):
    """Like numpy.packbits: nonzero elements as bits, 8 to a uint8 (zero-padded at the
    end).  Integer or boolean input only; no derivative."""
    x = _strong(a)
    if aval(x).dtype.kind not in "biu":
        raise FuncdiffTypeError("Expected an input array of integer or boolean data type")
    w = _bit_weights(bitorder)
    x, back = _bits_axis(ew.ne(x, 0), axis)
    shape = aval(x).shape
    n = shape[-1]
    nb = -(-n // 8)
    bits = pb.convert_element_type(x, dtype=np.uint8)
    bits = sh.pad(bits, np.uint8(0), tuple((0, 0, 0) for _ in shape[:-1]) +
                  ((0, 8 * nb - n, 0),))
    bits = pb.reshape(bits, shape[:-1] + (nb, 8))
    packed = pb.convert_element_type(
        pb.reduce_sum(ew.mul(bits, w), (len(shape),)), dtype=np.uint8)
    return back(packed)


@implements(np.unpackbits)
def unpackbits(a, /, axis=None, count=None, bitorder="big"):
    """Like numpy.unpackbits: each uint8 as 8 bits (``count`` keeps that many, padding
    with zeros); no derivative."""
    x = _strong(a)
    if aval(x).dtype != np.uint8:
        raise FuncdiffTypeError("Expected an input array of unsigned byte data type")
    w = _bit_weights(bitorder)
    x, back = _bits_axis(x, axis)
    shape = aval(x).shape
    n = shape[-1]
    bits = ew.bitwise_and(ew.zero_grad_ufunc(
        "right_shift", pb.reshape(x, shape + (1,)), np.log2(w).astype(np.uint8)), 1)
    bits = pb.convert_element_type(bits, dtype=np.uint8)
    bits = pb.reshape(bits, shape[:-1] + (8 * n,))
    if count is not None:
        count = operator.index(count)
        keep = count if count >= 0 else max(8 * n + count, 0)
        lead = tuple((0, 0, 0) for _ in shape[:-1])
        bits = sh.pad(bits, np.uint8(0), lead + ((0, keep - 8 * n, 0),))
    return back(bits)


__all__ += ["packbits", "unpackbits"]


# --- infinities and NaN ----------------------------------------------------------------------

def _isinf_signed(name, negative):
    def f(x, out=None):
        if out is not None:
            raise FuncdiffTypeError(f"`{name}`: out= is not supported on traced values; "
                                    "use the returned value")
        x = _strong(x)
        try:
            sign = ew.zero_grad_ufunc("signbit", x)
        except TypeError as e:
            raise FuncdiffTypeError(
                f"This operation is not supported for {aval(x).dtype} values because it "
                "would be ambiguous.") from e
        return ew.logical_and(ew.isinf(x), sign if negative else ew.logical_not(sign))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Like numpy.{name} (boolean)."
    return f


isposinf = _export(implements(np.isposinf)(_isinf_signed("isposinf", False)))
isneginf = _export(implements(np.isneginf)(_isinf_signed("isneginf", True)))


@_export
@implements(np.fix)
def fix(x, out=None):
    """Like numpy.fix: round toward zero.  That is ``trunc`` (same values, same dtype
    as NumPy's ``ceil``/``floor`` composition), derivative 0."""
    _no_out("fix", out, True, {})
    return ew.trunc(operand(x))


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Like numpy.nan_to_num (real and imaginary parts separately).  The derivative is
    1 where ``x`` is finite and 0 where a value is replaced (JAX's convention); traced
    replacement values receive the derivative where they are used."""
    x = _strong(x)
    dt = aval(x).dtype
    if dt.kind not in "fc":
        return x
    real_dt = np.empty(0, dt).real.dtype
    info = np.finfo(real_dt)
    fills = [_to(operand(v), real_dt) for v in (
        nan, info.max if posinf is None else posinf, info.min if neginf is None else neginf)]

    def fix(d):
        d2 = ew.select(ew.isnan(d), fills[0], d)
        d2 = ew.select(ew.eq(d, np.inf), fills[1], d2)
        return ew.select(ew.eq(d, -np.inf), fills[2], d2)

    if dt.kind == "c":
        return pb.make_complex(fix(pb.real(x)), fix(pb.imag(x)))
    return fix(x)


__all__ += ["angle", "i0", "nan_to_num"]


# --- ufunc.reduce / ufunc.accumulate for the associative ones ---------------------------------

def _fold(f, x):
    """``f``-reduce the last axis (length >= 1) by halving: adjacent pairs combine, an odd
    element is carried (``f`` associative, so the result is the sequential one)."""
    while True:
        shape = aval(x).shape
        n = shape[-1]
        if n == 1:
            return pb.reshape(x, shape[:-1])
        h, lead = n // 2, shape[:-1]
        pairs = pb.reshape(sh.slice_(x, (0,) * len(shape), lead + (2 * h,)), lead + (h, 2))
        z = (0,) * len(lead)
        y = f(pb.reshape(sh.slice_(pairs, z + (0, 0), lead + (h, 1)), lead + (h,)),
              pb.reshape(sh.slice_(pairs, z + (0, 1), lead + (h, 2)), lead + (h,)))
        if n % 2:
            y = sh.concatenate([y, sh.slice_(x, z + (n - 1,), shape)], len(lead))
        x = y


def _prefix(f, x):
    """Inclusive ``f``-scan of the last axis in log2(n) steps (Hillis-Steele)."""
    shape = aval(x).shape
    n, lead, z = shape[-1], shape[:-1], (0,) * (len(shape) - 1)
    s = 1
    while s < n:
        y = f(sh.slice_(x, z + (0,), lead + (n - s,)), sh.slice_(x, z + (s,), shape))
        x = sh.concatenate([sh.slice_(x, z + (0,), lead + (s,)), y], len(lead))
        s *= 2
    return x


def _last(x, axes):
    """``x`` with ``axes`` moved to the end and merged into one."""
    shape = aval(x).shape
    keep = [i for i in range(len(shape)) if i not in axes]
    x = pb.transpose(x, tuple(keep) + tuple(axes))
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    return pb.reshape(x, tuple(shape[i] for i in keep) + (n,))


def _ufunc_reduce(u, f, nan_extremum=None):
    """``u.reduce`` by ``_fold`` with ``f``; ``nan_extremum`` (fmax/fmin): floats reduce
    with that ``max``/``min`` on NaN-masked values instead, so ties split evenly as in
    ``numpy.max``."""
    name = f"{u.__name__}.reduce"

    def reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
               where=True):
        _no_out(name, out, where, {})
        x = _strong(array)
        if dtype is not None:
            x = _to(x, np.dtype(dtype))
        shape = aval(x).shape
        axes = canonical_axes(axis, len(shape))
        if u is np.lcm and len(axes) > 1:
            raise FuncdiffValueError("reduction operation 'lcm' is not reorderable, so at "
                                     "most one axis may be specified")
        dt = result_dtype(u, aval(x), aval(x))
        x = _to(x, dt)
        empty = any(shape[a] == 0 for a in axes)
        if nan_extremum is not None and dt.kind == "f" and not empty:
            fill = -np.inf if nan_extremum is _max else np.inf
            nans = ew.isnan(x)
            r = nan_extremum(ew.select(nans, fill, x), axis=axes, keepdims=keepdims)
            r = ew.select(_all(nans, axis=axes, keepdims=keepdims), np.nan, r)
        elif empty:
            if u.identity is None and initial is np._NoValue:
                raise FuncdiffValueError(f"zero-size array to reduction operation "
                                         f"{u.__name__} which has no identity")
            out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)
                              if keepdims or i not in axes)
            r = pb.full(out_shape, u.identity if initial is np._NoValue else 0, dt)
            if initial is not np._NoValue:
                return _to(pb.add(r, operand(initial)), dt)
            return r
        else:
            r = _fold(f, _last(x, axes)) if axes else x
            if keepdims:
                r = pb.reshape(r, tuple(1 if i in axes else d for i, d in enumerate(shape)))
        if initial is not np._NoValue:
            r = _to(f(operand(initial), r), dt)
        return r

    reduce.__doc__ = f"NumPy's ``{name}`` (axis 0 by default)."
    return reduce


def _ufunc_accumulate(u, f):
    name = f"{u.__name__}.accumulate"

    def accumulate(array, axis=0, dtype=None, out=None):
        _no_out(name, out, True, {})
        x = _strong(array)
        if dtype is not None:
            x = _to(x, np.dtype(dtype))
        nd = aval(x).ndim
        if nd == 0:
            raise FuncdiffTypeError("cannot accumulate on a scalar")
        (ax,) = canonical_axes(axis, nd)
        x = _to(x, result_dtype(u, aval(x), aval(x)))
        perm = tuple(i for i in range(nd) if i != ax) + (ax,)
        y = _prefix(f, pb.transpose(x, perm))
        return pb.transpose(y, tuple(int(i) for i in np.argsort(perm)))

    accumulate.__doc__ = f"NumPy's ``{name}``."
    return accumulate


def _gcd(a, b):
    return ew.zero_grad_ufunc("gcd", a, b)


def _lcm(a, b):
    return ew.zero_grad_ufunc("lcm", a, b)


for _u, _f, _ext in [(np.fmax, fmax.traced, _max), (np.fmin, fmin.traced, _min),
                     (np.logaddexp2, logaddexp2.traced, None), (np.gcd, _gcd, None),
                     (np.lcm, _lcm, None), (np.bitwise_and, ew.bitwise_and, None),
                     (np.bitwise_or, ew.bitwise_or, None),
                     (np.bitwise_xor, ew.bitwise_xor, None)]:
    UFUNC_METHODS[(_u, "reduce")] = _ufunc_reduce(_u, _f, _ext)
    UFUNC_METHODS[(_u, "accumulate")] = _ufunc_accumulate(_u, _f)
