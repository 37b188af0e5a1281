"""funcdiff.lax.custom_root and funcdiff.lax.custom_linear_solve: JAX's semantics.

custom_root: Newton's square root against the closed form to third order (forward,
reverse and mixed), a pytree system against finite differences, has_aux, which tangents
are ignored (initial guess, the solver's own consts), vmap against a loop, jit against
eager, errors.  custom_linear_solve: against numpy.linalg.solve and its derivatives
(jvp, vjp, check_grads to order 2) with ``symmetric`` and ``transpose_solve``, the
transposed operator handed to ``transpose_solve``, JAX's rule that ``symmetric=True``
reuses ``solve`` and ``matvec`` for the transposed system, pytrees, has_aux, vmap over
every operand combination, jit, errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax
from funcdiff.core.errors import FuncdiffTypeError, GradientError, StructureError
from funcdiff.test_util import check_grads

GRAD = settings(max_examples=10, deadline=None)


# --- custom_root ----------------------------------------------------------------------

def _newton(f, x0, n=40):
    """Newton's method with the derivative of f by jvp (it needs no implicit rule)."""
    def step(i, x):
        fx, dfx = fd.jvp(f, (x,), (fnp.ones_like(x),))
        return x - fx / dfx
    return lax.fori_loop(0, n, step, x0)


def sqrt_root(a, x0=1.0):
    return lax.custom_root(lambda x: x ** 2 - a, x0, _newton, lambda g, y: y / g(1.0))


def test_sqrt_value_and_derivatives_to_third_order():
    for a in (0.3, 2.0, 9.0):
        assert np.isclose(sqrt_root(a), np.sqrt(a), rtol=1e-14)
        d1, d2, d3 = 0.5 * a ** -0.5, -0.25 * a ** -1.5, 0.375 * a ** -2.5
        np.testing.assert_allclose(fd.grad(sqrt_root)(a), d1, rtol=1e-12)
        np.testing.assert_allclose(fd.jvp(sqrt_root, (a,), (1.0,))[1], d1, rtol=1e-12)
        np.testing.assert_allclose(fd.grad(fd.grad(sqrt_root))(a), d2, rtol=1e-12)
        np.testing.assert_allclose(fd.jacfwd(fd.jacfwd(sqrt_root))(a), d2, rtol=1e-12)
        np.testing.assert_allclose(fd.jacrev(fd.jacfwd(sqrt_root))(a), d2, rtol=1e-12)
        np.testing.assert_allclose(fd.jacfwd(fd.grad(sqrt_root))(a), d2, rtol=1e-12)
        np.testing.assert_allclose(fd.grad(fd.grad(fd.grad(sqrt_root)))(a), d3, rtol=1e-11)


def test_sqrt_jit_vmap_and_check_grads():
    a = np.array([0.5, 2.0, 7.0])
    np.testing.assert_allclose(fd.vmap(sqrt_root)(a), np.sqrt(a), rtol=1e-14)
    np.testing.assert_allclose(fd.vmap(fd.grad(sqrt_root))(a), 0.5 / np.sqrt(a), rtol=1e-12)
    np.testing.assert_allclose(fd.vmap(sqrt_root, (0, 0))(a, a), np.sqrt(a), rtol=1e-14)
    for x in a:
        assert fd.jit(sqrt_root)(x) == sqrt_root(x)
        assert fd.jit(fd.grad(sqrt_root))(x) == fd.grad(sqrt_root)(x)
        assert fd.grad(fd.jit(sqrt_root))(x) == fd.grad(sqrt_root)(x)
    check_grads(sqrt_root, (2.0,), order=2, modes=("fwd", "rev"))


def test_initial_guess_and_solver_consts_get_no_tangent():
    """Only f's closed-over values are differentiated (as JAX): the guess's and the
    solver's tangents are ignored, even when the solver reads the parameter."""
    g = fd.grad(lambda x0: sqrt_root(2.0, x0))(1.5)
    assert g == 0.0

    def root_by_formula(a):
        # the "solver" computes the answer from `a` directly (its own tangent would be 2x
        # the true one); custom_root takes the derivative from f alone
        return lax.custom_root(lambda x: x - a, 0.0, lambda f, x0: 2.0 * a - a,
                               lambda g, y: y / g(1.0))
    assert fd.grad(root_by_formula)(3.0) == 1.0
    assert fd.jvp(root_by_formula, (3.0,), (2.0,))[1] == 2.0


def _system(p):
    """A pytree root: u (vector) and v (scalar) with u + p * tanh(u) = c, v^3 + v = sum(u)."""
    c = fnp.array([0.3, -1.2, 2.0])

    def f(z):
        u, v = z["u"], z["v"]
        return {"u": u + p[0] * fnp.tanh(u) - c * p[1], "v": v ** 3 + v - fnp.sum(u)}

    def solve(f, z0):
        flat = lambda w: fnp.concatenate([f({"u": w[:3], "v": w[3]})["u"],
                                          f({"u": w[:3], "v": w[3]})["v"][None]])
        w = fnp.concatenate([z0["u"], z0["v"][None]])
        for _ in range(30):      # Newton on the flat system, Python loop (concrete)
            w = w - fnp.linalg.solve(fd.jacfwd(flat)(w), flat(w))
        return {"u": w[:3], "v": w[3]}

    def tangent_solve(g, y):
        unflat = lambda w: {"u": w[:3], "v": w[3]}
        flat_g = lambda w: (lambda r: fnp.concatenate([r["u"], r["v"][None]]))(g(unflat(w)))
        yv = fnp.concatenate([y["u"], y["v"][None]])
        return unflat(fnp.linalg.solve(fd.jacfwd(flat_g)(yv), yv))

    z = lax.custom_root(f, {"u": fnp.zeros(3), "v": fnp.zeros(())}, solve, tangent_solve)
    return z["u"] * z["v"]


def test_pytree_system_against_finite_differences():
    p = np.array([0.7, 1.3])
    assert _system(p).shape == (3,)
    check_grads(_system, (p,), order=2, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(fd.jacfwd(_system)(p), fd.jacrev(_system)(p), rtol=1e-10)


def test_has_aux_values_and_zero_derivative():
    def f(a):
        def solve(f, x0):
            x = _newton(f, x0)
            return x, {"steps": np.int64(40), "resid": f(x)}
        x, aux = lax.custom_root(lambda x: x ** 3 - a, 1.0, solve, lambda g, y: y / g(1.0),
                                 has_aux=True)
        return x + 0.0 * aux["resid"], aux
    x, aux = f(8.0)
    assert np.isclose(x, 2.0) and aux["steps"] == 40 and abs(aux["resid"]) < 1e-12
    np.testing.assert_allclose(fd.grad(lambda a: f(a)[0])(8.0), 1 / 12, rtol=1e-12)
    np.testing.assert_allclose(fd.grad(lambda a: f(a)[1]["resid"])(8.0), 0.0)


def test_custom_root_jaxprs_check():
    for fn, x in ((sqrt_root, 2.0), (fd.grad(sqrt_root), 2.0),
                  (fd.grad(fd.grad(sqrt_root)), 2.0), (fd.vmap(sqrt_root), np.ones(2)),
                  (fd.vmap(fd.grad(sqrt_root)), np.ones(2))):
        fd.check_jaxpr(fd.make_jaxpr(fn)(x))
    assert "custom_root" in str(fd.make_jaxpr(sqrt_root)(2.0))
    assert fd.cost_analysis(sqrt_root)(2.0)["flops"] > 0


def test_custom_root_errors():
    sq = lambda g, y: y / g(1.0)
    with pytest.raises(StructureError, match="f must return"):
        lax.custom_root(lambda x: (x, x), 1.0, _newton, sq)
    with pytest.raises(FuncdiffTypeError, match="shaped like initial_guess"):
        lax.custom_root(lambda x: fnp.stack([x, x]), 1.0, _newton, sq)
    with pytest.raises(StructureError, match="solve must return"):
        lax.custom_root(lambda x: x - 2.0, 1.0, lambda f, x: (x, x), sq)
    with pytest.raises(StructureError, match="has_aux=True"):
        lax.custom_root(lambda x: x - 2.0, 1.0, _newton, sq, has_aux=True)
    with pytest.raises(FuncdiffTypeError, match="shapes and dtypes"):
        lax.custom_root(lambda x: x - 2.0, np.float32(1.0),
                        lambda f, x: x.astype(np.float64), sq)
    with pytest.raises(StructureError, match="tangent_solve must return"):
        lax.custom_root(lambda x: x - 2.0, 1.0, _newton, lambda g, y: [y])


# --- custom_linear_solve -------------------------------------------------------------------

def _dense_solve(mv, b):
    """A solver that sees only the operator: its matrix by jacfwd, then a dense solve."""
    return fnp.linalg.solve(fd.jacfwd(mv, holomorphic=b.dtype.kind == "c")(b), b)


def _spd(rng, n):
    q = rng.standard_normal((n, n))
    return q @ q.T + n * np.eye(n)


def ls_sym(A, b):
    return lax.custom_linear_solve(lambda x: A @ x, b, _dense_solve, symmetric=True)


def ls_general(A, b):
    return lax.custom_linear_solve(lambda x: A @ x, b, _dense_solve,
                                   transpose_solve=_dense_solve)


def ref(A, b):
    return fnp.linalg.solve(A, b)


@GRAD
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 5))
def test_linear_solve_matches_solve_and_its_derivatives(seed, n):
    rng = np.random.default_rng(seed)
    S, N = _spd(rng, n), rng.standard_normal((n, n)) + 2 * n * np.eye(n)
    b = rng.standard_normal(n)
    tA, tb = rng.standard_normal((n, n)), rng.standard_normal(n)
    ct = rng.standard_normal(n)
    for fn, A in ((ls_sym, S), (ls_general, N)):
        np.testing.assert_allclose(fn(A, b), ref(A, b), rtol=1e-10, atol=1e-12)
        got = fd.jvp(fn, (A, b), (tA, tb))[1]
        np.testing.assert_allclose(got, fd.jvp(ref, (A, b), (tA, tb))[1], rtol=1e-9,
                                   atol=1e-11)
        got = fd.vjp(fn, A, b)[1](ct)
        want = fd.vjp(ref, A, b)[1](ct)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
        check_grads(fn, (A, b), order=2, modes=("fwd", "rev"))


def test_second_order_against_solve():
    rng = np.random.default_rng(1)
    A, b = _spd(rng, 4), rng.standard_normal(4)
    loss = lambda fn: (lambda A, b: fnp.sum(fnp.sin(fn(A, b))))
    for fn in (ls_sym, ls_general):
        for h in (fd.hessian, lambda f, argnums: fd.jacrev(fd.jacrev(f, argnums), argnums)):
            np.testing.assert_allclose(h(loss(fn), argnums=1)(A, b),
                                       h(loss(ref), argnums=1)(A, b), rtol=1e-9, atol=1e-12)
    # in the matrix: symmetric=True promises a symmetric operator, so the matrix is
    # parametrized symmetrically there (a non-symmetric perturbation breaks the promise)
    sym = lambda fn: (lambda M, b: fnp.sum(fnp.sin(fn(M + M.T, b))))
    for fn, l in ((ls_sym, sym), (ls_general, sym), (ls_general, loss)):
        np.testing.assert_allclose(fd.hessian(l(fn), argnums=0)(A / 2, b),
                                   fd.hessian(l(ref), argnums=0)(A / 2, b), rtol=1e-9,
                                   atol=1e-12)


def test_transpose_solve_receives_the_transposed_operator():
    """``transpose_solve`` sees only ``vecmat`` (it builds its matrix by jacfwd): the
    cotangent of b is A^-T ct only if ``vecmat`` is the transpose of ``matvec``."""
    rng = np.random.default_rng(2)
    A, b, ct = rng.standard_normal((3, 3)) + 4 * np.eye(3), rng.standard_normal(3), \
        rng.standard_normal(3)
    got = fd.vjp(ls_general, A, b)[1](ct)
    np.testing.assert_allclose(got[1], np.linalg.solve(A.T, ct), rtol=1e-10)
    x = np.linalg.solve(A, b)
    np.testing.assert_allclose(got[0], -np.outer(np.linalg.solve(A.T, ct), x), rtol=1e-10)


def test_symmetric_reuses_solve_and_matvec_as_jax_does():
    """With symmetric=True the transposed system is solved with ``solve`` on ``matvec``
    itself: for a non-symmetric matrix the cotangent of b is then A^-1 ct, not A^-T ct
    (the promise is the user's)."""
    rng = np.random.default_rng(3)
    A, b, ct = rng.standard_normal((3, 3)) + 4 * np.eye(3), rng.standard_normal(3), \
        rng.standard_normal(3)
    got = fd.vjp(lambda b: ls_sym(A, b), b)[1](ct)[0]
    np.testing.assert_allclose(got, np.linalg.solve(A, ct), rtol=1e-10)


def test_closed_over_operator_values_and_pytree_b():
    rng = np.random.default_rng(4)
    A, b = rng.standard_normal((3, 3)) + 4 * np.eye(3), rng.standard_normal(3)

    def f(A, b, s):
        mv = lambda x: {"u": A @ x["u"], "v": s * x["v"]}
        solve = lambda mv, y: {"u": fnp.linalg.solve(A, y["u"]), "v": y["v"] / s}
        tsolve = lambda vm, y: {"u": fnp.linalg.solve(A.T, y["u"]), "v": y["v"] / s}
        out = lax.custom_linear_solve(mv, {"u": b, "v": b[:2]}, solve, transpose_solve=tsolve)
        return fnp.concatenate([out["u"], out["v"]])

    g = lambda A, b, s: fnp.concatenate([fnp.linalg.solve(A, b), b[:2] / s])
    np.testing.assert_allclose(f(A, b, 2.5), g(A, b, 2.5), rtol=1e-12)
    for argnums in (0, 1, 2):
        np.testing.assert_allclose(fd.jacrev(f, argnums)(A, b, 2.5),
                                   fd.jacrev(g, argnums)(A, b, 2.5), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fd.jacfwd(f, argnums)(A, b, 2.5),
                                   fd.jacfwd(g, argnums)(A, b, 2.5), rtol=1e-10, atol=1e-12)
    check_grads(f, (A, b, 2.5), order=2, modes=("fwd", "rev"))


def test_has_aux():
    rng = np.random.default_rng(5)
    A, b = _spd(rng, 3), rng.standard_normal(3)

    def f(A, b):
        solve = lambda mv, y: (_dense_solve(mv, y), fnp.sum(y))
        x, aux = lax.custom_linear_solve(lambda x: A @ x, b, solve, symmetric=True,
                                         has_aux=True)
        return x, aux
    x, aux = f(A, b)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-12)
    np.testing.assert_allclose(aux, b.sum())
    g = fd.grad(lambda b: fnp.sum(f(A, b)[0]))(b)
    np.testing.assert_allclose(g, np.linalg.solve(A, np.ones(3)), rtol=1e-10)
    np.testing.assert_allclose(fd.grad(lambda b: f(A, b)[1] * 1.0)(b), np.zeros(3))


@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None)])
def test_vmap_against_loop(in_axes):
    rng = np.random.default_rng(6)
    As = np.stack([_spd(rng, 3) for _ in range(4)])
    bs = rng.standard_normal((4, 3))
    A = As if in_axes[0] == 0 else As[0]
    b = bs if in_axes[1] == 0 else bs[0]
    pick = lambda x, ax, i: x[i] if ax == 0 else x
    for fn in (ls_sym, ls_general):
        got = fd.vmap(fn, in_axes)(A, b)
        want = np.stack([fn(pick(A, in_axes[0], i), pick(b, in_axes[1], i)) for i in range(4)])
        np.testing.assert_allclose(got, want, rtol=1e-12)
        loss = lambda A, b: fnp.sum(fn(A, b) ** 2)
        got = fd.vmap(fd.grad(loss, (0, 1)), in_axes)(A, b)
        for k in range(4):
            want = fd.grad(loss, (0, 1))(pick(A, in_axes[0], k), pick(b, in_axes[1], k))
            for g, w in zip(got, want):
                np.testing.assert_allclose(g[k] if g.ndim > w.ndim else g, w, rtol=1e-10)


def test_jit_equals_eager():
    rng = np.random.default_rng(7)
    A, b = _spd(rng, 3), rng.standard_normal(3)
    loss = lambda A, b: fnp.sum(ls_general(A, b) ** 3)
    np.testing.assert_allclose(fd.jit(ls_general)(A, b), ls_general(A, b), rtol=1e-14)
    for a, c in zip(fd.jit(fd.grad(loss, (0, 1)))(A, b), fd.grad(loss, (0, 1))(A, b)):
        np.testing.assert_allclose(a, c, rtol=1e-12)
    src = fd.jit(ls_general).lower(A, b).source
    assert "solve_jaxpr" in src
    fd.check_jaxpr(fd.make_jaxpr(fd.grad(loss))(A, b))


def test_complex_operator():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) + 4 * np.eye(3)
    b = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    np.testing.assert_allclose(ls_general(A, b), np.linalg.solve(A, b), rtol=1e-12)
    loss = lambda fn: (lambda A: fnp.sum(fnp.abs(fn(A, b)) ** 2))
    np.testing.assert_allclose(fd.grad(loss(ls_general))(A), fd.grad(loss(ref))(A),
                               rtol=1e-10)


def test_linear_solve_errors():
    A, b = np.eye(2) * 2, np.ones(2)
    no_t = lambda b: lax.custom_linear_solve(lambda x: A @ x, b, _dense_solve)
    np.testing.assert_allclose(fd.jvp(no_t, (b,), (b,))[1], b / 2)   # forward mode works
    with pytest.raises(GradientError, match="transpose_solve"):
        fd.grad(lambda b: fnp.sum(no_t(b)))(b)
    with pytest.raises(FuncdiffTypeError, match="matvec must return arrays shaped"):
        lax.custom_linear_solve(lambda x: fnp.concatenate([x, x]), b, _dense_solve)
    with pytest.raises(StructureError, match="solve must return"):
        lax.custom_linear_solve(lambda x: x, b, lambda mv, y: (y, y))
    with pytest.raises(StructureError, match="has_aux=True"):
        lax.custom_linear_solve(lambda x: x, b, lambda mv, y: y, has_aux=True)
