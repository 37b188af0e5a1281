"""The rest of SciPy's ``scipy.special`` list (issue 15), on values that trace.

Primitives (``funcdiff.primitives.special_more``, SciPy's ufuncs): ``erfcx wofz dawsn
exp1 expi expn hyp1f1 hyp2f1 zeta poch loggamma spence sici fresnel owens_t
sph_harm_y``; they need SciPy under transforms.  Compositions (no SciPy needed): ``i0e
i1e`` (``ive``), ``kl_div rel_entr boxcox boxcox1p comb factorial``; ``bessel_jn`` stacks
``jv``; ``bernoulli(n)`` takes a static ``n``.

dtypes follow SciPy's loops as in ``funcdiff.scipy._special`` (complex loops included:
``erfcx dawsn exp1 expi loggamma spence sici fresnel zeta`` take complex arguments,
``hyp1f1``/``hyp2f1`` a complex ``x``; ``wofz`` is complex-only).

Derivative conventions (docs/subgradients.md, docs/scientific.md): closed forms as listed
in ``funcdiff.primitives.special_more``; with respect to the hypergeometric parameters,
``zeta``'s exponent and integer orders a derivative raises ``GradientError`` (JAX has
series for ``hyp1f1``'s parameters; funcdiff keeps the rule of ``gammainc``: no inexact
derivative); ``rel_entr``/``kl_div`` at ``x = 0``: derivative 0 in ``x`` (JAX's).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer
from ..numpy._core import aval, operand
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import special as sp_prims
from ..primitives import special_more as spm
from ._special import (_cast, _in_f64, _loop_args, _one, _require_scipy, _sp, _special,
                       _zero)

_F64 = np.dtype(np.float64)


def _c(x, value):
    return np.asarray(value, aval(x).dtype)[()]


def _is_complex(x):
    return aval(x).dtype.kind == "c"


# --- error function relatives --------------------------------------------------------------------

@_special("erfcx")
def erfcx(x):
    """``exp(x^2) erfc(x)``; derivative ``2 x erfcx(x) - 2/sqrt(pi)``."""
    _require_scipy("erfcx")
    (x,) = _loop_args("erfcx", x, complex_ok=True)
    return spm.erfcx(x)


@_special("wofz")
def wofz(z):
    """The Faddeeva function ``w(z) = exp(-z^2) erfc(-iz)`` (complex output, as SciPy);
    derivative ``-2 z w(z) + 2i/sqrt(pi)``."""
    _require_scipy("wofz")
    (z,) = _loop_args("wofz", z, complex_ok=True)
    return spm.wofz(z)


@_special("dawsn")
def dawsn(x):
    """Dawson's integral ``exp(-x^2) int_0^x exp(t^2) dt``; derivative ``1 - 2 x
    dawsn(x)``."""
    _require_scipy("dawsn")
    (x,) = _loop_args("dawsn", x, complex_ok=True)
    return spm.dawsn(x)


# --- exponential integrals -----------------------------------------------------------------------

@_special("exp1")
def exp1(z):
    """``E1(z) = int_z^inf exp(-t)/t dt``; derivative ``-exp(-z)/z``."""
    _require_scipy("exp1")
    (z,) = _loop_args("exp1", z, complex_ok=True)
    return spm.exp1(z)


@_special("expi")
def expi(x):
    """``Ei(x)``; derivative ``exp(x)/x``."""
    _require_scipy("expi")
    (x,) = _loop_args("expi", x, complex_ok=True)
    return spm.expi(x)


@_special("expn")
def expn(n, x):
    """``E_n(x)`` for integer ``n`` (a real ``n`` is truncated, as SciPy does); d/dx
    ``= -E_{n-1}(x)``; d/dn raises GradientError."""
    _require_scipy("expn")
    n, x = _loop_args("expn", n, x)
    return spm.expn(n, x)


# --- relative entropies --------------------------------------------------------------------------

def _entropy_terms(x, y):
    """``(both, zero_case, xs, ys)``: where ``x > 0 and y > 0``; where ``x == 0 and y >=
    0``; and x, y replaced by 1 outside the first case (so no branch a mask discards
    reaches a derivative)."""
    both = ew.logical_and(ew.gt(x, 0), ew.gt(y, 0))
    zero_case = ew.logical_and(ew.eq(x, 0), ew.ge(y, 0))
    return both, zero_case, ew.select(both, x, _one(x)), ew.select(both, y, _one(y))


def _entropy_rest(both, zero_case, val, zero_val, x, y):
    inf = np.asarray(np.inf, aval(x).dtype)[()]
    nan = np.asarray(np.nan, aval(x).dtype)[()]
    out = ew.select(both, val, ew.select(zero_case, zero_val, inf))
    return ew.select(ew.logical_or(ew.isnan(x), ew.isnan(y)), nan, out)


@_special("rel_entr")
def rel_entr(x, y):
    """``x log(x/y)`` for ``x, y > 0``, 0 for ``x = 0, y >= 0``, inf otherwise.
    Derivatives ``log(x/y) + 1`` and ``-x/y``; at ``x = 0`` both are 0 (as JAX)."""
    x, y = _loop_args("rel_entr", x, y)
    return _in_f64(_rel_entr, x, y)


def _rel_entr(x, y):
    both, zero_case, xs, ys = _entropy_terms(x, y)
    val = ew.mul(xs, ew.log(ew.div(xs, ys)))
    return _entropy_rest(both, zero_case, val, _zero(x), x, y)


@_special("kl_div")
def kl_div(x, y):
    """``x log(x/y) - x + y`` for ``x, y > 0``, ``y`` for ``x = 0, y >= 0``, inf
    otherwise.  Derivatives ``log(x/y)`` and ``1 - x/y``; at ``x = 0`` 0 in ``x`` and 1
    in ``y``."""
    x, y = _loop_args("kl_div", x, y)
    return _in_f64(_kl_div, x, y)


def _kl_div(x, y):
    both, zero_case, xs, ys = _entropy_terms(x, y)
    val = ew.add(ew.sub(ew.mul(xs, ew.log(ew.div(xs, ys))), xs), ys)
    return _entropy_rest(both, zero_case, val, y, x, y)


# --- hypergeometric functions, zeta --------------------------------------------------------------

@_special("hyp1f1")
def hyp1f1(a, b, x):
    """Kummer's confluent hypergeometric function ``1F1(a; b; x)`` (``x`` may be
    complex); d/dx ``= a/b 1F1(a+1; b+1; x)``; d/da, d/db raise GradientError."""
    _require_scipy("hyp1f1")
    a, b, x = _loop_args("hyp1f1", a, b, x, complex_ok=True)
    return spm.hyp1f1(a, b, x)


@_special("hyp2f1")
def hyp2f1(a, b, c, z):
    """Gauss's hypergeometric function ``2F1(a, b; c; z)`` (``z`` may be complex); d/dz
    ``= ab/c 2F1(a+1, b+1; c+1; z)``; d/da, d/db, d/dc raise GradientError."""
    _require_scipy("hyp2f1")
    a, b, c, z = _loop_args("hyp2f1", a, b, c, z, complex_ok=True)
    return spm.hyp2f1(a, b, c, z)


@_special("zeta")
def zeta(x, q=None, out=None):
    """The Riemann zeta function ``zeta(x)``, or Hurwitz's ``zeta(x, q)``.  d/dq
    ``= -x zeta(x+1, q)``; d/dx has no closed form and raises GradientError."""
    if out is not None:
        raise FuncdiffValueError("zeta: `out=` is not supported on traced values (arrays "
                                 "are not written in place); use the returned value")
    _require_scipy("zeta")
    if q is None:
        (x,) = _loop_args("zeta", x, complex_ok=True)
        return spm.zeta(x)
    x, q = _loop_args("hurwitz_zeta", x, q, complex_ok=True)
    return spm.hurwitz_zeta(x, q)


# --- gamma relatives -----------------------------------------------------------------------------

@_special("poch")
def poch(z, m):
    """The Pochhammer symbol ``Gamma(z + m) / Gamma(z)``; d/dz ``= poch (digamma(z + m) -
    digamma(z))``, d/dm ``= poch digamma(z + m)``."""
    _require_scipy("poch")
    z, m = _loop_args("poch", z, m)
    return spm.poch(z, m)


@_special("loggamma")
def loggamma(z):
    """The principal branch of log Gamma (real: NaN for ``x < 0``); derivative
    ``digamma(z)`` (for complex ``z`` a composition, exact to every order)."""
    _require_scipy("loggamma")
    (z,) = _loop_args("loggamma", z, complex_ok=True)
    return spm.loggamma(z)


@_special("factorial")
def factorial(n, exact=False, extend="zero"):
    """``Gamma(n + 1)``, 0 for ``n < 0`` (``extend='zero'``) or the gamma function there
    too (``extend='complex'``, real ``n`` only on traced values); float64, as SciPy.
    ``exact=True`` (Python integers) works on values that are not traced only."""
    if extend not in ("zero", "complex"):
        raise FuncdiffValueError("argument `extend` must be either 'zero' or 'complex', "
                                 f"received: {extend}")
    if exact:
        return _exact("factorial", lambda: _sp.factorial(n, exact=True), (n,),
                      lambda: math.factorial(int(n)))
    n_in = n = operand(n)
    if _is_complex(n):
        raise FuncdiffTypeError("factorial: complex `n` is not supported on traced values")
    if aval(n).dtype.kind == "b":
        raise FuncdiffTypeError("factorial: boolean `n` is not supported (as in SciPy)")
    if aval(n).size == 0:        # SciPy returns an empty input as it is
        return n
    # as SciPy: n + 1 in n's dtype (float16 rounds), Gamma in the loop that picks
    # (float32 stays float32), placed into float64 zeros for extend='zero'
    if extend == "zero":
        n = ew.select(ew.ge(n, _zero(n)), n, _zero(n))
    (v,) = _loop_args("gamma", ew.add(n, _one(n)))
    val = sp_prims.gamma(v)
    if extend == "complex":      # SciPy's _gamma1p: NaN at -1 instead of inf
        if aval(n).dtype.kind == "u":
            return val
        return ew.select(ew.eq(n, _c(n, -1)), _c(val, np.nan), val)
    x = _cast(operand(n_in), _F64)
    return ew.select(ew.ge(x, 0), _cast(val, _F64), ew.select(ew.isnan(x), x, _zero(x)))


def _is_pole(x):
    """Where ``x`` is a pole of Gamma: 0, -1, -2, ..."""
    return ew.logical_and(ew.le(x, _zero(x)), ew.eq(ew.floor(x), x))


def _binom(n, k):
    """``1 / ((n + 1) B(n - k + 1, k + 1))`` (SciPy's general case of ``binom``; NaN at
    negative integer ``n``).  Where ``k + 1`` or ``n - k + 1`` is a pole of Gamma the value
    is 0 and that form's derivative ``0 * inf``: there ``Gamma(n + 1) rgamma(k + 1)
    rgamma(n - k + 1)``, whose derivatives are exact (rgamma is entire).  Each branch sees
    only its own points."""
    one = _one(n)
    neg_int = ew.logical_and(ew.lt(n, 0), ew.eq(ew.floor(n), n))
    zero_at = ew.logical_and(ew.logical_or(_is_pole(ew.add(k, one)),
                                           _is_pole(ew.add(ew.sub(n, k), one))),
                             ew.logical_not(neg_int))
    nb, kb = ew.select(zero_at, one, n), ew.select(zero_at, _zero(k), k)
    val = ew.div(one, ew.mul(ew.add(nb, one), sp_prims.beta(ew.add(ew.sub(nb, kb), one),
                                                            ew.add(kb, one))))
    nr, kr = ew.select(zero_at, n, one), ew.select(zero_at, k, _zero(k))
    at_zero = ew.mul(ew.mul(sp_prims.gamma(ew.add(nr, one)), sp_prims.rgamma(ew.add(kr, one))),
                     sp_prims.rgamma(ew.add(ew.sub(nr, kr), one)))
    val = ew.select(zero_at, at_zero, val)
    return ew.select(neg_int, np.asarray(np.nan, aval(n).dtype)[()], val)


@_special("comb")
def comb(N, k, *, exact=False, repetition=False):
    """The binomial coefficient ``N choose k`` as SciPy's ``binom`` (``1 / ((N+1) B(N -
    k + 1, k + 1))``), 0 unless ``0 <= k <= N``; with ``repetition``, ``binom(N + k -
    1, k)`` (1 where ``k = 0 <= N``; before SciPy 1.16 ``comb(N + k - 1, k)``).
    Differentiable in ``N`` and ``k`` (through ``beta``; at binom's zeros through
    ``rgamma``; 0 outside the support).  ``exact=True`` works on values that are not
    traced only."""
    if exact:
        return _exact("comb", lambda: _sp.comb(N, k, exact=True, repetition=repetition),
                      (N, k), lambda: math.comb(int(N) + (int(k) - 1 if repetition else 0),
                                                int(k)))
    # SciPy's comb takes np.asarray of both (Python scalars become strong float64/int64)
    N, k = _loop_args("binom", *[np.asarray(v) if type(v) in (bool, int, float) else v
                                 for v in (N, k)])
    # (the constant branches get stand-in arguments: no NaN derivative leaks from binom)
    if repetition:
        if not _REPETITION_IS_BINOM:          # SciPy < 1.16: comb(N + k - 1, k)
            N = ew.sub(ew.add(N, k), 1.0)
        else:
            one = ew.logical_and(ew.eq(k, 0), ew.ge(N, 0))
            val = _in_f64(lambda n, kk: _binom(ew.sub(ew.add(n, kk), 1.0), kk),
                          ew.select(one, _c(N, 2.0), N), k)
            return ew.select(one, _one(val), val)
    cond = ew.logical_and(ew.logical_and(ew.le(k, N), ew.ge(N, 0)), ew.ge(k, 0))
    val = _in_f64(_binom, ew.select(cond, N, _one(N)), ew.select(cond, k, _zero(k)))
    return ew.select(cond, val, _zero(val))


# SciPy 1.16 made comb(..., repetition=True) binom(N + k - 1, k) (NaN at comb(-2, 1), 1 at
# comb(0, 0)); before, it was comb(N + k - 1, k) (0 outside 0 <= k <= N + k - 1)
_REPETITION_IS_BINOM = _sp is None or bool(np.isnan(_sp.comb(-2.0, 1.0, repetition=True)))


def _exact(name, scipy_fn, args, fallback):
    """``exact=True``: Python integers, which cannot be traced: computed when no argument
    is traced (by SciPy, or ``math`` without it), else an error."""
    if any(isinstance(a, Tracer) for a in args):
        raise FuncdiffTypeError(
            f"`{name}(..., exact=True)` computes Python integers, which cannot be traced; "
            "use exact=False (floating point, differentiable) under funcdiff transforms")
    return scipy_fn() if _sp is not None else fallback()


@_special("bernoulli")
def bernoulli(n):
    """The Bernoulli numbers ``B_0 ... B_n`` (``B_1 = -1/2``) as a float64 array; ``n``
    is a static non-negative integer."""
    if isinstance(n, Tracer):
        raise FuncdiffTypeError("bernoulli: `n` (the number of terms, hence the output's "
                                "length) must be a static integer, not a traced value")
    if not np.isscalar(n) or n < 0:
        raise FuncdiffValueError("n must be a non-negative integer.")
    n = int(n)
    if _sp is not None:
        return _sp.bernoulli(n)
    return np.array([float(b) for b in _bernoulli_fractions(n)])  # pragma: no cover


def _bernoulli_fractions(n):
    """Exact ``B_0 .. B_n`` (``B_1 = -1/2``) by the Akiyama-Tanigawa algorithm."""
    out, a = [], []
    for m in range(n + 1):
        a.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        out.append(a[0])
    if n >= 1:
        out[1] = -out[1]
    return out


# --- Bessel functions ----------------------------------------------------------------------------

def bessel_jn(z, *, v, n_iter=50):
    """``J_0(z) ... J_v(z)`` stacked along a new first axis, shape ``(v + 1, *z.shape)``
    (JAX's ``jax.scipy.special.bessel_jn``; SciPy has no such function).  Computed by
    SciPy's ``jv``, so ``n_iter`` (JAX's recurrence length) is accepted and unused; d/dz
    by the Bessel recurrence."""
    if isinstance(v, Tracer) or not isinstance(v, (int, np.integer)) or v < 0:
        raise FuncdiffValueError(f"bessel_jn: `v` must be a static non-negative integer, "
                                 f"got {v!r}")
    del n_iter
    _require_scipy("jv")
    (z,) = _loop_args("jv", 0.0, z)[1:]
    shape = aval(z).shape
    orders = np.arange(int(v) + 1, dtype=aval(z).dtype).reshape((-1,) + (1,) * len(shape))
    return sp_prims.jv(orders, pb.broadcast_to(z, (1,) + shape))


@_special("i0e")
def i0e(x):
    """``exp(-|x|) I_0(x)`` = ``ive(0, x)``; derivative ``i1e(x) - sign(x) i0e(x)``."""
    (x,) = _loop_args("i0e", x)
    return _ive_int(0.0, x)


@_special("i1e")
def i1e(x):
    """``exp(-|x|) I_1(x)`` = ``ive(1, x)``; derivative ``(i0e + ive(2, .))/2 - sign(x)
    i1e(x)``."""
    (x,) = _loop_args("i1e", x)
    return _ive_int(1.0, x)


# From this |x| on, ``i0e``/``i1e`` use their asymptotic series (4 terms: the next is below
# 2e-17 relative): SciPy's ``ive`` gives NaN from 2^30 on (its ``i0e``/``i1e`` stay finite),
# and the derivative by ``ive``'s recurrence loses digits to cancellation as |x| grows
_IVE_BIG = 1e4


def _ive_int(v, x):
    """``ive(v, x)`` for ``v`` 0 or 1 as SciPy's ``i0e``/``i1e``: 0 at +-inf and finite
    for huge ``|x|`` (where ``ive`` gives NaN): there ``sign(x)^v / sqrt(2 pi |x|) sum_k
    (-1)^k a_k / |x|^k``, ``a_k = prod_{j<=k} (4 v^2 - (2j - 1)^2) / (k! 8^k)``."""
    big = ew.ge(ew.abs_(x), _c(x, _IVE_BIG))
    a = ew.abs_(ew.select(big, x, _c(x, _IVE_BIG)))     # the series sees no small |x|
    u = ew.div(_one(x), ew.mul(_c(x, 8.0), a))
    term = series = _one(x)
    for k in range(1, 4):
        term = ew.mul(term, ew.mul(u, _c(x, -(4.0 * v * v - (2 * k - 1) ** 2) / k)))
        series = ew.add(series, term)
    asym = ew.div(series, ew.sqrt(ew.mul(_c(x, 2 * math.pi), a)))
    if v:
        asym = ew.mul(ew.sign(x), asym)
    asym = ew.select(ew.isinf(x), _zero(x), asym)
    return ew.select(big, asym, sp_prims.ive(_c(x, v), ew.select(big, _one(x), x)))


# --- dilogarithm, sine/cosine and Fresnel integrals, Owen's T ------------------------------------

@_special("spence")
def spence(z):
    """``int_1^z log(t)/(1 - t) dt`` (real: NaN for ``x < 0``); derivative ``log(z)/(1 -
    z)``, -1 at ``z = 1`` (a series there)."""
    _require_scipy("spence")
    (z,) = _loop_args("spence", z, complex_ok=True)
    return spm.spence(z)


@_special("sici")
def sici(x):
    """``(Si(x), Ci(x))``; derivatives ``sin(x)/x`` (1 at 0) and ``cos(x)/x``."""
    _require_scipy("sici")
    (x,) = _loop_args("sici", x, complex_ok=True)
    return spm.si(x), spm.ci(x)


@_special("fresnel")
def fresnel(z):
    """``(S(z), C(z))``; derivatives ``sin(pi z^2/2)`` and ``cos(pi z^2/2)``."""
    _require_scipy("fresnel")
    (z,) = _loop_args("fresnel", z, complex_ok=True)
    return spm.fresnel_s(z), spm.fresnel_c(z)


@_special("owens_t")
def owens_t(h, a):
    """Owen's T function; d/dh ``= -phi(h) erf(a h/sqrt 2)/2``, d/da ``= exp(-h^2 (1 +
    a^2)/2) / (2 pi (1 + a^2))``."""
    _require_scipy("owens_t")
    h, a = _loop_args("owens_t", h, a)
    return spm.owens_t(h, a)


# --- spherical harmonics -------------------------------------------------------------------------

@_special("sph_harm_y")
def sph_harm_y(n, m, theta, phi, *, diff_n=0):
    """The spherical harmonic ``Y_n^m(theta, phi)`` (``theta`` the polar angle, ``phi``
    the azimuth), integer ``n``, ``m``; complex.  d/dtheta by the ladder operators, d/dphi
    ``= i m Y``.  Under transforms ``diff_n`` must be 0: differentiate with funcdiff."""
    if diff_n != 0:
        raise FuncdiffValueError("sph_harm_y: diff_n > 0 is not supported on traced "
                                 "values; differentiate sph_harm_y with funcdiff instead")
    _require_scipy("sph_harm_y")
    n, m, theta, phi = (operand(v) for v in (n, m, theta, phi))
    for name, v in (("n", n), ("m", m)):
        if aval(v).dtype.kind not in "iub":
            raise FuncdiffTypeError(f"sph_harm_y: `{name}` must be an integer array (SciPy "
                                    f"has no loop for {aval(v).str_short()})")
    for name, v in (("theta", theta), ("phi", phi)):
        if aval(v).dtype.kind not in "iubf":
            raise FuncdiffTypeError(f"sph_harm_y: `{name}` must be real, got "
                                    f"{aval(v).str_short()}")
    # SciPy's loops are qqdd->D and qqff->F; NumPy picks the first for every operand mix
    # of real arrays (int64 is not an exact match for q), so the output is complex128
    return spm.sph_harm_y(_cast(n, np.dtype(np.int64)), _cast(m, np.dtype(np.int64)),
                          _cast(theta, _F64), _cast(phi, _F64))


# --- Box-Cox transformations ---------------------------------------------------------------------

# 1 + y/2 + y^2/6 + ... = expm1(y)/y, for |y| < 0.1 (the 11th term is below 1e-18)
_EXPREL = [1.0 / math.factorial(k + 1) for k in range(12)]


def _boxcox_from_log(lg, lmbda):
    """``expm1(lmbda lg) / lmbda`` written as ``lg exprel(lmbda lg)`` where ``|lmbda lg|
    < 0.1`` (``lg = log(x)`` or ``log1p(x)``): exact at ``lmbda = 0`` (``lg``) with the
    right derivative there (``d/dlmbda = lg^2/2``), where SciPy's switch to ``log(x)``
    below ``|lmbda| = 1e-19`` would give 0."""
    finite = ew.isfinite(lg)
    y = ew.mul(lmbda, ew.select(finite, lg, _zero(lg)))
    # (SciPy returns lg itself below |lmbda| = 1e-19: that differs only where lg is
    # infinite, e.g. boxcox(0, 1e-300) = -inf, so the series takes those too)
    big = ew.logical_and(ew.ge(ew.abs_(ew.mul(lmbda, lg)), 0.1),
                         ew.ge(ew.abs_(lmbda), 1e-19))
    ys = ew.select(big, _zero(y), y)
    series = ew.mul(lg, spm._poly(ys, _EXPREL))
    lb = ew.select(big, lmbda, _one(lmbda))
    direct = ew.div(ew.expm1(ew.mul(lb, ew.select(big, lg, _zero(lg)))), lb)
    return ew.select(big, direct, series)


def _boxcox(base, lg_fn, edge):
    """``boxcox`` of ``base(x)``: ``_boxcox_from_log(lg_fn(x), lmbda)``, except at the edge
    of the domain (``base(x) = 0``) for ``lmbda > 0``: there ``(base^lmbda - 1)/lmbda``
    with ``power``, whose derivatives have the limits (``base^lmbda log(base) -> 0``, so
    d/dlmbda ``= 1/lmbda^2``; d/dx ``= lmbda base^(lmbda - 1)``) where the log form gives
    ``0 * inf = NaN``.  Each branch sees only its own points."""
    def f(x, lm):
        # (below lmbda = 1e-19 SciPy returns the log, -inf here)
        at_edge = ew.logical_and(ew.eq(x, _c(x, edge)), ew.ge(lm, _c(lm, 1e-19)))
        lm_e = ew.select(at_edge, lm, _one(lm))
        edge_val = ew.div(ew.sub(ew.power(base(x), lm_e), _one(x)), lm_e)
        x_in = ew.select(at_edge, _c(x, edge + 1.0), x)
        return ew.select(at_edge, edge_val, _boxcox_from_log(lg_fn(x_in), lm))
    return f


@_special("boxcox")
def boxcox(x, lmbda):
    """The Box-Cox transform ``(x^lmbda - 1)/lmbda`` (``log(x)`` at ``lmbda = 0``);
    differentiable in both arguments, at ``lmbda = 0`` and ``x = 0`` too."""
    x, lmbda = _loop_args("boxcox", x, lmbda)
    return _in_f64(_boxcox(lambda u: u, ew.log, 0.0), x, lmbda)


@_special("boxcox1p")
def boxcox1p(x, lmbda):
    """``((1 + x)^lmbda - 1)/lmbda`` (``log1p(x)`` at ``lmbda = 0``); differentiable in
    both arguments."""
    x, lmbda = _loop_args("boxcox1p", x, lmbda)
    return _in_f64(_boxcox(lambda u: ew.add(u, _one(u)), ew.log1p, -1.0), x, lmbda)
