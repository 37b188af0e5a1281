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

from .._np_compat import LEGACY_PROMOTION, nep50_operands
from ..core.avals import ShapedArray, aval_of_value, is_python_scalar
from ..core.errors import FuncdiffTypeError
from ..core.primitive import Primitive
from ._rules import (Zero, aval, broadcast_shapes, cast_ct, defjvp, defjvp_out,
                     defjvp_zero, instantiate, is_undefined, result_dtype, unbroadcast)
from .batching import broadcasting_batcher, defbroadcasting, defvectorized

_PY = (bool, int, float, complex)


def _impl(np_fn):
    """NumPy's function, keeping results of all-Python-scalar operands Python scalars
    (weakly typed), so promotion at run time matches the abstract rule."""

    def impl(*args):
        out = np_fn(*args)
        if isinstance(out, np.generic) and all(type(a) in _PY for a in args):
            return out.item()
        return out

    if LEGACY_PROMOTION:
        impl = _legacy_impl(np_fn, impl)
    impl.__name__ = getattr(np_fn, "__name__", "impl")
    return impl


def _legacy_impl(np_fn, impl):
    """NumPy 1.x: ``impl`` computing in the dtype NumPy 2 (and the abstract rule) gives.
    Strong 0-d operands are promoted by dtype, not by value (``nep50_operands``), and a
    Python scalar too large for the other operand's dtype, which NumPy 1.x promotes by
    value, is cast back to the abstract rule's dtype, as NumPy 2 would compute it (an
    integer out of the integer dtype's range raises OverflowError, as in NumPy 2)."""
    ufunc = isinstance(np_fn, np.ufunc)

    def legacy_impl(*args):
        fixed = nep50_operands(args)
        if fixed is None:
            out = impl(*args)
            if type(out) in _PY or not any(type(a) in _PY for a in args):
                return out
        else:
            ops, all_0d = fixed
            out = np_fn(*ops)
            if all_0d:
                out = out[0] if ufunc else out.reshape(())
        want = result_dtype(np_fn, *[aval_of_value(a) for a in args])
        if out.dtype != want:
            if want.kind in "iu":   # as NumPy 2: no silent wrap-around
                for a in args:
                    if type(a) is int and not np.iinfo(want).min <= a <= np.iinfo(want).max:
                        raise OverflowError(f"Python integer {a} out of bounds for {want}")
            out = want.type(out) if isinstance(out, np.generic) else out.astype(want)
        return out

    return legacy_impl


def _elementwise_abstract(name, np_fn, out_dtype=None):
    # Hot in tracing, so one- and two-operand calls take fast paths: the output dtype is
    # memoized per (dtype, weak) combination, and when the output aval equals an
    # operand's (sin(x), x * 2.0, x + y on equal avals) that (immutable) aval is reused.
    dtypes: dict = {}

    def abstract_eval(*avals):
        n = len(avals)
        if n == 1:
            a = avals[0]
            if out_dtype is not None:
                return ShapedArray(a.shape, out_dtype)
            key = (a.dtype, a.weak_type)
            dtype = dtypes.get(key)
            if dtype is None:
                dtype = dtypes[key] = result_dtype(np_fn, a)
            return a if dtype == a.dtype else ShapedArray(a.shape, dtype, a.weak_type)
        if n == 2:
            a, b = avals
            sa, sb = a.shape, b.shape
            shape = sa if (sa == sb or sb == ()) else sb if sa == () else broadcast_shapes(
                name, sa, sb)
            if out_dtype is not None:
                return ShapedArray(shape, out_dtype)
            key = (a.dtype, a.weak_type, b.dtype, b.weak_type)
            dtype = dtypes.get(key)
            if dtype is None:
                dtype = dtypes[key] = result_dtype(np_fn, a, b)
            weak = a.weak_type and b.weak_type
            if shape is sa and dtype == a.dtype and weak == a.weak_type:
                return a
            if shape is sb and dtype == b.dtype and weak == b.weak_type:
                return b
            return ShapedArray(shape, dtype, weak)
        shape = broadcast_shapes(name, *[a.shape for a in avals])
        dtype = out_dtype if out_dtype is not None else result_dtype(np_fn, *avals)
        weak = all(a.weak_type for a in avals) and out_dtype is None
        return ShapedArray(shape, dtype, weak)
    return abstract_eval


def _elementwise_cost(transcendental):
    def cost(avals_in, avals_out, **params):
        n = avals_out[0].size
        return {"flops": n, "transcendentals": n if transcendental else 0}
    return cost


def elementwise(name, np_fn, *, transcendental=False, out_dtype=None, float_only=False,
                emit=None, py_kinds=None):
    """A new elementwise primitive wrapping ``np_fn``.  ``py_kinds``: for an operator
    ``emit``, the result dtype kinds for which the operator on Python scalars gives
    NumPy's result (None: all); jit's code calls ``np_fn`` when every operand may be a
    Python scalar and the kind is not among them (``~True`` is -2, ``1 / 0`` raises)."""
    prim = Primitive(name)
    prim.np_fn = np_fn
    prim.py_kinds = py_kinds
    prim.impl = _impl(np_fn)
    abstract = _elementwise_abstract(name, np_fn, out_dtype)
    if float_only:
        def abstract_checked(*avals):
            for a in avals:
                if a.dtype.kind not in "fc":
                    raise FuncdiffTypeError(f"`{name}` needs floating-point operands, "
                                            f"got {a.str_short()}")
            return abstract(*avals)
        prim.abstract_eval = abstract_checked
    else:
        prim.abstract_eval = abstract
    prim.cost = _elementwise_cost(transcendental)
    prim.batch = broadcasting_batcher(prim)   # vmap: align batch axes, NumPy broadcasts
    nargs = getattr(np_fn, "nin", 1)
    prim.emit = emit or ("np." + np_fn.__name__ + "(" +
                         ", ".join("{%d}" % i for i in range(nargs)) + ")")
    return prim


# --- user-level functions binding the primitives (used by rules and funcdiff.numpy) ---

def _binder(prim):
    def f(*args):
        return prim.bind(*args)
    f.__name__ = prim.name
    f.__doc__ = f"Bind the `{prim.name}` primitive."
    f.primitive = prim   # lets hot callers (funcdiff.numpy) call prim.bind directly
    return f


# --- arithmetic ------------------------------------------------------------------------

add_p = elementwise("add", np.add, emit="{0} + {1}", py_kinds="iufc")
sub_p = elementwise("sub", np.subtract, emit="{0} - {1}", py_kinds="iufc")
mul_p = elementwise("mul", np.multiply, emit="{0} * {1}", py_kinds="iufc")
div_p = elementwise("div", np.true_divide, emit="{0} / {1}", py_kinds="")
neg_p = elementwise("neg", np.negative, emit="-{0}", py_kinds="iufc")
add, sub, mul, div, neg = map(_binder, (add_p, sub_p, mul_p, div_p, neg_p))


def _linear_binop_transpose(sign_y):
    def transpose(ct, x, y):
        cx = unbroadcast(ct, aval(x)) if is_undefined(x) else None
        cy = None
        if is_undefined(y):
            cy = unbroadcast(ct if (sign_y > 0 or type(ct) is Zero) else neg(ct), aval(y))
        return [cx, cy]
    return transpose


def _add_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = add(x, y)
    oa = aval(out)
    if type(tx) is Zero and type(ty) is Zero:
        return out, Zero(oa.strengthen())
    from ._rules import fit_to
    if type(tx) is Zero:
        return out, fit_to(ty, oa)
    if type(ty) is Zero:
        return out, fit_to(tx, oa)
    return out, fit_to(add(tx, ty), oa)


add_p.jvp = _add_jvp
add_p.transpose = _linear_binop_transpose(+1)
add_p.linear = True

defjvp(sub_p, lambda t, x, y: t, lambda t, x, y: neg(t))
sub_p.transpose = _linear_binop_transpose(-1)
sub_p.linear = True

defjvp(neg_p, lambda t, x: neg(t))
neg_p.transpose = lambda ct, x: [Zero(aval(x).strengthen()) if type(ct) is Zero else
                                  cast_ct(neg(ct), aval(x))]
neg_p.linear = True

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

sin_p = elementwise("sin", np.sin, transcendental=True)
cos_p = elementwise("cos", np.cos, transcendental=True)
tan_p = elementwise("tan", np.tan, transcendental=True)
asin_p = elementwise("asin", np.arcsin, transcendental=True)
acos_p = elementwise("acos", np.arccos, transcendental=True)
atan_p = elementwise("atan", np.arctan, transcendental=True)
sinh_p = elementwise("sinh", np.sinh, transcendental=True)
cosh_p = elementwise("cosh", np.cosh, transcendental=True)
tanh_p = elementwise("tanh", np.tanh, transcendental=True)
asinh_p = elementwise("asinh", np.arcsinh, transcendental=True)
acosh_p = elementwise("acosh", np.arccosh, transcendental=True)
atanh_p = elementwise("atanh", np.arctanh, transcendental=True)
exp_p = elementwise("exp", np.exp, transcendental=True)
exp2_p = elementwise("exp2", np.exp2, transcendental=True)
expm1_p = elementwise("expm1", np.expm1, transcendental=True)
log_p = elementwise("log", np.log, transcendental=True)
log2_p = elementwise("log2", np.log2, transcendental=True)
log10_p = elementwise("log10", np.log10, transcendental=True)
log1p_p = elementwise("log1p", np.log1p, transcendental=True)
sqrt_p = elementwise("sqrt", np.sqrt, transcendental=True)
cbrt_p = elementwise("cbrt", np.cbrt, transcendental=True)
square_p = elementwise("square", np.square)
reciprocal_p = elementwise("reciprocal", np.reciprocal)
abs_p = elementwise("abs", np.absolute, emit="np.abs({0})")

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

# --- select (NumPy's where) ---------------------------------------------------------------

select_p = Primitive("select")
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
    from ._rules import fit_to
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
atan2_p = elementwise("atan2", np.arctan2, transcendental=True)
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
    from ._rules import add_tangents, fit_to
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

# --- complex parts ----------------------------------------------------------------------

real_p = elementwise("real", np.real)
imag_p = elementwise("imag", np.imag)
conj_p = elementwise("conj", np.conjugate)
def _complex_np(x, y):
    """``x + iy`` with exactly these parts: ``x + 1j * y`` has the real part ``x + 0 * y``,
    NaN for an infinite ``y`` (so ``complex(0, inf)`` would be ``nan+infj``)."""
    z = np.add(x, np.multiply(y, 1j))
    if np.any(np.isinf(y)):
        z = np.array(z)
        z.real, z.imag = x, y
        z = z if z.ndim else z[()]
    return z


complex_p = elementwise("complex", _complex_np, emit=lambda args, params, gen: (
    f"{gen.const(_complex_np, 'complex')}({args[0]}, {args[1]})"))
real, imag, conj, make_complex = map(_binder, (real_p, imag_p, conj_p, complex_p))


def _real_abstract(a):
    dt = np.empty(0, a.dtype).real.dtype
    return ShapedArray(a.shape, dt, a.weak_type)


real_p.abstract_eval = imag_p.abstract_eval = _real_abstract
real_p.impl = lambda x: np.real(x) if not is_python_scalar(x) else complex(x).real
imag_p.impl = lambda x: np.imag(x) if not is_python_scalar(x) else complex(x).imag


def _complex_transpose(ct, x, y):
    return [unbroadcast(real(ct), aval(x)) if is_undefined(x) else None,
            unbroadcast(neg(imag(ct)), aval(y)) if is_undefined(y) else None]


defjvp(real_p, lambda t, x: real(t))
defjvp(imag_p, lambda t, x: imag(t))
defjvp(conj_p, lambda t, x: conj(t))
defjvp(complex_p, lambda t, x, y: make_complex(t, 0.0),
       lambda t, x, y: make_complex(0.0, t))
for _p in (real_p, imag_p, conj_p, complex_p):
    _p.linear = True
real_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else
    cast_ct(make_complex(ct, 0.0), aval(x))]
imag_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else
    cast_ct(make_complex(0.0, neg(ct)), aval(x))]
conj_p.transpose = lambda ct, x: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else cast_ct(conj(ct), aval(x))]
complex_p.transpose = lambda ct, x, y: (
    [Zero(aval(x).strengthen()) if is_undefined(x) else None,
     Zero(aval(y).strengthen()) if is_undefined(y) else None]
    if type(ct) is Zero else _complex_transpose(ct, x, y))

# --- dtype conversion -------------------------------------------------------------------

convert_element_type_p = Primitive("convert_element_type")


def convert_element_type(x, *, dtype, weak_type=False):
    return convert_element_type_p.bind(x, dtype=np.dtype(dtype), weak_type=weak_type)


def _convert_impl(x, *, dtype, weak_type=False):
    if weak_type and np.ndim(x) == 0:
        return np.asarray(x).astype(dtype).item()
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return dtype.type(x) if dtype.kind != "c" or np.iscomplexobj(x) else dtype.type(x)
    return np.asarray(x).astype(dtype, copy=False)


def _convert_abstract(x, *, dtype, weak_type=False):
    return ShapedArray(x.shape, dtype, weak_type)


def _convert_jvp(primals, tangents, *, dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    out = convert_element_type(x, dtype=dtype, weak_type=weak_type)
    oa = aval(out)
    if type(t) is Zero or dtype.kind not in "fc":
        return out, Zero(oa.strengthen())
    if aval(t).dtype.kind == "c" and dtype.kind != "c":
        t = real(t)
    return out, convert_element_type(t, dtype=dtype)


def _convert_transpose(ct, x, *, dtype, weak_type=False):
    if type(ct) is Zero:
        return [Zero(aval(x).strengthen())]
    return [cast_ct(ct, aval(x))]


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = _convert_abstract
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.linear = True
convert_element_type_p.cost = lambda ai, ao, **p: {"flops": 0, "transcendentals": 0}
convert_element_type_p.emit = "np.asarray({0}).astype({dtype})"
defvectorized(convert_element_type_p)

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


def check_float(name, a):
    if a.dtype.kind not in "fc":
        raise FuncdiffTypeError(f"`{name}` needs a floating-point operand, got "
                                f"{a.str_short()}")


instantiate  # re-export for rules elsewhere


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
