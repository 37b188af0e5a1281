"""funcdiff.scipy.integrate.odeint: values and adjoint-method gradients.

Values against closed forms and ``scipy.integrate.odeint`` on a few ODEs (scalar decay,
a damped and forced pendulum (non-autonomous), Lotka-Volterra, a linear system
``y' = A y`` against ``expm``), increasing and decreasing and repeated times.
Gradients with respect to the initial state, the parameters and the output times against
central finite differences and against a ``fori_loop`` RK4 reference (the exact
derivative of a fine fixed-step discretization), within the integrator's tolerance;
reverse-over-reverse; closures over differentiated values; pytree arguments.  The
backward pass keeps only the outputs (no trajectory), forward mode raises, vmap equals a
Python loop, jit equals the interpreter, and errors say what to do.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.integrate as si
import scipy.linalg as sl
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.core.errors import FuncdiffTypeError, FuncdiffValueError, GradientError
from funcdiff.scipy import integrate as I
from funcdiff.scipy.integrate import odeint

TIGHT = dict(rtol=1e-10, atol=1e-10)


def pendulum(y, t, k, c):
    return fnp.stack([y[1], -k * fnp.sin(y[0]) - c * y[1] + 0.3 * fnp.cos(2.0 * t)])


def pendulum_np(y, t, k, c):
    return [y[1], -k * np.sin(y[0]) - c * y[1] + 0.3 * np.cos(2.0 * t)]


def lotka_volterra(y, t, p):
    a, b, c, d = p[0], p[1], p[2], p[3]
    return fnp.stack([a * y[0] - b * y[0] * y[1], c * y[0] * y[1] - d * y[1]])


def lotka_volterra_np(y, t, p):
    a, b, c, d = p
    return [a * y[0] - b * y[0] * y[1], c * y[0] * y[1] - d * y[1]]


def traced(f, *args):
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    out = fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else out


def central(f, x, eps=1e-5):
    """Central finite differences of the scalar ``f`` at the array ``x``."""
    x = np.asarray(x, float)
    g = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        e = np.zeros(x.shape)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def rk4_reference(func, y0, t, args, m=40):
    """A fixed-step RK4 solution at the times ``t`` (``m`` steps per interval, the step
    ``(t[i+1] - t[i]) / m`` so it differentiates in ``t`` too), with fori_loop/scan."""
    def step_interval(y, tt):
        t_a, t_b = tt
        h = (t_b - t_a) / m

        def step(i, y):
            s = t_a + i * h
            k1 = func(y, s, *args)
            k2 = func(y + 0.5 * h * k1, s + 0.5 * h, *args)
            k3 = func(y + 0.5 * h * k2, s + 0.5 * h, *args)
            k4 = func(y + h * k3, s + h, *args)
            return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        y = lax.fori_loop(0, m, step, y)
        return y, y

    _, ys = lax.scan(step_interval, y0, (t[:-1], t[1:]))
    return fnp.concatenate([y0[None], ys])


# --- values ----------------------------------------------------------------------------------

def test_exponential_decay_closed_form():
    t = np.linspace(0.0, 3.0, 7)
    ys = odeint(lambda y, t, k: -k * y, np.array([1.0, 2.0]), t, 1.5)
    assert ys.shape == (7, 2) and ys.dtype == np.float64
    np.testing.assert_allclose(ys, np.exp(-1.5 * t)[:, None] * [1.0, 2.0], rtol=1e-7,
                               atol=1e-8)
    # a scalar y0 gives one column, as SciPy's
    assert odeint(lambda y, t: -y, 1.0, t).shape == (7, 1)


@pytest.mark.parametrize("t", [np.linspace(0.0, 6.0, 13), np.array([0.0, 0.05, 2.5, 6.0]),
                               np.linspace(6.0, 0.0, 9), np.array([0.0, 1.0, 1.0, 2.0])])
def test_pendulum_matches_scipy(t):
    y0, k, c = np.array([1.2, -0.3]), 2.0, 0.15
    ys = odeint(pendulum, y0, t, k, c)
    want = si.odeint(pendulum_np, y0, t, args=(k, c), **TIGHT)
    np.testing.assert_allclose(ys, want, rtol=1e-6, atol=1e-7)
    # and against SciPy's defaults on both sides
    np.testing.assert_allclose(ys, si.odeint(pendulum_np, y0, t, args=(k, c)), rtol=1e-5,
                               atol=1e-6)
    # tight tolerances: closer still
    np.testing.assert_allclose(odeint(pendulum, y0, t, k, c, **TIGHT), want, rtol=1e-8,
                               atol=1e-9)


def test_lotka_volterra_and_args_keyword():
    y0, t, p = np.array([10.0, 5.0]), np.linspace(0.0, 15.0, 31), np.array([1.1, 0.4, 0.1, 0.4])
    want = si.odeint(lotka_volterra_np, y0, t, args=(p,), **TIGHT)
    np.testing.assert_allclose(odeint(lotka_volterra, y0, t, p), want, rtol=1e-5)
    np.testing.assert_allclose(odeint(lotka_volterra, y0, t, args=(p,)), want, rtol=1e-5)
    # tfirst, a func returning a list, per-component atol, h0 and hmax
    ys = odeint(lambda t, y, p: lotka_volterra_np(y, t, p), y0, t, p, tfirst=True,
                atol=[1e-9, 1e-8], h0=1e-3, hmax=0.5)
    np.testing.assert_allclose(ys, want, rtol=1e-5)


def test_linear_system_against_expm(rng):
    a = rng.normal(size=(4, 4)) - 2 * np.eye(4)
    y0, t = rng.normal(size=4), np.array([0.0, 0.3, 1.0, 2.5])
    ys = odeint(lambda y, t, a: a @ y, y0, t, a, **TIGHT)
    want = np.stack([sl.expm(a * s) @ y0 for s in t])
    np.testing.assert_allclose(ys, want, rtol=1e-8, atol=1e-10)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 3), nt=st.integers(1, 5), decreasing=st.booleans(),
       seed=st.integers(0, 2 ** 32 - 1))
def test_linear_systems_hypothesis(n, nt, decreasing, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, n))
    y0 = rng.uniform(-1, 1, n)
    t = np.sort(rng.uniform(0, 2, nt))
    t = t[::-1] if decreasing else t
    ys = odeint(lambda y, t, a: a @ y + fnp.sin(t), y0, t, a)
    want = si.odeint(lambda y, t, a: a @ y + np.sin(t), y0, t, args=(a,), **TIGHT)
    np.testing.assert_allclose(ys, want, rtol=1e-6, atol=1e-7)
    same_traced = traced(lambda y0, t, a: odeint(lambda y, t, a: a @ y + fnp.sin(t),
                                                 y0, t, a), y0, t, a)
    np.testing.assert_allclose(same_traced, ys, rtol=1e-12, atol=1e-14)


# --- gradients -------------------------------------------------------------------------------

def _pendulum_loss(y0, t, k, c, w):
    return fnp.sum(w * odeint(pendulum, y0, t, k, c, **TIGHT) ** 2)


def test_gradients_against_finite_differences_and_rk4(rng):
    y0, k, c = np.array([1.0, 0.2]), 2.0, 0.1
    t = np.array([0.0, 0.4, 1.1, 2.0])
    w = rng.uniform(0.5, 1.5, (4, 2))
    g_y0, g_t, g_k, g_c = fd.grad(_pendulum_loss, argnums=(0, 1, 2, 3))(y0, t, k, c, w)
    # central finite differences of the (tight-tolerance) solver
    np.testing.assert_allclose(g_y0, central(lambda v: _pendulum_loss(v, t, k, c, w), y0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_t, central(lambda v: _pendulum_loss(y0, v, k, c, w), t),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_k, central(lambda v: _pendulum_loss(y0, t, v, c, w), k),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_c, central(lambda v: _pendulum_loss(y0, t, k, v, w), c),
                               rtol=1e-5, atol=1e-6)

    # the exact derivative of a fine RK4 discretization (fori_loop), reverse mode
    def rk4_loss(y0, t, k, c):
        return fnp.sum(w * rk4_reference(pendulum, y0, t, (k, c)) ** 2)
    r_y0, r_t, r_k, r_c = fd.grad(rk4_loss, argnums=(0, 1, 2, 3))(y0, t, k, c)
    np.testing.assert_allclose(rk4_loss(y0, t, k, c), _pendulum_loss(y0, t, k, c, w),
                               rtol=1e-8)
    for got, want in [(g_y0, r_y0), (g_t, r_t), (g_k, r_k), (g_c, r_c)]:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_jacobians_wrt_parameters_and_times():
    y0, t, p = np.array([10.0, 5.0]), np.linspace(0.0, 3.0, 4), np.array([1.1, 0.4, 0.1, 0.4])
    jp = fd.jacrev(lambda p: odeint(lambda_lv, y0, t, p, **TIGHT))(p)
    jt = fd.jacrev(lambda t: odeint(lambda_lv, y0, t, p, **TIGHT))(t)
    assert jp.shape == (4, 2, 4) and jt.shape == (4, 2, 4)
    eps = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = eps
        np.testing.assert_allclose(
            jp[..., i], (odeint(lambda_lv, y0, t, p + e, **TIGHT) -
                         odeint(lambda_lv, y0, t, p - e, **TIGHT)) / (2 * eps),
            rtol=1e-5, atol=1e-5)
    # moving output time i moves only row i, by f(y_i, t_i); moving t0 shifts everything
    ys = odeint(lambda_lv, y0, t, p, **TIGHT)
    for i in range(1, 4):
        np.testing.assert_allclose(jt[i, :, i], lotka_volterra_np(ys[i], t[i], p),
                                   rtol=1e-7)
        assert np.all(jt[i, :, [j for j in range(1, 4) if j != i]] == 0)
    np.testing.assert_allclose(jt[:, :, 0], (odeint(lambda_lv, y0, t + [eps, 0, 0, 0], p,
                                                    **TIGHT) -
                                             odeint(lambda_lv, y0, t - [eps, 0, 0, 0], p,
                                                    **TIGHT)) / (2 * eps),
                               rtol=1e-5, atol=1e-5)


def lambda_lv(y, t, p):
    return lotka_volterra(y, t, p)


def test_decreasing_times_and_repeated_times_gradients():
    y0, k, c = np.array([0.5, 0.0]), 1.5, 0.2
    for t in (np.array([2.0, 1.2, 0.0]), np.array([0.0, 0.7, 0.7, 1.5])):
        loss = lambda y0, t, k: fnp.sum(odeint(pendulum, y0, t, k, c, **TIGHT) ** 2)  # noqa
        g_y0, g_t, g_k = fd.grad(loss, argnums=(0, 1, 2))(y0, t, k)
        np.testing.assert_allclose(g_y0, central(lambda v: loss(v, t, k), y0), rtol=1e-5)
        np.testing.assert_allclose(g_k, central(lambda v: loss(y0, t, v), k), rtol=1e-5)
        if len(set(t)) == len(t):     # finite differences across repeated times are not
            np.testing.assert_allclose(g_t, central(lambda v: loss(y0, v, k), t),
                                       rtol=1e-5, atol=1e-7)


def test_reverse_over_reverse():
    """The backward pass calls odeint itself, so grad(grad(.)) works (forward mode does
    not: see test_forward_mode_raises)."""
    y0, t = np.array([1.0, 0.0]), np.array([0.0, 0.8, 1.6])

    def loss(k):
        return fnp.sum(odeint(pendulum, y0, t, k, 0.1, **TIGHT)[-1] ** 2)
    g = fd.grad(loss)
    h = fd.grad(g)(2.0)
    np.testing.assert_allclose(h, (g(2.0 + 1e-5) - g(2.0 - 1e-5)) / 2e-5, rtol=1e-5)
    hm = fd.jacrev(fd.jacrev(lambda y: odeint(pendulum, y, t, 2.0, 0.1, **TIGHT)[-1]))(y0)
    assert hm.shape == (2, 2, 2)
    jac = fd.jacrev(lambda y: odeint(pendulum, y, t, 2.0, 0.1, **TIGHT)[-1])
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-5
        np.testing.assert_allclose(hm[..., i], (jac(y0 + e) - jac(y0 - e)) / 2e-5,
                                   rtol=1e-4, atol=1e-6)


def test_closure_and_pytree_arguments():
    y0, t = np.array([1.0, 0.5]), np.linspace(0.0, 1.0, 3)

    def loss_closure(k):
        return fnp.sum(odeint(lambda y, t: -k * y ** 3 + fnp.sin(t), y0, t, **TIGHT))

    np.testing.assert_allclose(fd.grad(loss_closure)(1.3),
                               central(lambda v: loss_closure(float(v)), np.array(1.3)),
                               rtol=1e-6)

    def loss_tree(p):
        return fnp.sum(odeint(lambda y, t, p: -p["k"] * y + p["b"][0] * fnp.cos(t), y0, t,
                              p, **TIGHT))
    p = {"k": np.array(0.7), "b": (np.array(0.3),)}
    g = fd.grad(loss_tree)(p)
    np.testing.assert_allclose(
        g["k"], central(lambda v: loss_tree({"k": v, "b": p["b"]}), p["k"]), rtol=1e-6)
    np.testing.assert_allclose(
        g["b"][0], central(lambda v: loss_tree({"k": p["k"], "b": (v,)}), p["b"][0]),
        rtol=1e-6)
    # float32 inputs: float64 solution (SciPy's), float32 cotangents
    g32 = fd.grad(lambda y0, k: fnp.sum(odeint(lambda y, t, k: -k * y, y0, t, k)),
                  argnums=(0, 1))(y0.astype(np.float32), np.float32(1.0))
    assert g32[0].dtype == np.float32 and g32[1].dtype == np.float32
    # integer arguments are passed through (not differentiated)
    out = fd.grad(lambda k: fnp.sum(odeint(lambda y, t, k, n: -k * y ** n, y0, t, k, 3)))(1.0)
    assert np.isfinite(out)


def test_backward_pass_keeps_only_the_outputs(monkeypatch):
    """The custom_vjp's residuals are the outputs, times and arguments, whatever the
    number of internal steps (which grows as the tolerance tightens); the solver's loops
    are not differentiated (no while_loop reverse-mode machinery in the grad program)."""
    seen = []
    fwd = I._odeint_cv.fwd

    def recording_fwd(*a):
        out, res = fwd(*a)
        seen.append(sum(int(np.size(x)) for x in fd.tree_util.tree_leaves(res)))
        return out, res
    monkeypatch.setattr(I._odeint_cv, "fwd", recording_fwd)
    y0, t = np.array([1.0, 0.0]), np.linspace(0.0, 20.0, 5)
    for tol in (1e-4, 1e-11):
        fd.grad(lambda k: fnp.sum(odeint(pendulum, y0, t, k, 0.1, rtol=tol, atol=tol)))(2.0)
    # ys (5 x 2) + t (5) + the direction sign, k and c (3 scalars)
    assert seen == [5 * 2 + 5 + 3] * 2

    def prims(jaxpr, acc):
        for e in jaxpr.eqns:
            acc.add(e.primitive.name)
            for v in e.params.values():
                for j in (v if isinstance(v, (list, tuple)) else [v]):
                    inner = getattr(j, "jaxpr", j)
                    if hasattr(inner, "eqns"):
                        prims(inner, acc)
        return acc
    closed = fd.make_jaxpr(fd.grad(lambda k: fnp.sum(odeint(pendulum, y0, t, k, 0.1))))(2.0)
    fd.check_jaxpr(closed)
    names = prims(closed.jaxpr, set())
    assert "while_loop" in names or "while" in names
    assert not any(n.startswith("while_lin") for n in names), names


# --- transforms ---------------------------------------------------------------------------------

def test_forward_mode_raises():
    f = lambda k: odeint(lambda y, t: -k * y, 1.0, [0.0, 1.0])  # noqa: E731
    with pytest.raises(GradientError, match="reverse"):
        fd.jvp(f, (1.0,), (1.0,))
    with pytest.raises(GradientError):
        fd.jacfwd(f)(1.0)


def test_vmap_matches_loop():
    t = np.linspace(0.0, 2.0, 5)
    y0s = np.array([[1.0, 0.0], [0.5, 0.5], [-1.0, 0.3]])
    ks = np.array([1.0, 2.0, 4.0])
    got = fd.vmap(lambda y0, k: odeint(pendulum, y0, t, k, 0.1))(y0s, ks)
    want = np.stack([odeint(pendulum, y, t, k, 0.1) for y, k in zip(y0s, ks)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    loss = lambda y0, k: fnp.sum(odeint(pendulum, y0, t, k, 0.1) ** 2)  # noqa: E731
    g = fd.vmap(fd.grad(loss, argnums=(0, 1)))(y0s, ks)
    want = [fd.grad(loss, argnums=(0, 1))(y, k) for y, k in zip(y0s, ks)]
    np.testing.assert_allclose(g[0], np.stack([w[0] for w in want]), rtol=1e-10)
    np.testing.assert_allclose(g[1], np.stack([w[1] for w in want]), rtol=1e-10)


def test_jit_matches_interpreter_and_eager():
    y0, t, p = np.array([10.0, 5.0]), np.linspace(0.0, 5.0, 6), np.array([1.1, 0.4, 0.1, 0.4])
    f = lambda y0, t, p: odeint(lambda_lv, y0, t, p)  # noqa: E731
    eager = f(y0, t, p)
    np.testing.assert_allclose(fd.jit(f)(y0, t, p), eager, rtol=1e-12)
    np.testing.assert_allclose(traced(f, y0, t, p), eager, rtol=1e-12)
    loss = lambda y0, t, p: fnp.sum(f(y0, t, p))  # noqa: E731
    g = fd.grad(loss, argnums=(0, 1, 2))(y0, t, p)
    for a, b in zip(fd.jit(fd.grad(loss, argnums=(0, 1, 2)))(y0, t, p), g):
        np.testing.assert_allclose(a, b, rtol=1e-10)


# --- limits and errors ------------------------------------------------------------------------------

def test_mxstep_gives_nan_and_a_warning():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ys = odeint(pendulum, np.array([1.0, 0.0]), np.linspace(0, 5, 3), 2.0, 0.1, mxstep=2)
    assert np.all(ys[0] == [1.0, 0.0]) and np.isnan(ys[1:]).all()
    assert any("NaN" in str(x.message) for x in w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ys = odeint(pendulum, np.array([1.0, 0.0]), np.linspace(0, 5, 3), 2.0, 0.1,
                    mxstep=500)
    assert np.isfinite(ys).all()


def test_errors():
    t = np.linspace(0.0, 1.0, 3)
    with pytest.raises(FuncdiffTypeError, match="complex"):
        odeint(lambda y, t: -y, np.array([1.0 + 1j]), t)
    with pytest.raises(FuncdiffValueError, match="size"):
        odeint(lambda y, t: fnp.concatenate([y, y]), np.ones(2), t)
    with pytest.raises(FuncdiffValueError, match="monoton"):
        odeint(lambda y, t: -y, 1.0, [0.0, 2.0, 1.0])
    with pytest.raises(FuncdiffValueError, match="1-D"):
        odeint(lambda y, t: -y, 1.0, np.ones((2, 2)))
    with pytest.raises(TypeError, match="not both"):
        odeint(lambda y, t, a: -a * y, 1.0, t, 1.0, args=(1.0,))
    with pytest.raises(FuncdiffValueError, match="atol"):
        odeint(lambda y, t: -y, np.ones(2), t, atol=np.ones(3))
