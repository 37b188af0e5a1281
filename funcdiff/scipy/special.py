"""``funcdiff.scipy.special``: SciPy's special functions on values that trace.

``logsumexp expit logit log_expit softplus erf erfc gammaln digamma (psi) polygamma
xlogy xlog1py softmax log_softmax``.

Outside transforms each function is SciPy's own when SciPy is importable (same values
and dtypes), and otherwise runs the same composition as under a trace, on NumPy.  When
SciPy is present its ufuncs are also registered for NumPy's ``__array_ufunc__``
dispatch, so ``scipy.special.expit(traced)`` runs the function here.

dtypes follow SciPy: its ufuncs compute in float32 when every operand is float32 and
in float64 otherwise (ints, bools and float16 included; Python scalars count as
float64); ``logsumexp`` keeps float16/float32 and takes Python scalars weakly;
``softmax``/``log_softmax``/``softplus`` follow NumPy's promotion (they are NumPy code
in SciPy).

Numerical care (values and derivatives): ``expit``, ``log_expit``, ``softplus``,
``logaddexp`` are exact for |x| up to the float range (no overflow, no NaN);
``logsumexp`` shifts by the (gradient-stopped) maximum and has gradient 0, not NaN,
where every input is -inf; ``xlogy(0, y) = 0`` with the finite x-derivative ``log(y)``
where ``y > 0``.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.trace import state
from ..numpy._core import FUNCTIONS, aval, canonical_axes, operand
from ..primitives import elementwise as ew
from ..primitives import reduce as rd
from ..primitives import shape as sh
from ..primitives import special as sp_prims  # noqa: F401  (registers the primitives)
from ..primitives._rules import result_dtype
from ..primitives.custom import stop_gradient_p

try:  # SciPy is optional at run time
    from scipy import special as _sp  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _sp = None

__all__ = ["logsumexp", "expit", "logit", "log_expit", "softplus", "erf", "erfc", "gammaln",
           "digamma", "psi", "polygamma", "xlogy", "xlog1py", "softmax", "log_softmax"]

_F64 = np.dtype(np.float64)


def _special(sp_name):
    """Eager fast path = SciPy's ``sp_name`` (when importable); under a trace, or
    without SciPy, the composition below.  SciPy's function is registered for NumPy's
    dispatch protocols."""
    sp_fn = getattr(_sp, sp_name, None) if _sp is not None else None

    def deco(traced):
        if sp_fn is None:
            traced.traced = traced
            traced.numpy = None
            return traced

        def f(*args, **kwargs):
            if not state.stack:
                return sp_fn(*args, **kwargs)
            return traced(*args, **kwargs)
        f.__name__ = f.__qualname__ = traced.__name__
        f.__doc__ = traced.__doc__
        f.__module__ = traced.__module__
        f.__wrapped__ = traced
        f.traced = traced
        f.numpy = sp_fn
        FUNCTIONS[sp_fn] = f
        return f
    return deco


def _ufunc_args(name, *xs, complex_ok=False):
    """Operands cast to the dtype SciPy's ufunc loops compute in: float32 if every
    operand is float32 (complex64 likewise), else float64 / complex128."""
    ops = [operand(x) for x in xs]
    avs = [aval(o) for o in ops]
    if any(a.dtype.kind == "c" for a in avs):
        if not complex_ok:
            raise FuncdiffTypeError(f"`{name}` is not defined for complex input "
                                    f"(got {', '.join(a.str_short() for a in avs)})")
        dt = np.dtype(np.complex64) if all(
            a.dtype in (np.float32, np.complex64) and not a.weak_type for a in avs) \
            else np.dtype(np.complex128)
    elif all(a.dtype == np.float32 and not a.weak_type for a in avs):
        dt = np.dtype(np.float32)
    else:
        dt = _F64
    return [_cast(o, dt) for o in ops]


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


@_special("erf")
def erf(z):
    """The error function; derivative ``2/sqrt(pi) exp(-z^2)``."""
    (z,) = _ufunc_args("erf", z)
    return ew.erf(z)


@_special("erfc")
def erfc(x):
    """``1 - erf(x)`` as its own primitive (accurate where erfc is tiny)."""
    (x,) = _ufunc_args("erfc", x)
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


@_special("polygamma")
def polygamma(n, x):
    """``psi^(n)(x)``, the n-th derivative of digamma; ``n`` must be a static
    non-negative integer (scalar).  Derivative ``polygamma(n + 1, x)``."""
    n_ = np.asarray(n)
    if n_.ndim != 0 or n_.dtype.kind not in "iu":
        raise FuncdiffTypeError("`polygamma`: the order n must be one static integer under "
                                "funcdiff transforms")
    (x,) = _ufunc_args("polygamma", x)
    return sp_prims.polygamma(int(n_), x)


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


# --- reductions over an axis -----------------------------------------------------------------

def _axes_of(axis, ndim):
    if isinstance(axis, (list, tuple)):
        axis = tuple(int(a) for a in axis)
    elif axis is not None:
        axis = int(axis)
    return canonical_axes(axis, ndim)


def _keep(x, shape, axes):
    return sh.reshape(x, rd._keepdims_shape(shape, axes))


def _shift(x, axes):
    """The max along ``axes`` (keepdims shape), 0 where it is not finite, with its
    gradient stopped: the shift cancels exactly in every function using it.  For
    complex input the real part's maximum is used."""
    xa = aval(x)
    xr = ew.real(x) if xa.dtype.kind == "c" else x
    m = _keep(rd.reduce_max(xr, axes), xa.shape, axes)
    m = ew.select(ew.isfinite(m), m, _zero(m))
    return _stop(m)


@_special("logsumexp")
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))`` without overflow: shifted by the (stopped)
    maximum.  Entries with ``b == 0`` are ignored (even if inf or NaN), as in SciPy.
    An empty or all ``-inf`` reduction gives ``-inf`` with gradient 0 (never NaN).
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
        a, b = sh.broadcast_to(a, shape), sh.broadcast_to(b, shape)
    if aval(a).ndim == 0:
        a = sh.reshape(a, (1,))
        if b is not None:
            b = sh.reshape(b, (1,))
    xa = aval(a)
    axes = _axes_of(axis, xa.ndim)
    out_shape = rd._keepdims_shape(xa.shape, axes)
    if xa.size == 0:
        out = sh.full(out_shape, -np.inf, dt)
        sgn = sh.full(out_shape, -1.0, dt)
    else:
        if b is not None:
            a = ew.select(ew.eq(b, 0), np.asarray(-np.inf, dt)[()], a)
        m = _shift(a, axes)
        e = ew.exp(ew.sub(a, m))
        if b is not None:
            e = ew.mul(b, e)
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
