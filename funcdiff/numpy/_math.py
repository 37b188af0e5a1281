"""Elementwise functions (NumPy's ufuncs) and the compositions built from them."""
from __future__ import annotations

import operator

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..primitives import base as pb, elementwise as ew
from ..primitives.base import result_dtype
from ._core import UFUNC_METHODS, aval, implements, operand
from ._indexing import _nonzero
from ._sizes import implements_sized

__all__: list[str] = []


def _no_out(name, out, where, kwargs):
    if out is not None or where is not True:
        raise FuncdiffTypeError(
            f"`{name}`: out= and where= are not supported on traced values: arrays are "
            "immutable under transforms.  Use the returned value (and funcdiff.numpy."
            "where(mask, a, b) for masking).")
    if kwargs.get("dtype") is not None:
        return np.dtype(kwargs["dtype"])
    return None


def _export(f, name):
    globals()[name] = f
    __all__.append(name)
    return f


def _cast(x, dtype):
    return x if dtype is None else pb.convert_element_type(x, dtype=dtype)


def _prim_of(bind):
    """The primitive ``bind`` just binds (elementwise binders say which), else None."""
    return getattr(bind, "primitive", None)


def unary(name, np_fn, bind):
    def f(x, /, out=None, *, where=True, **kwargs):
        dtype = _no_out(name, out, where, kwargs)
        return _cast(bind(operand(x)), dtype)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"NumPy's ``{np_fn.__name__}`` (traceable and differentiable)."
    return _export(implements(np_fn, nin=1, prim=_prim_of(bind))(f), name)


def binary(name, np_fn, bind):
    def f(x1, x2, /, out=None, *, where=True, **kwargs):
        dtype = _no_out(name, out, where, kwargs)
        return _cast(bind(operand(x1), operand(x2)), dtype)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"NumPy's ``{np_fn.__name__}`` (traceable; broadcasts as NumPy does)."
    return _export(implements(np_fn, nin=2, prim=_prim_of(bind))(f), name)


def _rint(x):
    # np.rint of ints and bools is floating (np.round keeps ints): cast first
    dt = result_dtype(np.rint, aval(x))
    return ew.round_(_cast(x, dt) if dt != aval(x).dtype else x)


for _name, _np, _bind in [
        ("negative", np.negative, pb.neg), ("sin", np.sin, ew.sin), ("cos", np.cos, ew.cos),
        ("tan", np.tan, ew.tan), ("arcsin", np.arcsin, ew.asin),
        ("arccos", np.arccos, ew.acos), ("arctan", np.arctan, ew.atan),
        ("sinh", np.sinh, ew.sinh), ("cosh", np.cosh, ew.cosh), ("tanh", np.tanh, ew.tanh),
        ("arcsinh", np.arcsinh, ew.asinh), ("arccosh", np.arccosh, ew.acosh),
        ("arctanh", np.arctanh, ew.atanh), ("exp", np.exp, ew.exp),
        ("exp2", np.exp2, ew.exp2), ("expm1", np.expm1, ew.expm1), ("log", np.log, ew.log),
        ("log2", np.log2, ew.log2), ("log10", np.log10, ew.log10),
        ("log1p", np.log1p, ew.log1p), ("sqrt", np.sqrt, ew.sqrt), ("cbrt", np.cbrt, ew.cbrt),
        ("square", np.square, ew.square), ("reciprocal", np.reciprocal, ew.reciprocal),
        ("absolute", np.absolute, ew.abs_), ("sign", np.sign, ew.sign),
        ("floor", np.floor, ew.floor), ("ceil", np.ceil, ew.ceil), ("rint", np.rint, _rint),
        ("trunc", np.trunc, ew.trunc), ("conjugate", np.conjugate, pb.conj),
        ("logical_not", np.logical_not, ew.logical_not), ("isfinite", np.isfinite, ew.isfinite),
        ("isnan", np.isnan, ew.isnan), ("isinf", np.isinf, ew.isinf),
        ("invert", np.invert, ew.invert)]:
    unary(_name, _np, _bind)

def _power(x, y):
    """``pow``, with a boolean base first cast to the result's dtype: NumPy's operator
    ``bool_array ** 2`` (what jit's code would run) gives int8, ``np.power`` int64."""
    if aval(x).dtype.kind == "b":
        dt = result_dtype(np.power, aval(x), aval(y))
        if dt.kind != "b":
            x = _cast(x, dt)
    return ew.power(x, y)


for _name, _np, _bind in [
        ("add", np.add, pb.add), ("subtract", np.subtract, ew.sub),
        ("multiply", np.multiply, ew.mul), ("divide", np.divide, ew.div),
        ("power", np.power, _power), ("maximum", np.maximum, ew.maximum),
        ("minimum", np.minimum, ew.minimum), ("arctan2", np.arctan2, ew.atan2),
        ("remainder", np.remainder, ew.rem), ("fmod", np.fmod, ew.fmod),
        ("floor_divide", np.floor_divide, ew.floor_divide),
        ("logaddexp", np.logaddexp, ew.logaddexp), ("hypot", np.hypot, ew.hypot),
        ("equal", np.equal, ew.eq), ("not_equal", np.not_equal, ew.ne),
        ("less", np.less, ew.lt), ("less_equal", np.less_equal, ew.le),
        ("greater", np.greater, ew.gt), ("greater_equal", np.greater_equal, ew.ge),
        ("logical_and", np.logical_and, ew.logical_and),
        ("logical_or", np.logical_or, ew.logical_or),
        ("logical_xor", np.logical_xor, ew.logical_xor),
        ("bitwise_and", np.bitwise_and, ew.bitwise_and),
        ("bitwise_or", np.bitwise_or, ew.bitwise_or),
        ("bitwise_xor", np.bitwise_xor, ew.bitwise_xor)]:
    binary(_name, _np, _bind)

# aliases NumPy itself has
true_divide = divide  # noqa: F821
abs = absolute  # noqa: F821,A001
conj = conjugate  # noqa: F821
mod = remainder  # noqa: F821
__all__ += ["true_divide", "abs", "conj", "mod"]
FUNCTIONS_ALIAS = {np.abs: absolute}  # noqa: F821


@implements(np.positive)
def positive(x, /, out=None, *, where=True, **kwargs):
    """NumPy's ``positive``: the identity (booleans are rejected, as by NumPy)."""
    dtype = _no_out("positive", out, where, kwargs)
    x = operand(x)
    a = aval(x)
    if a.dtype == np.bool_:
        raise FuncdiffTypeError("ufunc 'positive' did not contain a loop with signature "
                                "matching types bool")
    if a.weak_type:  # np.positive(2.0) is a float64, not a weak scalar
        x = pb.convert_element_type(x, dtype=a.dtype)
    return _cast(x, dtype)


@implements(np.around)
def round(a, decimals=0, out=None):  # noqa: A001
    """NumPy's ``round``/``around``: ``rint(x * 10**d) / 10**d``, or for ``d < 0``
    ``rint(x / 10**-d) * 10**-d``, as NumPy computes it (so halves round to even, and
    floats round exactly as NumPy's).  Integers keep their dtype: unchanged for
    ``d >= 0``, rounded to multiples of ``10**-d`` (through float64, as NumPy) else;
    booleans round only with ``d = 0`` (to float16, as ``rint``)."""
    _no_out("round", out, True, {})
    decimals = operator.index(decimals)
    x = operand(a)
    dt = aval(x).dtype
    if dt.kind == "b":
        if decimals != 0:
            raise FuncdiffTypeError(
                f"round: cannot round booleans to {decimals} decimals (NumPy's ufunc "
                "output would not cast back to bool); convert to a number first")
        return _rint(x)
    if dt.kind in "iu":
        if decimals >= 0:
            return x
        f = 10 ** -decimals
        r = ew.mul(ew.round_(ew.div(_cast(x, np.dtype(np.float64)), float(f))), float(f))
        return _cast(r, dt)
    if decimals == 0:
        return ew.round_(x)
    if dt.kind == "c":   # NumPy rounds the parts separately (complex division differs)
        return pb.make_complex(round(pb.real(x), decimals), round(pb.imag(x), decimals))
    if decimals > 0:
        scale = 10.0 ** decimals
        return ew.div(ew.round_(ew.mul(x, scale)), scale)
    scale = 10.0 ** -decimals
    return ew.mul(ew.round_(ew.div(x, scale)), scale)


around = round
__all__ += ["positive", "round", "around"]


@implements(np.real)
def real(val):
    return pb.real(operand(val))


@implements(np.imag)
def imag(val):
    return pb.imag(operand(val))


@implements_sized(np.where)
def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """NumPy's ``where``.  With one argument it is ``nonzero(condition)``, and takes
    JAX's ``size=``/``fill_value=`` (see ``nonzero``)."""
    if x is None and y is None:
        return _nonzero(condition, size, fill_value, "where")
    if x is None or y is None:
        raise FuncdiffValueError("either both or neither of x and y should be given")
    if size is not None or fill_value is not None:
        raise FuncdiffValueError("`where`: size= and fill_value= apply to the one-argument "
                                 "form where(condition) only")
    c = operand(condition)
    if aval(c).dtype != np.dtype(bool):
        c = ew.ne(c, 0)
    return ew.select(c, operand(x), operand(y))


@implements(np.clip)
def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,  # noqa: A002
         max=np._NoValue, **kwargs):  # noqa: A002
    """``minimum(maximum(a, a_min), a_max)``: at the bounds the tangent is split evenly
    (the tie convention of ``maximum``/``minimum``)."""
    _no_out("clip", out, True, {})
    lo = min if a_min is np._NoValue else a_min
    hi = max if a_max is np._NoValue else a_max
    x = operand(a)
    dt = aval(x).dtype
    if dt.kind in "iu":
        # NumPy 2's _clip: a Python int bound beyond the integer dtype's range clips
        # nothing (instead of promoting, or overflowing)
        info = np.iinfo(dt)
        if type(lo) is int and lo <= info.min:
            lo = None
        if type(hi) is int and hi >= info.max:
            hi = None
    if lo is not None and lo is not np._NoValue:
        x = ew.maximum(x, operand(lo))
    if hi is not None and hi is not np._NoValue:
        x = ew.minimum(x, operand(hi))
    return x


__all__ += ["real", "imag", "where", "clip"]
UFUNC_METHODS  # reductions register add.reduce etc. in _reductions


_SINC_TAYLOR = 1e-3   # |pi x| below this: the Taylor series is exact to float64


@implements(np.sinc)
def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0.  Near 0 a Taylor polynomial is used (exact in
    float64 there), so every derivative order is finite and right at 0 (sinc'(0) = 0,
    sinc''(0) = -pi**2/3)."""
    x = operand(x)
    if aval(x).dtype.kind not in "fc":
        x = pb.convert_element_type(x, dtype=np.float64)
    px = ew.mul(x, np.pi)
    small = ew.lt(ew.abs_(px), _SINC_TAYLOR)
    safe = ew.select(small, 1.0, px)
    p2 = ew.square(ew.select(small, px, 0.0))
    taylor = pb.add(ew.sub(1.0, ew.div(p2, 6.0)), ew.div(ew.square(p2), 120.0))
    return ew.select(small, taylor, ew.div(ew.sin(safe), safe))


__all__ += ["sinc"]
