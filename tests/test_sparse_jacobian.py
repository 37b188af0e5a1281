"""Sparse Jacobians and Hessians by coloring (``jacobian(f, sparse=True)``,
``hessian(f, sparse=True)``): the pattern found from the IR, the colorings, the
compressed evaluation, and their error paths.

Oracles: dense ``jacfwd``/``hessian`` (themselves checked against finite differences
elsewhere), closed-form Jacobians (Bratu, Rosenbrock), NumPy's nonzeros, and brute-force
checks of the coloring properties.
"""
from __future__ import annotations

import builtins
import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp
from funcdiff.analysis.coloring import (color_columns, color_rows, hessian_coloring,
                                        recovery_index, star_coloring, symmetrize)
from funcdiff.analysis import sparsity
from funcdiff.analysis.sparsity import Pattern, jaxpr_sparsity
from funcdiff.api.sparse import _CACHE_SIZE, sparse_jacobian

from strategies import programs

_N = settings().max_examples


def budget(n):
    return settings(max_examples=max(n, _N) if _N > 25 else n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _quiet():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# --- helpers --------------------------------------------------------------------------

def flat(prog):
    """``prog`` as a function of one vector (its inputs raveled and concatenated) to one
    vector (its outputs raveled and concatenated)."""
    shapes = prog.in_shapes
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]

    def f(v):
        xs, off = [], 0
        for s, k in zip(shapes, sizes):
            xs.append(fnp.reshape(v[off:off + k], s))
            off += k
        out = prog(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        return fnp.concatenate([fnp.ravel(o) for o in outs])
    return f, sum(sizes)


def pattern_of(f, x):
    closed = fd.make_jaxpr(f)(x)
    outs, _ = jaxpr_sparsity(closed.jaxpr, [Pattern.identity(np.size(x))], closed.consts)
    return outs[0].toarray()


def dense_jac(f, x):
    J = np.asarray(fd.jacfwd(f)(x))
    m = int(np.prod(J.shape[:J.ndim - np.ndim(x)], dtype=np.int64))
    return J.reshape(m, np.size(x))


def bratu(u, lam=1.0):
    """The 1-D Bratu residual -u'' - lam exp(u) = 0 on (0, 1), u(0) = u(1) = 0, by
    central differences."""
    h = 1.0 / (u.shape[0] + 1)
    up = fnp.concatenate([fnp.zeros(1), u, fnp.zeros(1)])
    return (up[2:] - 2 * up[1:-1] + up[:-2]) / h ** 2 + lam * fnp.exp(u)


def rosenbrock(x):
    """The chained Rosenbrock function."""
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """Its Hessian in closed form."""
    n = x.size
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    H[i + 1, i + 1] += 200
    H[i, i + 1] = H[i + 1, i] = -400 * x[:-1]
    return H


# --- patterns against the dense Jacobian's nonzeros ------------------------------------

@budget(120)
@given(programs(dtypes=(np.float64,)))
def test_pattern_is_a_superset_on_random_programs(prog):
    f, n = flat(prog)
    v = np.concatenate([x.ravel() for x in prog.inputs()])
    P = pattern_of(f, v)
    J = dense_jac(f, v)
    assert P.shape == J.shape
    missed = (J != 0) & ~P
    assert not missed.any(), f"pattern misses {np.argwhere(missed)[:5]}\n{prog}"


# elementwise (no cancellation: unary maps and products) and shape/indexing families
_EXACT_OPS = ["sin", "cos", "tanh", "arctan", "arcsinh", "exp_sin", "add_const",
              "mul_const", "neg", "sinh_t", "expit", "T", "transpose", "reshape", "ravel",
              "squeeze", "expand_dims", "broadcast_to", "flip", "roll", "moveaxis",
              "swapaxes", "tile", "repeat", "concatenate", "stack", "pad", "index_slice",
              "index_int", "index_newaxis", "index_ellipsis_none", "index_fancy", "take",
              "index_fancy_array", "jit_call"]


@budget(120)
@given(programs(dtypes=(np.float64,), op_names=_EXACT_OPS))
def test_pattern_is_exact_for_elementwise_shape_and_indexing(prog):
    f, n = flat(prog)
    v = np.concatenate([x.ravel() for x in prog.inputs()])
    P = pattern_of(f, v)
    J = dense_jac(f, v)
    np.testing.assert_array_equal(P, J != 0, err_msg=repr(prog))


@pytest.mark.parametrize("name, f, exact", [
    ("cumsum", fnp.cumsum, True),
    ("reverse cumsum", lambda x: fnp.cumsum(x[::-1])[::-1], True),
    ("cumprod", fnp.cumprod, True),
    ("sum times x", lambda x: fnp.sum(x ** 2) * x, True),
    ("gather", lambda x: x[np.array([0, 3, 3, 5])] * 2, True),
    ("scatter set", lambda x: x.at[np.array([0, 1])].set(x[4:6]), True),
    ("scatter add, no repeats", lambda x: x.at[np.array([0, 2])].add(x[3:5] ** 2), True),
    ("scatter add, repeats", lambda x: x.at[np.array([0, 0, 2])].add(x[1:4]), False),
    ("index from arange", lambda x: x[fnp.arange(3) * 2], True),
    ("reduce axis", lambda x: fnp.sum(x.reshape(2, 3), axis=0), True),
    ("max", lambda x: fnp.max(x.reshape(3, 2), axis=1), False),
    ("scan", lambda x: lax.scan(lambda c, t: (c * t, c + t), x[0], x)[1], True),
    ("fori_loop", lambda x: lax.fori_loop(0, 3, lambda i, c: c * fnp.roll(c, 1), x), True),
    ("while", lambda x: lax.while_loop(lambda c: c[0] < 10.0,
                                       lambda c: fnp.roll(c, 1) * 2.0, x), False),
    ("cond", lambda x: lax.cond(x[0] > 0, lambda x: x[::-1], lambda x: -x, x), False),
    ("jit", fd.jit(lambda x: fnp.sin(x) + fnp.roll(x, 1)), True),
    ("checkpoint", fd.checkpoint(lambda x: fnp.sin(x[1:]) * x[:-1]), True),
    ("matmul 2-d", lambda x: (x.reshape(2, 3) @ x.reshape(3, 2)).ravel(), True),
    ("outer", lambda x: fnp.outer(x[:3], x[3:]).ravel(), True),
    ("where", lambda x: fnp.where(x > 1, x, x[::-1]), False),
    ("dynamic index", lambda x: x[fnp.argmax(x)] * x, False),
    ("sort", fnp.sort, False),
    ("solve", lambda x: fnp.linalg.solve(np.eye(2) + x[:4].reshape(2, 2), x[4:]), False),
    ("scalar out", lambda x: fnp.prod(x), True),
])
def test_pattern_per_family(name, f, exact):
    x = np.array([0.7, 1.3, 0.4, 1.9, 0.2, 1.1])
    P = pattern_of(f, x)
    J = dense_jac(f, x)
    assert not ((J != 0) & ~P).any(), name
    if exact:
        np.testing.assert_array_equal(P, J != 0, err_msg=name)


def test_dot_general_with_a_constant_sparse_matrix_is_exact_and_an_unknown_one_dense():
    n = 8
    A = np.diag(np.full(n, 2.0)) + np.diag(np.ones(n - 1), 1)
    P = pattern_of(lambda x: A @ x, np.ones(n))
    np.testing.assert_array_equal(P, A != 0)
    # A passed as an argument: its values are not known when the pattern is found
    J = fd.jacobian(lambda x, A: A @ x, sparse=True)(np.ones(n), A)
    assert J.nnz == n * n and J.n_passes == n
    np.testing.assert_allclose(J.toarray(), A)


# --- colorings ---------------------------------------------------------------------------

def _random_patterns(count, seed=0, square=False, symmetric=False):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        m, n = rng.integers(0, 14, size=2)
        if square:
            m = n
        M = rng.random((m, n)) < rng.random() * 0.5
        if symmetric:
            M = M | M.T | np.eye(n, dtype=bool)
        yield M


def test_column_and_row_colorings_are_valid():
    for M in _random_patterns(300):
        P = Pattern.from_dense(M)
        c = color_columns(P)
        assert c.shape == (M.shape[1],)
        for row in M:          # no two columns of one color share a row
            cols = np.flatnonzero(row)
            assert len(set(c[cols].tolist())) == cols.size
        r = color_rows(P)
        for col in M.T:
            rows = np.flatnonzero(col)
            assert len(set(r[rows].tolist())) == rows.size


def test_banded_patterns_take_bandwidth_colors():
    n = 1000
    for k in (1, 2, 5):       # bandwidth 2k + 1
        M = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= k
        P = Pattern.from_dense(M)
        assert color_columns(P).max() + 1 == 2 * k + 1
        assert star_coloring(P).max() + 1 <= 2 * k + 1
        assert hessian_coloring(P).max() + 1 <= 2 * k + 1


def _two_colored_p4(A, c):
    n = A.shape[0]
    for v in range(n):
        for w in np.flatnonzero(A[v]):
            for x in np.flatnonzero(A[w]):
                if x == v:
                    continue
                for y in np.flatnonzero(A[x]):
                    if y not in (v, w) and c[v] == c[x] and c[w] == c[y]:
                        return (v, w, x, y)
    return None


def test_star_coloring_property_and_direct_recovery():
    rng = np.random.default_rng(1)
    for k, M in enumerate(_random_patterns(300, seed=2, square=True, symmetric=True)):
        n = M.shape[0]
        if k % 2:                     # a Hessian pattern need not hold its diagonal
            M = M & ~np.eye(n, dtype=bool)
        P = symmetrize(Pattern.from_dense(M))
        c = star_coloring(P)
        A = M & ~np.eye(n, dtype=bool)
        assert not np.any(A & (c[:, None] == c[None, :])), "adjacent vertices share a color"
        assert _two_colored_p4(A, c) is None
        H = np.where(M, rng.standard_normal((n, n)), 0.0)
        H = H + H.T
        if n == 0:
            continue
        for c in (c, hessian_coloring(P)):     # the star coloring, and the one used
            S = np.zeros((n, c.max() + 1))
            S[np.arange(n), c] = 1.0
            rows, colors = recovery_index(P, c)
            np.testing.assert_array_equal((H @ S)[rows, colors], H[P.rows(), P.indices])


def test_recovery_rejects_a_coloring_that_is_not_star():
    P = Pattern.from_dense(np.ones((3, 3), bool))
    with pytest.raises(AssertionError, match="star"):
        recovery_index(P, np.zeros(3, np.int64))


# --- compressed == dense, eager, under jit and vmap ------------------------------------

@budget(60)
@given(programs(dtypes=(np.float64,), allow_zero_size=False))
def test_compressed_equals_dense_on_random_programs(prog):
    f, n = flat(prog)
    v = np.concatenate([x.ravel() for x in prog.inputs()])
    want = dense_jac(f, v)
    J = fd.jacobian(f, sparse=True)(v)
    np.testing.assert_allclose(J.toarray(), want, rtol=1e-12, atol=1e-12, err_msg=repr(prog))
    assert J.n_passes <= min(J.shape)
    Jj = fd.jit(fd.jacobian(f, sparse=True))(v)
    np.testing.assert_allclose(Jj.toarray(), want, rtol=1e-12, atol=1e-12)
    vs = np.stack([v, v * 0.5 + 0.1])
    Jv = fd.vmap(fd.jacobian(f, sparse=True))(vs)
    assert Jv.data.shape == (2, J.nnz)
    for k in range(2):
        np.testing.assert_allclose(Jv.toarray()[k], dense_jac(f, vs[k]), rtol=1e-12,
                                   atol=1e-12)


@budget(30)
@given(programs(dtypes=(np.float64,), allow_zero_size=False))
def test_star_colored_hessian_equals_dense_on_random_programs(prog):
    f, n = flat(prog)
    v = np.concatenate([x.ravel() for x in prog.inputs()])
    w = np.random.default_rng(prog.seed).standard_normal(np.size(f(v)))

    def g(v):
        return fnp.sum(w * f(v))
    want = np.asarray(fd.hessian(g)(v))
    assume(np.all(np.isfinite(want)))
    H = fd.hessian(g, sparse=True)(v)
    np.testing.assert_allclose(H.toarray(), want, rtol=1e-8, atol=1e-10, err_msg=repr(prog))


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_forced_orientation(mode):
    f = lambda x: fnp.concatenate([x[1:] * x[:-1], fnp.sum(x)[None]])   # noqa: E731
    x = np.linspace(0.5, 2.0, 30)
    J = fd.jacobian(f, sparse=True, mode=mode)(x)
    np.testing.assert_allclose(J.toarray(), dense_jac(f, x), rtol=1e-13)
    # a dense row: columns need n colors, rows few (reverse mode wins)
    assert J.mode == ("rev" if mode == "auto" else mode)
    if J.mode == "rev":
        assert J.n_passes <= 3
    else:
        assert J.n_passes == 30


def test_bratu_4000_tridiagonal_in_three_passes():
    n = 4000
    u = np.sin(np.linspace(0, np.pi, n)) * 0.3
    J = fd.jacobian(bratu, sparse=True)(u)
    assert J.n_passes <= 3 and J.nnz == 3 * n - 2
    h = 1.0 / (n + 1)
    rows, cols = J.pattern.rows(), J.pattern.indices
    assert np.all(np.abs(rows - cols) <= 1)                  # tridiagonal
    # the closed form, entry by entry (no dense 4000 x 4000 matrices)
    want = np.where(rows == cols, -2 / h ** 2 + np.exp(u)[rows], 1 / h ** 2)
    np.testing.assert_allclose(J.data, want, rtol=1e-12)
    Jj = fd.jit(fd.jacobian(bratu, sparse=True))(u)
    np.testing.assert_allclose(Jj.data, want, rtol=1e-12)
    np.testing.assert_allclose(fd.jacobian(bratu, sparse=True)(u[:300]).toarray(),
                               dense_jac(bratu, u[:300]), rtol=1e-12)


def test_rosenbrock_hessian_500_in_at_most_five_passes():
    x = np.random.default_rng(0).uniform(-1.5, 1.5, 500)
    H = fd.hessian(rosenbrock, sparse=True)(x)
    assert H.n_passes <= 5 and H.mode == "star"
    want = rosenbrock_hessian(x)
    np.testing.assert_allclose(H.toarray(), want, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(H.toarray(), fd.hessian(rosenbrock)(x), rtol=1e-12,
                               atol=1e-9)
    Hj = fd.jit(fd.hessian(rosenbrock, sparse=True))(x)
    np.testing.assert_allclose(Hj.toarray(), want, rtol=1e-12, atol=1e-9)
    xs = np.stack([x[:40], -x[:40]])
    Hv = fd.vmap(fd.hessian(rosenbrock, sparse=True))(xs)
    for k in range(2):
        np.testing.assert_allclose(Hv.toarray()[k], rosenbrock_hessian(xs[k]), rtol=1e-12,
                                   atol=1e-9)


def test_star_hessian_of_a_random_sparse_quadratic_plus_quartic():
    rng = np.random.default_rng(3)
    n = 40
    M = rng.random((n, n)) < 0.06
    A = np.where(M | M.T, rng.standard_normal((n, n)), 0.0)
    A = A + A.T

    def f(x):
        return 0.5 * x @ (A @ x) + fnp.sum(x ** 4)
    x = rng.standard_normal(n)
    H = fd.hessian(f, sparse=True)(x)
    np.testing.assert_allclose(H.toarray(), A + np.diag(12 * x ** 2), rtol=1e-12,
                               atol=1e-12)
    assert H.n_passes < n


def test_tocsr_matches_toarray():
    sps = pytest.importorskip("scipy.sparse")
    J = fd.jacobian(bratu, sparse=True)(np.ones(50))
    C = J.tocsr()
    assert isinstance(C, sps.csr_matrix) and C.nnz == J.nnz
    np.testing.assert_array_equal(C.toarray(), J.toarray())


def test_report_shows_dense_and_colored_costs():
    x = np.ones(300)
    rep = fd.jacobian(bratu, mode="report")(x)
    sp = rep.sparse
    assert sp is not None and sp["nnz"] == 3 * 300 - 2
    assert sp["colors_fwd"] == 3 and sp["colors_rev"] == 3
    assert sp["cost"]["flops"] < min(rep.fwd["flops"], rep.rev["flops"]) / 10
    text = str(rep)
    assert "sparsity (from the IR)" in text and "colored forward mode" in text
    assert "3 direction(s)" in text
    # beyond the size limit the pattern is analysed only when asked
    assert fd.jacobian(bratu, mode="report")(np.ones(2100)).sparse is None
    assert fd.jacobian(bratu, mode="report", sparse=True)(np.ones(2100)).sparse["nnz"] \
        == 3 * 2100 - 2
    # choosing the mode does not analyse the pattern; explaining it does
    jac = fd.jacobian(bratu)
    jac(x)
    assert jac.last_report.sparse is None
    buf = io.StringIO()
    with redirect_stdout(buf):
        J = fd.jacobian(bratu, explain=True, sparse=True)(x)
    assert "colored forward mode" in buf.getvalue() and J.n_passes == 3
    # not applicable: two array arguments differentiated
    assert fd.jacobian(lambda x, y: x * y, argnums=(0, 1), mode="report")(
        x, x).sparse is None


# --- the cache ------------------------------------------------------------------------------

def test_cache_is_per_signature():
    jac = fd.jacobian(bratu, sparse=True)
    for n in range(3, 60):
        J = jac(np.ones(n))
        assert J.shape == (n, n) and J.nnz == 3 * n - 2
    J32 = jac(np.ones(7, np.float32))       # a new signature: float64 out (zeros(1))
    want = fd.jacfwd(bratu)(np.ones(7, np.float32))
    assert J32.dtype == want.dtype
    np.testing.assert_allclose(J32.toarray(), want, rtol=1e-6)
    g = lambda x: fnp.sin(x) * fnp.roll(x, 1)   # noqa: E731
    J32 = fd.jacobian(g, sparse=True)(np.linspace(0, 1, 5, dtype=np.float32))
    assert J32.dtype == np.float32
    np.testing.assert_allclose(J32.toarray(), fd.jacfwd(g)(np.linspace(0, 1, 5,
                                                                       dtype=np.float32)))


def test_cache_bounded():
    jac = sparse_jacobian(fnp.sin)
    for n in range(1, 2 * _CACHE_SIZE):
        jac(np.ones(n))
    assert len(jac.cache) == _CACHE_SIZE


def test_a_changed_constant_changes_the_pattern():
    A = np.eye(5)
    jac = fd.jacobian(lambda x: A @ x, sparse=True)
    assert jac(np.ones(5)).nnz == 5
    A[0, 4] = 3.0                   # the closed-over matrix changes in place
    J = jac(np.ones(5))
    assert J.nnz == 6
    np.testing.assert_allclose(J.toarray(), A)


# --- hostile inputs ----------------------------------------------------------------------

@pytest.mark.parametrize("f, x", [
    (fnp.abs, np.array([-1.0, 0.0, 2.0])),                          # kink at 0
    (lambda x: fnp.maximum(x, x[::-1]), np.array([1.0, 2.0, 1.0])),   # ties
    (lambda x: fnp.where(x > 0, x, 0.0), np.array([-1.0, 0.0, 3.0])),  # relu
    (lambda x: fnp.sqrt(x ** 2 + 1.0), np.zeros(4)),
    (lambda x: x[:, None] * x[None, :], np.arange(1.0, 4.0)),       # broadcasting
    (lambda x: fnp.sum(x), np.arange(1.0, 4.0)),                    # scalar out
    (lambda x: x * fnp.arange(3.0), np.array(2.0)),                 # scalar in
    (lambda x: x ** 2, np.array(3.0)),                              # scalar in and out
    (lambda x: fnp.sin(x).reshape(2, 3).T, np.ones((3, 2))),        # 2-d in and out
    (lambda x: x.astype(np.float32) * 2, np.ones(3)),               # dtype change
    (lambda x: fnp.floor(x) * x, np.array([0.5, 1.5])),
    (lambda x: x[fnp.argsort(x)], np.array([3.0, 1.0, 2.0])),       # dynamic gather
    (lambda x: fnp.zeros(3).at[fnp.argmax(x)].add(x[0]), np.array([1.0, 5.0, 2.0])),
    (lambda x: fnp.ones(4), np.ones(3)),                            # constant f
    (lambda x: fnp.argmax(x), np.ones(3)),                          # integer output
    (lambda x: x > 0, np.ones(3)),                                  # boolean output
    (lambda x: fnp.sin(x) * x[::-1], np.ones(3, np.float16)),
    (lambda x: x.at[1:3].set(x[0]), np.arange(1.0, 5.0)),           # broadcast update
    (lambda x: x.at[np.array([0, 0, 1])].add(x[3]), np.arange(1.0, 5.0)),
    (lambda x: fnp.take(x, np.array([0, 7, -9]), mode="clip"), np.arange(1.0, 5.0)),
    (lambda x: fnp.take(x, np.array([0, 7, -9]), mode="wrap"), np.arange(1.0, 5.0)),
    (lambda x: fnp.cumprod(x), np.array([1.0, 0.0, 2.0, 3.0])),     # a zero in a product
    (lambda x: fnp.real(fnp.fft.fft(x)), np.arange(1.0, 5.0)),      # no rule: dense
    (lambda x: fd.jacfwd(lambda y: fnp.sin(y) * y[0])(x).ravel(), np.arange(1.0, 4.0)),
    (lambda x: fd.grad(lambda y: fnp.sum(y[1:] * y[:-1]))(x), np.arange(1.0, 5.0)),
    (lambda x: x ** 2, 2.0),                                        # a Python float
    # loops whose dependence spreads slowly: the fixed point gives up after a few
    # rounds and makes the carry depend on all the loop's inputs
    (lambda x: lax.while_loop(lambda c: c[0] < 1e3,
                              lambda c: c + 0.1 * fnp.roll(c, 1), x), np.ones(40)),
    (lambda x: lax.scan(lambda c, _: (c + 0.1 * fnp.roll(c, 1), None), x, None,
                        length=300)[0], np.ones(40)),
])
def test_hostile_functions_equal_dense(f, x):
    J = fd.jacobian(f, sparse=True)(x)
    want = dense_jac(f, x)
    np.testing.assert_allclose(J.toarray(), want, rtol=1e-6, atol=0)
    assert J.toarray().dtype == np.asarray(fd.jacfwd(f)(x)).dtype
    np.testing.assert_allclose(fd.jit(fd.jacobian(f, sparse=True))(x).toarray(), want,
                               rtol=1e-6)


def test_grad_through_the_sparse_jacobian():
    f = lambda x: fnp.sin(x[1:]) * x[:-1]   # noqa: E731
    x = np.arange(1.0, 6.0)
    g = fd.grad(lambda x: fnp.sum(fd.jacobian(f, sparse=True)(x).data ** 2))(x)
    np.testing.assert_allclose(g, fd.grad(lambda x: fnp.sum(fd.jacfwd(f)(x) ** 2))(x),
                               rtol=1e-12)


def test_zero_size():
    J = fd.jacobian(fnp.sin, sparse=True)(np.zeros(0))
    assert J.shape == (0, 0) and J.nnz == 0 and J.n_passes == 0
    assert J.toarray().shape == (0, 0)
    J = fd.jacobian(lambda x: x[:0] * 2, sparse=True)(np.ones(3))
    assert J.shape == (0, 3) and J.n_passes == 0
    J = fd.jacobian(lambda x: fnp.sum(x) * fnp.ones(2), sparse=True)(np.zeros(0))
    assert J.shape == (2, 0) and J.toarray().shape == (2, 0)
    H = fd.hessian(lambda x: fnp.sum(x ** 3), sparse=True)(np.zeros(0))
    assert H.shape == (0, 0)


def test_hessian_with_extra_arguments_and_float32():
    def f(x, c):
        return fnp.sum(c * x[1:] * x[:-1] ** 2)
    x = np.linspace(0.1, 1.0, 9, dtype=np.float32)
    H = fd.hessian(f, sparse=True)(x, np.float32(2.0))
    assert H.dtype == np.float32
    np.testing.assert_allclose(H.toarray(), fd.hessian(f)(x, np.float32(2.0)), rtol=1e-5)


# --- error paths ----------------------------------------------------------------------

def test_errors():
    x = np.ones(3)
    with pytest.raises(fd.GradientError, match="floating-point"):
        fd.jacobian(fnp.sin, sparse=True)(np.arange(3))
    with pytest.raises(fd.FuncdiffTypeError, match="complex"):
        fd.jacobian(fnp.sin, sparse=True)(x + 1j)
    with pytest.raises(fd.FuncdiffTypeError, match="real outputs"):
        fd.jacobian(lambda x: x * 1j, sparse=True)(x)
    with pytest.raises(fd.FuncdiffValueError, match="keyword"):
        fd.jacobian(lambda x, c=1.0: x * c, sparse=True)(x, c=2.0)
    with pytest.raises(fd.FuncdiffValueError, match="argnums"):
        fd.jacobian(lambda x, y: x * y, argnums=1, sparse=True)(x, x)
    with pytest.raises(fd.FuncdiffValueError, match="one array"):
        fd.jacobian(lambda d: d["a"], sparse=True)({"a": x})
    with pytest.raises(fd.FuncdiffValueError, match="return one array"):
        fd.jacobian(lambda x: (x, x), sparse=True)(x)
    with pytest.raises(fd.FuncdiffValueError, match="without arguments"):
        fd.jacobian(lambda: 1.0, sparse=True)()
    with pytest.raises(fd.FuncdiffValueError, match="holomorphic"):
        fd.jacobian(fnp.sin, sparse=True, holomorphic=True)
    with pytest.raises(fd.FuncdiffValueError, match="single element"):
        fd.hessian(fnp.sin, sparse=True)(x)
    with pytest.raises(fd.FuncdiffValueError, match="has_aux"):
        fd.hessian(fnp.sum, sparse=True, has_aux=True)
    with pytest.raises(fd.FuncdiffValueError, match="batch"):
        fd.vmap(fd.jacobian(fnp.sin, sparse=True))(np.ones((2, 3))).tocsr()


def test_a_pattern_too_large_is_refused_and_left_out_of_the_report(monkeypatch):
    monkeypatch.setattr(sparsity, "MAX_ENTRIES", 100)
    x = np.ones(20)
    with pytest.raises(fd.FuncdiffValueError, match="close to dense"):
        fd.jacobian(lambda x: fnp.sum(x) * x, sparse=True)(x)
    assert fd.jacobian(lambda x: fnp.sum(x) * x, mode="report")(x).sparse is None
    with pytest.raises(fd.FuncdiffValueError, match="close to dense"):
        fd.jacobian(lambda x: fnp.sum(x) * x, mode="report", sparse=True)(x)


def test_hessian_errors():
    with pytest.raises(fd.GradientError, match="floating-point"):
        fd.hessian(fnp.sum, sparse=True)(np.arange(3))
    with pytest.raises(fd.FuncdiffValueError, match="holomorphic"):
        fd.hessian(fnp.sum, sparse=True, holomorphic=True)


def test_tocsr_without_scipy_names_it(monkeypatch):
    J = fd.jacobian(fnp.sin, sparse=True)(np.ones(3))
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError("no scipy")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(fd.FuncdiffValueError, match="needs SciPy"):
        J.tocsr()


def test_dense_hessian_and_jacobian_signatures_unchanged():
    f = lambda x: fnp.sum(x ** 3)   # noqa: E731
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(fd.hessian(f)(x), np.diag(6 * x))
    H, aux = fd.hessian(lambda x: (f(x), 7), has_aux=True)(x)
    assert aux == 7
    np.testing.assert_allclose(fd.jacobian(fnp.sin)(x), np.diag(np.cos(x)))

