"""The first part of ``funcdiff.scipy.special`` (see that module's docstring for the
conventions): the functions, SciPy's loop selection (``loop_dtypes``) and the casting
helpers the rest (``_special_more``) shares."""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import numpy as fnp
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, state
from ..api.custom_derivatives import custom_jvp
from ..numpy._core import FUNCTIONS, aval, canonical_axes, operand
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import reduce as rd
from ..primitives import shape as sh
from ..primitives import special as sp_prims  # noqa: F401  (registers the primitives)
from ..primitives import special_more as spm
from ..primitives.base import result_dtype
from ..primitives.elementwise import stop_gradient_p
from ..primitives.special import SciPyRequiredError  # noqa: F401  (re-exported)
from ._fastpath import scipy_fast_path

try:  # SciPy is optional at run time
    from scipy import special as _sp  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sp = None

__all__ = ["logsumexp", "expit", "logit", "log_expit", "softplus", "erf", "erfc", "gammaln",
           "digamma", "psi", "polygamma", "xlogy", "xlog1py", "softmax", "log_softmax",
           "gamma", "gammasgn", "rgamma", "multigammaln", "beta", "betaln", "betainc",
           "betaincc", "gammainc", "gammaincc", "erfinv", "erfcinv", "ndtr", "log_ndtr",
           "ndtri", "stdtr", "entr", "i0", "i1", "iv", "ive", "j0", "j1", "jn", "jv", "y0",
           "y1", "yn"]

_F64 = np.dtype(np.float64)


def _special(sp_name):
    """Eager fast path = SciPy's ``sp_name`` (when importable); under a trace, or
    without SciPy, the composition below.  SciPy's function is registered for NumPy's
    dispatch protocols."""
    return scipy_fast_path(getattr(_sp, sp_name, None) if _sp is not None else None)


def _ufunc_args(name, *xs, complex_ok=False):
    """Operands cast to the dtype SciPy's ufunc loops compute in: float32 if every
    operand is float32 (complex64 if every one is complex64: float32 with complex64 finds
    the complex128 loop first), else float64 / complex128 -- except where
    SciPy lists its single-precision loop first (SciPy before 1.16 does for erf, erfc,
    xlogy, xlog1py): then NumPy takes it for every mix of operands that casts to it
    safely (float16, small ints; Python scalars weakly), and so does this."""
    ops = [operand(x) for x in xs]
    avs = [aval(o) for o in ops]
    cplx = any(a.dtype.kind == "c" for a in avs)
    if cplx and not complex_ok:
        raise FuncdiffTypeError(f"`{name}` is not defined for complex input "
                                f"(got {', '.join(a.str_short() for a in avs)})")
    single = np.dtype(np.complex64 if cplx else np.float32)
    strong = [a.dtype for a in avs if not a.weak_type]
    if all(d == single for d in strong) and len(strong) == len(avs) or (
            strong and _single_loop_first(name, single.char)
            and all(np.can_cast(d, single, "safe") for d in strong)):
        return [_cast(o, single) for o in ops]
    return [_cast(o, np.dtype(np.complex128 if cplx else np.float64)) for o in ops]


@functools.lru_cache(maxsize=None)
def _single_loop_first(name, code):
    """Does SciPy's ufunc ``name`` list its all-``code`` loop (``f``/``F``) before its
    double-precision one?"""
    fn = getattr(_sp, name, None) if _sp is not None else None
    if not isinstance(fn, np.ufunc):
        return False
    ins = [t.split("->")[0] for t in fn.types]
    double = {"f": "d", "F": "D"}[code]
    single_at = next((i for i, t in enumerate(ins) if set(t) == {code}), len(ins))
    double_at = next((i for i, t in enumerate(ins) if set(t) == {double}), len(ins))
    return single_at < double_at


def _cast(x, dtype):
    a = aval(x)
    if a.dtype == dtype and not a.weak_type:
        return x
    return ew.convert_element_type(x, dtype=dtype)


def _zero(x):
    return np.zeros((), aval(x).dtype)[()]


def _one(x):
    return np.ones((), aval(x).dtype)[()]


def _stop(x):
    return stop_gradient_p.bind(x) if state.stack else x


# --- elementwise ---------------------------------------------------------------------------

@_special("expit")
def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``; derivative ``expit(x) (1 - expit(x))``
    (exact: 0 for |x| beyond ~745, never NaN)."""
    (x,) = _ufunc_args("expit", x)
    return ew.logistic(x)


@_special("logit")
def logit(x):
    """``log(p / (1 - p))`` computed as ``log(p) - log1p(-p)`` (accurate near 0 and 1;
    -inf/inf at 0/1); derivative ``1 / p + 1 / (1 - p)``."""
    (x,) = _ufunc_args("logit", x)
    return ew.sub(ew.log(x), ew.log1p(ew.neg(x)))


@_special("log_expit")
def log_expit(x):
    """``log(expit(x)) = -logaddexp(0, -x)``: exact for large |x|; derivative
    ``expit(-x)``."""
    (x,) = _ufunc_args("log_expit", x)
    return ew.neg(ew.logaddexp(_zero(x), ew.neg(x)))


@_special("softplus")
def softplus(x, **kwargs):
    """``log(1 + exp(x)) = logaddexp(0, x)`` (as SciPy computes it, NumPy's dtype
    rules); derivative ``expit(x)``, exact for large |x|."""
    if kwargs:
        raise FuncdiffTypeError(f"`softplus`: keyword arguments {sorted(kwargs)} are not "
                                "supported on traced values")
    return ew.logaddexp(0, operand(x))


def _complex_erf_family(composition, sign):
    """``composition`` (complex128 erf or erfc, SciPy's branches) with the closed-form
    derivative ``sign 2/sqrt(pi) exp(-z^2)`` (holomorphic: the tangent times it), not the
    derivative of the branches, whose series and cancellations are for values only.
    ``exp(-z^2)`` is scaled as in the values: an overflow is infinite, not NaN."""
    f = custom_jvp(composition)

    @f.defjvp
    def _jvp(primals, tangents):
        (z,), (t,) = primals, tangents
        x, y, m_re, m_im = spm._faddeeva_parts(z)
        d = spm._exp_times(m_re, m_im, np.complex128(sign * 2 / math.sqrt(math.pi)))
        return f(z), ew.mul(t, d)
    return f


_erf_complex = _complex_erf_family(spm.erf_complex, 1.0)
_erfc_complex = _complex_erf_family(spm.erfc_complex, -1.0)


@_special("erf")
def erf(z):
    """The error function; derivative ``2/sqrt(pi) exp(-z^2)``.  Complex ``z``: from the
    Faddeeva function ``wofz`` (``erf = 1 - exp(-z^2) w(iz)``, a series near 0), so it
    needs SciPy."""
    (z,) = _ufunc_args("erf", z, complex_ok=True)
    if aval(z).dtype.kind == "c":
        _require_scipy("erf")
        return _in_f64(_erf_complex, z)
    return ew.erf(z)


@_special("erfc")
def erfc(x):
    """``1 - erf(x)`` as its own primitive (accurate where erfc is tiny).  Complex
    ``x``: ``exp(-x^2) w(ix)`` (``2 - erfc(-x)`` in the left half-plane); needs SciPy."""
    (x,) = _ufunc_args("erfc", x, complex_ok=True)
    if aval(x).dtype.kind == "c":
        _require_scipy("erfc")
        return _in_f64(_erfc_complex, x)
    return sp_prims.erfc(x)


@_special("gammaln")
def gammaln(x):
    """``log|Gamma(x)|``; derivative ``digamma(x)``."""
    (x,) = _ufunc_args("gammaln", x)
    return sp_prims.gammaln(x)


@_special("digamma")
def digamma(x):
    """``psi(x) = d/dx log Gamma(x)``; derivative ``polygamma(1, x)``."""
    (x,) = _ufunc_args("digamma", x)
    return sp_prims.digamma(x)


psi = digamma
if _sp is not None:
    FUNCTIONS[_sp.psi] = digamma


@custom_jvp
def _polygamma_order(n):
    """``n`` itself; its tangent raises ``GradientError`` once used (an order, not a
    variable: the derivative in it would be zeta's in its exponent)."""
    return n


@_polygamma_order.defjvp
def _polygamma_order_jvp(primals, tangents):
    return primals[0], sp_prims.no_derivative_p.bind(tangents[0], message=(
        "`polygamma(n, x)` is not differentiable with respect to the order `n`: it is an "
        "integer.  Differentiate with respect to `x` only (pass `n` as a constant)."))


@_special("polygamma")
def polygamma(n, x):
    """``psi^(n)(x)``, the n-th derivative of digamma; derivative ``polygamma(n + 1, x)``.
    float64, as SciPy's (a Python function, not a ufunc): ``psi(x)`` in ``x``'s loop
    precision where ``n == 0``, else ``(-1)^(n+1) n! zeta(n + 1, x)`` in float64.  A
    static scalar integer ``n`` binds the primitive; an array or traced ``n`` runs
    SciPy's own formula (the derivative in ``n`` is zeta's in its exponent: none)."""
    if not isinstance(n, Tracer):
        n_ = np.asarray(n)
        if n_.ndim == 0 and n_.dtype.kind in "iu" and n_ >= 0:
            if int(n_) == 0:
                (x,) = _ufunc_args("digamma", x)
                return _cast(sp_prims.digamma(x), _F64)
            (x,) = _ufunc_args("polygamma", _cast(operand(x), _F64))
            return sp_prims.polygamma(int(n_), x)
    _require_scipy("polygamma")
    n, x = operand(n), operand(x)
    if aval(n).dtype.kind == "c" or aval(x).dtype.kind == "c":
        raise FuncdiffTypeError("`polygamma` is not defined for complex input (got "
                                f"{aval(n).str_short()}, {aval(x).str_short()})")
    n1 = ew.add(_cast(_polygamma_order(n), _F64), 1.0)    # (n's one differentiable use)
    n1c = stop_gradient_p.bind(n1)
    (x64,) = _ufunc_args("polygamma", _cast(x, _F64))
    fac2 = ew.mul(ew.mul(ew.power(-1.0, n1c), sp_prims.gamma(n1)),
                  spm.hurwitz_zeta(n1c, x64))
    (xd,) = _ufunc_args("digamma", x)
    return ew.select(ew.eq(n, 0), _cast(sp_prims.digamma(xd), _F64), fac2)


def _safe_x_log(name, x, y, log_fn, bad):
    """``x * log_fn(y)`` with the value 0 where ``x == 0`` (and y is not NaN).

    Where ``x == 0`` and ``log_fn(y)`` is not finite (``bad(y)``), ``y`` is replaced by
    a harmless value before the log, so neither the value nor any derivative sees
    ``0 * inf``; elsewhere the plain product gives the exact derivatives
    ``d/dx = log_fn(y)`` (finite at ``x == 0`` whenever log_fn(y) is) and
    ``d/dy = x log_fn'(y)``."""
    x, y = _ufunc_args(name, x, y, complex_ok=True)
    x0 = ew.eq(x, 0)
    fix = ew.logical_and(x0, bad(y))
    safe_y = ew.select(fix, _one(y) if log_fn is ew.log else _zero(y), y)
    return ew.mul(x, log_fn(safe_y))


def _bad_log_arg(y, pole):
    """Where ``log(y - pole)`` is not finite (NaN excluded: NaN propagates, as in SciPy):
    ``y <= pole`` for real y, ``y == pole`` for complex y, and infinite y."""
    if aval(y).dtype.kind == "c":
        return ew.logical_or(ew.eq(y, pole), ew.isinf(y))
    return ew.logical_or(ew.le(y, pole), ew.isinf(y))


@_special("xlogy")
def xlogy(x, y):
    """``x * log(y)``, 0 where ``x == 0`` (unless y is NaN), as SciPy.

    Derivatives: ``d/dx = log(y)``, finite at ``x == 0`` for ``y > 0``;
    ``d/dy = x / y``.  At ``x == 0`` with ``y <= 0`` or ``y = inf`` the value is 0 and
    both derivatives are taken as 0 (the limit in ``x`` is infinite or undefined)."""
    return _safe_x_log("xlogy", x, y, ew.log, lambda y: _bad_log_arg(y, 0))


@_special("xlog1py")
def xlog1py(x, y):
    """``x * log1p(y)``, 0 where ``x == 0`` (unless y is NaN), as SciPy.

    Derivatives: ``d/dx = log1p(y)``, finite at ``x == 0`` for ``y > -1``;
    ``d/dy = x / (1 + y)``; both taken as 0 at ``x == 0`` with ``y <= -1`` or
    ``y = inf``."""
    return _safe_x_log("xlog1py", x, y, ew.log1p, lambda y: _bad_log_arg(y, -1))


# --- SciPy's loop selection ----------------------------------------------------------------------

# The real loops of SciPy's ufuncs (SciPy 1.17's order; SciPy's own list is used when it is
# importable, this table without it).  tests/test_scipy_special.py checks it against SciPy.
LOOPS = {
    **dict.fromkeys(["gamma", "gammasgn", "rgamma", "i0", "i1", "j0", "j1", "y0", "y1", "ndtr",
                     "log_ndtr", "erfcx", "dawsn", "i0e", "i1e", "loggamma"],
                    ("d->d", "f->f")),
    **dict.fromkeys(["erfinv", "erfcinv", "entr", "ndtri", "exp1", "expi", "spence"],
                    ("f->f", "d->d")),
    **dict.fromkeys(["beta", "betaln", "gammainc", "gammaincc"], ("dd->d", "ff->f")),
    **dict.fromkeys(["betainc", "betaincc"], ("fff->f", "ddd->d")),
    **dict.fromkeys(["iv", "ive", "jv", "stdtr", "kl_div", "rel_entr", "poch", "owens_t",
                     "boxcox", "boxcox1p"], ("ff->f", "dd->d")),
    "yn": ("ld->d", "ff->f", "dd->d"),
    "expn": ("ld->d", "ff->f", "dd->d"),
    "hyp1f1": ("fff->f", "ddd->d"),
    "hyp2f1": ("dddd->d", "ffff->f"),
    "sici": ("f->ff", "d->dd"),
    "fresnel": ("d->dd", "f->ff"),
}
# the loops of ufuncs funcdiff uses under other names: ``binom`` (for ``comb``) and the
# private ones behind ``scipy.special.zeta`` (Riemann's and Hurwitz's)
PRIVATE_UFUNCS = {"zeta": "_riemann_zeta", "hurwitz_zeta": "_zeta"}
EXTRA_LOOPS = {"binom": ("ff->f", "dd->d"), "zeta": ("d->d", "f->f"),
               "hurwitz_zeta": ("ff->f", "dd->d")}
_REAL_CODES = set("?bhilqBHILQefd")
_ALL_CODES = _REAL_CODES | set("FD")


def _ufunc(name):
    """SciPy's ufunc ``name`` (or the private one behind it), if SciPy has it."""
    if _sp is None:
        return None
    fn = getattr(_sp, name, None)
    if not isinstance(fn, np.ufunc):
        fn = getattr(getattr(_sp, "_ufuncs", None), PRIVATE_UFUNCS.get(name, "-"), None)
    return fn if isinstance(fn, np.ufunc) else None


def _loops(name, complex_ok=False):
    fn = _ufunc(name)
    if fn is not None:
        codes = _ALL_CODES if complex_ok else _REAL_CODES
        return tuple(t for t in fn.types if set(t.replace("->", "")) <= codes)
    return LOOPS[name] if name in LOOPS else EXTRA_LOOPS[name]


def _fits(a, code, all_weak, exact):
    """Can an operand of aval ``a`` use a loop input of type ``code``?"""
    dt = np.dtype(code)
    if a.weak_type and not all_weak:   # a Python scalar next to arrays: NEP 50, weakly
        k = a.dtype.kind
        return k == "b" or (k in "iu" and dt.kind in "iufc") or (
            k == "f" and dt.kind in "fc") or (k == "c" and dt.kind == "c")
    return a.dtype == dt if exact else bool(np.can_cast(a.dtype, dt, "safe"))


def loop_dtypes(name, *avals, complex_ok=False):
    """The input dtypes of the loop NumPy picks among SciPy's ``name`` loops: an exact
    match of (strong) dtypes first, else the first loop every operand casts to safely.
    Complex loops count only with ``complex_ok`` (else complex operands raise)."""
    if not complex_ok and any(a.dtype.kind == "c" for a in avals):
        raise FuncdiffTypeError(f"`{name}` is not defined for complex input here (got "
                                f"{', '.join(a.str_short() for a in avals)})")
    loops = [t.split("->")[0] for t in _loops(name, complex_ok)]
    all_weak = all(a.weak_type for a in avals)
    searches = (True, False) if all_weak or not any(a.weak_type for a in avals) else (False,)
    for exact in searches:
        for ins in loops:
            if all(_fits(a, c, all_weak, exact) for a, c in zip(avals, ins)):
                return [np.dtype(c) for c in ins]
    raise FuncdiffTypeError(f"`{name}`: no loop of scipy.special.{name} takes operands "
                            f"{', '.join(a.str_short() for a in avals)}")


def _loop_args(name, *xs, complex_ok=False):
    """Operands cast to the dtypes of SciPy's loop for them."""
    ops = [operand(x) for x in xs]
    dts = loop_dtypes(name, *[aval(o) for o in ops], complex_ok=complex_ok)
    return [_cast(o, dt) for o, dt in zip(ops, dts)]


def _in_f64(fn, *xs):
    """``fn`` evaluated in double precision (float64, or complex128 for complex operands)
    and the result cast back to the first operand's dtype: SciPy's single-precision loops
    compute in double too, so single-precision compositions match them."""
    dt = aval(xs[0]).dtype
    wide = np.dtype(np.complex128) if dt.kind == "c" else _F64
    if dt == wide:
        return fn(*xs)
    return _cast(fn(*[_cast(x, np.dtype(np.complex128) if aval(x).dtype.kind == "c" else _F64)
                      for x in xs]), dt)


def _require_scipy(name):
    if _sp is None:  # pragma: no cover - exercised without SciPy
        sp_prims.scipy_required(name)()


def _concrete(x):
    """The value of ``x`` if known (a NumPy value, or a tracer outside jit), else None."""
    if isinstance(x, Tracer):
        return x._val
    return np.asarray(x)


# --- gamma and beta functions --------------------------------------------------------------------

@_special("gamma")
def gamma(z):
    """Gamma(z); derivative ``gamma(z) digamma(z)``."""
    (z,) = _loop_args("gamma", z)
    return sp_prims.gamma(z)


@_special("rgamma")
def rgamma(z):
    """1/Gamma(z) (0 at the poles of Gamma); derivative ``-rgamma(z) digamma(z)``, and
    at the poles ``z = -n``, where 1/Gamma is smooth, ``(-1)^n n!`` (every order exact)."""
    (z,) = _loop_args("rgamma", z)
    return sp_prims.rgamma(z)


@_special("gammasgn")
def gammasgn(x):
    """The sign of Gamma(x): 1 for x > 0, the sign of zero at +-0, alternating between
    the negative poles (where it is NaN, as at -inf and NaN).  Derivative 0."""
    (x,) = _loop_args("gammasgn", x)
    one = _one(x)
    nan = np.asarray(np.nan, aval(x).dtype)[()]
    bad = ew.logical_or(ew.isnan(x), ew.logical_and(ew.lt(x, 0), ew.eq(ew.floor(x), x)))
    xs = ew.select(ew.logical_or(bad, ew.isinf(x)), -0.5 * one, x)
    odd = ew.eq(ew.rem(ew.floor(xs), 2 * one), one)
    neg_sign = ew.select(odd, -one, one)
    zero_sign = ew.select(ew.gt(ew.atan2(x, -one), 0), one, -one)   # atan2(+-0, -1) = +-pi
    out = ew.select(ew.gt(x, 0), one, ew.select(ew.eq(x, 0), zero_sign, neg_sign))
    return ew.select(bad, nan, out)


@_special("multigammaln")
def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension ``d`` (a static integer):
    ``d(d-1)/4 log(pi) + sum_j gammaln(a - (j-1)/2)``.  As SciPy, raises ValueError when
    some ``a <= (d-1)/2`` (checked where the value of ``a`` is known, i.e. not under
    jit)."""
    if isinstance(d, Tracer) or not np.isscalar(d) or np.floor(d) != d:
        raise FuncdiffValueError("multigammaln: d should be a positive integer (dimension), "
                                 "static under funcdiff transforms")
    d = int(d)
    av = _concrete(a)
    if av is not None and np.any(av <= 0.5 * (d - 1)):
        raise FuncdiffValueError(f"condition a ({np.min(av)}) > 0.5 * (d-1) "
                                 f"({0.5 * (d - 1)}) not met")
    a = operand(a)
    terms = fnp.stack([gammaln(fnp.subtract(a, (j - 1.0) / 2)) for j in range(1, d + 1)])
    return fnp.add(np.float64(d * (d - 1) * 0.25) * np.log(np.pi), fnp.sum(terms, axis=0))


@_special("beta")
def beta(a, b):
    """B(a, b); derivatives ``B(a, b) (digamma(a) - digamma(a + b))`` and likewise in b."""
    a, b = _loop_args("beta", a, b)
    return sp_prims.beta(a, b)


@_special("betaln")
def betaln(a, b):
    """log|B(a, b)|; derivatives ``digamma(a) - digamma(a + b)`` and likewise in b."""
    a, b = _loop_args("betaln", a, b)
    return sp_prims.betaln(a, b)


# --- incomplete gamma and beta, Student's t ------------------------------------------------------

@_special("gammainc")
def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x).  d/dx is the gamma
    density ``x^(a-1) e^(-x) / Gamma(a)``; d/da raises GradientError (no closed form)."""
    a, x = _loop_args("gammainc", a, x)
    return sp_prims.gammainc(a, x)


@_special("gammaincc")
def gammaincc(a, x):
    """Q(a, x) = 1 - P(a, x), accurate where it is small.  d/dx = -(gamma density);
    d/da raises GradientError."""
    a, x = _loop_args("gammaincc", a, x)
    return sp_prims.gammaincc(a, x)


@_special("betainc")
def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b).  d/dx is the beta density
    ``x^(a-1) (1-x)^(b-1) / B(a, b)``; d/da and d/db raise GradientError."""
    a, b, x = _loop_args("betainc", a, b, x)
    return sp_prims.betainc(a, b, x)


@_special("betaincc")
def betaincc(a, b, x):
    """1 - I_x(a, b), accurate where it is small.  d/dx = -(beta density); d/da and d/db
    raise GradientError."""
    a, b, x = _loop_args("betaincc", a, b, x)
    return sp_prims.betaincc(a, b, x)


@_special("stdtr")
def stdtr(df, t):
    """Student's t cdf with ``df`` degrees of freedom.  d/dt is the t density (normal for
    df = inf); d/ddf raises GradientError."""
    df, t = _loop_args("stdtr", df, t)
    return sp_prims.stdtr(df, t)


# --- error function relatives and the normal cdf -------------------------------------------------

@_special("erfinv")
def erfinv(y):
    """The inverse of erf on (-1, 1); derivative ``sqrt(pi)/2 exp(erfinv(y)^2)``."""
    (y,) = _loop_args("erfinv", y)
    return sp_prims.erfinv(y)


@_special("erfcinv")
def erfcinv(y):
    """The inverse of erfc on (0, 2); derivative ``-sqrt(pi)/2 exp(erfcinv(y)^2)``."""
    (y,) = _loop_args("erfcinv", y)
    return sp_prims.erfcinv(y)


_SQRT1_2 = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@_special("ndtr")
def ndtr(x):
    """The standard normal cdf ``erfc(-x / sqrt(2)) / 2`` (accurate in both tails)."""
    (x,) = _loop_args("ndtr", x)
    return _in_f64(_ndtr, x)


def _ndtr(x):
    return ew.mul(0.5, sp_prims.erfc(ew.mul(x, -_SQRT1_2)))


def _log_ndtr_asymptotic(x):
    """log Phi(x) for x <= -20: ``-x^2/2 - log(-x) - log(2 pi)/2 + log(1 + sum_k
    (-1)^k (2k-1)!! / x^(2k))`` (12 terms: the next is below 1e-19 relatively)."""
    c = lambda v: np.asarray(v, aval(x).dtype)[()]  # noqa: E731
    z = ew.div(c(1.0), ew.square(x))
    s = c(0.0)
    coef = [(-1) ** k * math.prod(range(1, 2 * k, 2)) for k in range(1, 13)]
    for ck in reversed(coef):
        s = ew.mul(z, ew.add(c(ck), s))
    return ew.sub(ew.sub(ew.mul(c(-0.5), ew.square(x)), ew.log(ew.neg(x))),
                  ew.sub(c(_LOG_SQRT_2PI), ew.log1p(s)))


@_special("log_ndtr")
def log_ndtr(x):
    """log of the standard normal cdf: ``log1p(-ndtr(-x))`` for x > 0, ``log(ndtr(x))``
    down to -20 and an asymptotic series below (no underflow down to -1e154, finite
    derivatives ``pdf/cdf`` everywhere)."""
    (x,) = _loop_args("log_ndtr", x)
    return _in_f64(_log_ndtr, x)


def _log_ndtr(x):
    hi, lo = ew.gt(x, 0.0), ew.le(x, -20.0)
    mid = ew.logical_not(ew.logical_or(hi, lo))
    x_hi, x_lo, x_mid = ew.select(hi, x, 1.0), ew.select(lo, x, -21.0), ew.select(mid, x, -1.0)
    v_hi = ew.log1p(ew.neg(_ndtr(ew.neg(x_hi))))
    v_mid = ew.log(_ndtr(x_mid))
    v_lo = _log_ndtr_asymptotic(x_lo)
    return ew.select(hi, v_hi, ew.select(lo, v_lo, v_mid))


@_special("ndtri")
def ndtri(y):
    """The inverse of ndtr: ``-sqrt(2) erfcinv(2 y)`` (accurate in the lower tail)."""
    (y,) = _loop_args("ndtri", y)
    return _in_f64(lambda v: ew.mul(-math.sqrt(2.0), sp_prims.erfcinv(ew.mul(2.0, v))), y)


# --- entropy -------------------------------------------------------------------------------------

@_special("entr")
def entr(x):
    """``-x log(x)`` for x > 0, 0 at 0, -inf for x < 0.  Derivative ``-(log(x) + 1)`` for
    x > 0 and 0 elsewhere (at 0 the one-sided derivative is infinite; 0 follows the
    ``xlogy`` convention)."""
    (x,) = _loop_args("entr", x)
    return _in_f64(_entr, x)


def _entr(x):
    dt = aval(x).dtype
    pos = ew.gt(x, 0)
    xs = ew.select(pos, x, _one(x))
    val = ew.neg(ew.mul(xs, ew.log(xs)))
    other = ew.select(ew.eq(x, 0), _zero(x),
                      ew.select(ew.isnan(x), np.asarray(np.nan, dt)[()],
                                np.asarray(-np.inf, dt)[()]))
    return ew.select(pos, val, other)


# --- Bessel functions ----------------------------------------------------------------------------

@_special("i0")
def i0(x):
    """Modified Bessel function of the first kind, order 0; derivative ``i1``."""
    (x,) = _loop_args("i0", x)
    return sp_prims.i0(x)


@_special("i1")
def i1(x):
    """Modified Bessel function of the first kind, order 1; derivative
    ``(i0(x) + iv(2, x)) / 2``."""
    (x,) = _loop_args("i1", x)
    return sp_prims.i1(x)


@_special("iv")
def iv(v, z):
    """Modified Bessel function of the first kind of real order ``v``; d/dz =
    ``(iv(v-1, z) + iv(v+1, z)) / 2``; d/dv raises GradientError.  Without SciPy a
    negative non-integer order raises SciPyRequiredError."""
    v, z = _loop_args("iv", v, z)
    return sp_prims.iv(v, z)


@_special("ive")
def ive(v, z):
    """``iv(v, z) exp(-|z|)``; d/dz = ``(ive(v-1, z) + ive(v+1, z)) / 2 - sign(z)
    ive(v, z)``; d/dv raises GradientError."""
    v, z = _loop_args("ive", v, z)
    return sp_prims.ive(v, z)


@_special("j0")
def j0(x):
    """Bessel function of the first kind, order 0; derivative ``-j1``.  Needs SciPy."""
    _require_scipy("j0")
    (x,) = _loop_args("j0", x)
    return sp_prims.j0(x)


@_special("j1")
def j1(x):
    """Bessel function of the first kind, order 1; derivative ``(j0 - jv(2, .)) / 2``.
    Needs SciPy."""
    _require_scipy("j1")
    (x,) = _loop_args("j1", x)
    return sp_prims.j1(x)


@_special("jv")
def jv(v, z):
    """Bessel function of the first kind of real order ``v`` (``jn`` is this function,
    as in SciPy); d/dz = ``(jv(v-1, z) - jv(v+1, z)) / 2``; d/dv raises GradientError.
    Needs SciPy."""
    _require_scipy("jv")
    v, z = _loop_args("jv", v, z)
    return sp_prims.jv(v, z)


jn = jv


@_special("y0")
def y0(x):
    """Bessel function of the second kind, order 0; derivative ``-y1``.  Needs SciPy."""
    _require_scipy("y0")
    (x,) = _loop_args("y0", x)
    return sp_prims.y0(x)


@_special("y1")
def y1(x):
    """Bessel function of the second kind, order 1; derivative ``(y0 - yn(2, .)) / 2``.
    Needs SciPy."""
    _require_scipy("y1")
    (x,) = _loop_args("y1", x)
    return sp_prims.y1(x)


@_special("yn")
def yn(n, x):
    """Bessel function of the second kind of integer order ``n`` (a real ``n`` is
    truncated, as SciPy does); d/dx = ``(yn(n-1, x) - yn(n+1, x)) / 2``; d/dn raises
    GradientError.  Needs SciPy."""
    _require_scipy("yn")
    n, x = _loop_args("yn", n, x)
    return sp_prims.yn(n, x)


# --- reductions over an axis -----------------------------------------------------------------

def _axes_of(axis, ndim):
    if isinstance(axis, (list, tuple)):
        axis = tuple(int(a) for a in axis)
    elif axis is not None:
        axis = int(axis)
    return canonical_axes(axis, ndim)


def _keep(x, shape, axes):
    return sh.reshape(x, pb._keepdims_shape(shape, axes))


def _shift(x, axes):
    """The max along ``axes`` (keepdims shape), 0 where it is not finite, with its
    gradient stopped: the shift cancels exactly in every function using it.  For
    complex input the real part's maximum is used."""
    xa = aval(x)
    xr = ew.real(x) if xa.dtype.kind == "c" else x
    m = _keep(rd.reduce_max(xr, axes), xa.shape, axes)
    m = ew.select(ew.isfinite(m), m, _zero(m))
    return _stop(m)


def _weighted_exp(a, b, axes):
    """``(m, b * exp(a - m))`` for logsumexp with weights ``b``; ``m`` is the shift.

    Entries with ``b == 0`` add nothing, as in SciPy: the shift ignores them, and where
    ``a`` is not finite there they are dropped before the ``exp`` (no ``0 * inf``).  But
    they are not masked out of the product: ``d/db_i = exp(a_i - m)`` there, so the
    gradient w.r.t. a zero weight is ``exp(a_i - lse)``, not 0 (zero-initialized weights
    can move).  Where ``b == 0`` the exponent is capped below overflow, keeping the
    product an exact 0."""
    dt = aval(a).dtype
    zero_b = ew.eq(b, 0)
    neg_inf = np.asarray(-np.inf, dt)[()]
    m = _shift(ew.select(zero_b, neg_inf, a), axes)
    a = ew.select(ew.logical_and(zero_b, ew.logical_not(ew.isfinite(a))), neg_inf, a)
    d = ew.sub(a, m)
    real_dt = np.finfo(dt).dtype   # (complex a: the real part's range)
    cap = float(np.log(np.finfo(real_dt).max)) - 1.0
    d = ew.select(ew.logical_and(zero_b, ew.gt(ew.real(d) if dt.kind == "c" else d, cap)),
                  np.asarray(cap, dt)[()], d)
    return m, ew.mul(b, ew.exp(d))


@functools.lru_cache(maxsize=None)
def _scipy_weighted_lse_nan():
    """Whether this SciPy's ``logsumexp`` gives NaN for a positive weighted sum whose
    largest term has a negative weight (SciPy 1.15.0-1.15.2, scipy/scipy#22903)."""
    with np.errstate(all="ignore"):
        return bool(np.isnan(_sp.logsumexp([1.0, 2.0], b=[1.0, -1e-3])))


def _logsumexp_eager(sp_fn, traced, a, axis=None, b=None, keepdims=False,
                     return_sign=False):
    """SciPy's ``logsumexp``; on a SciPy that gives NaN for some positive weighted sums,
    its NaNs are replaced by its own ``return_sign`` result where the sum is not
    negative (real dtypes: that path is right there)."""
    out = sp_fn(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    if b is None or return_sign or np.asarray(out).dtype.kind != "f" or \
            not np.isnan(out).any() or not _scipy_weighted_lse_nan():
        return out
    lse, sign = sp_fn(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    return np.where(sign >= 0, lse, out)[()]


@scipy_fast_path(getattr(_sp, "logsumexp", None), eager=_logsumexp_eager)
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))`` without overflow: shifted by the (stopped)
    maximum.  Entries with ``b == 0`` add nothing to the value (even if ``a`` is inf or
    NaN there), as in SciPy, yet the derivative w.r.t. such a ``b_i`` is
    ``exp(a_i - lse)``.  An empty or all ``-inf`` reduction (all ``b == 0`` included)
    gives ``-inf`` with gradient 0 (never NaN).
    Without ``return_sign`` a negative sum gives NaN; with it, returns
    ``(log|sum|, sign(sum))``."""
    a = operand(a)
    dt = aval(a).dtype if b is None else result_dtype(np.add, aval(a), aval(operand(b)))
    if dt.kind not in "fc":
        dt = _F64
    a = _cast(a, dt)
    if b is not None:
        b = _cast(operand(b), dt)
        shape = np.broadcast_shapes(aval(a).shape, aval(b).shape)
        a, b = pb.broadcast_to(a, shape), pb.broadcast_to(b, shape)
    if aval(a).ndim == 0:
        a = sh.reshape(a, (1,))
        if b is not None:
            b = sh.reshape(b, (1,))
    xa = aval(a)
    axes = _axes_of(axis, xa.ndim)
    out_shape = pb._keepdims_shape(xa.shape, axes)
    if xa.size == 0:
        out = sh.full(out_shape, -np.inf, dt)
        sgn = sh.full(out_shape, -1.0, dt)
    else:
        if b is None:
            m = _shift(a, axes)
            e = ew.exp(ew.sub(a, m))
        else:
            m, e = _weighted_exp(a, b, axes)
        s = _keep(rd.reduce_sum(e, axes), xa.shape, axes)
        sgn = None
        if return_sign:
            if dt.kind == "c":
                mag = ew.abs_(s)
                sgn = ew.div(s, ew.select(ew.eq(mag, 0), _one(mag), mag))
                sgn = ew.select(ew.eq(mag, 0), _zero(s), sgn)
                s = mag
            else:
                sgn = ew.sign(s)
                s = ew.abs_(s)
        zero = ew.eq(s, 0)
        log_s = ew.log(ew.select(zero, _one(s), s))
        neg_inf = np.asarray(-np.inf, aval(log_s).dtype)[()]
        out = ew.add(ew.select(zero, neg_inf, log_s), m)
    if not keepdims:
        out = sh.reshape(out, rd._reduce_shape(aval(out), axes))
        if return_sign:
            sgn = sh.reshape(sgn, rd._reduce_shape(aval(sgn), axes))
    return (out, sgn) if return_sign else out


def _check_nonempty(xa, axes):
    if axes and xa.size == 0 and int(np.prod([xa.shape[i] for i in axes])) == 0:
        raise FuncdiffValueError("zero-size array to reduction operation maximum which has "
                                 "no identity")


@_special("softmax")
def softmax(x, axis=None):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (all axes when None); the
    shift is gradient-stopped (it cancels exactly)."""
    x = operand(x)
    xa = aval(x)
    axes = _axes_of(axis, xa.ndim)
    _check_nonempty(xa, axes)
    m = _stop(_keep(rd.reduce_max(x, axes), xa.shape, axes))
    e = ew.exp(ew.sub(x, m))
    return ew.div(e, _keep(rd.reduce_sum(e, axes), aval(e).shape, axes))


@_special("log_softmax")
def log_softmax(x, axis=None):
    """``x - max - log(sum(exp(x - max)))`` along ``axis``: exact for large inputs (the
    stopped shift is 0 where the max is not finite, as in SciPy)."""
    x = operand(x)
    xa = aval(x)
    axes = _axes_of(axis, xa.ndim)
    _check_nonempty(xa, axes)
    tmp = ew.sub(x, _shift(x, axes))
    e = ew.exp(tmp)
    return ew.sub(tmp, ew.log(_keep(rd.reduce_sum(e, axes), aval(e).shape, axes)))


ShapedArray, math  # noqa: B018 - kept for type hints and future use
