"""funcdiff.scipy.optimize.minimize (BFGS, L-BFGS-B) and OptimizeResults.

Values: every result field against SciPy's own minimize run with the same exact
gradient, eagerly, under jit and under vmap (a loop of SciPy runs).  Derivatives of the
solution (implicit, through custom_root): against central finite differences of
SciPy's own solution at a tight tolerance, forward and reverse, with respect to ``args``
and to closed-over values; second order against a closed form (ridge regression); an
active L-BFGS-B bound (the free components' problem); ``fun``'s derivative (the
envelope theorem).  The unconverged-gradient warning, the unsupported-method error and
the other errors; the namespace.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize as spo

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import (ConcretizationError, FuncdiffTypeError, FuncdiffValueError,
                                  ImplicitGradientWarning)
from funcdiff.scipy import optimize as fopt

rng0 = np.random.default_rng(0)
X, Y = rng0.standard_normal((30, 4)), rng0.standard_normal(30)
XV, YV = rng0.standard_normal((12, 4)), rng0.standard_normal(12)


def rosen(x, a, b):
    return fnp.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def rosen_np(x, a, b):
    return np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def rosen_grad_np(x, a, b):
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -4 * b * d * x[:-1] - 2 * (a - x[:-1])
    g[1:] += 2 * b * d
    return g


def ridge_loss(w, lam):
    return fnp.sum((X @ w - Y) ** 2) + lam * fnp.sum(w ** 2)


def _scipy(method, x0, args, **kw):
    return spo.minimize(rosen_np, x0, args=args, jac=rosen_grad_np, method=method, **kw)


def _same_result(got, want, method, exact=True):
    tol = dict(rtol=1e-12, atol=1e-14) if exact else dict(rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got.x, want.x, **tol)
    np.testing.assert_allclose(got.fun, want.fun, **tol)
    np.testing.assert_allclose(got.jac, want.jac, rtol=1e-6, atol=1e-9)
    for k in ("nit", "nfev", "njev", "status", "success"):
        assert got[k] == want[k], k
    assert got.message == want.message
    if method == "BFGS":
        np.testing.assert_allclose(got.hess_inv, want.hess_inv, **tol)
    else:
        assert got.hess_inv is None


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "bfgs", "l-bfgs-b"])
@pytest.mark.parametrize("n", [2, 5])
def test_values_against_scipy(method, n):
    x0 = np.linspace(-1.2, 1.0, n)
    for args, kw in (((1.0, 100.0), {}), ((0.5, 10.0), dict(tol=1e-10)),
                     ((1.0, 100.0), dict(options=dict(maxiter=5)))):
        want = _scipy(method, x0, args, **kw)
        got = fopt.minimize(rosen, x0, args=args, method=method, **kw)
        _same_result(got, want, method.upper())
        jitted = fd.jit(lambda x0, a, b: fopt.minimize(rosen, x0, args=(a, b), method=method,
                                                        **kw))(x0, *args)
        _same_result(jitted, want, method.upper())


def test_bounds_against_scipy():
    x0 = np.zeros(4)
    for bounds in ([(0, 0.5), (None, 0.3), (-1, None), (None, None)],
                   spo.Bounds([0, -np.inf, -1, -np.inf], [0.5, 0.3, np.inf, np.inf])):
        want = _scipy("L-BFGS-B", x0, (1.0, 100.0), bounds=bounds)
        got = fopt.minimize(rosen, x0, args=(1.0, 100.0), method="L-BFGS-B", bounds=bounds)
        _same_result(got, want, "L-BFGS-B")


def test_jac_spellings_and_x0_dtype():
    x0 = np.array([-1.0, 2.0, 0.5], np.float32)
    want = _scipy("BFGS", x0.astype(np.float64), (1.0, 100.0))
    for jac, fun in ((None, rosen), ("2-point", rosen), (True, lambda x, a, b: (
            rosen(x, a, b), fd.grad(rosen)(x, a, b))), (fd.grad(rosen), rosen)):
        got = fopt.minimize(fun, x0, args=(1.0, 100.0), jac=jac)
        assert got.x.dtype == np.float64
        _same_result(got, want, "BFGS", exact=False)
    # a lone argument not in a tuple, and a scalar x0 (SciPy makes it 1-d)
    got = fopt.minimize(lambda x, c: fnp.sum((x - c) ** 2), 0.0, args=3.0)
    assert got.x.shape == (1,) and np.isclose(got.x[0], 3.0)


def test_vmap_against_loop():
    a = np.array([0.5, 1.0, 1.5])
    x0 = np.array([-1.0, 1.0, 0.0])
    f = lambda a: fopt.minimize(rosen, x0, args=(a, 20.0)).x
    got = fd.vmap(f)(a)
    for i in range(3):
        np.testing.assert_allclose(got[i], f(a[i]), rtol=1e-14)
    res = fd.vmap(lambda a: fopt.minimize(rosen, x0, args=(a, 20.0)))(a)
    assert res.message.shape == (3,) and res.nit.shape == (3,)
    assert all(m == "Optimization terminated successfully." for m in res.message)


# --- implicit derivatives ---------------------------------------------------------------

def _fd(fun, p, eps=1e-5):
    p = np.asarray(p, float)
    cols = []
    for i in range(p.size):
        e = np.zeros_like(p)
        e.flat[i] = eps
        cols.append((np.asarray(fun(p + e)) - np.asarray(fun(p - e))) / (2 * eps))
    return np.stack(cols, axis=-1)


def _quartic(x, p):
    """A smooth, strongly convex objective with a parameter vector p (3,)."""
    return fnp.sum((x - p) ** 2) + 0.1 * fnp.sum(x ** 4) + p[2] * x[0] * x[1]


def _quartic_np(x, p):
    return np.sum((x - p) ** 2) + 0.1 * np.sum(x ** 4) + p[2] * x[0] * x[1]


def _quartic_grad_np(x, p):
    g = 2 * (x - p) + 0.4 * x ** 3
    g[0] += p[2] * x[1]
    g[1] += p[2] * x[0]
    return g


def _quartic_hess_np(x, p):
    h = np.diag(2 + 1.2 * x ** 2)
    h[0, 1] = h[1, 0] = p[2]
    return h


def _scipy_exact(p):
    """SciPy's own minimizer of the quartic (a Newton-type method with the exact
    Hessian), polished to machine precision by two more Newton steps: the reference
    whose finite differences the implicit derivatives are checked against."""
    r = spo.minimize(_quartic_np, np.zeros(3), args=(p,), jac=_quartic_grad_np,
                     hess=_quartic_hess_np, method="trust-exact", options=dict(gtol=1e-12))
    x = r.x
    for _ in range(2):
        x = x - np.linalg.solve(_quartic_hess_np(x, p), _quartic_grad_np(x, p))
    assert np.abs(_quartic_grad_np(x, p)).max() < 1e-14
    return x, _quartic_np(x, p)


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B"])
def test_solution_derivative_against_finite_differences_of_scipy(method):
    p = np.array([0.4, -0.7, 0.3])
    x0 = np.zeros(3)
    opts = dict(gtol=1e-11) if method == "BFGS" else dict(gtol=1e-11, ftol=1e-15)

    want = _fd(lambda p: _scipy_exact(p)[0], p)
    ours = lambda p: fopt.minimize(_quartic, x0, args=(p,), method=method, options=opts).x
    np.testing.assert_allclose(fd.jacrev(ours)(p), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fd.jacfwd(ours)(p), want, rtol=1e-6, atol=1e-8)
    # the same through a closure instead of args, and under jit
    closed = lambda p: fopt.minimize(lambda x: _quartic(x, p), x0, method=method,
                                     options=opts).x
    np.testing.assert_allclose(fd.jacrev(closed)(p), want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fd.jit(fd.jacrev(closed))(p), want, rtol=1e-6, atol=1e-8)
    # x0 carries no derivative
    np.testing.assert_allclose(
        fd.jacrev(lambda x0: fopt.minimize(_quartic, x0, args=(p,), method=method,
                                           options=opts).x)(x0), 0.0)


def _val_loss(lam, method="BFGS"):
    w = fopt.minimize(ridge_loss, np.zeros(4), args=(lam,), method=method,
                      options=dict(gtol=1e-12)).x
    return fnp.sum((XV @ w - YV) ** 2)


def _val_loss_closed_form(lam):
    w = fnp.linalg.solve(X.T @ X + lam * fnp.eye(4), X.T @ Y)
    return fnp.sum((XV @ w - YV) ** 2)


def test_second_order_against_closed_form():
    for lam in (0.1, 2.0):
        np.testing.assert_allclose(_val_loss(lam), _val_loss_closed_form(lam), rtol=1e-10)
        for d in (fd.grad, lambda f: fd.grad(fd.grad(f)), lambda f: fd.jacfwd(fd.grad(f)),
                  lambda f: fd.jacfwd(fd.jacfwd(f))):
            np.testing.assert_allclose(d(_val_loss)(lam), d(_val_loss_closed_form)(lam),
                                       rtol=1e-7)
        np.testing.assert_allclose(fd.grad(lambda l: _val_loss(l, "L-BFGS-B"))(lam),
                                   fd.grad(_val_loss_closed_form)(lam), rtol=1e-5)
    lams = np.array([0.1, 1.0, 3.0])
    np.testing.assert_allclose(fd.vmap(fd.grad(_val_loss))(lams),
                               fd.vmap(fd.grad(_val_loss_closed_form))(lams), rtol=1e-7)


def test_active_bound_stays_put():
    """At an active bound the component does not move; the free components follow the
    reduced problem (here: ridge regression without the clamped weight)."""
    bounds = [(None, None), (None, None), (0.0, 0.0 + 10.0), (None, None)]
    # make weight 2 want to be negative, so the bound at 0 is active
    Xb = X.copy()
    yb = Y - 3.0 * Xb[:, 2]

    def sol(lam):
        loss = lambda w, lam: fnp.sum((Xb @ w - yb) ** 2) + lam * fnp.sum(w ** 2)
        return fopt.minimize(loss, np.full(4, 0.5), args=(lam,), method="L-BFGS-B",
                             bounds=bounds, options=dict(gtol=1e-12, ftol=1e-15)).x

    def reduced(lam):
        free = [0, 1, 3]
        A = Xb[:, free]
        w = fnp.linalg.solve(A.T @ A + lam * fnp.eye(3), A.T @ yb)
        return fnp.stack([w[0], w[1], fnp.zeros(()), w[2]])

    x = sol(0.7)
    assert x[2] == 0.0
    np.testing.assert_allclose(x, reduced(0.7), atol=1e-7)
    np.testing.assert_allclose(fd.jacrev(sol)(0.7), fd.jacrev(reduced)(0.7), atol=1e-6)
    np.testing.assert_allclose(fd.jacfwd(sol)(0.7), fd.jacfwd(reduced)(0.7), atol=1e-6)


def test_fun_and_jac_of_the_result_differentiate():
    p = np.array([0.4, -0.7, 0.3])
    x0 = np.zeros(3)

    ours = lambda p: fopt.minimize(_quartic, x0, args=(p,), options=dict(gtol=1e-11)).fun
    np.testing.assert_allclose(fd.grad(ours)(p), _fd(lambda p: _scipy_exact(p)[1], p), rtol=1e-7)
    # the gradient at the solution is zero, and so is its derivative
    jac = lambda p: fopt.minimize(_quartic, x0, args=(p,), options=dict(gtol=1e-11)).jac
    np.testing.assert_allclose(fd.jacrev(jac)(p), 0.0, atol=1e-9)


# --- warnings, errors, the result -------------------------------------------------------

def test_unconverged_solution_under_grad_warns():
    short = dict(options=dict(maxiter=2))
    f = lambda lam: fnp.sum(fopt.minimize(rosen, np.array([-1.2, 1.0]), args=(lam, 100.0),
                                          **short).x)
    with pytest.warns(ImplicitGradientWarning, match="did not converge.*Maximum number"):
        fd.grad(f)(1.0)
    with pytest.warns(ImplicitGradientWarning, match="did not converge"):
        fd.jit(fd.grad(f))(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplicitGradientWarning)
        assert not fopt.minimize(rosen, np.array([-1.2, 1.0]), args=(1.0, 100.0),
                                 **short).success        # no derivative: no warning
        fd.jit(f)(1.0)
        fd.grad(lambda lam: fnp.sum(fopt.minimize(rosen, np.array([-1.2, 1.0]),
                                                  args=(lam, 100.0)).x))(1.0)


def test_unsupported_method_names_the_supported_ones():
    for method in ("Nelder-Mead", "trust-ncg", "newton-cg", None):
        with pytest.raises(FuncdiffValueError, match="'BFGS', 'L-BFGS-B'"):
            fopt.minimize(rosen, np.zeros(2), args=(1.0, 1.0), method=method)


def test_errors():
    with pytest.raises(FuncdiffValueError, match="one dimension"):
        fopt.minimize(rosen, np.zeros((2, 2)), args=(1.0, 1.0))
    with pytest.raises(FuncdiffTypeError, match="real"):
        fopt.minimize(rosen, np.zeros(2, complex), args=(1.0, 1.0))
    with pytest.raises(FuncdiffValueError, match="scalar"):
        fopt.minimize(lambda x: x ** 2, np.zeros(2))
    with pytest.raises(FuncdiffValueError, match="pair"):
        fopt.minimize(lambda x: fnp.sum(x ** 2), np.zeros(2), jac=True)
    with pytest.raises(FuncdiffValueError, match="gradient must have 2 elements"):
        fopt.minimize(lambda x: fnp.sum(x ** 2), np.zeros(2), jac=lambda x: x[:1])
    with pytest.raises(FuncdiffValueError, match="jac must be"):
        fopt.minimize(lambda x: fnp.sum(x ** 2), np.zeros(2), jac="exact")
    with pytest.raises(FuncdiffValueError, match="length of bounds"):
        fopt.minimize(lambda x: fnp.sum(x ** 2), np.zeros(2), method="L-BFGS-B",
                      bounds=[(0, 1)])
    with pytest.raises(FuncdiffTypeError, match="bounds must be concrete"):
        fd.grad(lambda u: fnp.sum(fopt.minimize(lambda x: fnp.sum(x ** 2), np.ones(2),
                                                method="L-BFGS-B",
                                                bounds=[(u, 1.0), (u, 1.0)]).x))(0.5)
    with pytest.warns(RuntimeWarning, match="does not use Hessian"):   # SciPy's warning
        fopt.minimize(lambda x: fnp.sum(x ** 2), np.ones(2), hess=lambda x: np.eye(2))


def test_result_object():
    r = fopt.minimize(rosen, np.zeros(2), args=(1.0, 100.0))
    assert r.keys() == ["x", "success", "status", "fun", "jac", "hess_inv", "nfev", "njev",
                        "nit", "message"]
    assert r["nit"] is r.nit and "message: 'Optimization terminated" in repr(r)
    with pytest.raises(KeyError):
        r["nope"]

    def inside(a):
        res = fopt.minimize(rosen, np.zeros(2), args=(a, 100.0))
        with pytest.raises(ConcretizationError, match="message"):
            res.message
        assert "<known at run time>" in repr(res)
        return res
    out = fd.jit(inside)(1.0)
    assert out.message == r.message and isinstance(out, fopt.OptimizeResults)
    leaves = fd.tree_util.tree_leaves(out)
    assert len(leaves) == 10


def test_result_built_by_hand():
    """JAX's constructor: the nine fields, no message (as a SciPy result built without
    one); a pytree through jit, vmap and jvp like minimize's own."""
    def build(a):
        return fopt.OptimizeResults(x=a, success=True, status=0, fun=fnp.sum(a ** 2),
                                    jac=2 * a, hess_inv=None, nfev=1, njev=1, nit=1)
    a = np.array([0.5, -1.5])
    r = build(a)
    assert r.keys() == ["x", "success", "status", "fun", "jac", "hess_inv", "nfev", "njev",
                        "nit"]
    assert "message" not in repr(r) and not hasattr(r, "message")
    with pytest.raises(KeyError):
        r["message"]
    out = fd.jit(build)(a)
    np.testing.assert_array_equal(out.jac, 2 * a)
    assert isinstance(out, fopt.OptimizeResults) and out.message_id is None
    batch = fd.vmap(build)(np.stack([a, 2 * a]))
    np.testing.assert_allclose(batch.fun, [2.5, 10.0])
    _, t = fd.jvp(lambda v: build(v).fun, (a,), (np.ones(2),))
    np.testing.assert_allclose(t, np.sum(2 * a))


def test_namespace():
    assert fopt.__all__ == ["OptimizeResults", "minimize"]
    assert sorted(dir(fopt)) == ["OptimizeResults", "minimize"]
    assert hasattr(spo, "minimize")
