"""Pure-NumPy fallbacks for ``funcdiff.primitives.special``, used only when SciPy is not
importable.  Each takes float64 arrays (broadcast against each other) and returns a
float64 array; the primitive's ``impl`` casts to the operands' dtype.

Accuracy (relative, away from poles and underflow), checked against SciPy in
tests/test_scipy_special.py:

* ``gammaln gamma rgamma erf erfc``: ``math``'s functions (correctly rounded or nearly);
* ``digamma polygamma``: recurrence then asymptotic series, ~1e-14;
* ``beta betaln``: from ``lgamma``: ~1e-14 for moderate arguments, losing about
  ``log10(a + b)`` digits for large ones (``betaln`` by differences of ``lgamma``);
* ``gammainc gammaincc``: series / continued fraction (Numerical Recipes), ~1e-13 for
  ``a`` up to about 1e4 (the prefactor ``exp(a log x - x - lgamma(a))`` loses digits
  beyond); ``betainc betaincc``: continued fraction, ~1e-13 for ``a, b`` up to ~1e4;
* ``erfinv erfcinv``: initial approximation and Newton steps on ``erf``/``log erfc``,
  ~1e-15 down to ``erfcinv(1e-300)``;
* ``iv ive i0 i1`` (order ``v >= 0`` or integer ``v``): power series for
  ``|x| <= max(30, 2 v^2)``, asymptotic expansion beyond, ~1e-14 (``iv`` overflows
  to inf past ``|x| ~ 713`` as in SciPy); a negative non-integer order needs ``K_v``
  and raises ``SciPyRequiredError``;
* the Bessel functions of the first and second kind (``j0 j1 jv y0 y1 yn``) have no
  fallback: they raise ``SciPyRequiredError`` (their accurate evaluation needs the
  long rational approximations SciPy's Cephes/AMOS code carries).
"""
from __future__ import annotations

import math

import numpy as np

from ..core.errors import FuncdiffError

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300


class SciPyRequiredError(FuncdiffError, NotImplementedError):
    """A special function (or a part of its domain) with no pure-NumPy fallback."""


def scipy_required(name, what=""):
    def impl(*args, **params):
        raise SciPyRequiredError(
            f"`{name}` needs SciPy{what}: funcdiff has no pure-NumPy fallback for it.  "
            "Install SciPy (pip install scipy) to use it.")
    impl.__name__ = name
    return impl


def _f64(*xs):
    return np.broadcast_arrays(*[np.asarray(x, np.float64) for x in xs])


# --- from the math module --------------------------------------------------------------------

def _math_ufunc(fn, pole_value):
    def scalar(v):
        try:
            return fn(v)
        except (ValueError, OverflowError):
            return pole_value(v)
    vec = np.vectorize(scalar, otypes=[np.float64])

    def impl(x):
        return vec(np.asarray(x, np.float64))
    return impl


gammaln_np = _math_ufunc(math.lgamma, lambda v: math.inf)
erfc_np = _math_ufunc(math.erfc, lambda v: math.nan)
erf_np = _math_ufunc(math.erf, lambda v: math.nan)


def _gamma_scalar(v):
    if math.isnan(v):
        return math.nan
    if v == 0:
        return math.copysign(math.inf, v)
    if v < 0 and v == math.floor(v):          # poles, and -inf
        return math.nan
    if v == math.inf:
        return math.inf
    try:
        return math.gamma(v)
    except OverflowError:
        return math.inf


gamma_np = _math_ufunc(_gamma_scalar, lambda v: math.nan)


def rgamma_np(x):
    """1/Gamma(x): 0 at the poles and where Gamma overflows (as SciPy)."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        g = gamma_np(x)
        out = 1.0 / g
        out = np.where((x < 0) & (x == np.floor(x)), 0.0, out)   # poles and -inf
    return out


def gammasgn_np(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        pole = ((x < 0) & (x == np.floor(x))) | np.isnan(x)
        neg_sign = np.where(np.remainder(np.floor(x), 2) == 1, -1.0, 1.0)
        out = np.where(x > 0, 1.0, np.where(x == 0, np.copysign(1.0, x), neg_sign))
    return np.where(pole, np.nan, out)


# --- digamma and polygamma ---------------------------------------------------------------------

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)


def _shift_up(x, n, threshold):
    """Recurrence ``psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1)``: returns the shifted
    ``x >= threshold`` and the accumulated correction."""
    x = x.copy()
    acc = np.zeros_like(x)
    c = math.factorial(n) * (-1.0) ** n
    with np.errstate(all="ignore"):
        while True:
            low = np.isfinite(x) & (x < threshold)
            if not low.any():
                break
            acc[low] -= c / x[low] ** (n + 1) if n else 1.0 / x[low]
            x[low] += 1.0
    return x, acc


def digamma_np(x):
    """psi(x): reflection below 0, recurrence up to x >= 20, asymptotic series."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        neg_ = x < 0.5
        refl = np.zeros_like(x)
        xr = np.where(neg_, 1.0 - x, x)
        refl[neg_] = -np.pi / np.tan(np.pi * x[neg_])
        xs, acc = _shift_up(xr, 0, 20.0)
        inv2 = 1.0 / (xs * xs)
        series = np.zeros_like(xs)
        for k in range(len(_BERNOULLI), 0, -1):
            series = series * inv2 + _BERNOULLI[k - 1] / (2 * k)
        out[...] = np.log(xs) - 0.5 / xs - series * inv2 + acc + refl
        poles = (x <= 0) & (x == np.floor(x))
        out[poles & (x == 0)] = -np.inf
        out[poles & (x != 0)] = np.nan
        out[x == np.inf] = np.inf
        out[np.isnan(x) | (x == -np.inf)] = np.nan
    return out


def polygamma_np(n, x):
    """psi^(n)(x), n >= 1: recurrence up to x >= 20 + n, then
    (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! x^(2k+n))]."""
    if n == 0:
        return digamma_np(x)
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        # the recurrence takes one step per unit: very negative x is out of range here
        xs, acc = _shift_up(np.where(x < -1e5, np.nan, x), n, 20.0 + n)
        s = math.factorial(n - 1) / xs ** n + math.factorial(n) / (2 * xs ** (n + 1))
        for k, b in enumerate(_BERNOULLI, start=1):
            s = s + b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k)
                                                        * xs ** (2 * k + n))
        out = (-1.0) ** (n + 1) * s + acc
        poles = (x <= 0) & (x == np.floor(x))
        out = np.where(poles, np.inf if n % 2 else np.nan, out)
        out = np.where(x == np.inf, 0.0, out)
        out = np.where(np.isnan(x) | (x == -np.inf), np.nan, out)
    return out


# --- beta ---------------------------------------------------------------------------------------

def betaln_np(a, b):
    a, b = _f64(a, b)
    with np.errstate(all="ignore"):
        return gammaln_np(a) + gammaln_np(b) - gammaln_np(a + b)


def beta_np(a, b):
    a, b = _f64(a, b)
    with np.errstate(all="ignore"):
        sgn = gammasgn_np(a) * gammasgn_np(b) * gammasgn_np(a + b)
        out = sgn * np.exp(betaln_np(a, b))
        pole = ((a <= 0) & (a == np.floor(a))) | ((b <= 0) & (b == np.floor(b)))
        return np.where(pole & ~np.isnan(a + b), np.inf, out)


# --- incomplete gamma ----------------------------------------------------------------------------

_MAX_ITER = 20000


def _gammainc_pq(a, x):
    """(P, Q) = (gammainc, gammaincc): the series for x < a + 1, the continued fraction
    (modified Lentz) beyond; the other one by 1 - (which is accurate there)."""
    a, x = _f64(a, x)
    P = np.full(a.shape, np.nan)
    Q = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
        pre = np.exp(a * np.log(np.where(ok, x, 1.0)) - np.where(ok, x, 1.0)
                     - gammaln_np(np.where(ok, a, 1.0)))
        ser = ok & (x < a + 1)
        if ser.any():
            aa, xx = a[ser], x[ser]
            ap = aa.copy()
            d = 1.0 / aa
            s = d.copy()
            live = np.ones(aa.shape, bool)
            for _ in range(_MAX_ITER):
                ap = np.where(live, ap + 1.0, ap)
                d = np.where(live, d * xx / ap, d)
                s = np.where(live, s + d, s)
                live &= np.abs(d) > np.abs(s) * _EPS
                if not live.any():
                    break
            p = s * pre[ser]
            P[ser], Q[ser] = p, 1.0 - p
        cf = ok & ~ser
        if cf.any():
            aa, xx = a[cf], x[cf]
            b = xx + 1.0 - aa
            c = np.full(aa.shape, 1.0 / _TINY)
            d = 1.0 / b
            h = d.copy()
            live = np.ones(aa.shape, bool)
            for i in range(1, _MAX_ITER):
                an = -i * (i - aa)
                b = b + 2.0
                d = an * d + b
                d = np.where(np.abs(d) < _TINY, _TINY, d)
                c = b + an / c
                c = np.where(np.abs(c) < _TINY, _TINY, c)
                d = 1.0 / d
                delta = np.where(live, d * c, 1.0)
                h = h * delta
                live &= np.abs(delta - 1.0) > _EPS
                if not live.any():
                    break
            q = pre[cf] * h
            P[cf], Q[cf] = 1.0 - q, q
        # edges, as SciPy
        valid = (a >= 0) & (x >= 0)
        zero_x = valid & (x == 0) & (a > 0)
        P[zero_x], Q[zero_x] = 0.0, 1.0
        a0 = valid & (a == 0) & (x > 0)
        P[a0], Q[a0] = 1.0, 0.0
        xinf = valid & (x == np.inf) & np.isfinite(a) & (a > 0)
        P[xinf], Q[xinf] = 1.0, 0.0
        ainf = valid & (a == np.inf) & np.isfinite(x)
        P[ainf], Q[ainf] = 0.0, 1.0
    return P, Q


def gammainc_np(a, x):
    return _gammainc_pq(a, x)[0]


def gammaincc_np(a, x):
    return _gammainc_pq(a, x)[1]


# --- incomplete beta ------------------------------------------------------------------------------

def _betacf(a, b, x):
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(a)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    live = np.ones(a.shape, bool)
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        h = np.where(live, h * d * c, h)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(live, h * delta, h)
        live &= np.abs(delta - 1.0) > _EPS
        if not live.any():
            break
    return h


def _betainc_pq(a, b, x):
    """(I_x(a, b), 1 - I_x(a, b)), each computed directly where it is the small one."""
    a, b, x = _f64(a, b, x)
    P = np.full(a.shape, np.nan)
    Q = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (b > 0) & (x > 0) & (x < 1) & np.isfinite(a) & np.isfinite(b)
        if ok.any():
            aa, bb, xx = a[ok], b[ok], x[ok]
            lbt = (aa * np.log(xx) + bb * np.log1p(-xx) - betaln_np(aa, bb))
            bt = np.exp(lbt)
            low = xx < (aa + 1.0) / (aa + bb + 2.0)
            p = np.where(low, bt * _betacf(aa, bb, xx) / aa, np.nan)
            q = np.where(low, np.nan, bt * _betacf(bb, aa, 1.0 - xx) / bb)
            P[ok] = np.where(low, p, 1.0 - q)
            Q[ok] = np.where(low, 1.0 - p, q)
        valid = (a >= 0) & (b >= 0) & (x >= 0) & (x <= 1) & ~((a == 0) & (b == 0))
        lo = valid & ((x == 0) | ((b == 0) & (a > 0))) & ~((a == 0) & (x > 0))
        P[lo], Q[lo] = 0.0, 1.0
        hi = valid & ((x == 1) | ((a == 0) & (b > 0))) & ~((b == 0) & (x < 1))
        P[hi], Q[hi] = 1.0, 0.0
    return P, Q


def betainc_np(a, b, x):
    return _betainc_pq(a, b, x)[0]


def betaincc_np(a, b, x):
    return _betainc_pq(a, b, x)[1]


# --- Student's t cdf -----------------------------------------------------------------------------

def stdtr_np(df, t):
    """P(T <= t): the tail 0.5 I_{df/(df+t^2)}(df/2, 1/2), or near the centre
    0.5 - 0.5 I_{t^2/(df+t^2)}(1/2, df/2); df = inf gives the normal cdf."""
    df, t = _f64(df, t)
    with np.errstate(all="ignore"):
        t2 = t * t
        far = t2 >= df
        tail_far = 0.5 * betainc_np(0.5 * df, 0.5, df / (df + t2))
        tail_near = 0.5 * betaincc_np(0.5, 0.5 * df, t2 / (df + t2))
        tail = np.where(far, tail_far, tail_near)
        out = np.where(t > 0, 1.0 - tail, tail)
        out = np.where(np.isinf(t) & (df > 0), np.where(t > 0, 1.0, 0.0), out)
        out = np.where(df == np.inf, 0.5 * erfc_np(-t / math.sqrt(2.0)), out)
        out = np.where((df > 0) & ~np.isnan(t), out, np.nan)
    return out


# --- inverse error functions ---------------------------------------------------------------------

def _erfcinv_small(q):
    """erfcinv(q) for 0 < q <= 1 (y >= 0): a rough start, then Newton steps on
    g(y) = log erfc(y) - log q (concave, so the steps converge monotonically)."""
    w = -np.log(q * (2.0 - q))
    y = np.sqrt(np.maximum(w - np.log(np.maximum(w, 1.0)) * 0.5 - 0.5 * math.log(math.pi),
                           0.0))
    y = np.where(q > 0.5, (1.0 - q) * math.sqrt(math.pi) / 2, y)   # near 0: erf linear
    lq = np.log(q)
    for _ in range(60):
        e = erfc_np(y)
        g = np.log(e) - lq
        dg = -2.0 / math.sqrt(math.pi) * np.exp(-y * y) / e
        step = g / dg
        y = y - step
        if np.all(np.abs(step) <= 4 * _EPS * np.maximum(np.abs(y), _TINY)):
            break
    return y


def _erfinv_centre(x):
    """erfinv(x) for |x| <= 1/2: Newton on erf(y) - x, quadratic from y = x sqrt(pi)/2."""
    y = x * math.sqrt(math.pi) / 2
    for _ in range(8):
        y = y - (erf_np(y) - x) / (2.0 / math.sqrt(math.pi) * np.exp(-y * y))
    return y


def erfcinv_np(q):
    """erfcinv(q) = erfinv(1 - q): the centre by Newton on erf (1 - q is exact there),
    the tails by Newton on log erfc (so tiny q keep their relative accuracy)."""
    q = np.asarray(q, np.float64)
    out = np.full(q.shape, np.nan)
    with np.errstate(all="ignore"):
        centre = (q >= 0.5) & (q <= 1.5)
        low = (q > 0) & (q < 0.5)
        high = (q > 1.5) & (q < 2)
        if centre.any():
            out[centre] = _erfinv_centre(1.0 - q[centre])
        if low.any():
            out[low] = _erfcinv_small(q[low])
        if high.any():
            out[high] = -_erfcinv_small(2.0 - q[high])
        out[q == 0] = np.inf
        out[q == 2] = -np.inf
    return out


def erfinv_np(x):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        small = np.abs(x) <= 0.5
        big = (np.abs(x) > 0.5) & (np.abs(x) <= 1)
        if small.any():
            out[small] = _erfinv_centre(x[small])
        # |x| > 1/2: through the tail of erfcinv at 1 - |x| (exact in floating point there)
        if big.any():
            out[big] = np.sign(x[big]) * erfcinv_np(1.0 - np.abs(x[big]))
    return out


# --- modified Bessel functions of the first kind -------------------------------------------------

def _iv_series(v, x, scaled):
    """sum_k (x/2)^(2k+v) / (k! Gamma(k+v+1)) (times exp(-x) when scaled), x > 0, v >= 0."""
    lt0 = v * np.log(x / 2) - gammaln_np(v + 1.0) - (x if scaled else 0.0)
    t = np.exp(lt0)
    s = t.copy()
    q = (x / 2) ** 2
    live = np.ones(x.shape, bool)
    k = 0
    while live.any() and k < _MAX_ITER:
        k += 1
        t = t * q / (k * (k + v))
        s = np.where(live, s + t, s)
        live &= (t > s * _EPS * 0.5) | (k * (k + v) < q)
    return s


def _iv_asymptotic(v, x, scaled):
    """e^x / sqrt(2 pi x) sum_k (-1)^k a_k(v) / x^k, a_k = prod_j (4v^2 - (2j-1)^2) / (k! 8^k)."""
    mu = 4.0 * v * v
    term = np.ones_like(x)
    s = term.copy()
    for k in range(1, 60):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        s = s + term
    pre = 1.0 / np.sqrt(2 * np.pi * x)
    return s * pre * (1.0 if scaled else np.exp(x))


def _iv(v, x, scaled):
    v, x = _f64(v, x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        vint = v == np.floor(v)
        if np.any((v < 0) & ~vint & np.isfinite(x)):
            scipy_required("iv", " for a negative non-integer order")()
        va = np.where(vint, np.abs(v), v)             # I_{-n} = I_n
        xa = np.abs(x)
        sgn = np.where(x < 0, np.where(np.remainder(va, 2) == 1, -1.0, 1.0), 1.0)
        okx = (x >= 0) | vint
        pos = okx & (xa > 0) & np.isfinite(xa) & np.isfinite(va)
        asym = pos & (xa > np.maximum(30.0, 2.0 * va * va))
        ser = pos & ~asym
        if ser.any():
            out[ser] = _iv_series(va[ser], xa[ser], scaled)
        if asym.any():
            out[asym] = _iv_asymptotic(va[asym], xa[asym], scaled)
        out = out * sgn
        zero = okx & (x == 0)
        out = np.where(zero, np.where(va == 0, 1.0, 0.0), out)
        out = np.where(np.isnan(v) | np.isnan(x), np.nan, out)
    return out


def iv_np(v, x):
    return _iv(v, x, False)


def ive_np(v, x):
    return _iv(v, x, True)


def i0_np(x):
    return np.i0(np.asarray(x, np.float64))


def i1_np(x):
    return _iv(1.0, x, False)
