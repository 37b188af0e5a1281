"""``funcdiff.scipy.integrate.odeint``: an adaptive ODE solver with SciPy's call signature,
differentiable in reverse mode by the adjoint method.

``odeint(func, y0, t, *args)`` integrates ``dy/dt = func(y, t, *args)`` and returns the
solution at the times ``t`` (``t[0]`` is the initial time), shape ``(len(t), y0.size)``.

The solver is an explicit Runge-Kutta method of order 5(4) (Dormand-Prince, with
FSAL) and adaptive step size, written with ``funcdiff.lax``: a ``scan`` over the output
times holding a ``while_loop`` of steps, so it runs eagerly, under ``jit`` and under
``vmap``.  Outputs between steps come from the method's 4th-order dense output
(interpolating polynomial), so requesting many output times does not shorten the steps.
Error control as SciPy's: a step is accepted when the RMS norm of
``error / (atol + rtol * max(|y_n|, |y_n+1|))`` is at most 1.

Reverse mode (``grad``, ``vjp``, ``jacrev``) is a ``custom_vjp`` whose backward pass does
not use a stored trajectory: it integrates the adjoint system backwards in time, from
``t[-1]`` to ``t[0]``, one output interval at a time,

    dy/ds = -f(y, -s),   da/ds = a^T df/dy,   dp/ds = a^T df/dargs      (s = -t)

starting each interval from the stored *output* ``y(t[i])`` (so only the outputs are
kept, never the internal steps), adding the output cotangent ``g[i]`` to ``a`` at each
output time.  Then ``d/dy0 = a(t0)``, ``d/dargs = p(t0)``, ``d/dt[i] = g[i] . f(y_i, t_i)``
for ``i >= 1`` and ``d/dt[0] = -(a(t0) - g[0]) . f(y0, t0)`` (the output at ``t[0]``
is ``y0`` itself).  The backward solve uses the same
tolerances, so gradients are accurate to about the integrator's tolerance (not to
machine precision, as differentiating the discrete solver would be).  The backward pass
calls ``odeint`` itself, so reverse-over-reverse (``grad(grad(...))``,
``jacrev(jacrev(...))``) works too, as in JAX.

Forward mode (``jvp``, ``jacfwd``, ``hessian`` = ``jacfwd(jacrev)``) raises
``GradientError``: a ``custom_vjp`` defines the reverse-mode rule only.  Use
``jacrev`` (or ``jacrev(jacrev(f))`` for second derivatives).

Differences from ``scipy.integrate.odeint`` (LSODA, which switches to an implicit method
on stiff problems): values agree within the tolerances, not bit for bit, and stiff
problems take many small steps.  ``func`` is traced (as in JAX): write it with
``funcdiff.numpy`` (or NumPy functions, which dispatch) and use ``funcdiff.numpy.where``
/ ``funcdiff.lax.cond`` instead of Python ``if`` on values; it may return a list of
values (as SciPy allows).  Extra arguments are passed positionally (JAX style,
``odeint(f, y0, t, k)``) or as ``args=(k,)`` (SciPy style); they may be pytrees, and
values ``func`` closes over are differentiable too.  ``t`` may be increasing or
decreasing (SciPy allows both), with repeated values.  ``mxstep`` caps the steps per
output interval (default: no cap); outputs the solver could not reach (cap hit, step
size underflow, NaN from ``func``) are NaN, and outside transforms a ``RuntimeWarning``
says so.  ``h0`` (first step) and ``hmax`` (largest step; 0 means no limit) as SciPy's;
``rtol``/``atol`` may be arrays with one entry per component.  The state is float64
(SciPy's too); complex states are refused.
"""
from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from .. import lax, numpy as fnp
from ..api._flat import leaf_operand
from ..api.autodiff import vjp
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, FuncdiffValueError
from ..core.interpret import eval_jaxpr
from ..core.ir import Jaxpr
from ..core.trace import Tracer, get_aval, state, trace_flat
from ..api.custom_derivatives import custom_vjp
from ..numpy._core import operand
from ..tree_util import tree_flatten, tree_unflatten
from ._fastpath import scipy_function

try:  # SciPy is optional at run time
    import scipy.integrate as _si  # type: ignore
except ImportError:  # pragma: no cover - exercised without SciPy
    _si = None

__all__ = ["odeint", "trapezoid"]

_F64 = np.dtype(np.float64)
_DEFAULT_TOL = 1.49012e-8          # SciPy's default rtol and atol
_NO_CAP = 2 ** 62


def _fnp():
    return fnp


# --- the traced right-hand side -------------------------------------------------------------

class _Rhs(NamedTuple):
    """``f(y, t, *arg_leaves) -> dy`` as a jaxpr (its NumPy constants in ``consts``);
    values it closed over that are traced are extra trailing arguments."""
    jaxpr: Jaxpr
    consts: list
    n: int


class _Spec(NamedTuple):
    rhs: _Rhs
    rtol: Any
    atol: Any
    mxstep: int
    h0: float
    hmax: float


def _call(rhs, y, t, args):
    return eval_jaxpr(rhs.jaxpr, rhs.consts, y, t, *args)[0]


def _trace_rhs(fun, n, arg_leaves):
    """Trace ``fun(y, t, *arg_leaves)`` abstractly; traced values it closes over become
    extra arguments (returned), NumPy constants stay constants."""
    avals = [ShapedArray((n,), _F64), ShapedArray((), _F64)] + \
        [get_aval(x) for x in arg_leaves]
    closed, _, _ = trace_flat(lambda *xs: [fun(*xs)], avals, kind="odeint")
    j = closed.jaxpr
    keep_v, keep_c, hoist_v, hoist_c = [], [], [], []
    for v, c in zip(j.constvars, closed.consts):
        if type(c) is Tracer:
            hoist_v.append(v)
            hoist_c.append(c)
        else:
            keep_v.append(v)
            keep_c.append(c)
    jaxpr = Jaxpr(keep_v, j.invars + hoist_v, j.outvars, j.eqns)
    return _Rhs(jaxpr, keep_c, n), hoist_c


# --- Dormand-Prince 5(4) -------------------------------------------------------------------------

_ALPHA = (1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_BETA = (
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_C_SOL = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_C_ERR = (35 / 384 - 1951 / 21600, 0.0, 500 / 1113 - 22642 / 50085, 125 / 192 - 451 / 720,
          -2187 / 6784 + 12231 / 42400, 11 / 84 - 649 / 6300, -1 / 60)
# dense output at the step's midpoint (Shampine 1986), for the 4th-order interpolant
_C_MID = (6025192743 / 30085553152 / 2, 0.0, 51252292925 / 65400821598 / 2,
          -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
          -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2)


def _lincomb(coeffs, ks):
    out = None
    for c, k in zip(coeffs, ks):
        if c != 0.0:
            out = c * k if out is None else out + c * k
    return out


def _rk_step(fun, y0, f0, t0, dt):
    ks = [f0]
    for alpha, beta in zip(_ALPHA, _BETA):
        ks.append(fun(y0 + dt * _lincomb(beta, ks), t0 + alpha * dt))
    y1 = y0 + dt * _lincomb(_C_SOL, ks)
    err = dt * _lincomb(_C_ERR, ks)
    return y1, ks[-1], err, ks


def _interp_coeffs(y0, y1, ks, dt):
    """Coefficients (highest power first) of the quartic through the step, in
    ``x = (t - t0) / dt``: matches y0, y1, y at the midpoint and both end slopes."""
    fnp = _fnp()
    y_mid = y0 + dt * _lincomb(_C_MID, ks)
    dy0, dy1 = dt * ks[0], dt * ks[-1]
    a = -2.0 * dy0 + 2.0 * dy1 - 8.0 * y0 - 8.0 * y1 + 16.0 * y_mid
    b = 5.0 * dy0 - 3.0 * dy1 + 18.0 * y0 + 14.0 * y1 - 32.0 * y_mid
    c = -4.0 * dy0 + dy1 - 11.0 * y0 - 5.0 * y1 + 16.0 * y_mid
    return fnp.stack([a, b, c, dy0, y0])


def _polyval(coeffs, x):
    out = coeffs[0]
    for i in range(1, 5):
        out = out * x + coeffs[i]
    return out


def _error_ratio(err, rtol, atol, y0, y1):
    fnp = _fnp()
    tol = atol + rtol * fnp.maximum(fnp.abs(y0), fnp.abs(y1))
    return fnp.sqrt(fnp.mean(fnp.square(err / tol)))


def _next_step(dt, ratio, safety=0.9, ifactor=10.0, dfactor=0.2, order=5.0):
    fnp = _fnp()
    safe = fnp.where(ratio > 0, ratio, 1.0)
    dfactor = fnp.where(ratio < 1, 1.0, dfactor)
    factor = fnp.minimum(ifactor, fnp.maximum(safe ** (-1.0 / order) * safety, dfactor))
    return fnp.where(ratio == 0, dt * ifactor, dt * factor)


def _initial_step(fun, t0, y0, f0, rtol, atol, order=4):
    """Hairer, Norsett & Wanner's starting step (as SciPy's RK45 and JAX's odeint)."""
    fnp = _fnp()
    scale = atol + fnp.abs(y0) * rtol
    d0 = fnp.sqrt(fnp.mean(fnp.square(y0 / scale)))
    d1 = fnp.sqrt(fnp.mean(fnp.square(f0 / scale)))
    small = (d0 < 1e-5) | (d1 < 1e-5)
    h0 = fnp.where(small, 1e-6, 0.01 * d0 / fnp.where(small, 1.0, d1))
    f1 = fun(y0 + h0 * f0, t0 + h0)
    d2 = fnp.sqrt(fnp.mean(fnp.square((f1 - f0) / scale))) / h0
    tiny = (d1 <= 1e-15) & (d2 <= 1e-15)
    h1 = fnp.where(tiny, fnp.maximum(1e-6, h0 * 1e-3),
                   (0.01 / fnp.where(tiny, 1.0, fnp.maximum(d1, d2))) ** (1.0 / (order + 1)))
    return fnp.minimum(100.0 * h0, h1)


def _solve(spec, y0, ts, args):
    """The solution at the (nondecreasing) times ``ts``: ``(len(ts), n)``."""
    fnp = _fnp()
    rhs, rtol, atol = spec.rhs, spec.rtol, spec.atol

    def fun(y, t):
        return _call(rhs, y, t, args)

    t0 = ts[0]
    f0 = fun(y0, t0)
    if spec.h0 > 0:
        dt = fnp.asarray(spec.h0, _F64) + 0.0 * t0
    else:
        dt = _initial_step(fun, t0, y0, f0, rtol, atol)
    if spec.hmax > 0:
        dt = fnp.minimum(dt, spec.hmax)
    coeffs = fnp.stack([y0] * 5)

    def interval(carry, target):
        def cond(s):
            i, _, _, t, dt, _, _ = s
            return (t < target) & (i < spec.mxstep) & (dt > 0)

        def body(s):
            i, y, f, t, dt, last_t, coeffs = s
            y1, f1, err, ks = _rk_step(fun, y, f, t, dt)
            ratio = _error_ratio(err, rtol, atol, y, y1)
            new_dt = _next_step(dt, ratio)
            if spec.hmax > 0:
                new_dt = fnp.minimum(new_dt, spec.hmax)
            ok = ratio <= 1.0
            return (i + 1, fnp.where(ok, y1, y), fnp.where(ok, f1, f),
                    fnp.where(ok, t + dt, t), new_dt, fnp.where(ok, t, last_t),
                    fnp.where(ok, _interp_coeffs(y, y1, ks, dt), coeffs))

        _, y, f, t, dt, last_t, coeffs = lax.while_loop(cond, body, (0,) + carry)
        moved = t > last_t
        x = fnp.where(moved, (target - last_t) / fnp.where(moved, t - last_t, 1.0), 0.0)
        out = fnp.where(t >= target, _polyval(coeffs, x), np.nan)
        return (y, f, t, dt, last_t, coeffs), out

    _, ys = lax.scan(interval, (y0, f0, t0, dt, t0, coeffs), ts[1:])
    return fnp.concatenate([y0[None], ys])


# --- reverse mode: the adjoint system ----------------------------------------------------------

def _odeint_raw(spec, y0, ts, *args):
    return _solve(spec, y0, ts, args)


def _odeint_fwd(spec, y0, ts, *args):
    ys = _solve(spec, y0, ts, args)
    return ys, (ys, ts, args)


def _is_float(x):
    return get_aval(x).dtype.kind == "f"


def _odeint_bwd(spec, res, g):
    fnp = _fnp()
    ys, ts, args = res
    rhs, n = spec.rhs, spec.rhs.n
    diff = [i for i, a in enumerate(args) if _is_float(a)]
    sizes = [get_aval(args[i]).size for i in diff]

    def aug(state, s, *aug_args):
        # aug_args = (*args): passed explicitly, so the recursive odeint differentiates
        # them (reverse-over-reverse)
        y, a = state[:n], state[n:2 * n]

        def f(y, *dargs):
            full = list(aug_args)
            for i, d in zip(diff, dargs):
                full[i] = d
            return _call(rhs, y, -s, full)

        ydot, f_vjp = vjp(f, y, *[aug_args[i] for i in diff])
        cts = f_vjp(a)
        return fnp.concatenate([-ydot, fnp.asarray(cts[0], _F64)] +
                               [fnp.ravel(fnp.asarray(c, _F64)) for c in cts[1:]])

    m = 2 * n + sum(sizes)
    aug_spec = _Spec(_trace_rhs(aug, m, list(args))[0],
                     float(np.min(spec.rtol)), float(np.min(spec.atol)), spec.mxstep,
                     0.0, spec.hmax)

    def interval(carry, x):
        a, p = carry
        y_i, t_i, t_prev, g_prev = x
        state = fnp.concatenate([y_i, a, p])
        sol = _odeint_flat(aug_spec, state, fnp.stack([-t_i, -t_prev]), *args)[1]
        a = sol[n:2 * n] + g_prev
        return (a, sol[2 * n:]), None

    N = get_aval(ts).shape[0]
    p0 = fnp.zeros((sum(sizes),), _F64)
    a0 = g[-1]
    (a, p), _ = lax.scan(interval, (a0, p0), (ys[1:], ts[1:], ts[:-1], g[:-1]),
                         reverse=True)
    # output-time cotangents: moving t_i moves y(t_i) by f(y_i, t_i) dt_i; moving t_0
    # shifts the trajectory after t_0 (y(t_0) = y0 stays): -(a(t_0) - g_0) . f(y_0, t_0)
    f_all = lax.map(lambda yt: _call(rhs, yt[0], yt[1], args), (ys, ts)) if N > 1 else None
    t0_bar = -fnp.sum((a - g[0]) * _call(rhs, ys[0], ts[0], args))
    if N > 1:
        t_bars = fnp.sum(f_all[1:] * g[1:], axis=1)
        ts_bar = fnp.concatenate([t0_bar[None], t_bars])
    else:
        ts_bar = t0_bar[None]
    args_bar = [None] * len(args)
    off = 0
    for i, size in zip(diff, sizes):
        av = get_aval(args[i])
        args_bar[i] = fnp.reshape(p[off:off + size], av.shape).astype(av.dtype)
        off += size
    return (a, ts_bar.astype(get_aval(ts).dtype), *args_bar)


_odeint_cv = custom_vjp(_odeint_raw, nondiff_argnums=(0,))
_odeint_cv.defvjp(_odeint_fwd, _odeint_bwd)


def _odeint_flat(spec, y0, ts, *args):
    return _odeint_cv(spec, y0, ts, *args)


# --- the public function ------------------------------------------------------------------------

def _as_float64(x, what):
    fnp = _fnp()
    if type(x) is not Tracer:
        x = leaf_operand(x, what) if not isinstance(x, (list, tuple)) else fnp.asarray(x)
    a = get_aval(x)
    if a.dtype.kind == "c":
        raise FuncdiffTypeError(
            f"odeint: {what} is complex ({a.str_short()}); odeint integrates real systems "
            "(as SciPy's).  Split the state into real and imaginary parts.")
    return fnp.asarray(x, _F64)


def _tol(x, n, name):
    tol = np.asarray(x, _F64)
    if tol.ndim > 1 or (tol.ndim == 1 and tol.shape[0] not in (1, n)):
        raise FuncdiffValueError(f"odeint: {name} must be a scalar or have one entry per "
                                 f"component ({n}), got shape {tol.shape}")
    return float(tol) if tol.size == 1 else tol


def odeint(func, y0, t, *fargs, args=(), rtol=None, atol=None, mxstep=0, h0=0.0, hmax=0.0,
           tfirst=False):
    """Integrate ``dy/dt = func(y, t, *args)`` from ``y(t[0]) = y0``.

    Args:
      func: ``func(y, t, *args) -> dy/dt`` (``func(t, y, *args)`` with ``tfirst=True``);
        ``y`` is 1-D (``y0`` raveled), the result has ``y``'s size.
      y0: initial state (any shape; raveled, float64).
      t: 1-D times, increasing or decreasing; ``t[0]`` is the initial time.
      *fargs: extra arguments for ``func`` (pytrees), differentiable.
      args: SciPy's spelling of the extra arguments (a tuple); not with ``*fargs``.
      rtol, atol: relative and absolute tolerance (scalars or per component); default
        1.49012e-8 as SciPy's.
      mxstep: maximum number of steps per output interval (0: no limit).
      h0: first step size (0: chosen automatically).
      hmax: maximum step size (0: no limit).
      tfirst: ``func`` takes ``t`` first.
    Returns:
      ``(len(t), y0.size)`` float64 array: the state at each time in ``t``.
    """
    fnp = _fnp()
    if fargs and not (isinstance(args, tuple) and args == ()):
        raise TypeError("odeint: pass the extra arguments either positionally (odeint(f, y0, "
                        "t, a, b)) or as args=(a, b), not both")
    extra = tuple(fargs) if fargs else (args if isinstance(args, tuple) else (args,))
    y = fnp.ravel(_as_float64(y0, "y0"))
    ts = _as_float64(t, "t")
    ta = get_aval(ts)
    if ta.ndim != 1 or ta.shape[0] == 0:
        raise FuncdiffValueError(f"odeint: t must be a non-empty 1-D sequence of times, got "
                                 f"shape {ta.shape}")
    if type(ts) is not Tracer and ta.shape[0] > 1:
        d = np.diff(ts)
        if not (np.all(d >= 0) or np.all(d <= 0)):
            raise FuncdiffValueError("odeint: t must be monotonically increasing or "
                                     "decreasing (repeated values are allowed)")
    n = get_aval(y).shape[0]
    leaves, tree = tree_flatten(extra)
    leaves = [leaf_operand(x, "odeint argument") for x in leaves]
    # decreasing t: integrate in s = sign * t, with dy/ds = sign * f(y, sign * s)
    if type(ts) is not Tracer:
        sign = np.float64(1.0 if ts[-1] >= ts[0] else -1.0)
    else:
        sign = fnp.where(ts[-1] >= ts[0], 1.0, -1.0)

    def rhs(y_, s_, sign_, *xs):
        a = tree_unflatten(tree, list(xs))
        tt = sign_ * s_
        out = func(tt, y_, *a) if tfirst else func(y_, tt, *a)
        out = fnp.ravel(fnp.asarray(out))
        if get_aval(out).dtype.kind == "c":
            raise FuncdiffTypeError("odeint: func returned complex values; odeint integrates "
                                    "real systems (as SciPy's)")
        if get_aval(out).shape != (n,):
            raise FuncdiffValueError(
                f"odeint: the size of the array returned by func ({get_aval(out).size}) does "
                f"not match the size of y0 ({n})")
        return sign_ * fnp.asarray(out, _F64)

    spec_rhs, hoisted = _trace_rhs(rhs, n, [sign] + leaves)
    # the traced rhs has (y, s, sign, *leaves, *hoisted): sign and leaves are args
    spec = _Spec(spec_rhs, _tol(_DEFAULT_TOL if rtol is None else rtol, n, "rtol"),
                 _tol(_DEFAULT_TOL if atol is None else atol, n, "atol"),
                 int(mxstep) if mxstep and mxstep > 0 else _NO_CAP, float(h0), float(hmax))
    ys = _odeint_flat(spec, y, sign * ts, sign, *leaves, *hoisted)
    if not state.stack and np.isnan(np.asarray(ys)).any():
        warnings.warn("odeint: the solution contains NaN: an output time was not reached "
                      "(mxstep steps were not enough, the step size underflowed) or func "
                      "returned NaN", RuntimeWarning, stacklevel=2)
    return ys


@scipy_function(_si, "trapezoid")
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """SciPy's ``scipy.integrate.trapezoid``: ``funcdiff.numpy.trapezoid`` (exact
    derivatives in ``y``, ``x`` and ``dx``) with SciPy's differences: an n-d ``x`` is
    broadcast to ``y``'s shape first, and the result has ``y``'s floating dtype
    (integers give float64; a float32 ``y`` stays float32 even with float64 ``x``)."""
    fnp = _fnp()
    y = operand(y)
    dt = get_aval(y).dtype
    rdt = dt if dt.kind in "fc" else _F64
    if x is not None:
        x = operand(x)
        if get_aval(x).ndim > 1:
            x = fnp.broadcast_to(x, get_aval(y).shape)
    return fnp.trapezoid(y, x, dx, axis).astype(rdt)


def __dir__():
    return sorted(__all__)
