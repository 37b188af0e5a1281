"""funcdiff.scipy.sparse.linalg: cg, gmres, bicgstab.

Values: the traced solvers (under jit, and make_jaxpr + eval_jaxpr) against SciPy's own,
over hypothesis-chosen sizes, float64 / float32 / complex128, preconditioners, initial
guesses, ``maxiter`` cut short (the ``info`` codes), ``restart``, every kind of operator
(dense, SciPy sparse, LinearOperator, a function).  Derivatives (through
custom_linear_solve): against central finite differences of SciPy's own solution at a
tight tolerance, forward and reverse, second order; vmap against a loop; jit against
eager.  Errors and the warning for a derivative through a solve that did not converge.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffValueError, ImplicitGradientWarning
from funcdiff.scipy.sparse import linalg as fla

import _helpers

VALUES = settings(max_examples=25, deadline=None)
GRAD = settings(max_examples=8, deadline=None)
SOLVERS = ["cg", "gmres", "bicgstab"]
traced = functools.partial(_helpers.traced, unpack=False)


def _matrix(rng, n, solver, dtype):
    """SPD (Hermitian PD for complex) for cg; a diagonally dominant general matrix
    otherwise."""
    complex_ = np.dtype(dtype).kind == "c"
    q = rng.standard_normal((n, n)) + (1j * rng.standard_normal((n, n)) if complex_ else 0)
    if solver == "cg":
        a = q @ q.conj().T + n * np.eye(n)
    else:
        a = q + 2 * n * np.eye(n)
    b = rng.standard_normal(n) + (1j * rng.standard_normal(n) if complex_ else 0)
    return a.astype(dtype), b.astype(dtype)


def _check_against_scipy(solver, A, b, **kw):
    xs, info_s = getattr(spla, solver)(A, b, **kw)
    fn = getattr(fla, solver)
    xj, info_j = fd.jit(lambda A, b: fn(A, b, **kw))(A, b)
    (xt, info_t) = traced(lambda A, b: fn(A, b, **kw), A, b)
    assert int(info_j) == info_s == int(info_t)
    assert xj.dtype == xs.dtype and xj.shape == xs.shape
    tol = 1e-4 if xs.dtype in (np.float32, np.complex64) else 1e-10
    scale = np.abs(xs).max() + 1e-300
    np.testing.assert_allclose(xj, xs, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(xt, xs, rtol=tol, atol=tol * scale)


@VALUES
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 12),
       solver=st.sampled_from(SOLVERS),
       dtype=st.sampled_from([np.float64, np.float32, np.complex128]))
def test_values_against_scipy(seed, n, solver, dtype):
    rng = np.random.default_rng(seed)
    A, b = _matrix(rng, n, solver, dtype)
    _check_against_scipy(solver, A, b)
    _check_against_scipy(solver, A, b, rtol=1e-9 if dtype != np.float32 else 1e-5)


@VALUES
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(2, 10),
       solver=st.sampled_from(SOLVERS), maxiter=st.integers(1, 3))
def test_options_against_scipy(seed, n, solver, maxiter):
    """Preconditioner, initial guess, atol, maxiter cut short (info > 0), b of shape
    (N, 1)."""
    rng = np.random.default_rng(seed)
    A, b = _matrix(rng, n, solver, np.float64)
    M = np.diag(1 / np.diag(A))
    x0 = rng.standard_normal(n)
    _check_against_scipy(solver, A, b, M=M)
    _check_against_scipy(solver, A, b, x0=x0, atol=1e-3, rtol=0.0)
    _check_against_scipy(solver, A, b, maxiter=maxiter, rtol=1e-12)
    _check_against_scipy(solver, A, b[:, None])
    if solver == "gmres":
        _check_against_scipy(solver, A, b, restart=2, maxiter=maxiter, rtol=1e-12)


def test_zero_rhs_and_exact_first_step():
    for solver in SOLVERS:
        _check_against_scipy(solver, 3 * np.eye(4), np.zeros(4))
        _check_against_scipy(solver, 3 * np.eye(4), np.ones(4))


def _operators(A):
    """The same operator as a matrix, a function, SciPy sparse matrices and
    LinearOperators."""
    return {"dense": A, "function": lambda x: A @ x, "csr": sps.csr_matrix(A),
            "csc_array": sps.csc_array(A), "aslinearoperator": spla.aslinearoperator(A),
            "LinearOperator": spla.LinearOperator(A.shape, matvec=lambda x: A @ x,
                                                  dtype=A.dtype)}


@pytest.mark.parametrize("solver", SOLVERS)
def test_operator_kinds(solver):
    rng = np.random.default_rng(0)
    A, b = _matrix(rng, 6, solver, np.float64)
    want, _ = getattr(spla, solver)(A, b)
    fn = getattr(fla, solver)
    for name, op in _operators(A).items():
        for m in (None, np.diag(1 / np.diag(A)), (lambda x: x / np.diag(A))):
            x_eager, info = fn(op, b, M=m)          # SciPy's own (functions wrapped)
            x_jit, info_j = fd.jit(lambda b: fn(op, b, M=m))(b)
            assert info == int(info_j) == 0, name
            np.testing.assert_allclose(x_eager, want, rtol=1e-4, err_msg=name)
            np.testing.assert_allclose(x_jit, x_eager, rtol=1e-10, err_msg=name)


# --- derivatives -----------------------------------------------------------------------

def _scipy_solution(solver, A, b):
    x, info = getattr(spla, solver)(A, b, rtol=1e-14, atol=0.0, maxiter=1000)
    assert info == 0
    return x


def _fd_jacobian(fun, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append((fun(x + e) - fun(x - e)) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(fun(x).shape + x.shape)


@GRAD
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 6),
       solver=st.sampled_from(SOLVERS))
def test_derivatives_against_finite_differences_of_scipy(seed, n, solver):
    """d x / d b and d x / d A against central differences of SciPy's own solution."""
    rng = np.random.default_rng(seed)
    A, b = _matrix(rng, n, solver, np.float64)
    fn = getattr(fla, solver)
    kw = dict(rtol=1e-13, maxiter=1000)
    sym = (lambda S: (S + S.T) / 2) if solver == "cg" else (lambda S: S)
    ours_b = lambda b: fn(A, b, **kw)[0]
    ours_A = lambda S: fn(sym(S), b, **kw)[0]
    want_b = _fd_jacobian(lambda b: _scipy_solution(solver, A, b), b)
    want_A = _fd_jacobian(lambda S: _scipy_solution(solver, sym(S), b), A)
    for jac in (fd.jacfwd, fd.jacrev):
        np.testing.assert_allclose(jac(ours_b)(b), want_b, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(jac(ours_A)(A), want_A, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", SOLVERS)
def test_second_order_and_jit(solver):
    rng = np.random.default_rng(1)
    A, b = _matrix(rng, 4, solver, np.float64)
    sym = (lambda S: (S + S.T) / 2) if solver == "cg" else (lambda S: S)
    fn = getattr(fla, solver)
    loss = lambda S, b: fnp.sum(fnp.sin(fn(sym(S), b, rtol=1e-13, maxiter=500)[0]))
    ref = lambda S, b: fnp.sum(fnp.sin(fnp.linalg.solve(sym(S), b)))
    for argnums in (0, 1):
        np.testing.assert_allclose(fd.hessian(loss, argnums)(A, b),
                                   fd.hessian(ref, argnums)(A, b), rtol=1e-7, atol=1e-9)
    g = fd.grad(loss, (0, 1))(A, b)
    for a, c in zip(fd.jit(fd.grad(loss, (0, 1)))(A, b), g):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)
    fd.check_jaxpr(fd.make_jaxpr(fd.grad(loss, (0, 1)))(A, b))


@pytest.mark.parametrize("solver", SOLVERS)
def test_vmap_against_loop(solver):
    rng = np.random.default_rng(2)
    pairs = [_matrix(rng, 5, solver, np.float64) for _ in range(3)]
    As, bs = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    fn = getattr(fla, solver)
    f = lambda A, b: fn(A, b, maxiter=3)   # some examples stop before others would
    xs, infos = fd.vmap(f)(As, bs)
    for i in range(3):
        x, info = f(As[i], bs[i])
        np.testing.assert_allclose(xs[i], x, rtol=1e-10)
        assert infos[i] == info
    g = fd.vmap(fd.grad(lambda A, b: fnp.sum(fn(A, b)[0] ** 2), (0, 1)), (None, 0))(As[0], bs)
    for i in range(3):
        gi = fd.grad(lambda A, b: fnp.sum(fn(A, b)[0] ** 2), (0, 1))(As[0], bs[i])
        np.testing.assert_allclose(g[0][i], gi[0], rtol=1e-10)
        np.testing.assert_allclose(g[1][i], gi[1], rtol=1e-10)


def test_differentiating_through_a_matvec_function():
    rng = np.random.default_rng(3)
    A, b = _matrix(rng, 4, "gmres", np.float64)
    f = lambda s: fla.gmres(lambda x: A @ x + s * x, b, rtol=1e-13)[0]
    want = _fd_jacobian(lambda s: _scipy_solution("gmres", A + s * np.eye(4), b),
                        np.array(0.3))
    np.testing.assert_allclose(fd.jacfwd(f)(0.3), want, rtol=1e-6)
    np.testing.assert_allclose(fd.jacrev(f)(0.3), want, rtol=1e-6)


def test_unconverged_solve_under_grad_warns():
    rng = np.random.default_rng(4)
    A, b = _matrix(rng, 6, "cg", np.float64)
    for solver in SOLVERS:
        fn = getattr(fla, solver)
        short = dict(maxiter=1, rtol=1e-12, **({"restart": 1} if solver == "gmres" else {}))
        with pytest.warns(ImplicitGradientWarning, match=f"{solver} did not converge"):
            fd.grad(lambda b: fnp.sum(fn(A, b, **short)[0]))(b)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ImplicitGradientWarning)
            fd.grad(lambda b: fnp.sum(fn(A, b)[0]))(b)            # converged: silent
            fd.jit(lambda b: fn(A, b, **short))(b)                 # no derivative: silent
            fn(A, b, **short)


def test_errors():
    A, b = np.eye(3), np.ones(3)
    for solver in SOLVERS:
        fn = getattr(fla, solver)
        with pytest.raises(FuncdiffValueError, match="incompatible"):
            fn(A, np.ones(4))
        with pytest.raises(FuncdiffValueError, match="square"):
            fn(np.ones((3, 2)), b)
        with pytest.raises(FuncdiffValueError, match="atol"):
            fn(A, b, atol=-1.0)
        with pytest.raises(FuncdiffValueError, match="different shapes"):
            fn(A, b, M=np.eye(2))
        with pytest.raises(FuncdiffValueError, match="callback"):
            fd.jit(lambda b: fn(A, b, callback=print))(b)
        with pytest.raises(FuncdiffValueError, match="x0"):
            fd.jit(lambda b: fn(A, b, x0=np.ones(2)))(b)


def test_namespace():
    assert sorted(fla.__all__) == ["bicgstab", "cg", "gmres"]
    assert sorted(dir(fla)) == ["bicgstab", "cg", "gmres"]
    import funcdiff.scipy.sparse as fsp
    assert dir(fsp) == ["linalg"] and fsp.__all__ == ["linalg"]
    for name in fla.__all__:
        assert hasattr(spla, name)
