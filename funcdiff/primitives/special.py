"""Special-function primitives whose values or derivatives are not elementary
compositions: ``gammaln``, ``digamma``, ``polygamma`` (order ``n`` a static param),
``erfc`` (``1 - erf`` would lose all digits for large ``x``).

``impl`` uses ``scipy.special`` when SciPy is importable and a pure-NumPy fallback
otherwise (``math.lgamma``/``math.erfc`` vectorized; digamma and polygamma by upward
recurrence to ``x >= 20 + n`` then the asymptotic series, with reflection for
digamma at negative ``x``; the fallback polygamma gives NaN below ``x = -1e5``).  The output dtype is the (real floating) input dtype.

Derivative chain: ``gammaln' = digamma``, ``digamma' = polygamma(1)``,
``polygamma(n)' = polygamma(n + 1)``, ``erfc' = -2/sqrt(pi) exp(-x^2)``; each rule is
written with primitives, so every order differentiates.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError
from ..core.primitive import Primitive
from ._rules import defjvp, fit_to
from .elementwise import exp, mul, neg, square

try:  # SciPy is optional
    from scipy import special as _sp  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sp = None

_PY = (bool, int, float, complex)
_SQRT_PI = math.sqrt(math.pi)


# --- NumPy fallbacks (float64 inside, cast to the input dtype by the wrapper) ------------------

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


# --- the primitives ------------------------------------------------------------------------

def _wrap(fn):
    """Call ``fn`` (float64 or SciPy) and return the input's dtype; Python scalars in,
    Python float out (weak types stay weak)."""
    def impl(x, **params):
        py = type(x) in _PY
        xa = np.asarray(x)
        out = np.asarray(fn(xa, **params)).astype(xa.dtype, copy=False)
        if py:
            return float(out)
        return out if out.ndim else out[()]
    return impl


def _float_abstract(name):
    def abstract_eval(x, **params):
        if x.dtype.kind != "f":
            raise FuncdiffTypeError(f"`{name}` needs a real floating-point operand, got "
                                    f"{x.str_short()} (convert it with .astype(float))")
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return abstract_eval


def _cost(avals_in, avals_out, **params):
    n = avals_out[0].size
    return {"flops": n, "transcendentals": n}


def _special_prim(name, sp_fn, np_fn):
    p = Primitive(name)
    p.impl = _wrap(sp_fn if sp_fn is not None else np_fn)
    p.abstract_eval = _float_abstract(name)
    p.cost = _cost
    return p


gammaln_p = _special_prim("gammaln", getattr(_sp, "gammaln", None), gammaln_np)
digamma_p = _special_prim("digamma", getattr(_sp, "digamma", None), digamma_np)
erfc_p = _special_prim("erfc", getattr(_sp, "erfc", None), erfc_np)

polygamma_p = Primitive("polygamma")
if _sp is not None:
    polygamma_p.impl = _wrap(lambda x, *, n: _sp.polygamma(n, x))
else:  # pragma: no cover - exercised without SciPy
    polygamma_p.impl = _wrap(lambda x, *, n: polygamma_np(n, x))
polygamma_p.abstract_eval = _float_abstract("polygamma")
polygamma_p.cost = _cost


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


defjvp(gammaln_p, lambda t, x: mul(t, digamma(x)))
defjvp(digamma_p, lambda t, x: mul(t, polygamma(1, x)))


def _polygamma_jvp(primals, tangents, *, n):
    (x,), (t,) = primals, tangents
    out = polygamma_p.bind(x, n=n)
    from ._rules import Zero, aval
    if type(t) is Zero:
        return out, Zero(aval(out).strengthen())
    return out, fit_to(mul(t, polygamma_p.bind(x, n=n + 1)), aval(out))


polygamma_p.jvp = _polygamma_jvp
defjvp(erfc_p, lambda t, x: mul(t, mul(-2.0 / _SQRT_PI, exp(neg(square(x))))))
