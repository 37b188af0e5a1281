"""funcdiff.numpy.linalg and the linear-algebra primitives.

Each function is checked (1) eagerly against NumPy (value, shape, dtype exact: the
eager path is NumPy), (2) traced with make_jaxpr, checked with check_jaxpr and run with
eval_jaxpr against NumPy (allclose, same shape and dtype), (3) derivatives with
check_grads (order 2, forward and reverse) on well-conditioned matrices drawn from a
hypothesis-chosen seed.  Plus the documented edge cases: norm's gradient at 0,
repeated eigenvalues, singular matrices, shape and dtype errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2
from funcdiff.core.errors import FuncdiffTypeError, ShapeError
from funcdiff.primitives import linalg as la
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, np_cholesky, traced

try:
    import scipy.linalg as sla
except ImportError:  # pragma: no cover
    sla = None

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 4)
batches = st.sampled_from([(), (2,), (2, 3), (1, 2)])
float_dtypes = st.sampled_from([np.float32, np.float64])
GRAD = settings(max_examples=8, deadline=None)
VALUES = settings(max_examples=25, deadline=None)


# --- matrix builders (well conditioned by construction) ------------------------------------

def general(seed, batch, n, dtype=np.float64):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=batch + (n, n)) + 2.0 * n * np.eye(n) * rng.choice([-1, 1])
    return g.astype(dtype)


def spd(seed, batch, n, dtype=np.float64):
    rng = np.random.default_rng(seed)
    b = rng.normal(size=batch + (n, n))
    return (b @ np.swapaxes(b, -1, -2) + n * np.eye(n)).astype(dtype)


def sym_distinct(seed, batch, n, dtype=np.float64):
    """Symmetric with eigenvalues at least 0.5 apart (eigenvector derivatives defined)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=batch + (n, n)))
    w = np.arange(n) * 1.0 + rng.uniform(0, 0.5, size=batch + (n,)) - n / 2
    return ((q * w[..., None, :]) @ np.swapaxes(q, -1, -2)).astype(dtype)


def rand(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed + 1).normal(size=shape).astype(dtype)


#: single precision to 2e-4, the rest to 1e-9 (every dtype allclose, integers too)
TOLS = {np.float32: 2e-4, np.complex64: 2e-4, DEFAULT: 1e-9}


def same(got, want, dtype_tol=None):
    """Same shape and dtype; values allclose to TOLS[``dtype_tol or want.dtype``]."""
    _helpers.assert_same(got, want, tols=TOLS, exact_kinds="", tol_dtype=dtype_tol)


def eager_exact(f, ref, *args):
    out, want = f(*args), ref(*args)
    outs = out if isinstance(out, tuple) else (out,)
    wants = want if isinstance(want, tuple) else (want,)
    for o, w in zip(outs, wants):
        o, w = np.asarray(o), np.asarray(w)
        assert o.shape == w.shape and o.dtype == w.dtype
        np.testing.assert_array_equal(o, w)


def check_values(f, ref, *args):
    eager_exact(f, ref, *args)
    want = ref(*args)
    wants = list(want) if isinstance(want, tuple) else [want]
    outs = traced(f, *args)
    assert len(outs) == len(wants)
    for o, w in zip(outs, wants):
        same(o, w)


# --- values: eager == NumPy exactly, traced == NumPy -----------------------------------------

@VALUES
@given(seeds, batches, sizes, float_dtypes)
def test_inv_det_slogdet_values(seed, batch, n, dtype):
    a = general(seed, batch, n, dtype)
    check_values(fnp.linalg.inv, np.linalg.inv, a)
    check_values(fnp.linalg.det, np.linalg.det, a)
    check_values(fnp.linalg.slogdet, np.linalg.slogdet, a)


@VALUES
@given(seeds, batches, sizes, float_dtypes)
def test_cholesky_eigh_values(seed, batch, n, dtype):
    a = spd(seed, batch, n, dtype)
    check_values(fnp.linalg.cholesky, np.linalg.cholesky, a)
    check_values(lambda x: fnp.linalg.cholesky(x, upper=True),
                 lambda x: np_cholesky(x, upper=True), a)
    check_values(fnp.linalg.eigvalsh, np.linalg.eigvalsh, a)
    check_values(lambda x: fnp.linalg.eigvalsh(x, UPLO="U"),
                 lambda x: np.linalg.eigvalsh(x, UPLO="U"), a)
    # eigenvectors are unique up to sign: compare w, and v up to column signs
    s = sym_distinct(seed, batch, n, dtype)
    w, v = traced(lambda x: tuple(fnp.linalg.eigh(x)), s)
    w0, v0 = np.linalg.eigh(s)
    same(w, w0)
    signs = np.sign(np.sum(v * v0, axis=-2, keepdims=True))
    same(v * signs, v0)


def test_triangle_reading_matches_numpy(rng):
    """cholesky/eigh read one triangle: garbage in the other one changes nothing."""
    a = spd(0, (2,), 4)
    junk = a + np.triu(rng.normal(size=(4, 4)), 1) * 10
    check_values(fnp.linalg.cholesky, np.linalg.cholesky, junk)
    check_values(fnp.linalg.eigvalsh, np.linalg.eigvalsh, junk)
    junk_u = a + np.tril(rng.normal(size=(4, 4)), -1) * 10
    check_values(lambda x: fnp.linalg.cholesky(x, upper=True),
                 lambda x: np_cholesky(x, upper=True), junk_u)
    check_values(lambda x: fnp.linalg.eigvalsh(x, "U"),
                 lambda x: np.linalg.eigvalsh(x, "U"), junk_u)


_B_SHAPES = st.sampled_from([(None,), (None, 1), (None, 3), (2, None, 2), (2, None),
                             (1, None, 1), (3, 2, None, 2), (5,), (2, 5, 1), (2, 3, None)])


@VALUES
@given(seeds, batches, sizes, _B_SHAPES, float_dtypes, float_dtypes)
def test_solve_semantics_match_numpy(seed, batch, n, bshape, adt, bdt):
    """Every b shape NumPy accepts gives NumPy's shape and dtype; every one it rejects
    raises a ValueError (ShapeError) here too."""
    a = general(seed, batch, n, adt)
    b = rand(seed, tuple(n if d is None else d for d in bshape), bdt)
    try:
        want = np.linalg.solve(a, b)
    except ValueError:
        with pytest.raises(ValueError):
            traced(fnp.linalg.solve, a, b)
        return
    eager_exact(fnp.linalg.solve, np.linalg.solve, a, b)
    (got,) = traced(fnp.linalg.solve, a, b)
    same(got, want, np.result_type(adt, bdt))


@VALUES
@given(seeds, batches, sizes, st.integers(-3, 5))
def test_matrix_power_values(seed, batch, n, p):
    a = general(seed, batch, n) / (2.0 * n)
    check_values(lambda x: fnp.linalg.matrix_power(x, p),
                 lambda x: np.linalg.matrix_power(x, p), a)
    ai = np.random.default_rng(seed).integers(-3, 3, size=batch + (n, n))
    if p >= 0:
        check_values(lambda x: fnp.linalg.matrix_power(x, p),
                     lambda x: np.linalg.matrix_power(x, p), ai)


@VALUES
@given(seeds, st.integers(2, 5), st.booleans(), st.booleans(),
       st.lists(st.integers(1, 4), min_size=6, max_size=6))
def test_multi_dot_values(seed, k, vec_first, vec_last, dims):
    shapes = [(dims[i], dims[i + 1]) for i in range(k)]
    if vec_first:
        shapes[0] = shapes[0][1:]
    if vec_last:
        shapes[-1] = shapes[-1][:1]
    arrays = [rand(seed + i, s) for i, s in enumerate(shapes)]
    check_values(lambda *xs: fnp.linalg.multi_dot(list(xs)),
                 lambda *xs: np.linalg.multi_dot(list(xs)), *arrays)


def test_integer_and_mixed_dtypes_promote_as_numpy():
    ai = np.array([[3, 1], [1, 2]])
    for f, ref in [(fnp.linalg.inv, np.linalg.inv), (fnp.linalg.det, np.linalg.det),
                   (fnp.linalg.cholesky, np.linalg.cholesky),
                   (fnp.linalg.eigvalsh, np.linalg.eigvalsh),
                   (lambda x: fnp.linalg.norm(x), lambda x: np.linalg.norm(x)),
                   (lambda x: fnp.linalg.norm(x, 1), lambda x: np.linalg.norm(x, 1))]:
        check_values(f, ref, ai)
    a32 = ai.astype(np.float32)
    check_values(fnp.linalg.solve, np.linalg.solve, a32, np.ones(2, np.float32))
    check_values(fnp.linalg.solve, np.linalg.solve, a32, np.ones(2))          # -> f64
    check_values(fnp.linalg.solve, np.linalg.solve, a32, np.ones(2, int))     # -> f64


def test_complex_values():
    rng = np.random.default_rng(3)
    g = rng.normal(size=(2, 3, 3)) + 1j * rng.normal(size=(2, 3, 3)) + 4 * np.eye(3)
    h = g @ np.conj(np.swapaxes(g, -1, -2)) + 3 * np.eye(3)
    for dt in (np.complex64, np.complex128):
        check_values(fnp.linalg.inv, np.linalg.inv, g.astype(dt))
        check_values(fnp.linalg.slogdet, np.linalg.slogdet, g.astype(dt))
        check_values(fnp.linalg.det, np.linalg.det, g.astype(dt))
        check_values(fnp.linalg.cholesky, np.linalg.cholesky, h.astype(dt))
        check_values(fnp.linalg.eigvalsh, np.linalg.eigvalsh, h.astype(dt))
        check_values(lambda x: fnp.linalg.norm(x, axis=(1, 2)),
                     lambda x: np.linalg.norm(x, axis=(1, 2)), g.astype(dt))
        check_values(lambda x: fnp.linalg.norm(x, 3, axis=-1),
                     lambda x: np.linalg.norm(x, 3, axis=-1), g.astype(dt))


def test_empty_matrices():
    for shape in [(0, 0), (2, 0, 0)]:
        z = np.zeros(shape)
        for f, ref in [(fnp.linalg.inv, np.linalg.inv), (fnp.linalg.det, np.linalg.det),
                       (fnp.linalg.slogdet, np.linalg.slogdet),
                       (fnp.linalg.cholesky, np.linalg.cholesky),
                       (fnp.linalg.eigvalsh, np.linalg.eigvalsh),
                       (fnp.linalg.norm, np.linalg.norm)]:
            check_values(f, ref, z)
        check_values(fnp.linalg.solve, np.linalg.solve, z, np.zeros(shape[:-1] + (3,)))


# --- norm ------------------------------------------------------------------------------------

_VEC_ORDS = [None, 1, 2, np.inf, -np.inf, 0, 3, 0.5, -1, 2.5, "fro"]
_MAT_ORDS = [None, "fro", "f", 1, -1, np.inf, -np.inf, 2, 3]


@settings(max_examples=60, deadline=None)
@given(seeds, st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
       st.sampled_from(_VEC_ORDS + _MAT_ORDS), st.sampled_from(
           [None, 0, -1, 1, (0,), (0, 1), (-1, 0), (1, 1), (0, 1, 2)]),
       st.booleans(), st.sampled_from([np.float32, np.float64, np.int64]))
def test_norm_matches_numpy(seed, shape, ord, axis, keepdims, dtype):
    """Every (shape, ord, axis, keepdims) NumPy accepts gives NumPy's value, shape and
    dtype; every one it rejects raises here too (a ValueError or TypeError)."""
    x = (rand(seed, shape) * 3).astype(dtype)

    def f(x):
        return fnp.linalg.norm(x, ord, axis, keepdims)

    try:
        want = np.linalg.norm(x, ord, axis, keepdims)
    except (ValueError, TypeError):
        if not NUMPY2 and x.size == 0:
            return   # NumPy 2 defines the norms of empty matrices that NumPy 1.x rejects
        with pytest.raises((ValueError, TypeError)):
            traced(f, x)
        return
    eager_exact(f, lambda x: np.linalg.norm(x, ord, axis, keepdims), x)
    (got,) = traced(f, x)
    same(got, want)


@pytest.mark.parametrize("kw", [dict(), dict(ord=2), dict(axis=0), dict(ord=3),
                                dict(ord=2, axis=-1, keepdims=True)])
def test_vector_norm_gradient_at_zero_is_zero(kw):
    x = np.zeros(3)
    g = fd.grad(lambda v: fnp.linalg.norm(v, **kw).sum())(x)
    np.testing.assert_array_equal(g, np.zeros(3))
    _, t = fd.jvp(lambda v: fnp.linalg.norm(v, **kw), (x,), (np.ones(3),))
    np.testing.assert_array_equal(np.asarray(t), 0.0)
    h = fd.hessian(lambda v: fnp.linalg.norm(v, **kw).sum())(x)
    assert np.all(np.isfinite(h))


def test_matrix_norm_gradient_at_zero_is_zero():
    z = np.zeros((2, 3, 3))
    for ord in (None, "fro", 2):
        g = fd.grad(lambda m: fnp.linalg.norm(m, ord, axis=(1, 2)).sum())(z)
        np.testing.assert_array_equal(g, np.zeros_like(z))
    np.testing.assert_array_equal(fd.grad(lambda m: fnp.linalg.norm(m))(z), 0.0)


def test_norm_gradient_is_unit_vector():
    x = np.array([3.0, -4.0])
    np.testing.assert_allclose(fd.grad(fnp.linalg.norm)(x), x / 5.0)
    x32 = x.astype(np.float32)
    g = fd.grad(fnp.linalg.norm)(x32)
    assert g.dtype == np.float32


def test_norm_svd_orders_traced():
    # ord=-2 and 'nuc' come from the svd primitive now (more in test_linalg_more.py)
    x = rand(0, (3, 3))
    for ord in (-2, "nuc"):
        (got,) = traced(lambda m: fnp.linalg.norm(m, ord), x)
        same(got, np.linalg.norm(x, ord))


@GRAD
@given(seeds, st.sampled_from([(4,), (2, 3), (2, 3, 2)]),
       st.sampled_from([None, 1, 2, np.inf, -np.inf, 3, 2.5]), st.booleans())
def test_vector_norm_grads(seed, shape, ord, keepdims):
    x = rand(seed, shape) + 0.1   # no exact zeros / ties for the kinked norms
    check_grads(lambda v: fnp.linalg.norm(v, ord, -1, keepdims), (x,), order=2)


@GRAD
@given(seeds, st.sampled_from([(3, 3), (2, 3, 4), (4, 2)]),
       st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf, 2]))
def test_matrix_norm_grads(seed, shape, ord):
    x = rand(seed, shape)
    check_grads(lambda m: fnp.linalg.norm(m, ord, axis=(-2, -1)), (x,), order=2)


# --- derivatives (order 2, forward and reverse) -------------------------------------------------

@GRAD
@given(seeds, batches, sizes)
def test_inv_det_slogdet_grads(seed, batch, n):
    a = general(seed, batch, n)
    check_grads(fnp.linalg.inv, (a,), order=2)
    check_grads(fnp.linalg.det, (a,), order=2)
    check_grads(lambda x: tuple(fnp.linalg.slogdet(x)), (a,), order=2)


@GRAD
@given(seeds, batches, sizes, st.sampled_from([(None,), (None, 2), (2, None, 1)]))
def test_solve_grads(seed, batch, n, bshape):
    a = general(seed, batch, n)
    if not NUMPY2 and len(bshape) == 1:
        bshape = batch + bshape   # NumPy 1.x: a vector b has a's batch axes
    b = rand(seed, tuple(n if d is None else d for d in bshape))
    check_grads(fnp.linalg.solve, (a, b), order=2)
    check_grads(lambda b: fnp.linalg.solve(a, b), (b,), order=2)   # linear in b only


@GRAD
@given(seeds, batches, sizes)
def test_cholesky_grads(seed, batch, n):
    a = spd(seed, batch, n)
    check_grads(fnp.linalg.cholesky, (a,), order=2)
    check_grads(lambda x: fnp.linalg.cholesky(x, upper=True), (a,), order=2)
    # the usual use: a symmetric parametrization
    check_grads(lambda b: fnp.linalg.cholesky(la._matmul(b, la._H(b)) + n * np.eye(n)),
                (rand(seed, batch + (n, n)),), order=2)


@GRAD
@given(seeds, batches, sizes, st.sampled_from(["L", "U"]))
def test_eigh_grads(seed, batch, n, uplo):
    a = sym_distinct(seed, batch, n)

    def f(x):
        w, v = fnp.linalg.eigh(x, UPLO=uplo)
        # eigenvectors up to sign: differentiate sign-invariant functions of them
        return w, la._matmul(v * w[..., None, :], la._H(v)), v * v
    check_grads(f, (a,), order=2)
    check_grads(lambda x: fnp.linalg.eigvalsh(x, UPLO=uplo), (a,), order=2)


@GRAD
@given(seeds, batches, sizes, st.integers(-2, 4))
def test_matrix_power_grads(seed, batch, n, p):
    a = general(seed, batch, n) / (2.0 * n)
    check_grads(lambda x: fnp.linalg.matrix_power(x, p), (a,), order=2)


def test_multi_dot_grads():
    xs = [rand(i, s) for i, s in enumerate([(3,), (3, 4), (4, 2), (2, 5)])]
    check_grads(lambda *a: fnp.linalg.multi_dot(list(a)), xs, order=2)


def test_float32_grads_keep_dtype():
    a = spd(1, (2,), 3, np.float32)
    for f in (fnp.linalg.inv, fnp.linalg.det, fnp.linalg.cholesky, fnp.linalg.eigvalsh,
              lambda x: fnp.linalg.slogdet(x)[1], lambda x: fnp.linalg.solve(x, x[..., :1])):
        g = fd.grad(lambda x: f(x).sum())(a)
        assert g.dtype == np.float32
        g64 = fd.grad(lambda x: f(x).sum())(a.astype(np.float64))
        np.testing.assert_allclose(g, g64, rtol=2e-3, atol=2e-3)
    check_grads(fnp.linalg.inv, (a,), order=1)


def test_complex_forward_derivatives():
    rng = np.random.default_rng(5)
    g = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) + 4 * np.eye(3)
    h = g @ np.conj(g.T) + 3 * np.eye(3)
    check_grads(fnp.linalg.inv, (g,), order=2, modes="fwd")
    check_grads(lambda x: tuple(fnp.linalg.slogdet(x)), (g,), order=1, modes="fwd")
    check_grads(fnp.linalg.cholesky, (h,), order=1, modes="fwd")
    check_grads(fnp.linalg.eigvalsh, (h,), order=1, modes="fwd")
    check_grads(lambda x: fnp.linalg.solve(x, x[:, 0]), (g,), order=1, modes="fwd")


_SCALAR_FNS = {
    "inv": lambda x: fnp.linalg.inv(x).sum(),
    "det": lambda x: fnp.linalg.det(x).sum(),
    "slogdet": lambda x: fnp.linalg.slogdet(x)[1].sum(),
    "solve": lambda x: fnp.linalg.solve(x, x[..., :1]).sum(),
    "cholesky": lambda x: fnp.linalg.cholesky(x).sum(),
    "eigh": lambda x: (fnp.linalg.eigh(x)[1] ** 2 * fnp.linalg.eigh(x)[0][..., None, :]).sum(),
    "eigvalsh": lambda x: (fnp.linalg.eigvalsh(x) ** 2).sum(),
    "norm2": lambda x: fnp.linalg.norm(x, 2, axis=(-2, -1)).sum(),
    "norm": lambda x: fnp.linalg.norm(x),
}


@pytest.mark.parametrize("name", sorted(_SCALAR_FNS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_derivative_jaxprs_are_well_typed(name, dtype):
    """The IR the rules emit (jvp, grad, grad of grad) passes check_jaxpr and evaluates
    to what the eager transforms give; dtypes are preserved."""
    f = _SCALAR_FNS[name]
    a = sym_distinct(4, (2,), 3, dtype) + 3 * np.eye(3, dtype=dtype)
    t = rand(4, a.shape, dtype)
    for g, args in [(fd.grad(f), (a,)),
                    (lambda x, v: fd.jvp(f, (x,), (v,))[1], (a, t)),
                    (lambda x: fd.grad(lambda y: fd.grad(f)(y).sum())(x), (a,))]:
        outs = traced(g, *args)
        want = g(*args)
        same(outs[0], want, dtype)
        assert np.asarray(outs[0]).dtype == dtype


def test_numpy_functions_dispatch_to_funcdiff():
    a = spd(2, (), 3)
    g = fd.grad(lambda x: np.linalg.det(x) + np.linalg.norm(np.linalg.inv(x))
                + np.linalg.slogdet(x)[1] + np.linalg.eigvalsh(x).sum()
                + np.linalg.cholesky(x).sum() + np.linalg.solve(x, x[0]).sum())(a)
    want = fd.grad(lambda x: fnp.linalg.det(x) + fnp.linalg.norm(fnp.linalg.inv(x))
                   + fnp.linalg.slogdet(x)[1] + fnp.linalg.eigvalsh(x).sum()
                   + fnp.linalg.cholesky(x).sum() + fnp.linalg.solve(x, x[0]).sum())(a)
    np.testing.assert_allclose(g, want)


def test_result_namedtuples():
    a = spd(0, (), 3)

    def f(x):
        r = fnp.linalg.slogdet(x)
        e = fnp.linalg.eigh(x)
        return r.sign, r.logabsdet, e.eigenvalues, e.eigenvectors
    outs = traced(f, a)
    s, l = np.linalg.slogdet(a)
    w, v = np.linalg.eigh(a)
    same(outs[0], s)
    same(outs[1], l)
    same(outs[2], w)


# --- edge cases documented in the docstrings -------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the documented inf/NaN in dV
def test_eigenvalue_derivatives_fine_at_repeated_eigenvalues():
    eye = np.eye(3)
    np.testing.assert_allclose(fd.grad(lambda a: fnp.linalg.eigvalsh(a).sum())(eye), eye)
    # only w used from eigh: the undefined eigenvector derivative must not leak NaN
    g = fd.grad(lambda a: fnp.linalg.eigh(a)[0][-1])(eye)
    assert np.all(np.isfinite(g))
    _, t = fd.jvp(lambda a: fnp.linalg.eigh(a)[0], (eye,), (rand(0, (3, 3)),))
    assert np.all(np.isfinite(t))
    # and they are undefined for the eigenvectors (documented: inf/NaN)
    _, (tw, tv) = fd.jvp(lambda a: tuple(fnp.linalg.eigh(a)), (eye,), (rand(0, (3, 3)),))
    assert np.all(np.isfinite(tw)) and not np.all(np.isfinite(tv))


def test_det_at_singular_matrix():
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    val, g = fd.value_and_grad(fnp.linalg.det)(s)
    assert val == 0.0
    # the adjugate (transposed): finite at singular matrices (test_linalg_more.py)
    np.testing.assert_allclose(g, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        fd.grad(lambda x: fnp.linalg.inv(x).sum())(s)   # inv itself raises, as NumPy
    # in a stack, each matrix gets its own adjugate
    r = general(0, (), 2)
    g = fd.grad(lambda x: fnp.linalg.det(x).sum())(np.stack([s, r]))
    np.testing.assert_allclose(g[0], [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(g[1], fd.grad(fnp.linalg.det)(r))
    np.testing.assert_allclose(g[1], np.linalg.det(r) * np.linalg.inv(r).T)


def test_not_positive_definite_raises_linalgerror():
    with pytest.raises(np.linalg.LinAlgError):
        fd.grad(lambda x: fnp.linalg.cholesky(x).sum())(-np.eye(2))


# --- the primitives directly -----------------------------------------------------------------

@VALUES
@given(seeds, batches, sizes, st.integers(1, 3), st.booleans(), st.booleans(),
       st.booleans(), float_dtypes, st.sampled_from(["numpy", "scipy", "scipy-loop"]))
def test_triangular_solve_values(seed, batch, n, k, lower, trans, unit, dtype, impl):
    """All three impl paths (NumPy fallback, SciPy batched, SciPy in a loop) agree with
    a dense solve of the triangle that is read."""
    if impl != "numpy" and sla is None:
        impl = "numpy"
    a = general(seed, batch, n, dtype)
    b = rand(seed, batch + (n, k), dtype)
    tri = np.tril(a) if lower else np.triu(a)
    if unit:
        tri = np.where(np.eye(n, dtype=bool), 1, tri).astype(dtype)
    op = np.swapaxes(tri, -1, -2) if trans else tri
    want = np.linalg.solve(op, b)
    saved = la._sla, la._SCIPY_MIN_N, la.SCIPY_BATCHED
    try:
        if impl == "numpy":
            la._sla = None
        else:
            la._SCIPY_MIN_N = 0
            la.SCIPY_BATCHED = la.SCIPY_BATCHED and impl == "scipy"
        got = la.triangular_solve(a, b, lower, trans, unit)
    finally:
        la._sla, la._SCIPY_MIN_N, la.SCIPY_BATCHED = saved
    same(got, want)
    (got_t,) = traced(lambda a, b: la.triangular_solve(a, b, lower, trans, unit), a, b)
    same(got_t, want)


def test_triangular_solve_large_uses_structure():
    """n >= 64 goes through SciPy (when installed); the other triangle is ignored."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(70, 70)) + 70 * np.eye(70)
    b = rng.normal(size=(70, 3))
    want = np.linalg.solve(np.triu(a).T, b)
    same(la.triangular_solve(a, b, lower=False, transpose_a=True), want)


@GRAD
@given(seeds, batches, sizes, st.booleans(), st.booleans(), st.booleans())
def test_triangular_solve_grads(seed, batch, n, lower, trans, unit):
    a = general(seed, batch, n)
    b = rand(seed, batch + (n, 2))
    check_grads(lambda a, b: la.triangular_solve(a, b, lower, trans, unit), (a, b), order=2)
    check_grads(lambda b: la.triangular_solve(a, b, lower, trans, unit), (b,), order=2)


def test_triangular_solve_jaxpr_transposes_in_b():
    a, b = general(0, (), 3), rand(0, (3, 2))
    _, f_vjp = fd.vjp(lambda b: la.triangular_solve(a, b, lower=True), b)
    ct = rand(1, (3, 2))
    (got,) = f_vjp(ct)
    np.testing.assert_allclose(got, np.linalg.solve(np.tril(a).T, ct))


def test_shape_errors():
    sq = np.ones((3, 4))
    for f in (fnp.linalg.inv, fnp.linalg.det, fnp.linalg.slogdet, fnp.linalg.cholesky,
              fnp.linalg.eigh, fnp.linalg.eigvalsh):
        with pytest.raises(np.linalg.LinAlgError):
            f(sq)                                   # eager: NumPy's own error
        with pytest.raises(ShapeError, match="square"):
            fd.make_jaxpr(f)(sq)
        with pytest.raises(ShapeError, match="at least two-dimensional"):
            fd.make_jaxpr(f)(np.ones(3))
    with pytest.raises(ShapeError, match=r"linalg.solve.*\(3,\)"):
        fd.make_jaxpr(fnp.linalg.solve)(np.eye(4), np.ones(3))
    with pytest.raises(ShapeError, match="batch shapes"):
        fd.make_jaxpr(fnp.linalg.solve)(np.ones((2, 3, 3)), np.ones((4, 3, 1)))
    with pytest.raises(ShapeError, match="triangular_solve"):
        fd.make_jaxpr(lambda a, b: la.triangular_solve(a, b))(np.eye(3), np.ones((4, 1)))
    with pytest.raises(ShapeError, match=r"cholesky.*\(2, 3\)"):
        la.cholesky_p.abstract_eval(fd.core.avals.ShapedArray((2, 3), np.float64))


def test_dtype_errors():
    h = np.eye(2, dtype=np.float16)
    with pytest.raises(TypeError, match="float16"):
        np.linalg.inv(h)
    with pytest.raises(TypeError, match="float16"):
        fd.make_jaxpr(fnp.linalg.inv)(h)
    with pytest.raises(FuncdiffTypeError, match="unsupported in linalg"):
        fd.make_jaxpr(la.inv)(np.eye(2, dtype=np.int64))
    with pytest.raises(FuncdiffTypeError, match="one dtype"):
        fd.make_jaxpr(la.solve)(np.eye(2), np.ones((2, 1), np.float32))


def test_jaxprs_print_one_eqn_per_primitive():
    a = spd(0, (), 3)
    text = str(fd.make_jaxpr(lambda x: fnp.linalg.slogdet(x)[1] + fnp.linalg.inv(x).sum()
                             + fnp.linalg.eigvalsh(x).sum() + fnp.linalg.cholesky(x).sum()
                             + fnp.linalg.solve(x, x).sum())(a))
    for name in ("slogdet", "inv", "eigh", "cholesky", "solve"):
        assert name in text
