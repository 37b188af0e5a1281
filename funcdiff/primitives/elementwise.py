"""Elementwise primitives: NumPy ufuncs with NumPy's broadcasting and dtype promotion.

Each primitive is defined by one table row or one short block: its NumPy function, its
jvp (written with these same primitives, so it differentiates again), and, for linear
ones, its transpose.  Binary primitives broadcast implicitly as NumPy does; their
transposes use the one ``unbroadcast``.

Subgradient conventions (see docs/subgradients.md): at ties ``maximum``/``minimum`` split
the tangent evenly (so ``abs``, ``sign``, ``clip`` and ``relu`` agree at their kinks);
``abs'(0) = sign(0) = 0``; ``sign``, ``floor``, ``ceil``, ``round`` have derivative 0.
"""
from __future__ import annotations

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError
from ..core.trace import Primitive
from .base import (defvectorized, _PY, Zero, _binder, _elementwise_cost, _impl, _linear_binop_transpose,
                   add, add_tangents, aval, broadcast_shapes, broadcasting_batcher,
                   convert_element_type, defbroadcasting, defjvp, defjvp_out, defjvp_zero,
                   conj, elementwise, fit_to, is_undefined, neg, real,
                   result_dtype, unbroadcast)

# --- arithmetic ------------------------------------------------------------------------

sub_p = elementwise("sub", np.subtract, emit="{0} - {1}", numexpr="({0}-{1})",
                    float_literal_ok=True, py_kinds="iufc")
mul_p = elementwise("mul", np.multiply, emit="{0} * {1}", numexpr="({0}*{1})",
                    float_literal_ok=True, py_kinds="iufc")
div_p = elementwise("div", np.true_divide, emit="{0} / {1}", numexpr="({0}/{1})",
                    float_literal_ok=True, py_kinds="")
sub, mul, div = map(_binder, (sub_p, mul_p, div_p))


defjvp(sub_p, lambda t, x, y: t, lambda t, x, y: neg(t))
sub_p.transpose = _linear_binop_transpose(-1)
sub_p.linear = True

# mul and div are linear in one operand at a time (the other is a residual)
defjvp(mul_p, lambda t, x, y: mul(t, y), lambda t, x, y: mul(x, t))


def _mul_transpose(ct, x, y):
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen()) if is_undefined(x) else None,
                Zero(aval(y).strengthen()) if is_undefined(y) else None]
    if is_undefined(x) and is_undefined(y):
        raise FuncdiffTypeError("transpose of `mul` with both operands linear: the "
                                "program is not linear in its tangents")
    if is_undefined(x):
        return [unbroadcast(mul(ct, y), aval(x)), None]
    return [None, unbroadcast(mul(x, ct), aval(y))]


mul_p.transpose = _mul_transpose
mul_p.linear = True

defjvp(div_p, lambda t, x, y: div(t, y),
       lambda t, x, y: neg(mul(t, div(div(x, y), y))))


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise FuncdiffTypeError("transpose of `div` in its denominator: the program is "
                                "not linear in its tangents")
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen()), None]
    return [unbroadcast(div(ct, y), aval(x)), None]


div_p.transpose = _div_transpose
div_p.linear = True

# --- unary math --------------------------------------------------------------------------

sin_p = elementwise("sin", np.sin, transcendental=True, numexpr="sin({0})")
cos_p = elementwise("cos", np.cos, transcendental=True, numexpr="cos({0})")
tan_p = elementwise("tan", np.tan, transcendental=True, numexpr="tan({0})")
asin_p = elementwise("asin", np.arcsin, transcendental=True, numexpr="arcsin({0})")
acos_p = elementwise("acos", np.arccos, transcendental=True, numexpr="arccos({0})")
atan_p = elementwise("atan", np.arctan, transcendental=True, numexpr="arctan({0})")
sinh_p = elementwise("sinh", np.sinh, transcendental=True, numexpr="sinh({0})")
cosh_p = elementwise("cosh", np.cosh, transcendental=True, numexpr="cosh({0})")
tanh_p = elementwise("tanh", np.tanh, transcendental=True, numexpr="tanh({0})")
asinh_p = elementwise("asinh", np.arcsinh, transcendental=True, numexpr="arcsinh({0})")
acosh_p = elementwise("acosh", np.arccosh, transcendental=True, numexpr="arccosh({0})")
atanh_p = elementwise("atanh", np.arctanh, transcendental=True, numexpr="arctanh({0})")
exp_p = elementwise("exp", np.exp, transcendental=True, numexpr="exp({0})")
exp2_p = elementwise("exp2", np.exp2, transcendental=True)
expm1_p = elementwise("expm1", np.expm1, transcendental=True, numexpr="expm1({0})")
log_p = elementwise("log", np.log, transcendental=True, numexpr="log({0})")
log2_p = elementwise("log2", np.log2, transcendental=True)
log10_p = elementwise("log10", np.log10, transcendental=True, numexpr="log10({0})")
log1p_p = elementwise("log1p", np.log1p, transcendental=True, numexpr="log1p({0})")
sqrt_p = elementwise("sqrt", np.sqrt, transcendental=True, numexpr="sqrt({0})")
cbrt_p = elementwise("cbrt", np.cbrt, transcendental=True)
square_p = elementwise("square", np.square, numexpr="({0}*{0})")
reciprocal_p = elementwise("reciprocal", np.reciprocal, numexpr="(1.0/{0})")
abs_p = elementwise("abs", np.absolute, emit="np.abs({0})", numexpr="abs({0})")

(sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh, exp, exp2, expm1,
 log, log2, log10, log1p, sqrt, cbrt, square, reciprocal, abs_) = map(_binder, (
    sin_p, cos_p, tan_p, asin_p, acos_p, atan_p, sinh_p, cosh_p, tanh_p, asinh_p,
    acosh_p, atanh_p, exp_p, exp2_p, expm1_p, log_p, log2_p, log10_p, log1p_p, sqrt_p,
    cbrt_p, square_p, reciprocal_p, abs_p))

_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))

defjvp(sin_p, lambda t, x: mul(t, cos(x)))
defjvp(cos_p, lambda t, x: neg(mul(t, sin(x))))
defjvp_out(tan_p, lambda t, out, x: mul(t, add(1, square(out))))
defjvp(asin_p, lambda t, x: div(t, sqrt(sub(1, square(x)))))
defjvp(acos_p, lambda t, x: neg(div(t, sqrt(sub(1, square(x))))))
defjvp(atan_p, lambda t, x: div(t, add(1, square(x))))
defjvp(sinh_p, lambda t, x: mul(t, cosh(x)))
defjvp(cosh_p, lambda t, x: mul(t, sinh(x)))
defjvp_out(tanh_p, lambda t, out, x: mul(t, sub(1, square(out))))
defjvp(asinh_p, lambda t, x: div(t, sqrt(add(square(x), 1))))
defjvp(acosh_p, lambda t, x: div(t, mul(sqrt(sub(x, 1)), sqrt(add(x, 1)))))
defjvp(atanh_p, lambda t, x: div(t, sub(1, square(x))))
defjvp_out(exp_p, lambda t, out, x: mul(t, out))
defjvp_out(exp2_p, lambda t, out, x: mul(t, mul(out, _LN2)))
# exp(x), not expm1(x) + 1: that is 0 below x = -37, where exp(x) is not (boxcox's
# derivative divides it by a tiny x)
defjvp(expm1_p, lambda t, x: mul(t, exp(x)))
defjvp(log_p, lambda t, x: div(t, x))
defjvp(log2_p, lambda t, x: div(t, mul(x, _LN2)))
defjvp(log10_p, lambda t, x: div(t, mul(x, _LN10)))
defjvp(log1p_p, lambda t, x: div(t, add(x, 1)))
def _sqrt_jvp(t, out, x):
    # sqrt'(0) is taken as 0, not inf (docs/subgradients.md): then sqrt(sum(x**2)) has
    # gradient 0 at 0, as linalg.norm has, instead of 0 * inf = NaN
    zero = eq(out, 0)
    return mul(t, select(zero, 0.0, div(0.5, select(zero, 1.0, out))))


defjvp_out(sqrt_p, _sqrt_jvp)
defjvp_out(cbrt_p, lambda t, out, x: div(t, mul(square(out), 3)))
defjvp(square_p, lambda t, x: mul(t, mul(x, 2)))
defjvp_out(reciprocal_p, lambda t, out, x: neg(mul(t, square(out))))


def _abs_jvp_rule(t, x):
    if aval(x).dtype.kind == "c":
        # d|z| = Re(conj(z) dz) / |z|, with 0 at z = 0
        ax = abs_(x)
        safe = select(eq(ax, 0), 1, ax)
        return select(eq(ax, 0), 0, div(real(mul(conj(x), t)), safe))
    return mul(t, sign(x))


defjvp(abs_p, _abs_jvp_rule)

# --- piecewise constant and predicates (derivative 0) -----------------------------------

sign_p = elementwise("sign", np.sign)
floor_p = elementwise("floor", np.floor)
ceil_p = elementwise("ceil", np.ceil)
round_p = elementwise("round", np.round, emit="np.round({0})")
trunc_p = elementwise("trunc", np.trunc)
floor_divide_p = elementwise("floor_divide", np.floor_divide, emit="{0} // {1}",
                             py_kinds="")
sign, floor, ceil, round_, trunc, floor_divide = map(_binder, (
    sign_p, floor_p, ceil_p, round_p, trunc_p, floor_divide_p))

_BOOL = np.dtype(bool)
eq_p = elementwise("eq", np.equal, out_dtype=_BOOL, emit="{0} == {1}")
ne_p = elementwise("ne", np.not_equal, out_dtype=_BOOL, emit="{0} != {1}")
lt_p = elementwise("lt", np.less, out_dtype=_BOOL, emit="{0} < {1}")
le_p = elementwise("le", np.less_equal, out_dtype=_BOOL, emit="{0} <= {1}")
gt_p = elementwise("gt", np.greater, out_dtype=_BOOL, emit="{0} > {1}")
ge_p = elementwise("ge", np.greater_equal, out_dtype=_BOOL, emit="{0} >= {1}")
and_p = elementwise("and", np.logical_and, out_dtype=_BOOL)
or_p = elementwise("or", np.logical_or, out_dtype=_BOOL)
xor_p = elementwise("xor", np.logical_xor, out_dtype=_BOOL)
not_p = elementwise("not", np.logical_not, out_dtype=_BOOL)
isfinite_p = elementwise("isfinite", np.isfinite, out_dtype=_BOOL)
isnan_p = elementwise("isnan", np.isnan, out_dtype=_BOOL)
isinf_p = elementwise("isinf", np.isinf, out_dtype=_BOOL)
bitwise_and_p = elementwise("bitwise_and", np.bitwise_and, emit="{0} & {1}")
bitwise_or_p = elementwise("bitwise_or", np.bitwise_or, emit="{0} | {1}")
bitwise_xor_p = elementwise("bitwise_xor", np.bitwise_xor, emit="{0} ^ {1}")
invert_p = elementwise("invert", np.invert, emit="~{0}", py_kinds="iu")
(eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor, logical_not, isfinite, isnan,
 isinf, bitwise_and, bitwise_or, bitwise_xor, invert) = map(_binder, (
    eq_p, ne_p, lt_p, le_p, gt_p, ge_p, and_p, or_p, xor_p, not_p, isfinite_p, isnan_p,
    isinf_p, bitwise_and_p, bitwise_or_p, bitwise_xor_p, invert_p))

for _p in (sign_p, floor_p, ceil_p, round_p, trunc_p, floor_divide_p, eq_p, ne_p, lt_p,
           le_p, gt_p, ge_p, and_p, or_p, xor_p, not_p, isfinite_p, isnan_p, isinf_p,
           bitwise_and_p, bitwise_or_p, bitwise_xor_p, invert_p):
    defjvp_zero(_p)

# --- stop_gradient ---------------------------------------------------------------------

stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.abstract_eval = lambda x: x
stop_gradient_p.cost = lambda ai, ao: {"flops": 0, "transcendentals": 0}
stop_gradient_p.emit = "{0}"
stop_gradient_p.returns_view = True
defjvp_zero(stop_gradient_p)
defvectorized(stop_gradient_p)

# --- select (NumPy's where) ---------------------------------------------------------------

select_p = Primitive("select")
select_p.sparsity = "elementwise"
select_p.np_fn = np.where
select_p.impl = _impl(np.where)
select_p.emit = "np.where({0}, {1}, {2})"


def _select_abstract(pred, x, y):
    if pred.dtype != _BOOL:
        raise FuncdiffTypeError(f"`select`: the predicate must be boolean, got "
                                f"{pred.str_short()}")
    shape = broadcast_shapes("where", pred.shape, x.shape, y.shape)
    dtype = result_dtype(np.add, x, y) if x.dtype != y.dtype or x.weak_type != y.weak_type \
        else x.dtype
    return ShapedArray(shape, dtype, x.weak_type and y.weak_type and pred.weak_type)


select_p.abstract_eval = _select_abstract
select_p.cost = _elementwise_cost(False)


def select(pred, x, y):
    return select_p.bind(pred, x, y)


def _select_jvp(primals, tangents):
    pred, x, y = primals
    _, tx, ty = tangents
    out = select(pred, x, y)
    oa = aval(out)
    if type(tx) is Zero and type(ty) is Zero:
        return out, Zero(oa.strengthen())
    zero = np.zeros((), oa.dtype)[()]
    tx = zero if type(tx) is Zero else tx
    ty = zero if type(ty) is Zero else ty
    return out, fit_to(select(pred, tx, ty), oa)


def _select_transpose(ct, pred, x, y):
    if is_undefined(pred):
        raise FuncdiffTypeError("`select`: the predicate cannot be linear")
    out = [None]
    for operand, first in ((x, True), (y, False)):
        if not is_undefined(operand):
            out.append(None)
        elif type(ct) is Zero:
            out.append(Zero(aval(operand).strengthen()))
        else:
            zero = np.zeros((), aval(ct).dtype)[()]
            picked = select(pred, ct, zero) if first else select(pred, zero, ct)
            out.append(unbroadcast(picked, aval(operand)))
    return out


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose
select_p.linear = True
defbroadcasting(select_p)

# --- binary math ----------------------------------------------------------------------

max_p = elementwise("max", np.maximum)
min_p = elementwise("min", np.minimum)
pow_p = elementwise("pow", np.power, transcendental=True, emit="{0} ** {1}",
                    py_kinds="")
atan2_p = elementwise("atan2", np.arctan2, transcendental=True, numexpr="arctan2({0},{1})")
rem_p = elementwise("rem", np.remainder, emit="{0} % {1}", py_kinds="")
fmod_p = elementwise("fmod", np.fmod)
logaddexp_p = elementwise("logaddexp", np.logaddexp, transcendental=True)
hypot_p = elementwise("hypot", np.hypot, transcendental=True)
maximum, minimum, power, atan2, rem, fmod, logaddexp, hypot = map(_binder, (
    max_p, min_p, pow_p, atan2_p, rem_p, fmod_p, logaddexp_p, hypot_p))


def _balanced(cmp):
    """Tangent weight for maximum/minimum: 1 where x wins, 1/2 at ties, 0 else."""
    def weight(x, y):
        dt = aval(x).dtype
        return add(convert_element_type(cmp(x, y), dtype=dt),
                   mul(convert_element_type(eq(x, y), dtype=dt), 0.5))
    return weight


def _minmax_jvp(cmp):
    w = _balanced(cmp)
    return (lambda t, x, y: mul(t, w(x, y)),
            lambda t, x, y: mul(t, w(y, x)))


defjvp(max_p, *_minmax_jvp(gt))
defjvp(min_p, *_minmax_jvp(lt))


def _pow_jvp_x(t, x, y):
    """d/dx x**y = y * x**(y-1), taken as 0 where y == 0 (so d/dx x**0 = 0 at x = 0).
    A constant Python exponent is folded now: x**2 differentiates to 2*x*t."""
    if type(y) in _PY:
        if y == 0:
            return mul(t, 0.0)
        if not (0 < y < 1) or type(y) is bool:
            dpow = x if y - 1 == 1 else (None if y - 1 == 0 else power(x, y - 1))
            d = y if dpow is None else mul(dpow, y)
        else:
            # x**y for 0 < y < 1 has an infinite slope at 0: taken as 0 as for sqrt
            zero = eq(x, 0)
            d = select(zero, 0.0, mul(power(select(zero, 1.0, x), y - 1), y))
        return mul(t, d)
    d = mul(y, power(x, sub(y, 1)))
    return mul(t, select(eq(y, 0), 0.0, d))


def _pow_jvp_y(t, x, y):
    # log(x) * x**y, taken as 0 where x == 0 (the limit from the right for y > 0)
    out = power(x, y)
    safe_x = select(eq(x, 0), 1.0, x)
    return mul(t, select(eq(x, 0), 0.0, mul(out, log(safe_x))))


defjvp(pow_p, _pow_jvp_x, _pow_jvp_y)


def _atan2_jvp_rule(which):
    """d atan2(y, x) = (x dy - y dx) / (x**2 + y**2), taken as 0 at the origin (where
    atan2 jumps) rather than 0/0 = NaN, as for hypot (docs/subgradients.md)."""
    def rule(t, y, x):
        r2 = add(square(x), square(y))
        zero = eq(r2, 0)
        v = x if which == 0 else neg(y)
        return mul(t, select(zero, 0.0, div(v, select(zero, 1.0, r2))))
    return rule


_atan2_jvp_y, _atan2_jvp_x = _atan2_jvp_rule(0), _atan2_jvp_rule(1)


defjvp(atan2_p, _atan2_jvp_y, _atan2_jvp_x)
defjvp(rem_p, lambda t, x, y: t,
       lambda t, x, y: neg(mul(t, floor_divide(x, y))))
defjvp(fmod_p, lambda t, x, y: t,
       lambda t, x, y: neg(mul(t, trunc(div(x, y)))))


def _logaddexp_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = logaddexp(x, y)
    oa = aval(out)
    total = Zero(oa.strengthen())
    # exp(x - out) is at most 1: exact for |x| up to the float range, 0 for -inf inputs
    for t, v in ((tx, x), (ty, y)):
        if type(t) is not Zero:
            safe = select(eq(v, -np.inf), 0.0, exp(sub(v, out)))
            total = add_tangents(total, mul(t, safe))
    return out, total if type(total) is Zero else fit_to(total, oa)


logaddexp_p.jvp = _logaddexp_jvp


def _hypot_jvp_rule(which):
    def rule(t, x, y):
        out = hypot(x, y)
        v = x if which == 0 else y
        safe = select(eq(out, 0), 1.0, out)
        return mul(t, select(eq(out, 0), 0.0, div(v, safe)))
    return rule


defjvp(hypot_p, _hypot_jvp_rule(0), _hypot_jvp_rule(1))

# erf and expit: special functions whose derivatives are elementary
_SQRT_PI = float(np.sqrt(np.pi))


def _erf(x):
    import math
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return math.erf(x) if type(x) in _PY else np.asarray(x).dtype.type(math.erf(x))
    return np.vectorize(math.erf, otypes=[np.asarray(x).dtype])(x)


try:  # SciPy is optional: use its vectorized erf/expit when present
    from scipy import special as _sp  # type: ignore
    _erf_fn, _expit_fn = _sp.erf, _sp.expit
except ImportError:  # pragma: no cover - exercised without SciPy
    _erf_fn = _erf

    def _expit_fn(x):
        x = np.asarray(x)
        out = np.empty_like(x, dtype=np.result_type(x, np.float16))
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        return out if out.ndim else out[()]

def _emit_call(fn, hint):
    """Generated code calls ``fn`` (SciPy's or the NumPy fallback), passed in as a global:
    a bare name such as ``_special`` would not exist in the generated module."""
    return lambda args, params, gen: f"{gen.const(fn, hint)}({args[0]})"


erf_p = elementwise("erf", _erf_fn, transcendental=True, float_only=True,
                    emit=_emit_call(_erf_fn, "erf"))
logistic_p = elementwise("logistic", _expit_fn, transcendental=True, float_only=True,
                         emit=_emit_call(_expit_fn, "expit"))
erf, logistic = _binder(erf_p), _binder(logistic_p)
defjvp(erf_p, lambda t, x: mul(t, mul(2.0 / _SQRT_PI, exp(neg(square(x))))))
# expit'(x) = expit(x) expit(-x): unlike out * (1 - out), exact where expit(x) rounds
# to 1 (x > ~37), down to the float range
defjvp_out(logistic_p, lambda t, out, x: mul(t, mul(out, logistic(neg(x)))))


# --- more NumPy ufuncs: nextafter, ldexp, and the zero-derivative ones --------------------
# (everything else of numpy's ufunc list is a composition in funcdiff/numpy/_ufuncs.py)

# nextafter(x, y) is x plus a step that is piecewise constant in x and y: d/dx = 1,
# d/dy = 0 (spacing, the step itself, has derivative 0: the ``ufunc`` primitive below)
nextafter_p = elementwise("nextafter", np.nextafter)
nextafter = _binder(nextafter_p)
defjvp(nextafter_p, lambda t, x, y: t, None)

# ldexp(x, n) = x * 2**n, exact (no overflow of 2**n on the way): linear in x; n is an
# integer, so has no tangent
ldexp_p = elementwise("ldexp", np.ldexp)
ldexp = _binder(ldexp_p)
defjvp(ldexp_p, lambda t, x, n: ldexp(t, n), None)


def _ldexp_transpose(ct, x, n):
    if is_undefined(n):
        raise FuncdiffTypeError("transpose of `ldexp`: the exponent cannot be linear")
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen()), None]
    return [unbroadcast(ldexp(ct, n), aval(x)), None]


ldexp_p.transpose = _ldexp_transpose
ldexp_p.linear = True


def _popcount(x):
    """``numpy.bitwise_count`` for NumPy < 2.0: the 1 bits of ``|x|``, as uint8 (integers
    and booleans)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biu":
        raise TypeError(f"ufunc 'bitwise_count' not supported for the input types ({x.dtype})")
    a = np.array(x, np.uint64, ndmin=1)   # 1-d: NumPy 1.x casts 0-d operands by value
    one = np.uint64(1)
    if x.dtype.kind == "i":     # |x| by two's complement in uint64: exact for the minimum
        a = np.where(x.reshape(a.shape) < 0, ~a + one, a)
    out = np.zeros(a.shape, np.uint8)
    for _ in range(64):
        out += (a & one).astype(np.uint8)
        a >>= one
    return out.reshape(x.shape)[()]


_ZERO_GRAD_UFUNCS = {name: getattr(np, name) for name in (
    "signbit", "spacing", "gcd", "lcm", "left_shift", "right_shift")}
_ZERO_GRAD_UFUNCS["bitwise_count"] = getattr(np, "bitwise_count", _popcount)

ufunc_p = Primitive("ufunc")
ufunc_p.doc = ("`numpy.<name>(*args)` for the NumPy ufuncs whose derivative is zero "
               "(integer-valued, boolean, or piecewise constant): " +
               ", ".join(sorted(_ZERO_GRAD_UFUNCS)))
ufunc_p.impl = lambda *args, name: _impl(_ZERO_GRAD_UFUNCS[name])(*args)


def _ufunc_abstract(*avals, name):
    fn = _ZERO_GRAD_UFUNCS[name]
    shape = broadcast_shapes(name, *[a.shape for a in avals])
    return ShapedArray(shape, result_dtype(fn, *avals), all(a.weak_type for a in avals))


def _ufunc_emit(args, params, gen):
    fn = _ZERO_GRAD_UFUNCS[params["name"]]
    head = f"np.{params['name']}" if getattr(np, params["name"], None) is fn else \
        gen.const(fn, params["name"])
    return f"{head}({', '.join(args)})"


ufunc_p.abstract_eval = _ufunc_abstract
ufunc_p.cost = _elementwise_cost(False)
ufunc_p.batch = broadcasting_batcher(ufunc_p)
ufunc_p.emit = _ufunc_emit
defjvp_zero(ufunc_p)


def zero_grad_ufunc(name, *args):
    """Bind the ``ufunc`` primitive: ``numpy.<name>(*args)``, derivative zero."""
    return ufunc_p.bind(*args, name=name)
