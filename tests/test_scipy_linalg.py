"""funcdiff.scipy.linalg: solve_triangular, cho_factor, cho_solve, expm, sqrtm (and the
matrix-function primitives behind them: expm, expm_frechet, sqrtm, sylvester).

Values: eager (SciPy itself) and traced (make_jaxpr + check_jaxpr + eval_jaxpr) against
SciPy over hypothesis-chosen well-conditioned matrices, batch shapes (broadcast), vector
and matrix right-hand sides, every ``trans``/``lower``/``unit_diagonal``, and dtypes
(float64, float32, complex128, int).  The primitives' NumPy fallbacks (used without
SciPy) against SciPy.  Derivatives: check_grads order 2, forward and reverse, float64
(and complex128); expm's jvp against ``scipy.linalg.expm_frechet``.  vmap against a
Python loop, jit against the interpreter, errors, the documented sqrtm dtype rule.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy
import scipy.linalg as sl
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.core.errors import FuncdiffValueError
from funcdiff.primitives import matfun as mf
from funcdiff.scipy import linalg as L
from funcdiff.test_util import check_grads

import _helpers

VALUES = settings(max_examples=30, deadline=None)
GRAD = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
DTYPES = [np.float64, np.float32, np.complex128, np.int64]


traced = functools.partial(_helpers.traced, unpack=True)   # a lone output bare

#: single precision to 1e-4, the rest to 1e-10 (every dtype allclose, integers too)
same = functools.partial(_helpers.assert_same, tols=_helpers.TOLS, exact_kinds="")


# SciPy 1.16 takes stacks of matrices in solve_triangular, cho_factor, cho_solve and
# sqrtm; before, the references are computed one matrix at a time (per_matrix) and the
# hypothesis tests comparing with SciPy draw single matrices (funcdiff's own stacks are
# checked there by vmap and the derivative tests).  SciPy 1.16 also returns the real
# root of a real matrix as real (before: complex with round-off imaginary parts).
SCIPY_BATCHES = np.lib.NumpyVersion(scipy.__version__) >= "1.16.0"
MAX_BATCH_DIMS = 2 if SCIPY_BATCHES else 0


def per_matrix(fn, *args, **kw):
    """SciPy's ``fn(*args)`` for a stack of matrices (the first operand's batch; operands
    of its rank sliced alike, the others passed whole): one call from SciPy 1.16."""
    lead = args[0][0] if isinstance(args[0], tuple) else args[0]   # cho_solve's (c, lower)
    batch = np.shape(lead)[:-2]
    if SCIPY_BATCHES or not batch:
        return fn(*args, **kw)

    def pick(x, idx):
        if isinstance(x, tuple):
            return tuple(pick(e, idx) for e in x)
        return x[idx] if np.ndim(x) == np.ndim(lead) else x
    outs = np.stack([fn(*[pick(x, idx) for x in args], **kw) for idx in np.ndindex(*batch)])
    return outs.reshape(batch + outs.shape[1:])


def scipy_sqrtm(a):
    """SciPy's sqrtm of ``a`` (a stack too), a real matrix's root real as from SciPy 1.16."""
    x = per_matrix(sl.sqrtm, a)
    return x if SCIPY_BATCHES or np.iscomplexobj(a) else np.real_if_close(x)


def rand(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-3, 4, shape).astype(dtype)
    return rng.uniform(-1, 1, shape).astype(dtype)


def well_conditioned(rng, shape, dtype):
    """Entries of modulus <= sqrt(2) (integers in [-1, 1]) plus 6 I, n <= 4: by
    Gershgorin every eigenvalue has real part >= 6 - 3 sqrt(2) > 1."""
    n = shape[-1]
    dtype = np.dtype(dtype)
    a = rng.integers(-1, 2, shape) if dtype.kind in "iu" else rand(rng, shape, dtype)
    return (a + 6 * np.eye(n)).astype(dtype)


def spd(rng, shape, dtype):
    a = rand(rng, shape, dtype)
    h = a @ np.conj(np.swapaxes(a, -1, -2))
    return (h + shape[-1] * np.eye(shape[-1])).astype(dtype)


@st.composite
def batch_n(draw, max_batch_dims=2):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=max_batch_dims)))
    return batch, draw(st.integers(1, 4))


# --- solve_triangular ------------------------------------------------------------------------

@VALUES
@given(bn=batch_n(MAX_BATCH_DIMS), b_batch=st.booleans(), vector=st.booleans(),
       trans=st.sampled_from([0, 1, 2, "N", "T", "C"]), lower=st.booleans(),
       unit=st.booleans(), da=st.sampled_from(DTYPES), db=st.sampled_from(DTYPES),
       seed=seeds)
def test_solve_triangular_values(bn, b_batch, vector, trans, lower, unit, da, db, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = well_conditioned(rng, batch + (n, n), da)
    bb = batch[1:] if b_batch and batch else ()      # broadcasting batch of b
    b = rand(rng, (n,) if vector else bb + (n, 2), db)
    want = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    got_eager = L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    np.testing.assert_array_equal(got_eager, want)
    same(traced(lambda a, b: L.solve_triangular(a, b, trans=trans, lower=lower,
                                                unit_diagonal=unit), a, b), want)


@GRAD
@given(bn=batch_n(1), trans=st.sampled_from([0, 1, 2]), lower=st.booleans(),
       unit=st.booleans(), cplx=st.booleans(), seed=seeds)
def test_solve_triangular_grads(bn, trans, lower, unit, cplx, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    dt = np.complex128 if cplx else np.float64
    a, b = well_conditioned(rng, batch + (n, n), dt), rand(rng, batch + (n, 2), dt)
    check_grads(lambda a, b: L.solve_triangular(a, b, trans=trans, lower=lower,
                                                unit_diagonal=unit),
                (a, b), order=2, modes=("fwd", "rev"))


# --- cho_factor / cho_solve ---------------------------------------------------------------------

@VALUES
@given(bn=batch_n(min(1, MAX_BATCH_DIMS)), lower=st.booleans(), vector=st.booleans(),
       dt=st.sampled_from([np.float64, np.float32, np.complex128]), seed=seeds)
def test_cho_factor_and_solve_values(bn, lower, vector, dt, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = spd(rng, batch + (n, n), dt)
    want_c = sl.cho_factor(a, lower=lower)
    c = traced(lambda a: L.cho_factor(a, lower=lower)[0], a)
    # the factor's triangle and the untouched other triangle: all of c, as SciPy's
    same(c, want_c[0])
    assert fd.jit(lambda a: L.cho_factor(a, lower=lower))(a)[1] == lower
    b = rand(rng, (n,) if vector else batch + (n, 3), dt)
    want = sl.cho_solve((want_c[0], lower), b)
    np.testing.assert_array_equal(L.cho_solve((want_c[0], lower), b), want)
    same(traced(lambda c, b: L.cho_solve((c, lower), b), want_c[0], b), want)
    # solves a x = b
    x = traced(lambda a, b: L.cho_solve(L.cho_factor(a, lower=lower), b), a, b)
    np.testing.assert_allclose(np.linalg.solve(a, b[..., None] if vector else b),
                               x[..., None] if vector else x, rtol=1e-4, atol=1e-4)


@GRAD
@given(bn=batch_n(1), lower=st.booleans(), cplx=st.booleans(), seed=seeds)
def test_cho_grads(bn, lower, cplx, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    dt = np.complex128 if cplx else np.float64
    a, b = spd(rng, batch + (n, n), dt), rand(rng, batch + (n, 2), dt)
    check_grads(lambda a: L.cho_factor(a, lower=lower)[0], (a,), order=2)
    check_grads(lambda a, b: L.cho_solve(L.cho_factor(a, lower=lower), b), (a, b),
                order=2)


def test_cho_factor_dtypes_and_shapes():
    a = np.array([[4, 2], [2, 3]])
    for x in (a, a.astype(np.float32), a.astype(np.float16), np.array([[4.0]]),
              np.array(4.0), np.array([9.0])):
        want = sl.cho_factor(x)
        same(traced(lambda x: L.cho_factor(x)[0], x), want[0])
    with pytest.raises(np.linalg.LinAlgError):
        traced(lambda x: L.cho_factor(x)[0], -np.eye(2))
    with pytest.raises(ValueError, match="square"):
        traced(lambda x: L.cho_factor(x)[0], np.ones((2, 3)))


# --- expm / sqrtm -------------------------------------------------------------------------------

@VALUES
@given(bn=batch_n(), dt=st.sampled_from(DTYPES + [np.complex64]), seed=seeds)
def test_expm_values(bn, dt, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = rand(rng, batch + (n, n), dt)
    want = sl.expm(a)
    np.testing.assert_array_equal(L.expm(a), want)
    same(traced(L.expm, a), want)


@VALUES
@given(bn=batch_n(MAX_BATCH_DIMS), dt=st.sampled_from(DTYPES), seed=seeds)
def test_sqrtm_values(bn, dt, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = well_conditioned(rng, batch + (n, n), dt)     # eigenvalues near 4: real roots
    want = scipy_sqrtm(a)
    np.testing.assert_array_equal(L.sqrtm(a), want)
    got = traced(L.sqrtm, a)
    same(got, want)
    np.testing.assert_allclose(got @ got, a, rtol=1e-4, atol=1e-4)


def test_expm_sqrtm_special_shapes():
    for x in (np.array(0.5), np.array([0.5]), np.array([[0.5]]), np.array([[2]]),
              np.zeros((0, 0)), np.zeros((2, 0, 0)), np.array([[1.0j]])):
        same(traced(L.expm, x), sl.expm(x))
    for x in (np.array([[4.0]]), np.array([[2]]), np.zeros((0, 0)),
              np.array([[4.0 + 1j]])):
        same(traced(L.sqrtm, x), scipy_sqrtm(x))
    # SciPy 1.17's sqrtm returns [[exp(a)]] for one-element 0-d/1-d input (a bug): both
    # of funcdiff's paths return the square root, as for a (1, 1) matrix
    np.testing.assert_allclose(L.sqrtm(np.array(4.0)), [[2.0]])
    np.testing.assert_allclose(traced(L.sqrtm, np.array([4.0])), [[2.0]])
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        traced(L.expm, np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        traced(L.sqrtm, np.ones((2, 3)))


def test_sqrtm_negative_eigenvalue_rule():
    """Eager: SciPy's complex result.  Traced: real in, real out, so a real matrix
    without a real principal root raises (complex input works)."""
    a = np.array([[1.0, 2.0], [0.0, -1.0]])
    assert L.sqrtm(a).dtype == np.complex128
    with pytest.raises(FuncdiffValueError, match="complex"):
        traced(L.sqrtm, a)
    same(traced(L.sqrtm, a.astype(complex)), sl.sqrtm(a.astype(complex)))
    # real root of a matrix with complex eigenvalues: real, as SciPy's
    r = np.array([[0.0, 1.0], [-1.0, 0.0]])
    same(traced(L.sqrtm, r), scipy_sqrtm(r))


def test_sqrtm_disp_false():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        want_x, want_err = sl.sqrtm(a, disp=False)
        x, err = traced(lambda a: L.sqrtm(a, disp=False), a)
    same(x, want_x)
    np.testing.assert_allclose(err, want_err, atol=1e-12)


@GRAD
@given(bn=batch_n(1), cplx=st.booleans(), seed=seeds)
def test_expm_grads(bn, cplx, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = rand(rng, batch + (n, n), np.complex128 if cplx else np.float64)
    check_grads(L.expm, (a,), order=2, modes=("fwd", "rev"))


@GRAD
@given(bn=batch_n(1), cplx=st.booleans(), seed=seeds)
def test_sqrtm_grads(bn, cplx, seed):
    rng = np.random.default_rng(seed)
    batch, n = bn
    a = well_conditioned(rng, batch + (n, n), np.complex128 if cplx else np.float64)
    check_grads(L.sqrtm, (a,), order=2, modes=("fwd", "rev"))


def test_expm_jvp_is_scipy_frechet(rng):
    a, e = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    out, t = fd.jvp(L.expm, (a,), (e,))
    want_out, want_t = sl.expm_frechet(a, e)
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    np.testing.assert_allclose(t, want_t, rtol=1e-10, atol=1e-12)
    # and reverse mode: <L(A, E), G> = <E, L(A^T, G)>
    g = rng.normal(size=(4, 4))
    ct = fd.vjp(L.expm, a)[1](g)[0]
    np.testing.assert_allclose(np.sum(ct * e), np.sum(g * want_t), rtol=1e-10)


def test_sqrtm_second_derivative_against_finite_differences(rng):
    a = well_conditioned(rng, (3, 3), np.float64)
    v = rng.normal(size=(3, 3))
    second = fd.jvp(lambda x: fd.jvp(L.sqrtm, (x,), (v,))[1], (a,), (v,))[1]
    h = 1e-4
    fdiff = (sl.sqrtm(a + h * v) - 2 * sl.sqrtm(a) + sl.sqrtm(a - h * v)) / h ** 2
    np.testing.assert_allclose(second, fdiff, rtol=1e-5, atol=1e-5)


# --- the primitives' NumPy fallbacks ----------------------------------------------------------------

def test_numpy_fallbacks_match_scipy(monkeypatch, rng):
    a = rng.normal(size=(2, 4, 4))
    big = 8 * rng.normal(size=(4, 4))           # needs scaling and squaring
    w = well_conditioned(rng, (2, 3, 3), np.float64)
    e = rng.normal(size=(2, 4, 4))
    c = rng.normal(size=(2, 3, 3))
    want = dict(expm=sl.expm(a), expm_big=sl.expm(big), sqrtm=scipy_sqrtm(w),
                frechet=np.stack([sl.expm_frechet(x, y, compute_expm=False)
                                  for x, y in zip(a, e)]),
                sylvester=np.stack([sl.solve_sylvester(x, x, y) for x, y in zip(w, c)]))
    monkeypatch.setattr(mf, "_sla", None)
    np.testing.assert_allclose(mf.expm_p.impl(a), want["expm"], rtol=1e-12)
    np.testing.assert_allclose(mf.expm_p.impl(big), want["expm_big"], rtol=1e-10)
    np.testing.assert_allclose(mf.sqrtm_p.impl(w), want["sqrtm"], rtol=1e-10)
    np.testing.assert_allclose(mf.expm_frechet_p.impl(a, e), want["frechet"], rtol=1e-10)
    np.testing.assert_allclose(mf.sylvester_p.impl(w, w, c), want["sylvester"], rtol=1e-10)
    with pytest.raises(FuncdiffValueError, match="complex"):
        mf.sqrtm_p.impl(np.array([[1.0, 2.0], [0.0, -1.0]]))


# --- vmap, jit -------------------------------------------------------------------------------------

FUNS = {
    "solve_triangular": lambda a, b: L.solve_triangular(a, b, lower=True),
    "solve_triangular_T": lambda a, b: L.solve_triangular(a, b, trans="T"),
    "cho_solve": lambda a, b: L.cho_solve(L.cho_factor(a), b),
    "expm": lambda a, b: L.expm(a) @ b,
    "sqrtm": lambda a, b: L.sqrtm(a) @ b,
}


@pytest.mark.parametrize("name", sorted(FUNS))
def test_vmap_matches_loop(name, rng):
    f = FUNS[name]
    a, b = spd(rng, (3, 3, 3), np.float64), rng.normal(size=(3, 3, 2))
    for in_axes in [(0, 0), (0, None), (None, 0)]:
        aa = a if in_axes[0] == 0 else a[0]
        bb = b if in_axes[1] == 0 else b[0]
        got = fd.vmap(f, in_axes=in_axes)(aa, bb)
        want = np.stack([f(a[i] if in_axes[0] == 0 else aa, b[i] if in_axes[1] == 0 else bb)
                         for i in range(3)])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    g = fd.vmap(fd.grad(lambda a, b: (f(a, b) ** 2).sum()))(a, b)
    want = np.stack([fd.grad(lambda a, b: (f(a, b) ** 2).sum())(x, y) for x, y in zip(a, b)])
    np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNS))
def test_jit_matches_interpreter(name, rng):
    f = FUNS[name]
    a, b = spd(rng, (3, 3), np.float64), rng.normal(size=(3, 2))
    np.testing.assert_allclose(fd.jit(f)(a, b), traced(f, a, b), rtol=1e-12)
    g = fd.grad(lambda a, b: (f(a, b) ** 2).sum(), argnums=(0, 1))
    for x, y in zip(fd.jit(g)(a, b), g(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-10)


# --- errors -------------------------------------------------------------------------------------

def test_errors():
    a = np.eye(3)
    with pytest.raises(ValueError, match="square"):
        traced(lambda a: L.solve_triangular(a, np.ones(3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="incompatible"):
        traced(lambda a: L.solve_triangular(a, np.ones(4)), a)
    with pytest.raises(ValueError, match="trans"):
        traced(lambda a: L.solve_triangular(a, np.ones(3), trans="X"), a)
    with pytest.raises(ValueError, match="zero-size batches"):
        traced(lambda a: L.solve_triangular(a, np.ones(3)), np.ones((0, 3, 3)))
    with pytest.raises(ValueError, match="not square"):
        traced(lambda c: L.cho_solve((c, False), np.ones(3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="incompatible"):
        traced(lambda c: L.cho_solve((c, False), np.ones(2)), a)
    # empty right-hand sides, as SciPy
    same(traced(lambda a: L.solve_triangular(a, np.ones((3, 0))), a),
         sl.solve_triangular(a, np.ones((3, 0))))


def test_compositions_run_on_numpy_without_scipy(rng):
    """Without SciPy the public functions run their traced code eagerly on NumPy (the
    primitives' NumPy implementations): same values."""
    a, b = spd(rng, (2, 3, 3), np.float64), rng.normal(size=(2, 3, 2))
    same(L.solve_triangular.traced(a, b, trans=1, lower=True),
         per_matrix(sl.solve_triangular, a, b, trans=1, lower=True))
    c = L.cho_factor.traced(a)
    factor = per_matrix(lambda m: sl.cho_factor(m)[0], a)
    same(c[0], factor)
    same(L.cho_solve.traced(c, b[0, :, 0]), per_matrix(sl.cho_solve, (factor, False),
                                                       b[0, :, 0]))
    same(L.expm.traced(a), sl.expm(a))
    same(L.sqrtm.traced(a), scipy_sqrtm(a))
