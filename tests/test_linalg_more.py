"""funcdiff.numpy.linalg additions: svd, svdvals, pinv, eig, eigvals, qr, lstsq,
matrix_rank, det (adjugate-based derivative), norm(-2 / 'nuc'), and the batch rules of
every linalg primitive.

Values eager (NumPy itself) and traced (make_jaxpr + check_jaxpr + eval_jaxpr) against
NumPy over hypothesis-chosen shapes and dtypes; check_grads (order 2, forward and
reverse) in float64 and complex128 on matrices built to satisfy each derivative's
conditions (distinct singular values / eigenvalues, full rank), with phase-invariant
functions where the factors are only defined up to a phase; det's derivative at
singular matrices against finite differences; vmap against a Python loop; jit against
the interpreter; check_jaxpr on transformed jaxprs; plain ``numpy.linalg`` dispatch.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.primitives import linalg as la
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, np_matrix_rank, np_pinv, traced

seeds = st.integers(0, 2**32 - 1)
batches = st.sampled_from([(), (2,), (1, 2)])
dims = st.integers(1, 4)
all_dtypes = st.sampled_from([np.float32, np.float64, np.complex64, np.complex128])
grad_dtypes = st.sampled_from([np.float64, np.complex128])
VALUES = settings(max_examples=25, deadline=None)
GRAD = settings(max_examples=8, deadline=None)


# --- builders --------------------------------------------------------------------------------

def _rng(seed):
    return np.random.default_rng(seed)


def _normal(rng, shape, dtype):
    x = rng.normal(size=shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.normal(size=shape)
    return x.astype(dtype)


def _orthonormal(rng, shape, dtype):
    q, _ = np.linalg.qr(_normal(rng, shape, np.complex128 if np.dtype(dtype).kind == "c"
                                else np.float64))
    return q


def with_svals(seed, batch, m, n, dtype=np.float64, svals=None):
    """``U diag(s) V^H`` with singular values at least 0.5 apart (or ``svals``)."""
    rng = _rng(seed)
    k = min(m, n)
    u = _orthonormal(rng, batch + (m, k), dtype)
    v = _orthonormal(rng, batch + (n, k), dtype)
    s = (np.arange(k, 0, -1) * 0.7 + 0.5 + rng.uniform(0, 0.2, batch + (k,))
         if svals is None else np.broadcast_to(np.asarray(svals, float), batch + (k,)))
    return ((u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))).astype(dtype)


def diagonalizable(seed, batch, n, dtype=np.float64):
    """``V B V^{-1}`` with well-conditioned ``V`` and well-separated eigenvalues; for real
    dtypes ``B`` has 2x2 blocks, so complex-conjugate pairs occur."""
    rng = _rng(seed)
    B = np.zeros(batch + (n, n), np.complex128 if np.dtype(dtype).kind == "c" else float)
    i = 0
    while i < n:
        if np.dtype(dtype).kind != "c" and i + 1 < n and rng.uniform() < 0.6:
            a, b = 1.5 * i - n, 0.7 + rng.uniform(0, 0.3)
            B[..., i, i] = B[..., i + 1, i + 1] = a
            B[..., i, i + 1], B[..., i + 1, i] = b, -b
            i += 2
        else:
            B[..., i, i] = 1.5 * i - n + 0.3 + (
                0.8j * (i % 2 - 0.5) if np.dtype(dtype).kind == "c" else 0)
            i += 1
    V = np.eye(n) + 0.25 * _normal(rng, batch + (n, n), dtype)
    return (V @ B @ np.linalg.inv(V)).astype(dtype)


def rank_deficient(seed, n, rank, dtype=np.float64):
    rng = _rng(seed)
    return (_normal(rng, (n, rank), dtype) @ _normal(rng, (rank, n), dtype)).astype(dtype)


#: single precision to 2e-4, the rest to 1e-9 (every dtype allclose, integers too)
TOLS = {np.float32: 2e-4, np.complex64: 2e-4, DEFAULT: 1e-9}


def same(got, want, dtype=None):
    """Same shape and dtype; values allclose to TOLS[``dtype or want.dtype``]."""
    _helpers.assert_same(got, want, tols=TOLS, exact_kinds="", tol_dtype=dtype)


def check_values(fd_fn, np_fn, *args, cast=None):
    """Eager: exactly NumPy; traced: allclose with the same shapes and dtypes."""
    want = np_fn(*args)
    want_l = list(want) if isinstance(want, tuple) else [want]
    eager = fd_fn(*args)
    eager_l = list(eager) if isinstance(eager, tuple) else [eager]
    for e, w in zip(eager_l, want_l):
        np.testing.assert_array_equal(e, w)
    got = traced(fd_fn, *args)
    if cast is not None:
        want_l = [cast(w) for w in want_l]
    assert len(got) == len(want_l)
    for g, w in zip(got, want_l):
        same(g, w)


def _H(x):
    return fnp.conj(fnp.swapaxes(x, -1, -2))


# --- svd -------------------------------------------------------------------------------------

@VALUES
@given(seeds, batches, st.integers(0, 4), st.integers(0, 4), all_dtypes, st.booleans(),
       st.booleans())
def test_svd_values(seed, batch, m, n, dtype, full, uv):
    a = _normal(_rng(seed), batch + (m, n), dtype)
    check_values(lambda x: fnp.linalg.svd(x, full_matrices=full, compute_uv=uv),
                 lambda x: np.linalg.svd(x, full_matrices=full, compute_uv=uv), a)


@VALUES
@given(seeds, batches, dims, all_dtypes, st.booleans())
def test_svd_hermitian_and_svdvals_values(seed, batch, n, dtype, uv):
    b = _normal(_rng(seed), batch + (n, n), dtype)
    h = b + np.conj(np.swapaxes(b, -1, -2))
    check_values(lambda x: fnp.linalg.svd(x, compute_uv=uv, hermitian=True),
                 lambda x: np.linalg.svd(x, compute_uv=uv, hermitian=True), h)
    if hasattr(np.linalg, "svdvals"):
        check_values(fnp.linalg.svdvals, np.linalg.svdvals, b)


def test_svd_int_input_and_errors():
    a = np.arange(6).reshape(2, 3)
    check_values(fnp.linalg.svd, np.linalg.svd, a)
    with pytest.raises(np.linalg.LinAlgError):
        fd.make_jaxpr(fnp.linalg.svd)(np.ones(3))
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.svd(np.ones(3))


@GRAD
@given(seeds, batches, dims, dims, grad_dtypes)
def test_svd_grads(seed, batch, m, n, dtype):
    a = with_svals(seed, batch, m, n, dtype)
    k = min(m, n)
    check_grads(lambda x: fnp.linalg.svd(x, compute_uv=False), (a,), order=2)
    if np.dtype(dtype).kind == "c":
        # singular vectors are defined up to a phase per (u_i, v_i): differentiate
        # phase-invariant functions of them
        def f(x):
            u, s, vh = fnp.linalg.svd(x, full_matrices=False)
            return s, u @ _H(u), _H(vh) @ vh, (u * s[..., None, :]) @ vh, u @ vh if m == n \
                else fnp.abs(u)
    else:
        def f(x):
            return tuple(fnp.linalg.svd(x, full_matrices=False))
    check_grads(f, (a,), order=2, modes=("fwd", "rev"))

    def full(x):   # extra columns: any basis of the complement; its projector is unique
        u, s, vh = fnp.linalg.svd(x, full_matrices=True)
        u2, v2 = u[..., :, k:], _H(vh[..., k:, :])
        return s, u2 @ _H(u2), v2 @ _H(v2), u[..., :, :k] @ vh[..., :k, :]
    check_grads(full, (a,), order=2)


def test_svd_degenerate_cases_documented():
    # repeated singular values: s differentiates fine, u/v do not (inf/NaN)
    a = np.diag([2.0, 2.0, 1.0])
    g = fd.jacfwd(lambda x: fnp.linalg.svd(x, compute_uv=False))(a)
    assert np.all(np.isfinite(g))
    with np.errstate(all="ignore"):
        gu = fd.jacfwd(lambda x: fnp.linalg.svd(x)[0])(a)
    assert not np.all(np.isfinite(gu))
    # singular values at a zero singular value stay finite
    z = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert np.all(np.isfinite(fd.jacrev(lambda x: fnp.linalg.svd(x, compute_uv=False))(z)))


# --- norm(-2, 'nuc'), matrix_rank --------------------------------------------------------------

@VALUES
@given(seeds, batches, dims, dims, all_dtypes, st.sampled_from([-2, "nuc", 2]),
       st.booleans())
def test_norm_svd_orders(seed, batch, m, n, dtype, ord, keepdims):
    a = _normal(_rng(seed), batch + (m, n), dtype)
    axis = (-2, -1) if batch else None
    check_values(lambda x: fnp.linalg.norm(x, ord, axis=axis, keepdims=keepdims),
                 lambda x: np.linalg.norm(x, ord, axis=axis, keepdims=keepdims), a)


@GRAD
@given(seeds, dims, dims, grad_dtypes)
def test_norm_svd_orders_grads(seed, m, n, dtype):
    a = with_svals(seed, (), m, n, dtype)
    check_grads(lambda x: fnp.linalg.norm(x, "nuc"), (a,), order=2)
    check_grads(lambda x: fnp.linalg.norm(x, -2), (a,), order=2)
    check_grads(lambda x: fnp.linalg.norm(x.T, -2, axis=(1, 0)), (a,), order=1)


@VALUES
@given(seeds, dims, st.integers(0, 4), st.sampled_from([None, 1e-3]), st.booleans())
def test_matrix_rank_values(seed, n, r, rtol, hermitian):
    r = min(r, n)
    a = rank_deficient(seed, n, r) if r else np.zeros((n, n))
    a = a + a.T if hermitian else a
    check_values(lambda x: fnp.linalg.matrix_rank(x, rtol=rtol, hermitian=hermitian),
                 lambda x: np_matrix_rank(x, rtol=rtol, hermitian=hermitian), a)
    check_values(lambda x: fnp.linalg.matrix_rank(x, tol=0.5),
                 lambda x: np.linalg.matrix_rank(x, tol=0.5), a)


# --- pinv --------------------------------------------------------------------------------------

@VALUES
@given(seeds, batches, st.integers(0, 4), st.integers(0, 4), all_dtypes,
       st.sampled_from(["default", "rcond", "rtol", "rtol_none"]))
def test_pinv_values(seed, batch, m, n, dtype, how):
    a = _normal(_rng(seed), batch + (m, n), dtype)
    if m and n and min(m, n) > 1:   # make it numerically rank-deficient sometimes
        a[..., -1] = a[..., 0] * 2
    kw = {"default": {}, "rcond": {"rcond": 1e-3}, "rtol": {"rtol": 1e-2},
          "rtol_none": {"rtol": None}}[how]
    check_values(lambda x: fnp.linalg.pinv(x, **kw), lambda x: np_pinv(x, **kw), a)


@VALUES
@given(seeds, batches, dims, all_dtypes)
def test_pinv_hermitian_values(seed, batch, n, dtype):
    b = _normal(_rng(seed), batch + (n, n), dtype)
    h = b + np.conj(np.swapaxes(b, -1, -2))
    check_values(lambda x: fnp.linalg.pinv(x, hermitian=True),
                 lambda x: np.linalg.pinv(x, hermitian=True), h)


@GRAD
@given(seeds, batches, dims, dims, grad_dtypes)
def test_pinv_grads(seed, batch, m, n, dtype):
    a = with_svals(seed, batch, m, n, dtype)
    check_grads(fnp.linalg.pinv, (a,), order=2, modes=("fwd", "rev"))


def test_pinv_grads_where_svd_rules_fail():
    # repeated singular values (the svd jvp would divide by zero): pinv's own rule is exact
    a = with_svals(0, (), 4, 3, svals=[2.0, 2.0, 2.0])
    check_grads(fnp.linalg.pinv, (a,), order=2)
    # constant rank 2 below the cutoff: small perturbations stay below it
    r = rank_deficient(1, 4, 2)
    check_grads(lambda x: fnp.linalg.pinv(x, rtol=1e-3), (r,), order=2)
    # hermitian: reads the lower triangle of conj(a), as NumPy's eigh does
    h = with_svals(2, (), 3, 3, np.complex128)
    h = h + np.conj(h.T)
    check_grads(lambda x: fnp.linalg.pinv(x, hermitian=True), (h,), order=2)


def test_pinv_errors():
    with pytest.raises(ValueError, match="can't be both set"):
        fd.make_jaxpr(lambda x: fnp.linalg.pinv(x, rcond=1e-3, rtol=1e-3))(np.eye(2))


# --- lstsq -------------------------------------------------------------------------------------

@VALUES
@given(seeds, st.integers(0, 5), st.integers(0, 4), st.sampled_from([None, 0, 1, 3]),
       st.sampled_from([np.float32, np.float64, np.complex128]),
       st.sampled_from([None, 1e-3, -1]), st.booleans())
def test_lstsq_values(seed, m, n, k, dtype, rcond, deficient):
    rng = _rng(seed)
    a = _normal(rng, (m, n), dtype)
    if deficient and n > 1 and m > 1:
        a[:, -1] = a[:, 0]
    b = _normal(rng, (m,) if k is None else (m, k), dtype)
    f = lambda x, y: fnp.linalg.lstsq(x, y, rcond=rcond)  # noqa: E731
    g = lambda x, y: np.linalg.lstsq(x, y, rcond=rcond)   # noqa: E731
    want = g(a, b)
    got = traced(f, a, b)
    for gv, wv in zip(got, want):
        same(gv, wv)
    for e, w in zip(f(a, b), want):
        np.testing.assert_array_equal(e, w)


@GRAD
@given(seeds, dims, dims, st.sampled_from([None, 2]), grad_dtypes)
def test_lstsq_grads(seed, m, n, k, dtype):
    a = with_svals(seed, (), m + n, n, dtype) if seed % 2 else with_svals(seed, (), m, n,
                                                                           dtype)
    b = _normal(_rng(seed + 1), (a.shape[0],) if k is None else (a.shape[0], k), dtype)
    check_grads(lambda x, y: fnp.linalg.lstsq(x, y)[0], (a, b), order=2)
    if a.shape[0] > n:   # residuals exist (full column rank)
        check_grads(lambda x, y: fnp.linalg.lstsq(x, y)[1], (a, b), order=2)
    check_grads(lambda x, y: fnp.linalg.lstsq(x, y)[3], (a, b), order=1)


def test_lstsq_residuals_under_jit_and_errors():
    a, b = with_svals(0, (), 5, 3), _normal(_rng(1), (5, 2), np.float64)
    want = np.linalg.lstsq(a, b)
    got = fd.jit(lambda x, y: fnp.linalg.lstsq(x, y))(a, b)
    for g, w in zip(got, want):
        same(g, w)
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible dimensions"):
        fd.make_jaxpr(fnp.linalg.lstsq)(a, b[:4])
    with pytest.raises(np.linalg.LinAlgError):
        fd.make_jaxpr(fnp.linalg.lstsq)(a[None], b)


# --- eig ---------------------------------------------------------------------------------------

def _complex_of(x):
    x = np.asarray(x)
    return x.astype(np.result_type(x.dtype, np.complex64))


@VALUES
@given(seeds, batches, st.integers(0, 4), all_dtypes)
def test_eig_values(seed, batch, n, dtype):
    a = _normal(_rng(seed), batch + (n, n), dtype)
    # traced eig is always complex (NumPy's dtype depends on the values)
    want = np.linalg.eig(a)
    got = traced(lambda x: tuple(fnp.linalg.eig(x)), a)
    for g, w in zip(got, want):
        same(g, _complex_of(w))
    (w,) = traced(fnp.linalg.eigvals, a)
    same(w, _complex_of(np.linalg.eigvals(a)))
    for e, w in zip(fnp.linalg.eig(a), want):        # eager: NumPy itself
        np.testing.assert_array_equal(e, w)


@GRAD
@given(seeds, batches, dims, grad_dtypes)
def test_eig_grads(seed, batch, n, dtype):
    a = diagonalizable(seed, batch, n, dtype)
    if np.dtype(dtype).kind == "c":
        # eigenvectors differentiate in LAPACK's normalization (unit norm, largest
        # component real and positive), so they are checked directly against finite
        # differences of numpy's eig
        f = lambda x: tuple(fnp.linalg.eig(x))  # noqa: E731
    else:
        # real input: LAPACK's dgeev makes the largest component of a complex pair's
        # vector real with a sign that follows rounding noise (dlartg), so numpy's
        # eigenvectors may flip sign under tiny perturbations; products v_i v_j per
        # column are sign-invariant and still see the phase convention
        def f(x):
            w, v = fnp.linalg.eig(x)
            return w, v[..., :, None, :] * v[..., None, :, :]
    check_grads(f, (a,), order=2, modes=("fwd", "rev"))
    check_grads(fnp.linalg.eigvals, (a,), order=2)


def test_eig_reconstruction_gradient_and_degenerate():
    a = diagonalizable(3, (), 3)
    # V diag(w) V^{-1} is a itself: its derivative is the identity map
    def recon(x):
        w, v = fnp.linalg.eig(x)
        return fnp.real((v * w[None, :]) @ fnp.linalg.inv(v))
    t = _normal(_rng(4), (3, 3), np.float64)
    _, tout = fd.jvp(recon, (a,), (t,))
    np.testing.assert_allclose(tout, t, atol=1e-9)
    # repeated eigenvalue: eigenvalue sums stay finite, eigenvectors do not
    with np.errstate(all="ignore"):
        g = fd.jacfwd(lambda x: fnp.linalg.eig(x)[1])(np.diag([1.0, 1.0, 2.0]))
    assert not np.all(np.isfinite(g))


# --- qr ----------------------------------------------------------------------------------------

@VALUES
@given(seeds, batches, st.integers(0, 4), st.integers(0, 4), all_dtypes,
       st.sampled_from(["reduced", "complete", "r"]))
def test_qr_values(seed, batch, m, n, dtype, mode):
    a = _normal(_rng(seed), batch + (m, n), dtype)
    check_values(lambda x: fnp.linalg.qr(x, mode=mode), lambda x: np.linalg.qr(x, mode=mode),
                 a)


@GRAD
@given(seeds, batches, dims, dims, grad_dtypes)
def test_qr_grads(seed, batch, m, n, dtype):
    a = with_svals(seed, batch, m, n, dtype)
    check_grads(lambda x: tuple(fnp.linalg.qr(x)), (a,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: fnp.linalg.qr(x, mode="r"), (a,), order=1)

    def complete(x):   # the complement's basis is not unique; its projector is
        q, r = fnp.linalg.qr(x, mode="complete")
        k = min(m, n)
        return q[..., :, :k], q[..., :, k:] @ _H(q[..., :, k:]), r
    check_grads(complete, (a,), order=2)


def test_qr_modes_errors():
    a = np.ones((3, 2))
    with pytest.raises(ValueError, match="Unrecognized mode"):
        fd.make_jaxpr(lambda x: fnp.linalg.qr(x, mode="bogus"))(a)
    with pytest.raises(ValueError, match="Householder"):
        fd.make_jaxpr(lambda x: fnp.linalg.qr(x, mode="raw"))(a)
    with pytest.warns(DeprecationWarning):
        (q, r) = traced(lambda x: tuple(fnp.linalg.qr(x, mode="full")), a)
    same(q, np.linalg.qr(a)[0])


# --- det at singular matrices ---------------------------------------------------------------------

def fd_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        e = np.zeros_like(a)
        e[idx] = eps
        g[idx] = (f(a + e) - f(a - e)) / (2 * eps)
    return g


@GRAD
@given(seeds, st.integers(2, 5))
def test_det_grad_at_rank_n_minus_1_matches_finite_differences(seed, n):
    a = rank_deficient(seed, n, n - 1)
    assert abs(np.linalg.det(a)) < 1e-8
    g = fd.grad(fnp.linalg.det)(a)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, fd_grad(np.linalg.det, a), rtol=1e-6, atol=1e-7)
    assert np.linalg.matrix_rank(g) == 1          # adj of a rank n-1 matrix has rank 1
    check_grads(fnp.linalg.det, (a,), order=2, modes=("fwd", "rev"))
    # rank n-2: the adjugate (and the gradient) vanish
    z = rank_deficient(seed, n, n - 2) if n > 2 else np.zeros((2, 2))
    np.testing.assert_allclose(fd.grad(fnp.linalg.det)(z), 0, atol=1e-9)
    # second derivatives at singular matrices and at the identity (repeated singular
    # values) are finite and match finite differences of the first derivative
    h = fd.hessian(fnp.linalg.det)(a)
    assert np.all(np.isfinite(h))
    gd = fd.grad(fnp.linalg.det)
    t = _normal(_rng(seed), (n, n), np.float64)
    fdh = (gd(a + 1e-5 * t) - gd(a - 1e-5 * t)) / 2e-5
    np.testing.assert_allclose(np.tensordot(h, t, 2), fdh, rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(fd.hessian(fnp.linalg.det)(np.eye(n))))


@GRAD
@given(seeds, batches, dims, grad_dtypes)
def test_det_grads(seed, batch, n, dtype):
    a = _normal(_rng(seed), batch + (n, n), dtype)
    check_grads(fnp.linalg.det, (a,), order=2, modes=("fwd", "rev"))
    c = rank_deficient(seed, n, n - 1, dtype) if n > 1 else np.zeros((1, 1), dtype)
    check_grads(fnp.linalg.det, (c,), order=2, modes=("fwd", "rev"))


@VALUES
@given(seeds, batches, st.integers(0, 4), all_dtypes)
def test_det_and_adjugate_values(seed, batch, n, dtype):
    a = _normal(_rng(seed), batch + (n, n), dtype)
    check_values(fnp.linalg.det, np.linalg.det, a)
    if n:
        (adj,) = traced(la.adjugate, a)
        want = np.linalg.det(a)[..., None, None] * np.linalg.inv(a)
        np.testing.assert_allclose(adj, want, rtol=1e-3 if np.dtype(dtype).itemsize <= 8
                                   else 1e-8, atol=1e-3 if np.dtype(dtype).itemsize <= 8
                                   else 1e-8)


# --- vmap (batch rules of every linalg primitive), jit, transformed jaxprs -------------------------

def _spd(rng, shape):
    b = rng.normal(size=shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def _cases():
    rng = _rng(0)
    sq = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    rect = with_svals(1, (), 4, 3)
    spd = _spd(rng, (3, 3))
    return {
        "cholesky": (fnp.linalg.cholesky, (spd,)),
        "inv": (fnp.linalg.inv, (sq,)),
        "solve": (fnp.linalg.solve, (sq, rng.normal(size=(3, 2)))),
        "solve_vec": (fnp.linalg.solve, (sq, rng.normal(size=(3,)))),
        "triangular_solve": (lambda a, b: la.triangular_solve(a, b, lower=False,
                                                              transpose_a=True),
                             (spd, rng.normal(size=(3, 2)))),
        "eigh": (lambda a: tuple(fnp.linalg.eigh(a)), (spd,)),
        "slogdet": (lambda a: tuple(fnp.linalg.slogdet(a)), (sq,)),
        "det": (fnp.linalg.det, (sq,)),
        "adjugate": (la.adjugate, (sq,)),
        "svd": (lambda a: tuple(fnp.linalg.svd(a)), (rect,)),
        "svdvals": (lambda a: fnp.linalg.svd(a, compute_uv=False), (rect,)),
        "eig": (lambda a: tuple(fnp.linalg.eig(a)), (diagonalizable(2, (), 3),)),
        "qr": (lambda a: tuple(fnp.linalg.qr(a, mode="complete")), (rect,)),
        "pinv": (fnp.linalg.pinv, (rect,)),
        "lstsq": (lambda a, b: fnp.linalg.lstsq(a, b)[0], (rect, rng.normal(size=(4,)))),
        "norm_nuc": (lambda a: fnp.linalg.norm(a, "nuc"), (rect,)),
    }


CASES = _cases()


def _numpy_version_of(f, args):
    """Run ``f`` eagerly (no transform: the NumPy fast paths)."""
    return f(*args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_loop(name):
    f, args = CASES[name]
    size = 2
    rng = _rng(7)
    in_axes_choices = [0] if len(args) == 1 else [(0, 0), (None, 0), (0, None)]
    for in_axes in in_axes_choices:
        axes = (in_axes,) * len(args) if not isinstance(in_axes, tuple) else in_axes
        # batch of examples: small perturbations keep each example well conditioned
        batched = [a if ax is None else
                   np.stack([a + 0.01 * i * rng.normal(size=a.shape) for i in range(size)])
                   for a, ax in zip(args, axes)]
        moved = [b if ax is None else np.moveaxis(b, 0, -1) for b, ax in zip(batched, axes)]
        last = [None if ax is None else b.ndim - 1 for b, ax in zip(moved, axes)]
        for ins, ax in ((batched, axes), (moved, tuple(last))):
            out = fd.vmap(f, in_axes=ax)(*ins)
            loop = [_numpy_version_of(f, [b if a is None else np.take(b, i, axis=a)
                                          for b, a in zip(ins, ax)]) for i in range(size)]
            want = fd.tree_util.tree_map(lambda *xs: np.stack(xs), *loop)
            for o, w in zip(fd.tree_util.tree_leaves(out), fd.tree_util.tree_leaves(want)):
                np.testing.assert_allclose(o, w, rtol=1e-9, atol=1e-9)
            fd.check_jaxpr(fd.make_jaxpr(fd.vmap(f, in_axes=ax))(*ins))


@pytest.mark.parametrize("name", sorted(CASES))
def test_jit_matches_interpreter_and_transformed_jaxprs(name):
    f, args = CASES[name]
    interp = traced(lambda *a: f(*a), *args)
    got = fd.tree_util.tree_leaves(fd.jit(f)(*args))
    for g, w in zip(got, interp):
        same(g, w)

    def loss(*a):
        out = fd.tree_util.tree_leaves(f(*a))
        return sum(fnp.sum(fnp.real(o * fnp.conj(o))) for o in out
                   if fnp.issubdtype(o.dtype, fnp.inexact))

    argnums = tuple(range(len(args)))
    fd.check_jaxpr(fd.make_jaxpr(fd.grad(loss, argnums=argnums))(*args))
    fd.check_jaxpr(fd.make_jaxpr(lambda *a: fd.jvp(loss, a, a))(*args))
    g_jit = fd.jit(fd.grad(loss, argnums=argnums))(*args)
    g_eager = fd.grad(loss, argnums=argnums)(*args)
    for x, y in zip(g_jit, g_eager):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-8)


def test_vmap_of_grad_and_jacobians():
    a = np.stack([with_svals(s, (), 3, 3) for s in range(3)])
    per = fd.vmap(fd.grad(lambda x: fnp.linalg.norm(fnp.linalg.pinv(x), "nuc")))(a)
    loop = np.stack([fd.grad(lambda x: fnp.linalg.norm(fnp.linalg.pinv(x), "nuc"))(x)
                     for x in a])
    np.testing.assert_allclose(per, loop, rtol=1e-10)
    jf = fd.jacfwd(fnp.linalg.det)(a[0])
    jr = fd.jacrev(fnp.linalg.det)(a[0])
    np.testing.assert_allclose(jf, jr, rtol=1e-10)


# --- plain numpy dispatch --------------------------------------------------------------------------

def test_plain_numpy_linalg_dispatches():
    a = with_svals(0, (), 4, 3)
    sq = diagonalizable(1, (), 3)

    def f(x, y):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        q, r = np.linalg.qr(x)
        w = np.linalg.eigvals(y)
        sol = np.linalg.lstsq(x, np.ones(4), rcond=None)[0]
        return (np.sum(s) + np.linalg.det(y) + np.sum(np.abs(q @ r)) + np.sum(sol)
                + np.sum(np.linalg.pinv(x)) + np.linalg.norm(x, "nuc") + np.sum(np.real(w))
                + np.sum(np.abs(u @ vh)) + np.linalg.matrix_rank(x))

    closed = fd.make_jaxpr(f)(a, sq)
    fd.check_jaxpr(closed)
    names = {e.primitive.name for e in closed.jaxpr.eqns}
    assert {"svd", "qr", "eig", "det"} <= names
    (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, a, sq)
    np.testing.assert_allclose(got, f(a, sq), rtol=1e-10)
    check_grads(f, (a, sq), order=1)
