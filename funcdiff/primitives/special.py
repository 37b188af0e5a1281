"""Special-function primitives: those whose values (or derivatives) are not exact
elementary compositions.

==============================  ==============================================================
``gammaln digamma``             ``log|Gamma|``, ``psi``; ``polygamma`` (order ``n`` static)
``gamma rgamma``                ``Gamma`` and ``1/Gamma`` (``exp(gammaln)`` loses digits)
``beta betaln``                 ``B(a, b)``, ``log|B(a, b)|`` (no cancellation for large args)
``gammainc gammaincc``          regularized incomplete gamma ``P(a, x)``, ``Q(a, x)``
``betainc betaincc``            regularized incomplete beta ``I_x(a, b)``, ``1 - I_x(a, b)``
``stdtr``                       Student's t cdf ``stdtr(df, t)``
``erfc erfinv erfcinv``         complementary / inverse error functions
``i0 i1 iv ive``                modified Bessel functions of the first kind (``ive`` scaled)
``j0 j1 jv y0 y1 yn``           Bessel functions of the first and second kind
==============================  ==============================================================

Conventions.  ``impl`` is SciPy's ufunc when SciPy is importable, else the pure-NumPy
fallback of ``_special_np`` (which documents its accuracy; the Bessel functions J and Y
have none and raise ``SciPyRequiredError`` without SciPy).  Operands are real floats of
one dtype (``funcdiff.scipy.special`` casts them to the dtype of SciPy's loop first);
an integer operand is allowed for ``yn``'s order.  The output has the floating operands'
dtype and their broadcast shape.

Derivatives, each written with primitives so that every order differentiates again:

* ``gammaln' = digamma``, ``digamma' = polygamma(1)``, ``polygamma(n)' = polygamma(n+1)``,
  ``gamma' = gamma digamma``, ``rgamma' = -rgamma digamma``;
  ``d/da betaln(a, b) = digamma(a) - digamma(a + b)`` (``beta``: times ``beta``);
* ``d/dx gammainc(a, x) = x^(a-1) e^(-x) / Gamma(a)``, ``d/dx betainc(a, b, x) =
  x^(a-1) (1-x)^(b-1) / B(a, b)``, ``d/dt stdtr(df, t)`` = the t density; the complements
  have the opposite sign.  Derivatives with respect to the *parameters* ``a``, ``b``, ``df``
  have no closed form (they are hypergeometric series): asking for one raises a
  ``GradientError`` naming the argument, instead of returning something inexact;
* ``erfinv'(x) = sqrt(pi)/2 exp(erfinv(x)^2)``, ``erfcinv' = -sqrt(pi)/2 exp(erfcinv^2)``;
* ``d/dx iv(v, x) = (iv(v-1, x) + iv(v+1, x)) / 2`` (``i0' = i1``, ``i1' = (i0 + iv(2))/2``),
  ``d/dx ive(v, x) = (ive(v-1, x) + ive(v+1, x)) / 2 - sign(x) ive(v, x)``,
  ``d/dx jv(v, x) = (jv(v-1, x) - jv(v+1, x)) / 2`` (``j0' = -j1``), ``yn`` likewise
  (``y0' = -y1``).  The order ``v``/``n`` is not differentiable: a ``GradientError`` (for
  integer orders there is no derivative; for real ``v`` none in closed form).

Such a missing derivative is the tangent ``no_derivative(t)``, which raises when it is
evaluated or transposed, i.e. only if the derivative is actually used: an unused one (a
primal output inside a nested derivative) is dead code, so mixed derivatives that do
have closed forms, such as ``d/da d/dx gammainc(a, x)``, work.

At the poles of Gamma, ``rgamma`` is 0 and its derivatives are those of the entire
function 1/Gamma (``rgamma'(-n) = (-1)^n n!``): below 1/2 they come from the reflection
formula.

Every primitive here is elementwise: vmap by ``broadcasting_batcher``, cost ``flops`` per
element (a rough count for the iterative ones), and jit emits a direct call of SciPy's
ufunc when the operands already have its loop's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, GradientError
from ..core.trace import Primitive
from . import _special_np as _np_fb
from .base import (Zero, add, aval, broadcast_shapes, broadcasting_batcher, defjvp,
                   defjvp_out, fit_to, neg)
from ._special_np import (digamma_np, erfc_np, gammaln_np, polygamma_np, scipy_required,
                          SciPyRequiredError)
from .elementwise import (abs_, cos, div, eq, exp, isinf, le, log, log1p, logical_and, lt,
                          mul, rem, round_, select, sign, sin, square, sub, trunc)

try:  # SciPy is optional
    from scipy import special as _sp  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sp = None

_PY = (bool, int, float, complex)
_SQRT_PI = math.sqrt(math.pi)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


# --- impl / abstract_eval / cost / emit, shared by all ------------------------------------------

def _out_dtype(args):
    """The dtype of the first non-Python floating operand (float64 if none)."""
    for a in args:
        if type(a) not in _PY:
            dt = np.asarray(a).dtype
            if dt.kind == "f":
                return dt
    return _F64


def _wrap(fn):
    """Call ``fn`` (SciPy's ufunc or the float64 fallback) and return the floating
    operands' dtype; all-Python-scalar operands give a Python float (weak stays weak)."""
    def impl(*args, **params):
        py = all(type(a) in _PY for a in args)
        dt = _out_dtype(args)
        out = np.asarray(fn(*[np.asarray(a) for a in args], **params)).astype(dt, copy=False)
        if py:
            return float(out)
        return out if out.ndim else out[()]
    return impl


def _abstract(name, int_ok=()):
    """Real floating operands of one dtype (weak Python scalars aside; integers at the
    positions ``int_ok``); output: that dtype, the broadcast shape."""
    def abstract_eval(*avals, **params):
        strong = []
        for i, a in enumerate(avals):
            if a.dtype.kind == "f":
                if not a.weak_type:
                    strong.append(a.dtype)
            elif not (i in int_ok and a.dtype.kind in "iub"):
                raise FuncdiffTypeError(
                    f"`{name}` needs real floating-point operands, got "
                    f"{', '.join(b.str_short() for b in avals)} (convert with "
                    ".astype(float); funcdiff.scipy.special does this as SciPy does)")
        if len(set(strong)) > 1:
            raise FuncdiffTypeError(
                f"`{name}`: operands of different dtypes "
                f"{', '.join(b.str_short() for b in avals)}; cast them to one first")
        if not strong and not any(a.dtype.kind == "f" for a in avals):
            raise FuncdiffTypeError(f"`{name}` needs a floating-point operand, got "
                                    f"{', '.join(b.str_short() for b in avals)}")
        dtype = strong[0] if strong else _F64
        shape = avals[0].shape if len(avals) == 1 else broadcast_shapes(
            name, *[a.shape for a in avals])
        return ShapedArray(shape, dtype, all(a.weak_type for a in avals))
    return abstract_eval


def _cost(work):
    def cost(avals_in, avals_out, **params):
        n = avals_out[0].size
        return {"flops": work * n, "transcendentals": n}
    return cost


def _emit(prim, sp_fn, hint, order_param=None):
    """jit: call SciPy's ufunc directly when every operand already has the output's
    dtype (then SciPy's loop gives exactly that dtype); otherwise (or for SciPy's
    non-ufunc ``polygamma``, which always returns float64) the impl."""
    def emit(args, params, gen):
        eqn = gen.eqn
        dt = eqn.outvars[0].aval.dtype
        direct = isinstance(sp_fn, np.ufunc) and dt in (_F32, _F64) and all(
            v.aval.dtype == dt and not v.aval.weak_type for v in eqn.invars)
        fn = gen.const(sp_fn if direct else prim.impl, hint)
        if order_param is not None:
            n = params[order_param]
            return f"{fn}({n}, {', '.join(args)})" if direct else \
                f"{fn}({', '.join(args)}, {order_param}={n})"
        return f"{fn}({', '.join(args)})"
    return emit


def _special_prim(name, np_fn, *, nin=1, sp_name=None, int_ok=(), work=1, doc=""):
    """A new elementwise special-function primitive with impl, abstract_eval, batch,
    cost and emit rules (jvp rules follow below, one block each)."""
    p = Primitive(name)
    p.sparsity = "elementwise"
    sp_fn = getattr(_sp, sp_name or name, None) if _sp is not None else None
    p.sp_fn = sp_fn
    p.impl = _wrap(sp_fn if sp_fn is not None else np_fn)
    p.abstract_eval = _abstract(name, int_ok)
    p.batch = broadcasting_batcher(p)
    p.cost = _cost(work)
    if sp_fn is not None:
        p.emit = _emit(p, sp_fn, name)
    p.nin = nin
    p.doc = doc
    return p


# A derivative with no closed form is a tangent that raises when it is *used*: the
# ``no_derivative`` primitive is linear, and both evaluating it and transposing it raise
# GradientError.  An unused one (say the primal output of gammainc inside a nested grad
# with respect to x, differentiated again with respect to a) is dead code and costs
# nothing, so d/da d/dx gammainc(a, x) works while d/da gammainc(a, x) raises.
no_derivative_p = Primitive("no_derivative")
no_derivative_p.linear = True
no_derivative_p.doc = ("a tangent with no closed form: raises GradientError (with "
                       "`message`) when evaluated or transposed")


def _no_derivative_raise(*args, message, **params):
    raise GradientError(message)


def _no_derivative_jvp(primals, tangents, *, message):
    (t,), (tt,) = primals, tangents
    out = no_derivative_p.bind(t, message=message)
    if type(tt) is Zero:
        return out, Zero(aval(out).strengthen())
    return out, no_derivative_p.bind(tt, message=message)


no_derivative_p.impl = _no_derivative_raise
no_derivative_p.abstract_eval = lambda t, *, message: t.strengthen()
no_derivative_p.jvp = _no_derivative_jvp
no_derivative_p.transpose = _no_derivative_raise
no_derivative_p.batch = lambda args, dims, *, message: (
    no_derivative_p.bind(args[0], message=message), dims[0])
no_derivative_p.cost = lambda avals_in, avals_out, **params: {"flops": 0,
                                                              "transcendentals": 0}


def _no_grad(name, arg, why):
    """A jvp rule for an argument with no (closed-form) derivative: a tangent that raises
    a GradientError naming the argument once it is used."""
    message = (f"`{name}` is not differentiable with respect to its argument `{arg}` in "
               f"funcdiff: {why}.  Differentiate with respect to the other arguments only "
               f"(pass `{arg}` as a constant, or wrap it in funcdiff.stop_gradient).")

    def rule(t, *primals, **params):
        return no_derivative_p.bind(t, message=message)
    return rule


_NO_PARAM_GRAD = "that derivative has no closed form (it is a hypergeometric series)"
_INT_ORDER = "the order is an integer; there is no derivative with respect to it"
_REAL_ORDER = "the derivative in the order has no closed form"


def _const(x, value):
    """``value`` as a 0-d constant of ``x``'s dtype (keeps float32 float32)."""
    return np.asarray(value, aval(x).dtype)[()]


def _xlogy(c, x):
    """``c * log(x)``, 0 where ``c == 0`` (and the derivative clean there: the log sees 1)."""
    c0 = eq(c, 0)
    return select(c0, _const(x, 0), mul(c, log(select(c0, _const(x, 1), x))))


def _xlog1py(c, x):
    c0 = eq(c, 0)
    return select(c0, _const(x, 0), mul(c, log1p(select(c0, _const(x, 0), x))))


# --- gamma family --------------------------------------------------------------------------------

gammaln_p = _special_prim("gammaln", gammaln_np, doc="`scipy.special.gammaln`: log|Gamma(x)|")
digamma_p = _special_prim("digamma", digamma_np, doc="`scipy.special.digamma` (psi)")
erfc_p = _special_prim("erfc", erfc_np, doc="`scipy.special.erfc`: 1 - erf(x), accurate for "
                       "large x")
gamma_p = _special_prim("gamma", _np_fb.gamma_np, doc="`scipy.special.gamma`")
rgamma_p = _special_prim("rgamma", _np_fb.rgamma_np, doc="`scipy.special.rgamma`: 1/Gamma(x)")

polygamma_p = Primitive("polygamma")
polygamma_p.sparsity = "elementwise"
polygamma_p.doc = "`scipy.special.polygamma(n, x)` (order `n` a static param)"
if _sp is not None:
    polygamma_p.impl = _wrap(lambda x, *, n: _sp.polygamma(n, x))
    polygamma_p.emit = _emit(polygamma_p, _sp.polygamma, "polygamma", order_param="n")
else:  # pragma: no cover - exercised without SciPy
    polygamma_p.impl = _wrap(lambda x, *, n: polygamma_np(n, x))
polygamma_p.abstract_eval = _abstract("polygamma")
polygamma_p.cost = _cost(1)
polygamma_p.batch = broadcasting_batcher(polygamma_p)


def gammaln(x):
    """log|Gamma(x)| (bind ``gammaln``)."""
    return gammaln_p.bind(x)


def digamma(x):
    """psi(x) = d/dx log Gamma(x) (bind ``digamma``)."""
    return digamma_p.bind(x)


def polygamma(n, x):
    """psi^(n)(x), the n-th derivative of digamma (``n`` static; 0 is digamma)."""
    n = int(n)
    if n < 0:
        raise FuncdiffTypeError(f"polygamma: the order must be a non-negative integer, "
                                f"got {n}")
    if n == 0:
        return digamma(x)
    return polygamma_p.bind(x, n=n)


def erfc(x):
    """1 - erf(x), accurate for large x (bind ``erfc``)."""
    return erfc_p.bind(x)


def gamma(x):
    """Gamma(x) (bind ``gamma``)."""
    return gamma_p.bind(x)


def rgamma(x):
    """1 / Gamma(x), 0 at the poles of Gamma (bind ``rgamma``)."""
    return rgamma_p.bind(x)


defjvp(gammaln_p, lambda t, x: mul(t, digamma(x)))
defjvp(digamma_p, lambda t, x: mul(t, polygamma(1, x)))


def _polygamma_jvp(primals, tangents, *, n):
    (x,), (t,) = primals, tangents
    out = polygamma_p.bind(x, n=n)
    if type(t) is Zero:
        return out, Zero(aval(out).strengthen())
    return out, fit_to(mul(t, polygamma_p.bind(x, n=n + 1)), aval(out))


polygamma_p.jvp = _polygamma_jvp
defjvp(erfc_p, lambda t, x: mul(t, mul(-2.0 / _SQRT_PI, exp(neg(square(x))))))
defjvp_out(gamma_p, lambda t, out, x: mul(t, mul(out, digamma(x))))


def _rgamma_jvp(t, out, x):
    """``rgamma' = -rgamma digamma`` for ``x >= 1/2``.  Below, 1/Gamma has zeros at
    the poles of Gamma (x = 0, -1, -2, ...), where digamma is infinite (its product with
    0 is NaN there) and the next orders cancel catastrophically near them.  There the
    derivative of the reflection form ``rgamma(x) = sin(pi x) Gamma(1 - x) / pi`` is
    used instead: ``Gamma(1 - x) (cos(pi x) - sin(pi x) digamma(1 - x) / pi)``, which is
    ``(-1)^n n!`` at ``x = -n``.  It is written with ``f = x - round(x)`` and the sign
    ``(-1)^round(x)``, so its sines and cosines are exact at and near the poles, and its
    own derivatives (the next orders) are smooth there.  Each branch only sees points
    where it is finite (the double-``where``): no ``0 * inf`` reaches either mode."""
    refl = lt(x, _const(x, 0.5))
    xs = select(refl, _const(x, 1.0), x)          # the digamma branch's points
    xr = select(refl, x, _const(x, 0.0))          # the reflection branch's points
    n = round_(xr)
    f = sub(xr, n)
    sgn = sub(_const(x, 1.0), mul(_const(x, 2.0), abs_(rem(n, _const(x, 2.0)))))
    one_minus = sub(_const(x, 1.0), xr)
    pi = _const(x, math.pi)
    reflected = mul(mul(sgn, gamma(one_minus)),
                    sub(cos(mul(pi, f)), div(mul(sin(mul(pi, f)), digamma(one_minus)), pi)))
    direct = neg(mul(out, digamma(xs)))
    return mul(t, select(refl, reflected, direct))


defjvp_out(rgamma_p, _rgamma_jvp)


# --- beta ----------------------------------------------------------------------------------------

beta_p = _special_prim("beta", _np_fb.beta_np, nin=2, doc="`scipy.special.beta(a, b)`")
betaln_p = _special_prim("betaln", _np_fb.betaln_np, nin=2,
                         doc="`scipy.special.betaln(a, b)`: log|B(a, b)|")


def beta(a, b):
    """B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b) (bind ``beta``)."""
    return beta_p.bind(a, b)


def betaln(a, b):
    """log|B(a, b)| (bind ``betaln``)."""
    return betaln_p.bind(a, b)


def _dbetaln(u, a, b):
    """d/du log B(a, b) for u one of a, b: digamma(u) - digamma(a + b)."""
    return sub(digamma(u), digamma(add(a, b)))


defjvp(betaln_p, lambda t, a, b: mul(t, _dbetaln(a, a, b)),
       lambda t, a, b: mul(t, _dbetaln(b, a, b)))
def _dbeta(which):
    """d/da (``which`` 0) or d/db B(a, b): ``B (digamma(u) - digamma(a + b))``, except
    where ``a + b`` is a pole of Gamma (0, -1, -2, ...): there B is 0 and that form 0 *
    inf, while ``B = Gamma(a) Gamma(b) rgamma(a + b)`` gives ``Gamma(a) Gamma(b)
    (digamma(u) rgamma(a + b) + rgamma'(a + b))`` (exact at the poles, and the whole
    product rule, so the next orders are right too).  Each branch sees only its own
    points."""
    def rule(t, a, b):
        s = add(a, b)
        pole = logical_and(le(s, _const(s, 0.0)), eq(round_(s), s))
        one = _const(s, 1.0)
        ar, br = select(pole, one, a), select(pole, one, b)
        regular = mul(beta(ar, br), _dbetaln((ar, br)[which], ar, br))
        ap, bp, sp = select(pole, a, one), select(pole, b, one), select(pole, s, one)
        rg = rgamma(sp)
        at_pole = mul(mul(gamma(ap), gamma(bp)),
                      add(mul(digamma((ap, bp)[which]), rg), _rgamma_jvp(one, rg, sp)))
        return mul(t, select(pole, at_pole, regular))
    return rule


defjvp(beta_p, _dbeta(0), _dbeta(1))


# --- incomplete gamma and beta, Student's t cdf --------------------------------------------------

gammainc_p = _special_prim("gammainc", _np_fb.gammainc_np, nin=2, work=50,
                           doc="`scipy.special.gammainc(a, x)`: regularized lower "
                               "incomplete gamma P(a, x)")
gammaincc_p = _special_prim("gammaincc", _np_fb.gammaincc_np, nin=2, work=50,
                            doc="`scipy.special.gammaincc(a, x)`: Q(a, x) = 1 - P(a, x)")
betainc_p = _special_prim("betainc", _np_fb.betainc_np, nin=3, work=50,
                          doc="`scipy.special.betainc(a, b, x)`: regularized incomplete "
                              "beta I_x(a, b)")
betaincc_p = _special_prim("betaincc", _np_fb.betaincc_np, nin=3, work=50,
                           doc="`scipy.special.betaincc(a, b, x)`: 1 - I_x(a, b)")
stdtr_p = _special_prim("stdtr", _np_fb.stdtr_np, nin=2, work=50,
                        doc="`scipy.special.stdtr(df, t)`: Student's t cdf")


def gammainc(a, x):
    return gammainc_p.bind(a, x)


def gammaincc(a, x):
    return gammaincc_p.bind(a, x)


def betainc(a, b, x):
    return betainc_p.bind(a, b, x)


def betaincc(a, b, x):
    return betaincc_p.bind(a, b, x)


def stdtr(df, t):
    return stdtr_p.bind(df, t)


def _gamma_density(a, x):
    """x^(a-1) e^(-x) / Gamma(a), the x-derivative of gammainc."""
    return exp(sub(sub(_xlogy(sub(a, 1), x), x), gammaln(a)))


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b), the x-derivative of betainc."""
    return exp(sub(add(_xlogy(sub(a, 1), x), _xlog1py(sub(b, 1), neg(x))), betaln(a, b)))


def _t_density(df, t):
    """The Student's t density (the normal one where df = inf)."""
    inf = isinf(df)
    d = select(inf, _const(df, 1), df)
    half = _const(df, 0.5)
    logc = sub(sub(gammaln(mul(add(d, 1), half)), gammaln(mul(d, half))),
               mul(half, log(mul(d, _const(df, math.pi)))))
    dens_t = exp(sub(logc, mul(mul(add(d, 1), half), log1p(div(square(t), d)))))
    dens_n = mul(_const(t, 1 / math.sqrt(2 * math.pi)), exp(mul(neg(half), square(t))))
    return select(inf, dens_n, dens_t)


defjvp(gammainc_p, _no_grad("gammainc", "a", _NO_PARAM_GRAD),
       lambda t, a, x: mul(t, _gamma_density(a, x)))
defjvp(gammaincc_p, _no_grad("gammaincc", "a", _NO_PARAM_GRAD),
       lambda t, a, x: neg(mul(t, _gamma_density(a, x))))
defjvp(betainc_p, _no_grad("betainc", "a", _NO_PARAM_GRAD),
       _no_grad("betainc", "b", _NO_PARAM_GRAD),
       lambda t, a, b, x: mul(t, _beta_density(a, b, x)))
defjvp(betaincc_p, _no_grad("betaincc", "a", _NO_PARAM_GRAD),
       _no_grad("betaincc", "b", _NO_PARAM_GRAD),
       lambda t, a, b, x: neg(mul(t, _beta_density(a, b, x))))
defjvp(stdtr_p, _no_grad("stdtr", "df", _NO_PARAM_GRAD),
       lambda tt, df, t: mul(tt, _t_density(df, t)))


# --- inverse error functions ---------------------------------------------------------------------

erfinv_p = _special_prim("erfinv", _np_fb.erfinv_np, work=10,
                         doc="`scipy.special.erfinv`")
erfcinv_p = _special_prim("erfcinv", _np_fb.erfcinv_np, work=10,
                          doc="`scipy.special.erfcinv`")


def erfinv(x):
    return erfinv_p.bind(x)


def erfcinv(x):
    return erfcinv_p.bind(x)


defjvp_out(erfinv_p, lambda t, out, x: mul(t, mul(_const(out, _SQRT_PI / 2),
                                                  exp(square(out)))))
defjvp_out(erfcinv_p, lambda t, out, x: mul(t, mul(_const(out, -_SQRT_PI / 2),
                                                   exp(square(out)))))


# --- Bessel functions ----------------------------------------------------------------------------

i0_p = _special_prim("i0", _np_fb.i0_np, work=20, doc="`scipy.special.i0`")
i1_p = _special_prim("i1", _np_fb.i1_np, work=20, doc="`scipy.special.i1`")
iv_p = _special_prim("iv", _np_fb.iv_np, nin=2, work=50,
                     doc="`scipy.special.iv(v, x)`: modified Bessel function of the first "
                         "kind")
ive_p = _special_prim("ive", _np_fb.ive_np, nin=2, work=50,
                      doc="`scipy.special.ive(v, x)`: iv(v, x) exp(-|x|)")
j0_p = _special_prim("j0", _np_fb.scipy_required("j0"), work=20, doc="`scipy.special.j0`")
j1_p = _special_prim("j1", _np_fb.scipy_required("j1"), work=20, doc="`scipy.special.j1`")
jv_p = _special_prim("jv", _np_fb.scipy_required("jv"), nin=2, work=50,
                     doc="`scipy.special.jv(v, x)` (also `jn`): Bessel function of the "
                         "first kind")
y0_p = _special_prim("y0", _np_fb.scipy_required("y0"), work=20, doc="`scipy.special.y0`")
y1_p = _special_prim("y1", _np_fb.scipy_required("y1"), work=20, doc="`scipy.special.y1`")
yn_p = _special_prim("yn", _np_fb.scipy_required("yn"), nin=2, int_ok=(0,), work=50,
                     doc="`scipy.special.yn(n, x)`: Bessel function of the second kind, "
                         "integer order")


def i0(x):
    return i0_p.bind(x)


def i1(x):
    return i1_p.bind(x)


def iv(v, x):
    return iv_p.bind(v, x)


def ive(v, x):
    return ive_p.bind(v, x)


def j0(x):
    return j0_p.bind(x)


def j1(x):
    return j1_p.bind(x)


def jv(v, x):
    return jv_p.bind(v, x)


def y0(x):
    return y0_p.bind(x)


def y1(x):
    return y1_p.bind(x)


def yn(n, x):
    return yn_p.bind(n, x)


def _half(x, y):
    return mul(_const(x, 0.5), y)


defjvp(i0_p, lambda t, x: mul(t, i1(x)))
defjvp(i1_p, lambda t, x: mul(t, _half(x, add(i0(x), iv(_const(x, 2), x)))))
defjvp(iv_p, _no_grad("iv", "v", _REAL_ORDER),
       lambda t, v, x: mul(t, _half(x, add(iv(sub(v, 1), x), iv(add(v, 1), x)))))

def _ive_dx(t, v, x):
    d = sub(_half(x, add(ive(sub(v, 1), x), ive(add(v, 1), x))), mul(sign(x), ive(v, x)))
    return mul(t, d)


defjvp(ive_p, _no_grad("ive", "v", _REAL_ORDER), _ive_dx)
defjvp(j0_p, lambda t, x: neg(mul(t, j1(x))))
defjvp(j1_p, lambda t, x: mul(t, _half(x, sub(j0(x), jv(_const(x, 2), x)))))
defjvp(jv_p, _no_grad("jv", "v", _REAL_ORDER),
       lambda t, v, x: mul(t, _half(x, sub(jv(sub(v, 1), x), jv(add(v, 1), x)))))
defjvp(y0_p, lambda t, x: neg(mul(t, y1(x))))
defjvp(y1_p, lambda t, x: mul(t, _half(x, sub(y0(x), yn(_const(x, 2), x)))))


def _yn_dx(t, n, x):
    # SciPy truncates a real order; trunc(n) -+ 1 keeps that exact for the neighbours
    if aval(n).dtype.kind == "f":
        n = trunc(n)
    return mul(t, _half(x, sub(yn(sub(n, 1), x), yn(add(n, 1), x))))


defjvp(yn_p, _no_grad("yn", "n", _INT_ORDER), _yn_dx)
