"""funcdiff.scipy.linalg beyond the first five functions: solves, factorizations,
decompositions, matrix functions and special matrices (and the primitives behind them:
lu, lu_pivots_to_permutation, schur, hessenberg, rsf2csf, funm; eigh's driver/subset).

Values: eager (SciPy itself) and traced (make_jaxpr + check_jaxpr + eval_jaxpr) against
SciPy, table-driven over hypothesis-chosen batch shapes and sizes and over dtypes
(SciPy's dtype rules included: float32 in gives float32 out for most, double precision
for ``det``/``expm_frechet``, single precision for bools and small integers).
Derivatives: check_grads to order 2, forward and reverse, float64 and complex128
(sign-invariant functions of eigen/singular vectors).  vmap against a Python loop, jit
against the interpreter.  Namespace, errors, the documented differences, the NumPy
fallbacks, and a Gaussian-process / state-space likelihood gradient against finite
differences.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.linalg as sl
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
import funcdiff.scipy.linalg as L
from funcdiff.core.errors import ConcretizationError, FuncdiffValueError, GradientError
from funcdiff.primitives import decomp as dc
from funcdiff.primitives import matfun as mf
from funcdiff.primitives.linalg import SCIPY_BATCHED
from funcdiff.test_util import check_grads

import _helpers

VALUES = settings(max_examples=6, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
traced = functools.partial(_helpers.traced, unpack=True)


# --- the reference: SciPy 1.17's semantics, on an older SciPy too ------------------------------

# SciPy 1.17's batch signatures (its ``_apply_over_batch`` argdefs; ``inv``/``solve``
# batch natively): the core ndim of each leading array argument ("1|2": a vector or a
# matrix).  SciPy before 1.16 takes one matrix (vector) at a time in these.
_BATCH_ARGS = {
    **{name: (2,) for name in ("inv", "cholesky", "cho_factor", "lu_factor", "svd", "qr",
                               "polar", "schur", "hessenberg", "pinv", "sqrtm", "funm",
                               "cosm", "sinm", "tanm", "coshm", "sinhm", "tanhm")},
    **{name: (2, 2) for name in ("eigh", "eigvalsh", "eig", "eigvals", "rsf2csf",
                                 "expm_frechet")},
    **{name: (2, "1|2") for name in ("solve", "solve_triangular", "qr_multiply", "lstsq")},
    "solve_sylvester": (2, 2, 2), "eigh_tridiagonal": (1, 1), "toeplitz": (1, 1),
}


def _over_batch(f, cores, arrays, *rest, **kw):
    """SciPy 1.16's ``_apply_over_batch``: ``f`` over the broadcast batch of ``arrays``
    (each with its core ndim), outputs stacked; several outputs as a list."""
    arrays = [np.asarray(a) for a in arrays]
    cores = [(2 if a.ndim >= 2 else 1) if c == "1|2" else c for a, c in zip(arrays, cores)]
    batches = [a.shape[:a.ndim - c] for a, c in zip(arrays, cores)]
    if not any(batches):
        return f(*arrays, *rest, **kw)
    SL.emulated = True
    batch = np.broadcast_shapes(*batches)
    arrays = [np.broadcast_to(a, batch + a.shape[a.ndim - c:]) for a, c in zip(arrays, cores)]
    outs = [f(*[a[i] for a in arrays], *rest, **kw) for i in np.ndindex(batch)]
    outs = [o if isinstance(o, tuple) else (o,) for o in outs]
    res = [np.stack(r).reshape(batch + np.shape(r[0])) for r in zip(*outs)]
    return res[0] if len(res) == 1 else res


class _SciPy117:
    """``scipy.linalg`` as SciPy 1.17 computes it (what funcdiff follows), on a SciPy
    before 1.16: stacks loop over SciPy's one-matrix calls (``_over_batch``), and
    ``inv``'s ``assume_a``/``lower`` (SciPy 1.17) solve against the identity with the
    same structure.  ``emulated``: whether the last calls needed either."""

    emulated = False

    def __getattr__(self, name):
        f = getattr(sl, name)
        if SCIPY_BATCHED:
            return f
        if name == "inv":
            def inv(a, *args, assume_a=None, lower=False, **kw):
                if assume_a is None and not lower:
                    return _over_batch(f, (2,), (a,), *args, **kw)
                self.emulated = True
                a = np.asarray(a)
                eye = np.eye(a.shape[-1], dtype=a.dtype)
                return _over_batch(lambda m: sl.solve(m, eye, assume_a=assume_a or "gen",
                                                      lower=lower), (2,), (a,))
            return inv
        if name == "solve":   # its tridiagonal solver fails below 3x3 (the same values)
            def solve(a, b, **kw):
                if kw.get("assume_a") == "tridiagonal" and np.shape(a)[-1] <= 2:
                    self.emulated = True
                    kw["assume_a"] = "gen"
                return _over_batch(f, _BATCH_ARGS[name], (a, b), **kw)
            return solve
        if name == "cho_solve":
            return lambda cl, b, **kw: _over_batch(
                lambda c, b: f((c, cl[1]), b, **kw), (2, "1|2"), (cl[0], b))
        if name == "lu_solve":
            return lambda lp, b, **kw: _over_batch(
                lambda lu, piv, b: f((lu, piv), b, **kw), (2, 1, "1|2"), (*lp, b))
        if name == "block_diag":
            return lambda *arrs: _over_batch(f, (2,) * len(arrs),
                                             [np.atleast_2d(a) for a in arrs])
        if name in _BATCH_ARGS:
            cores = _BATCH_ARGS[name]
            return lambda *args, **kw: _over_batch(f, cores, args[:len(cores)],
                                                   *args[len(cores):], **kw)
        return f


#: the reference SciPy: ``scipy.linalg`` itself from SciPy 1.16 (batches), else emulated
SL = _SciPy117()


def same(got, want, single):
    """Shape, dtype and values (leaf by leaf); single-precision inputs to 1e-4."""
    t = 2e-4 if single else 1e-9
    _helpers.assert_same(got, want, tols={_helpers.DEFAULT: t}, exact_kinds="biu",
                         tree=True)


# --- operands ------------------------------------------------------------------------------

def rand(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dtype)
    if dtype.kind in "iub":
        return rng.integers(-2, 3, shape).astype(dtype)
    return rng.uniform(-1, 1, shape).astype(dtype)


def general(rng, shape, dtype):
    """Well conditioned: entries of modulus <= sqrt(2) plus 6 I (n <= 4)."""
    a = rand(rng, shape, dtype)
    return (a + 6 * np.eye(shape[-1], dtype=np.int64)).astype(dtype)


def spd(rng, shape, dtype):
    a = rand(rng, shape, dtype)
    h = a @ np.conj(np.swapaxes(a, -1, -2))
    return (h + 2 * shape[-1] * np.eye(shape[-1], dtype=np.int64)).astype(dtype)


def herm(rng, shape, dtype):
    """Hermitian with well-separated positive eigenvalues (integers: ``spd``)."""
    n = shape[-1]
    if np.dtype(dtype).kind in "iub":
        return spd(rng, shape, dtype)
    q, _ = np.linalg.qr(rand(rng, shape, np.complex128 if np.dtype(dtype).kind == "c"
                             else np.float64))
    w = 1.5 * np.arange(n) + 1 + rng.uniform(-0.3, 0.3, shape[:-1])
    return ((q * w[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))).astype(dtype)


def distinct_sv(rng, shape, dtype):
    """Distinct singular values in [1, 3]: unique singular vectors, full rank."""
    m, n = shape[-2:]
    k = min(m, n)
    cplx = np.dtype(dtype).kind == "c"
    u, _ = np.linalg.qr(rand(rng, shape[:-2] + (m, k), np.complex128 if cplx else
                             np.float64))
    v, _ = np.linalg.qr(rand(rng, shape[:-2] + (n, k), np.complex128 if cplx else
                             np.float64))
    s = 1 + 2 * (np.arange(k)[::-1] + rng.uniform(0.1, 0.4, shape[:-2] + (k,))) / k
    return ((u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))).astype(dtype)


class Case:
    """``call(M)`` is the function on module ``M`` (SciPy's or funcdiff's),
    ``make(rng, batch, n, dtype)`` its operands."""

    def __init__(self, call, make, dtypes=("f8", "f4", "c16", "i8"), batch=True):
        self.call, self.make, self.dtypes, self.batch = call, make, dtypes, batch


def fn(name, **kw):
    return lambda M: functools.partial(getattr(M, name), **kw)


def one(maker):
    return lambda rng, batch, n, dt: (maker(rng, batch + (n, n), dt),)


def with_rhs(maker, vector=None):
    """A matrix and a right-hand side: a vector, or a (k=2)-column matrix whose batch
    broadcasts against the matrix's."""
    def make(rng, batch, n, dt):
        a = maker(rng, batch + (n, n), dt)
        vec = rng.random() < 0.5 if vector is None else vector
        b = rand(rng, (n,) if vec else batch[1:] + (n, 2), dt)
        return a, b
    return make


def rect(rng, batch, n, dt, extra=1):
    return (distinct_sv(rng, batch + (n + extra, n), dt),)


def wide(rng, batch, n, dt):
    return (distinct_sv(rng, batch + (n, n + 1), dt),)


REAL = ("f8", "f4", "i8")
FLOAT = ("f8", "f4", "c16", "c8")

VALUE_CASES = {
    # solves and triangular factorizations
    "cholesky": Case(fn("cholesky"), one(spd)),
    "cholesky_lower": Case(fn("cholesky", lower=True), one(spd)),
    "solve": Case(fn("solve"), with_rhs(general)),
    "solve_transposed": Case(fn("solve", transposed=True), with_rhs(general), dtypes=REAL),
    "solve_sym": Case(fn("solve", assume_a="sym"), with_rhs(general)),
    "solve_sym_lower": Case(fn("solve", assume_a="symmetric", lower=True),
                            with_rhs(general)),
    "solve_her": Case(fn("solve", assume_a="her", lower=True), with_rhs(herm)),
    "solve_pos": Case(fn("solve", assume_a="pos"), with_rhs(spd)),
    "solve_pos_lower": Case(fn("solve", assume_a="positive definite", lower=True),
                            with_rhs(spd)),
    "solve_diagonal": Case(fn("solve", assume_a="diagonal"), with_rhs(general)),
    "solve_tridiagonal": Case(fn("solve", assume_a="tridiagonal"), with_rhs(general)),
    "solve_banded": Case(fn("solve", assume_a="banded"), with_rhs(general), batch=False),
    "solve_upper": Case(fn("solve", assume_a="upper triangular"), with_rhs(general)),
    "solve_lower": Case(fn("solve", assume_a="lower triangular"), with_rhs(general)),
    "inv": Case(fn("inv"), one(general)),
    "inv_pos": Case(fn("inv", assume_a="pos"), one(spd)),
    "inv_sym": Case(fn("inv", assume_a="sym", lower=True), one(general)),
    "inv_her": Case(fn("inv", assume_a="her"), one(herm)),
    "inv_upper": Case(fn("inv", assume_a="upper triangular"), one(general)),
    "inv_lower": Case(fn("inv", assume_a="lower triangular"), one(general)),
    "inv_diagonal": Case(fn("inv", assume_a="diagonal"),
                         lambda rng, b, n, dt: (np.eye(n, dtype=dt) *
                                                general(rng, b + (n, n), dt),)),
    "det": Case(fn("det"), one(general)),
    "lu": Case(fn("lu"), one(general)),
    "lu_tall": Case(fn("lu"), rect),
    "lu_wide": Case(fn("lu"), wide),
    "lu_permute_l": Case(fn("lu", permute_l=True), rect),
    "lu_p_indices": Case(fn("lu", p_indices=True), wide),
    "lu_factor": Case(fn("lu_factor"), one(general)),
    "lu_factor_tall": Case(fn("lu_factor"), rect),
    "lu_solve": Case(lambda M: lambda a, b: M.lu_solve(M.lu_factor(a), b),
                     with_rhs(general)),
    "lu_solve_T": Case(lambda M: lambda a, b: M.lu_solve(M.lu_factor(a), b, trans=1),
                       with_rhs(general)),
    "lu_solve_H": Case(lambda M: lambda a, b: M.lu_solve(M.lu_factor(a), b, trans=2),
                       with_rhs(general)),
    # decompositions
    "eigh": Case(fn("eigh"), one(herm)),
    "eigh_upper_evd": Case(fn("eigh", lower=False, driver="evd"), one(herm)),
    "eigh_vals": Case(fn("eigh", eigvals_only=True), one(herm)),
    "eigh_subset": Case(lambda M: lambda a: M.eigh(a, subset_by_index=(0, a.shape[-1] // 2)),
                        one(herm)),
    "eigh_generalized": Case(lambda M: lambda a, b: M.eigh(a, b),
                             lambda rng, b, n, dt: (herm(rng, b + (n, n), dt),
                                                    spd(rng, b + (n, n), dt))),
    "eigh_generalized_2_upper": Case(lambda M: lambda a, b: M.eigh(a, b, type=2,
                                                                  lower=False),
                                     lambda rng, b, n, dt: (herm(rng, b + (n, n), dt),
                                                            spd(rng, b + (n, n), dt))),
    "eigh_generalized_3": Case(lambda M: lambda a, b: M.eigh(a, b, type=3),
                               lambda rng, b, n, dt: (herm(rng, b + (n, n), dt),
                                                      spd(rng, b + (n, n), dt))),
    "eigvalsh": Case(fn("eigvalsh"), one(herm)),
    "eigh_tridiagonal": Case(fn("eigh_tridiagonal"),
                             lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt),
                                                    rand(rng, (n,), dt)), dtypes=REAL),
    "eigh_tridiagonal_index": Case(
        lambda M: lambda d, e: M.eigh_tridiagonal(d, e, select="i", select_range=(1, 2)),
        lambda rng, b, n, dt: (rand(rng, b + (n + 2,), dt), rand(rng, b + (n + 1,), dt)),
        dtypes=("f8", "f4")),
    "eigh_tridiagonal_vals": Case(fn("eigh_tridiagonal", eigvals_only=True,
                                     lapack_driver="sterf"),
                                  lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt),
                                                         rand(rng, b + (n,), dt)),
                                  dtypes=REAL),
    "eig": Case(fn("eig"), one(general), dtypes=("c16", "c8")),
    "eigvals": Case(fn("eigvals"), one(general)),
    "svd": Case(fn("svd"), rect),
    "svd_wide_econ": Case(fn("svd", full_matrices=False), wide),
    "svd_values": Case(fn("svd", compute_uv=False), rect),
    "qr": Case(fn("qr"), rect),
    "qr_economic": Case(fn("qr", mode="economic"), rect),
    "qr_r_wide": Case(fn("qr", mode="r"), wide),
    "qr_multiply_right": Case(fn("qr_multiply"),
                              lambda rng, b, n, dt: (distinct_sv(rng, b + (n + 1, n), dt),
                                                     rand(rng, b + (2, n + 1), dt))),
    "qr_multiply_left_conj": Case(fn("qr_multiply", mode="left", conjugate=True),
                                  lambda rng, b, n, dt: (distinct_sv(rng, b + (n + 1, n),
                                                                     dt),
                                                         rand(rng, b + (n, 2), dt))),
    "polar": Case(fn("polar"), rect),
    "polar_left": Case(fn("polar", side="left"), wide),
    "schur": Case(fn("schur"), one(general)),
    "schur_complex": Case(fn("schur", output="complex"), one(general)),
    "rsf2csf": Case(lambda M: lambda a: M.rsf2csf(*M.schur(a)), one(general),
                    dtypes=("f8", "f4")),
    "hessenberg": Case(fn("hessenberg", calc_q=True), one(general)),
    "pinv": Case(fn("pinv"), rect),
    "lstsq": Case(fn("lstsq"), lambda rng, b, n, dt: (distinct_sv(rng, (n + 2, n), dt),
                                                      rand(rng, (n + 2,), dt)), batch=False),
    "norm": Case(fn("norm"), rect),
    # matrix functions
    "funm": Case(lambda M: lambda a: M.funm(a, np.exp), one(general)),
    "expm_frechet": Case(fn("expm_frechet"),
                         lambda rng, b, n, dt: (rand(rng, b + (n, n), dt),
                                                rand(rng, b + (n, n), dt))),
    "solve_sylvester": Case(fn("solve_sylvester"),
                            lambda rng, b, n, dt: (general(rng, b + (n, n), dt),
                                                   general(rng, (2, 2), dt),
                                                   rand(rng, b + (n, 2), dt))),
    "cosm": Case(fn("cosm"), one(rand)),
    "sinm": Case(fn("sinm"), one(rand)),
    "tanm": Case(fn("tanm"), one(rand)),
    "coshm": Case(fn("coshm"), one(rand)),
    "sinhm": Case(fn("sinhm"), one(rand)),
    "tanhm": Case(fn("tanhm"), one(rand)),
    # special matrices
    "toeplitz": Case(fn("toeplitz"), lambda rng, b, n, dt: (rand(rng, b + (n,), dt),
                                                            rand(rng, (n + 1,), dt))),
    "toeplitz_hermitian": Case(fn("toeplitz"), lambda rng, b, n, dt: (rand(rng, b + (n,),
                                                                           dt),)),
    "hankel": Case(fn("hankel"), lambda rng, b, n, dt: (rand(rng, (n,), dt),
                                                        rand(rng, (n + 1,), dt)),
                   batch=False),
    "circulant": Case(fn("circulant"), lambda rng, b, n, dt: (rand(rng, b + (n,), dt),)),
    "companion": Case(fn("companion"),
                      lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt) + 3,)),
    "convolution_matrix_same": Case(fn("convolution_matrix", n=3, mode="same"),
                                    lambda rng, b, n, dt: (rand(rng, b + (n,), dt),)),
    "convolution_matrix_valid": Case(fn("convolution_matrix", n=2, mode="valid"),
                                     lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt),)),
    "fiedler": Case(fn("fiedler"), lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt),),
                    dtypes=REAL),
    "fiedler_companion": Case(fn("fiedler_companion"),
                              lambda rng, b, n, dt: (rand(rng, b + (n + 3,), dt) + 3,)),
    "leslie": Case(fn("leslie"), lambda rng, b, n, dt: (rand(rng, b + (n + 1,), dt),
                                                        rand(rng, (n,), dt))),
    "block_diag": Case(fn("block_diag"), lambda rng, b, n, dt: (
        rand(rng, b + (n, n + 1), dt), rand(rng, (2, 1), dt), rand(rng, (), dt))),
}


@st.composite
def batch_n(draw, batch=True):
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if batch else ()
    return shape, draw(st.integers(1, 4))


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
@VALUES
@given(data=st.data(), seed=seeds)
def test_values_match_scipy(name, data, seed):
    case = VALUE_CASES[name]
    batch, n = data.draw(batch_n(case.batch), label="batch, n")
    dt = np.dtype(data.draw(st.sampled_from(case.dtypes), label="dtype"))
    args = case.make(np.random.default_rng(seed), batch, n, dt)
    SL.emulated = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = case.call(SL)(*args)
    got_eager = case.call(L)(*args)
    single = any(np.asarray(x).dtype in (np.float32, np.complex64) for x in args)
    if SL.emulated:   # SciPy before 1.16 cannot: funcdiff's own code runs eagerly
        same(got_eager, want, single)
    else:
        _helpers.assert_same(got_eager, want, exact=True, tree=True)    # SciPy itself
    same(traced(case.call(L), *args), want, single)


# the dtype rules, one matrix per dtype (bools, small integers and float16 included)
DTYPE_RULE_CASES = ["cholesky", "inv", "det", "solve", "lu", "lu_factor", "eigh", "svd",
                    "qr", "schur", "hessenberg", "polar", "funm", "expm_frechet",
                    "solve_sylvester", "pinv", "eigvals", "norm", "cosm", "sinhm",
                    "toeplitz", "circulant", "leslie", "block_diag"]


_M = np.array([[4, 1, 0], [1, 3, 1], [0, 1, 2]])       # SPD, small entries
_V = np.array([1, 2, 1])
_DT_ARGS = {"solve": (_M, _V), "expm_frechet": (_M, _M), "solve_sylvester": (_M, _M, _M),
            "toeplitz": (_V, _V), "circulant": (_V,), "leslie": (_V, _V[:2]),
            "block_diag": (_M, _V[None])}
# SciPy's own result is not meaningful here (bool matrix products are logical; -A of an
# unsigned A wraps around): not a dtype rule to follow
_SCIPY_BROKEN = {("expm_frechet", "?"), ("sinhm", "u2")}


@pytest.mark.parametrize("dt", ["?", "i1", "u2", "i4", "f2", "c8"])
@pytest.mark.parametrize("name", DTYPE_RULE_CASES)
def test_dtype_rules(name, dt):
    if (name, dt) in _SCIPY_BROKEN:
        pytest.skip("SciPy's result for this dtype is not meaningful")
    case = VALUE_CASES[name]
    args = _DT_ARGS.get(name, (_M,))
    args = tuple((np.eye(3, dtype=bool) if a.ndim == 2 and a.shape[0] == a.shape[1]
                  else a > 0) if dt == "?" else a.astype(dt) for a in args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = case.call(sl)(*args)
        except Exception:          # SciPy refuses this dtype (e.g. expm_frechet float16)
            pytest.skip(f"scipy.linalg.{name} raises for {np.dtype(dt).name}")
    single = np.dtype(dt) in (np.float16, np.complex64) or dt in ("?", "i1", "u2")
    same(traced(case.call(L), *args), want, single)


# --- namespace -----------------------------------------------------------------------------

TARGETS = """block_diag cho_factor cho_solve cholesky circulant companion convolution_matrix
det dft eigh eigh_tridiagonal expm expm_frechet fiedler fiedler_companion funm hadamard
hankel helmert hessenberg hilbert inv invhilbert invpascal leslie lu lu_factor lu_solve
pascal polar qr qr_multiply rsf2csf schur solve solve_sylvester solve_triangular sqrtm svd
toeplitz""".split()


def test_namespace_is_scipys():
    assert set(TARGETS) <= set(L.__all__)
    for name in L.__all__:
        assert hasattr(sl, name), name             # SciPy's names only
        assert callable(getattr(L, name)) or name == "LinAlgError"
    assert dir(L) == sorted(L.__all__)
    for helper in ("np", "la", "Tracer", "ew", "math", "warnings", "aval", "annotations"):
        assert not hasattr(L, helper), helper
    ns = {}
    exec("from funcdiff.scipy.linalg import *", ns)     # __all__ is importable
    assert set(ns) - {"__builtins__"} == set(L.__all__)


def test_containers_follow_scipy(rng):
    """A single matrix: a tuple; a batch: SciPy's batch wrapper returns a list."""
    a = spd(rng, (3, 3), np.float64)
    for f in (L.eigh, L.svd, L.qr, L.polar, L.lu_factor, L.schur):
        assert type(fd.jit(f)(a)) is type(f(a)) is tuple
        assert type(fd.jit(f)(a[None])) is type(f(a[None])) is list
    assert type(fd.jit(lambda a: L.qr(a, mode="r"))(a)) is tuple   # (R,), as SciPy


# --- integer-size special matrices --------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_constant_matrices(n):
    calls = [("dft", {}), ("dft", dict(scale="sqrtn")), ("dft", dict(scale="n")),
             ("hilbert", {}), ("helmert", {}), ("helmert", dict(full=True)),
             ("invhilbert", {}), ("invhilbert", dict(exact=True))]
    calls += [(name, dict(kind=kind, exact=exact)) for name in ("pascal", "invpascal")
              for kind in ("symmetric", "lower", "upper") for exact in (True, False)]
    if n & (n - 1) == 0:
        calls += [("hadamard", {}), ("hadamard", dict(dtype=np.float32))]
    for name, kw in calls:
        want = getattr(sl, name)(n, **kw)
        assert getattr(L, name)(n, **kw) is not None
        got = getattr(L, name).traced(n, **kw)          # funcdiff's own (NumPy) code
        _helpers.assert_same(got, want, exact=want.dtype.kind in "iuO")
        # under a transform: a constant
        out = fd.jit(lambda x: x * np.abs(getattr(L, name)(n, **kw).astype(complex)).sum())(1.0)
        np.testing.assert_allclose(out, np.abs(want.astype(complex)).sum())


def test_constant_matrices_big_exact():
    """Object arrays of Python ints where int64 would overflow, as SciPy."""
    for name, n in (("invhilbert", 15), ("pascal", 35), ("invpascal", 35)):
        want = getattr(sl, name)(n, exact=True)
        got = getattr(L, name).traced(n, exact=True)
        assert got.dtype == want.dtype == object
        assert (got == want).all()


# --- derivatives ----------------------------------------------------------------------------

def _sym(a):
    return (a + np.conj(a.T)) / 2


def _signfix(w, v):
    """Eigenvectors up to sign/phase: ``v[:, j] * conj(v[0, j])`` is invariant."""
    return w, v * fnp.conj(v[..., :1, :])


def _gp_like(rng, n):
    return spd(rng, (n, n), np.float64)


GRAD_CASES = {
    "cholesky": (L.cholesky, lambda r: (spd(r, (3, 3), np.complex128),)),
    "cholesky_lower": (lambda a: L.cholesky(a, lower=True), lambda r: (spd(r, (3, 3), "f8"),)),
    "solve": (L.solve, lambda r: (general(r, (3, 3), "c16"), rand(r, (3, 2), "c16"))),
    "solve_transposed": (lambda a, b: L.solve(a, b, transposed=True),
                         lambda r: (general(r, (3, 3), "f8"), rand(r, (3,), "f8"))),
    "solve_sym": (lambda a, b: L.solve(a, b, assume_a="sym"),
                  lambda r: (general(r, (3, 3), "c16"), rand(r, (3,), "c16"))),
    "solve_her": (lambda a, b: L.solve(a, b, assume_a="her", lower=True),
                  lambda r: (herm(r, (3, 3), "c16") + 4 * np.eye(3), rand(r, (3,), "c16"))),
    "solve_pos": (lambda a, b: L.solve(a, b, assume_a="pos"),
                  lambda r: (spd(r, (3, 3), "f8"), rand(r, (3, 2), "f8"))),
    "solve_tridiagonal": (lambda a, b: L.solve(a, b, assume_a="tridiagonal"),
                          lambda r: (general(r, (4, 4), "f8"), rand(r, (4,), "f8"))),
    "solve_diagonal": (lambda a, b: L.solve(a, b, assume_a="diagonal"),
                       lambda r: (general(r, (3, 3), "f8"), rand(r, (3,), "f8"))),
    "solve_lower": (lambda a, b: L.solve(a, b, assume_a="lower triangular"),
                    lambda r: (general(r, (3, 3), "f8"), rand(r, (3,), "f8"))),
    "inv": (L.inv, lambda r: (general(r, (3, 3), "c16"),)),
    "inv_pos": (lambda a: L.inv(a, assume_a="pos", lower=True),
                lambda r: (spd(r, (3, 3), "f8"),)),
    "inv_upper": (lambda a: L.inv(a, assume_a="upper triangular"),
                  lambda r: (general(r, (3, 3), "f8"),)),
    "det": (L.det, lambda r: (general(r, (3, 3), "f8"),)),
    "lu": (lambda a: L.lu(a)[1:], lambda r: (general(r, (3, 3), "f8"),)),
    "lu_tall_complex": (lambda a: L.lu(a)[1:], lambda r: (rand(r, (4, 3), "c16"),)),
    "lu_wide_permute_l": (lambda a: L.lu(a, permute_l=True),
                          lambda r: (rand(r, (2, 4), "f8"),)),
    "lu_factor": (lambda a: L.lu_factor(a)[0], lambda r: (general(r, (3, 3), "f8"),)),
    "lu_solve": (lambda a, b: L.lu_solve(L.lu_factor(a), b),
                 lambda r: (general(r, (3, 3), "f8"), rand(r, (3, 2), "f8"))),
    "lu_solve_H": (lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=2),
                   lambda r: (general(r, (3, 3), "c16"), rand(r, (3,), "c16"))),
    "eigh": (lambda a: _signfix(*L.eigh(a)), lambda r: (herm(r, (3, 3), "f8"),)),
    "eigh_complex_upper": (lambda a: _signfix(*L.eigh(a, lower=False)),
                           lambda r: (herm(r, (3, 3), "c16"),)),
    "eigh_subset": (lambda a: _signfix(*L.eigh(a, subset_by_index=(1, 2))),
                    lambda r: (herm(r, (4, 4), "f8"),)),
    "eigh_generalized": (lambda a, b: _signfix(*L.eigh(a, b)),
                         lambda r: (herm(r, (3, 3), "f8"), spd(r, (3, 3), "f8"))),
    "eigh_generalized_3": (lambda a, b: L.eigh(a, b, type=3, eigvals_only=True),
                           lambda r: (herm(r, (3, 3), "f8"), spd(r, (3, 3), "f8"))),
    "eigvalsh": (L.eigvalsh, lambda r: (herm(r, (3, 3), "c16"),)),
    "eigh_tridiagonal": (lambda d, e: _signfix(*L.eigh_tridiagonal(d, e)),
                         lambda r: (np.arange(4.0) * 2 + rand(r, (4,), "f8"),
                                    rand(r, (3,), "f8"))),
    "eigh_tridiagonal_index": (lambda d, e: _signfix(*L.eigh_tridiagonal(
        d, e, select="i", select_range=(1, 2))), lambda r: (np.arange(4.0) * 2 +
                                                           rand(r, (4,), "f8"),
                                                           rand(r, (3,), "f8"))),
    "eigvals": (L.eigvals, lambda r: (herm(r, (3, 3), "f8") + np.triu(rand(r, (3, 3),
                                                                             "f8"), 1),)),
    "svd_values": (lambda a: L.svd(a, compute_uv=False), lambda r: (rand(r, (4, 3), "c16"),)),
    "svd": (lambda a: (lambda u, s, vh: (u * u[:1], s, vh * vh[:, :1]))(
        *L.svd(a, full_matrices=False)), lambda r: (distinct_sv(r, (4, 3), "f8"),)),
    "qr_economic": (lambda a: L.qr(a, mode="economic"),
                    lambda r: (distinct_sv(r, (4, 3), "f8"),)),
    "qr_r": (lambda a: L.qr(a, mode="r"), lambda r: (distinct_sv(r, (3, 3), "c16"),)),
    "qr_multiply": (lambda a, c: L.qr_multiply(a, c)[0],
                    lambda r: (distinct_sv(r, (4, 3), "f8"), rand(r, (2, 4), "f8"))),
    "polar": (L.polar, lambda r: (general(r, (3, 3), "c16"),)),
    "polar_identity": (L.polar, lambda r: (np.eye(3),)),           # repeated singular values
    "polar_tall": (L.polar, lambda r: (distinct_sv(r, (4, 3), "f8"),)),
    "polar_left": (lambda a: L.polar(a, side="left"), lambda r: (rand(r, (2, 4), "f8"),)),
    "polar_left_tall_svd": (lambda a: L.polar(a, side="left")[0],
                            lambda r: (distinct_sv(r, (4, 2), "f8"),)),
    "expm_frechet": (L.expm_frechet, lambda r: (rand(r, (3, 3), "f8"), rand(r, (3, 3), "f8"))),
    "solve_sylvester": (L.solve_sylvester, lambda r: (general(r, (3, 3), "c16"),
                                                      general(r, (2, 2), "c16"),
                                                      rand(r, (3, 2), "c16"))),
    "funm_exp": (lambda a: L.funm(a, np.exp), lambda r: (rand(r, (3, 3), "f8"),)),
    "funm_sin_complex": (lambda a: L.funm(a, np.sin), lambda r: (rand(r, (3, 3), "c16"),)),
    "funm_sqrt": (lambda a: L.funm(a, np.sqrt), lambda r: (spd(r, (3, 3), "f8"),)),
    "funm_poly_repeated": (lambda a: L.funm(a, lambda x: x ** 3 - 2 * x),
                           lambda r: (np.diag([1.0, 1.0, 2.0]),)),
    "cosm": (L.cosm, lambda r: (rand(r, (3, 3), "f8"),)),
    "sinm_complex": (L.sinm, lambda r: (rand(r, (3, 3), "c16"),)),
    "tanm": (L.tanm, lambda r: (rand(r, (3, 3), "f8") / 2,)),
    "tanhm": (L.tanhm, lambda r: (rand(r, (3, 3), "f8"),)),
    "pinv": (L.pinv, lambda r: (distinct_sv(r, (4, 3), "f8"),)),
    "lstsq": (lambda a, b: L.lstsq(a, b)[0], lambda r: (distinct_sv(r, (4, 3), "f8"),
                                                        rand(r, (4,), "f8"))),
    "norm": (lambda a: L.norm(a, "fro"), lambda r: (rand(r, (4, 3), "c16"),)),
    "toeplitz": (L.toeplitz, lambda r: (rand(r, (3,), "c16"), rand(r, (4,), "c16"))),
    "toeplitz_hermitian": (L.toeplitz, lambda r: (rand(r, (3,), "c16"),)),
    "hankel": (L.hankel, lambda r: (rand(r, (3,), "f8"), rand(r, (2,), "f8"))),
    "circulant": (L.circulant, lambda r: (rand(r, (2, 3), "f8"),)),
    "companion": (L.companion, lambda r: (rand(r, (4,), "f8") + 3,)),
    "convolution_matrix": (lambda a: L.convolution_matrix(a, 4, "same"),
                           lambda r: (rand(r, (3,), "f8"),)),
    "fiedler": (L.fiedler, lambda r: (np.arange(4.0) + rand(r, (4,), "f8") / 4,)),
    "fiedler_companion": (L.fiedler_companion, lambda r: (rand(r, (6,), "f8") + 3,)),
    "leslie": (L.leslie, lambda r: (rand(r, (3,), "f8"), rand(r, (2,), "f8"))),
    "block_diag": (L.block_diag, lambda r: (rand(r, (2, 2), "f8"), rand(r, (1, 3), "f8"))),
}

# at repeated eigenvalues only the first derivative is exact (the second goes through
# eig's eigenvector derivative, undefined there)
_FIRST_ORDER = {"funm_poly_repeated": 1}
_LOOSE = {"eigh", "eigh_complex_upper", "eigh_subset", "eigh_generalized",
          "eigh_tridiagonal", "eigh_tridiagonal_index", "eigvals", "svd", "qr_economic",
          "qr_r", "qr_multiply", "funm_sqrt", "funm_sin_complex"}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grads(name):
    f, make = GRAD_CASES[name]
    args = make(np.random.default_rng(7))
    tol = dict(atol=1e-4, rtol=1e-4) if name in _LOOSE else {}
    check_grads(f, args, order=_FIRST_ORDER.get(name, 2), modes=("fwd", "rev"), **tol)


def test_lu_jvp_matches_finite_differences_of_scipy(rng):
    a, da = general(rng, (4, 4), np.float64), rng.normal(size=(4, 4))
    _, t = fd.jvp(lambda a: L.lu_factor(a)[0], (a,), (da,))
    h = 1e-6
    want = (sl.lu_factor(a + h * da)[0] - sl.lu_factor(a - h * da)[0]) / (2 * h)
    np.testing.assert_allclose(t, want, rtol=1e-6, atol=1e-8)


def test_polar_derivative_at_repeated_singular_values(rng):
    """p = (a^T a)^(1/2) is smooth where the SVD's vectors are not: at a = I the jvp
    is the symmetric part of the direction (u's is the skew part)."""
    e = rng.normal(size=(3, 3))
    (u, p), (du, dp) = fd.jvp(L.polar, (np.eye(3),), (e,))
    np.testing.assert_allclose(dp, (e + e.T) / 2, atol=1e-12)
    np.testing.assert_allclose(du, (e - e.T) / 2, atol=1e-12)


def test_funm_derivative_matches_expm_frechet(rng):
    a, e = rng.normal(size=(4, 4)) / 2, rng.normal(size=(4, 4))
    _, t = fd.jvp(lambda a: L.funm(a, np.exp), (a,), (e,))
    np.testing.assert_allclose(t, sl.expm_frechet(a, e, compute_expm=False), rtol=1e-8,
                               atol=1e-10)


def test_funm_derivative_needs_a_traceable_func(rng):
    import cmath
    a = rng.normal(size=(3, 3))
    f = np.vectorize(cmath.exp)     # works on NumPy arrays, not on traced ones
    np.testing.assert_allclose(L.funm(a, f), sl.funm(a, f))
    with pytest.raises(GradientError, match="traces `func`"):
        fd.grad(lambda a: L.funm(a, f).sum())(a)


def test_expm_frechet_second_derivative_in_E_is_zero(rng):
    a, e, v = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    f = lambda e: L.expm_frechet(a, e, compute_expm=False)   # noqa: E731 - linear in E
    second = fd.jvp(lambda e: fd.jvp(f, (e,), (v,))[1], (e,), (v,))[1]
    np.testing.assert_allclose(second, 0, atol=1e-12)


def test_no_derivative_for_schur_hessenberg_rsf2csf(rng):
    a = general(rng, (4, 4), np.float64)
    for f in (lambda a: L.schur(a)[0], lambda a: L.schur(a, output="complex")[1].real,
              lambda a: L.hessenberg(a), lambda a: L.rsf2csf(*L.schur(a))[0].real):
        with pytest.raises(GradientError, match="no derivative"):
            fd.grad(lambda a: f(a).sum())(a)
        with pytest.raises(GradientError, match="no derivative"):
            fd.jvp(f, (a,), (a,))
    # a tangent that is never used costs nothing: sdim is an integer, T's is dropped
    g = fd.grad(lambda a: (a * L.schur(a, sort="lhp")[2]).sum())(a)
    np.testing.assert_array_equal(g, np.full(a.shape, sl.schur(a, sort="lhp")[2]))
    g = fd.grad(lambda a: (a * fd.stop_gradient(L.schur(a)[0])).sum())(a)
    np.testing.assert_allclose(g, sl.schur(a)[0])
    # hessenberg of a 2x2 is the matrix itself: differentiable
    np.testing.assert_array_equal(fd.grad(lambda a: L.hessenberg(a).sum())(a[:2, :2]), 1)


# --- vmap, jit ---------------------------------------------------------------------------------

FUNS = {
    "cholesky": lambda a, b: L.cholesky(a),
    "solve": lambda a, b: L.solve(a, b),
    "solve_pos": lambda a, b: L.solve(a, b, assume_a="pos"),
    "inv": lambda a, b: L.inv(a),
    "det": lambda a, b: L.det(a),
    "lu": lambda a, b: L.lu(a)[1],
    "lu_p_indices": lambda a, b: L.lu(a, p_indices=True)[0],
    "lu_solve": lambda a, b: L.lu_solve(L.lu_factor(a), b),
    "lu_solve_T": lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=1),
    "eigh": lambda a, b: L.eigh(a)[0],
    "eigh_subset": lambda a, b: L.eigh(a, subset_by_index=(1, 2))[1],
    "eigh_generalized": lambda a, b: L.eigh(a, a + 3 * np.eye(3), eigvals_only=True),
    "svd": lambda a, b: L.svd(a)[1],
    "qr": lambda a, b: L.qr(a)[1],
    "polar": lambda a, b: L.polar(a)[1],
    "schur": lambda a, b: L.schur(a)[0],
    "hessenberg": lambda a, b: L.hessenberg(a),
    "rsf2csf": lambda a, b: L.rsf2csf(*L.schur(a))[0],
    "funm": lambda a, b: L.funm(a, np.exp),
    "expm_frechet": lambda a, b: L.expm_frechet(a / 3, a)[1],
    "solve_sylvester": lambda a, b: L.solve_sylvester(a, a, a),
    "cosm": lambda a, b: L.cosm(a / 3),
    "toeplitz": lambda a, b: L.toeplitz(b, b),
    "circulant": lambda a, b: L.circulant(b),
    "companion": lambda a, b: L.companion(b + 3),
    "block_diag": lambda a, b: L.block_diag(a, b[None]),
    "eigh_tridiagonal": lambda a, b: L.eigh_tridiagonal(b, b[:2])[1],
    "pinv": lambda a, b: L.pinv(a),
}

_NOT_DIFFERENTIABLE = {"schur", "hessenberg", "rsf2csf", "lu_p_indices"}   # or integer


def _scalar(f):
    def g(a, b):
        out = fnp.asarray(f(a, b))
        return fnp.sum(fnp.real(out) ** 2) if out.dtype.kind == "c" else fnp.sum(out ** 2)
    return g


@pytest.mark.parametrize("name", sorted(FUNS))
def test_vmap_matches_loop(name, rng):
    f = FUNS[name]
    a, b = spd(rng, (3, 3, 3), np.float64), rng.normal(size=(3, 3))
    for in_axes in [(0, 0), (0, None), (None, 0)]:
        aa = a if in_axes[0] == 0 else a[0]
        bb = b if in_axes[1] == 0 else b[0]
        got = fd.vmap(f, in_axes=in_axes)(aa, bb)
        want = np.stack([np.asarray(f(a[i] if in_axes[0] == 0 else aa,
                                      b[i] if in_axes[1] == 0 else bb)) for i in range(3)])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    if name not in _NOT_DIFFERENTIABLE:
        g = fd.grad(_scalar(f))
        want = np.stack([g(x, y) for x, y in zip(a, b)])
        np.testing.assert_allclose(fd.vmap(g)(a, b), want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", sorted(FUNS))
def test_jit_matches_interpreter(name, rng):
    f = FUNS[name]
    a, b = spd(rng, (3, 3), np.float64), rng.normal(size=3)
    np.testing.assert_allclose(fd.jit(f)(a, b), traced(f, a, b), rtol=1e-12, atol=1e-14)
    if name not in _NOT_DIFFERENTIABLE:
        g = fd.grad(_scalar(f), argnums=(0, 1))
        for x, y in zip(fd.jit(g)(a, b), g(a, b)):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_value_subsets_need_values(rng):
    """subset_by_value / select='v' decide the output shape from the values: fine under
    grad (values known), a ConcretizationError under jit."""
    a = herm(rng, (4, 4), np.float64)
    w = sl.eigvalsh(a)
    lo, hi = w[0] - 0.1, (w[1] + w[2]) / 2
    want = sl.eigh(a, subset_by_value=(lo, hi))
    got = fd.jvp(lambda a: L.eigh(a, subset_by_value=(lo, hi)), (a,), (a,))[0]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1] * got[1][:1], want[1] * want[1][:1], rtol=1e-10)
    check_grads(lambda a: L.eigh(a, subset_by_value=(lo, hi), eigvals_only=True), (a,),
                order=2)
    with pytest.raises(ConcretizationError, match="subset_by_value"):
        fd.jit(lambda a: L.eigh(a, subset_by_value=(lo, hi)))(a)
    d, e = rng.normal(size=5), rng.normal(size=4)
    want = sl.eigh_tridiagonal(d, e, select="v", select_range=(-0.5, 1.0))
    got = fd.jvp(lambda d: L.eigh_tridiagonal(d, e, select="v", select_range=(-0.5, 1.0)),
                 (d,), (d,))[0]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    empty = fd.jvp(lambda a: L.eigh(a, subset_by_value=(100, 200)), (a,), (a,))[0]
    assert empty[0].shape == (0,) and empty[1].shape == (4, 0)
    with pytest.raises(ConcretizationError, match="select='v'"):
        fd.jit(lambda d: L.eigh_tridiagonal(d, e, select="v", select_range=(-1, 1)))(d)
    # a batch stacks only equal counts (and indices), as SciPy's batch loop
    batch = np.stack([np.diag([0.0, 1.0, 2.0]), np.diag([0.0, 1.0, 5.0])])
    with pytest.raises(FuncdiffValueError, match="different numbers"):
        fd.jvp(lambda a: L.eigh(a, subset_by_value=(0.5, 3)), (batch,), (batch,))
    batch = np.stack([np.diag([0.0, 1.0, 2.0]), np.diag([-1.0, 0.0, 1.0])])
    with pytest.raises(FuncdiffValueError, match="different indices"):
        fd.jvp(lambda a: L.eigh(a, subset_by_value=(0.5, 1.5)), (batch,), (batch,))
    got = fd.jvp(lambda a: L.eigh(a, subset_by_value=(0.5, 1.5))[0], (batch[:1],),
                 (batch[:1],))[0]
    np.testing.assert_allclose(got, [[1.0]])


# --- errors and documented differences ------------------------------------------------------

def test_errors(rng):
    a, sq = rng.normal(size=(3, 3)), np.eye(3)
    cases = [
        (ValueError, "not a recognized", lambda: L.solve(sq, np.ones(3), assume_a="x")),
        (KeyError, "tridiagonal", lambda: L.inv(sq, assume_a="tridiagonal")),
        (ValueError, "square", lambda: L.solve(np.ones((2, 3)), np.ones(2))),
        # (SciPy before 1.16 words it "... same number of rows ...")
        (ValueError, "incompatible|same number", lambda: L.solve(sq, np.ones(4))),
        (NotImplementedError, "complex", lambda: L.solve(sq + 0j, np.ones(3),
                                                         transposed=True)),
        (ValueError, "two-dimensional", lambda: L.det(np.ones(3))),
        (ValueError, "square", lambda: L.det(np.ones((2, 3)))),
        (ValueError, "ndim=2|square", lambda: L.inv(np.ones(3))),   # (SciPy < 1.16)
        (ValueError, "square", lambda: L.cholesky(np.ones((2, 3)))),
        (np.linalg.LinAlgError, "positive definite|not positive", lambda: L.cholesky(-sq)),
        (np.linalg.LinAlgError, "ingular", lambda: L.inv(np.zeros((3, 3)))),
        (ValueError, "two-dimensional", lambda: L.lu(np.ones(3))),
        (ValueError, "trans", lambda: L.lu_solve(sl.lu_factor(sq), np.ones(3), trans="T")),
        (ValueError, "incompatible", lambda: L.lu_solve(sl.lu_factor(sq), np.ones(4))),
        (ValueError, "unknown", lambda: L.eigh(sq, driver="xyz")),
        (ValueError, "requires input b", lambda: L.eigh(sq, driver="gvd")),
        (ValueError, "does not accept", lambda: L.eigh(sq, sq, driver="evd")),
        (ValueError, "cannot compute subsets", lambda: L.eigh(sq, driver="evd",
                                                              subset_by_index=(0, 1))),
        (ValueError, "indices are not valid", lambda: L.eigh(sq, subset_by_index=(2, 5))),
        (ValueError, "bounds are not valid", lambda: L.eigh(sq, subset_by_value=(2, 1))),
        (ValueError, "Either index or value", lambda: L.eigh(sq, subset_by_index=(0, 1),
                                                             subset_by_value=(0, 1))),
        (ValueError, "wrong b dimensions", lambda: L.eigh(sq, np.eye(2))),
        (ValueError, '"type"', lambda: L.eigh(sq, sq, type=4)),
        (TypeError, "real", lambda: L.eigh_tridiagonal(np.ones(3) + 0j, np.ones(2))),
        (ValueError, "one more element", lambda: L.eigh_tridiagonal(np.ones(3),
                                                                    np.ones(3))),
        (ValueError, "lapack_driver", lambda: L.eigh_tridiagonal(np.ones(3), np.ones(2),
                                                                 lapack_driver="x")),
        (ValueError, "sterf", lambda: L.eigh_tridiagonal(np.ones(3), np.ones(2),
                                                         lapack_driver="sterf")),
        (ValueError, "select", lambda: L.eigh_tridiagonal(np.ones(3), np.ones(2),
                                                          select="x")),
        (ValueError, "lapack_driver", lambda: L.svd(a, lapack_driver="x")),
        (TypeError, "lapack_driver", lambda: L.svd(a, lapack_driver=1)),
        (ValueError, "expected matrix", lambda: L.svd(np.ones(3))),
        (ValueError, "Mode", lambda: L.qr(a, mode="x")),
        (ValueError, "Mode", lambda: L.qr_multiply(a, a, mode="x")),
        (ValueError, "not compatible", lambda: L.qr_multiply(a, np.ones((2, 2)))),
        (ValueError, "side", lambda: L.polar(a, side="x")),
        (ValueError, "2-D", lambda: L.polar(np.ones(3))),
        (ValueError, "real", lambda: L.schur(a, output="x")),
        (ValueError, "sort", lambda: L.schur(a, sort="x")),
        (ValueError, "square", lambda: L.hessenberg(np.ones((2, 3)))),
        (ValueError, "must match", lambda: L.rsf2csf(sq, np.eye(2))),
        (ValueError, "square", lambda: L.rsf2csf(np.ones((2, 3)), sq)),
        (ValueError, "same shape", lambda: L.expm_frechet(sq, np.eye(2))),
        (ValueError, "Unknown", lambda: L.expm_frechet(sq, sq, method="x")),
        (ValueError, "q must have shape|not aligned", lambda: L.solve_sylvester(sq, sq, np.ones((3, 2)))),
        (ValueError, "positive", lambda: L.pinv(a, atol=-1)),
        (ValueError, "Shape mismatch", lambda: L.lstsq(a, np.ones(4))),
        (ValueError, "not found", lambda: L.lstsq(a, np.ones(3), lapack_driver="x")),
        (ValueError, "at least 2", lambda: L.companion(np.ones(1))),
        (ValueError, "must not be zero", lambda: L.companion(np.array([0.0, 1.0]))),
        (ValueError, "Leading coefficient", lambda: L.fiedler_companion(np.array(
            [0.0, 1, 2]))),
        (ValueError, "Incorrect lengths", lambda: L.leslie(np.ones(3), np.ones(3))),
        (ValueError, "at least 1", lambda: L.leslie(np.ones(1), np.ones(0))),
        (ValueError, "positive integer", lambda: L.convolution_matrix(np.ones(3), 0)),
        (ValueError, "mode", lambda: L.convolution_matrix(np.ones(3), 2, mode="x")),
        (ValueError, "at least 1", lambda: L.convolution_matrix(np.ones(0), 2)),
        (ValueError, "power of 2", lambda: L.hadamard(3)),
        (ValueError, "scale", lambda: L.dft(3, scale="x")),
        (ValueError, "kind", lambda: L.pascal(3, kind="x")),
        (ValueError, "kind", lambda: L.invpascal(3, kind="x")),
        (ValueError, "zero-size batches", lambda: L.cholesky(np.ones((0, 3, 3)))),
        (ValueError, "zero-size batches", lambda: L.eigh(np.ones((0, 3, 3)))),
    ]
    # not supported on traced values (SciPy's eager path supports them); bad pivots
    # (SciPy's getrs writes out of bounds with them)
    traced_only = [
        (FuncdiffValueError, "generalized", lambda: L.eig(sq, sq)),
        (FuncdiffValueError, "left", lambda: L.eig(sq, left=True)),
        (FuncdiffValueError, "raw", lambda: L.qr(a, mode="raw")),
        (FuncdiffValueError, "pivoting", lambda: L.qr(a, pivoting=True)),
        (FuncdiffValueError, "pivoting", lambda: L.qr_multiply(a, a, pivoting=True)),

        (ValueError, "piv", lambda: L.lu_solve((sq, np.zeros(2, np.int32)), np.ones(3))),
        (FuncdiffValueError, "pivot indices", lambda: L.lu_solve((sq, np.array(
            [0, 5, 2], np.int32)), np.ones(3))),
    ]
    for i, (exc, match, call) in enumerate(cases + traced_only):
        for mode in ("eager", "traced") if i < len(cases) else ("traced",):
            with pytest.raises(exc, match=match), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if mode == "eager":
                    call()
                else:
                    fd.jit(lambda x: (call(), x)[1])(1.0)


def test_documented_differences(rng):
    a = general(rng, (3, 3), np.float64)
    # funm of a real matrix with no real f(A): SciPy complex, traced raises
    m = np.array([[1.0, 2.0], [0.0, -1.0]])
    assert L.funm(m, np.sqrt).dtype == np.complex128
    with pytest.raises(FuncdiffValueError, match="complex"):
        traced(lambda m: L.funm(m, np.sqrt), m)
    np.testing.assert_allclose(traced(lambda m: L.funm(m, np.sqrt), m + 0j),
                               sl.funm(m + 0j, np.sqrt))
    # eig's eigenvectors: always complex traced (SciPy's are real when w is real)
    s = spd(rng, (3, 3), np.float64)
    assert sl.eig(s)[1].dtype == np.float64
    w, v = traced(L.eig, s)
    assert v.dtype == np.complex128
    np.testing.assert_allclose(w, sl.eig(s)[0], rtol=1e-12)
    # inv(assume_a='diagonal') reads the diagonal only (SciPy 1.17 keeps the
    # off-diagonal input entries in its result)
    np.testing.assert_allclose(traced(lambda a: L.inv(a, assume_a="diagonal"), a),
                               np.diag(1 / np.diag(a)))
    # svd(lapack_driver='gesvd') is computed by gesdd: the same factorization
    u, sv, vh = traced(lambda a: L.svd(a, lapack_driver="gesvd"), a)
    np.testing.assert_allclose((u * sv) @ vh, a, atol=1e-12)
    np.testing.assert_allclose(sv, sl.svd(a, lapack_driver="gesvd")[1], rtol=1e-12)


def test_special_shapes():
    """Empty matrices and 1x1 quirks, as SciPy."""
    calls = [
        (lambda M: M.lu(np.zeros((3, 0)))), (lambda M: M.lu(np.zeros((0, 2)),
                                                                p_indices=True)),
        (lambda M: M.lu(np.zeros((2, 0)), permute_l=True)),
        (lambda M: M.lu(np.array([[3]]))), (lambda M: M.lu(np.array([[3j]]),
                                                            p_indices=True)),
        (lambda M: M.lu(np.array([[2.0]]), permute_l=True)),
        (lambda M: M.lu_factor(np.zeros((0, 0), int))),
        (lambda M: M.det(np.zeros((0, 0)))), (lambda M: M.det(np.zeros((2, 0, 0)))),
        (lambda M: M.det(np.array([[2]], np.float32))),
        (lambda M: M.inv(np.zeros((0, 0), np.float32))),
        (lambda M: M.cholesky(np.array(4.0))), (lambda M: M.cholesky(np.zeros((0, 0)))),
        (lambda M: M.solve(np.array([[2.0]]), np.ones(3))),
        (lambda M: M.solve(np.zeros((0, 0)), np.zeros(0))),
        (lambda M: M.eigh(np.zeros((0, 0)))), (lambda M: M.svd(np.zeros((2, 0)))),
        (lambda M: M.svd(np.zeros((2, 0)), full_matrices=False)),
        (lambda M: M.qr(np.zeros((2, 0)))), (lambda M: M.qr(np.zeros((0, 2)),
                                                             mode="economic")),
        (lambda M: M.schur(np.zeros((0, 0)))),
        (lambda M: M.hessenberg(np.zeros((0, 0)), calc_q=True)),
        (lambda M: M.hessenberg(np.array([[1, 2], [3, 4]]), calc_q=True)),
        (lambda M: M.eigh_tridiagonal(np.array([2.0]), np.zeros(0))),
        (lambda M: M.fiedler(np.ones(1))), (lambda M: M.fiedler(np.ones(0))),
        (lambda M: M.fiedler_companion(np.array([2.0, 3.0]))),
        (lambda M: M.fiedler_companion(np.array([2.0]))),
        (lambda M: M.block_diag()), (lambda M: M.block_diag([1, 2], [[3.0]])),
        (lambda M: M.lstsq(np.zeros((2, 0)), np.ones(2))),
        (lambda M: M.lstsq(np.zeros((2, 0), np.float32), np.ones((2, 3), np.float32))),
        (lambda M: M.lu_factor(np.zeros((2, 3, 0)))),
        (lambda M: M.pinv(np.zeros((2, 3, 0)), return_rank=True)),
        (lambda M: M.solve_sylvester(np.zeros((0, 0)), np.eye(2), np.zeros((0, 2)))),
        (lambda M: M.pinv(np.zeros((2, 0)))),
        (lambda M: M.toeplitz(3.0)), (lambda M: M.circulant(2.0)),
    ]
    for call in calls:
        want = call(SL)
        got = traced(lambda: call(L))
        want_leaves = [w for w in _helpers.leaves(want)]
        got_leaves = _helpers.leaves(got)
        assert len(got_leaves) == len(want_leaves)
        for g, w in zip(got_leaves, want_leaves):
            w = np.asarray(w)
            assert np.shape(g) == w.shape and np.asarray(g).dtype == w.dtype, (g, w)
            if w.size:
                np.testing.assert_allclose(g, w)


def test_hankel_raveled_with_future_warning():
    c = np.arange(4.0).reshape(2, 2)
    with warnings.catch_warnings():   # SciPy 1.17 warns too; before, it ravels silently
        warnings.simplefilter("ignore", FutureWarning)
        want = sl.hankel(c)
    with pytest.warns(FutureWarning, match="ravel"):
        got = traced(L.hankel, c)
    _helpers.assert_same(got, want)


# --- the NumPy fallbacks (without SciPy) -------------------------------------------------------

def test_lu_numpy_fallback(monkeypatch, rng):
    mats = [general(rng, (2, 4, 4), np.float64), rng.normal(size=(5, 3)),
            rng.normal(size=(3, 5)) + 1j * rng.normal(size=(3, 5)),
            np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0, 2.0], [2.0, 4.0]])]
    want = [dc.lu_p.impl(m) for m in mats]
    monkeypatch.setattr(dc, "_sla", None)
    for m, w in zip(mats, want):
        got = dc.lu_p.impl(m)
        np.testing.assert_allclose(got[0], w[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(got[1], w[1])
        np.testing.assert_array_equal(got[2], w[2])
    with pytest.raises(FuncdiffValueError, match="needs SciPy"):
        dc.schur_p.impl(np.eye(2), output="real", sort=None)


def test_funm_numpy_fallback(monkeypatch, rng):
    a = rng.normal(size=(2, 3, 3))
    want = mf.funm_p.impl(a, func=np.exp)[0]
    monkeypatch.setattr(mf, "_sla", None)
    np.testing.assert_allclose(mf.funm_p.impl(a, func=np.exp)[0], want, rtol=1e-10)


def test_traced_code_runs_eagerly_on_numpy(rng):
    """The functions' own code (what runs without SciPy) on plain arrays."""
    a, b = spd(rng, (2, 3, 3), np.float64), rng.normal(size=(2, 3, 2))
    for name, args in [("solve", (a, b)), ("inv", (a,)), ("det", (a,)), ("cholesky", (a,)),
                       ("lu", (a,)), ("lu_factor", (a,)), ("svd", (a,)), ("qr", (a,)),
                       ("polar", (a,)), ("toeplitz", (b[0, :, 0],)),
                       ("block_diag", (a[0], b[0]))]:
        _helpers.assert_same(getattr(L, name).traced(*args), getattr(SL, name)(*args),
                             tree=True, tols={_helpers.DEFAULT: 1e-10})


# --- a Gaussian process and a state-space model --------------------------------------------

def _kernel(x, log_ell, log_sf, log_sn):
    d2 = (x[:, None] - x[None, :]) ** 2
    k = fnp.exp(2 * log_sf) * fnp.exp(-0.5 * d2 / fnp.exp(2 * log_ell))
    return k + fnp.exp(2 * log_sn) * fnp.eye(x.shape[0])


def gp_nll(theta, x, y):
    """The GP negative log marginal likelihood, written as research code writes it."""
    k = _kernel(x, *theta)
    c = L.cholesky(k, lower=True)
    alpha = L.cho_solve((c, True), y)
    z = L.solve_triangular(c, y, lower=True)
    quad = 0.5 * fnp.dot(y, alpha)
    # the same quadratic form three ways: cho_solve, solve_triangular, solve(pos)
    quad2 = 0.5 * fnp.dot(z, z)
    quad3 = 0.5 * fnp.dot(y, L.solve(k, y, assume_a="pos"))
    return quad / 3 + quad2 / 3 + quad3 / 3 + fnp.sum(fnp.log(fnp.diag(c))) + \
        0.5 * x.shape[0] * np.log(2 * np.pi)


def _gp_nll_scipy(theta, x, y):
    log_ell, log_sf, log_sn = theta
    k = np.exp(2 * log_sf) * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 /
                                     np.exp(2 * log_ell)) + np.exp(2 * log_sn) * np.eye(len(x))
    c, low = sl.cho_factor(k, lower=True)
    return 0.5 * y @ sl.cho_solve((c, low), y) + np.log(np.diag(c)).sum() + \
        0.5 * len(x) * np.log(2 * np.pi)


def test_gaussian_process_hyperparameter_gradient(rng):
    x = np.sort(rng.uniform(0, 5, 12))
    y = np.sin(x) + 0.1 * rng.normal(size=12)
    theta = np.array([0.1, 0.2, -1.0])
    np.testing.assert_allclose(gp_nll(theta, x, y), _gp_nll_scipy(theta, x, y), rtol=1e-12)
    g = fd.grad(gp_nll)(theta, x, y)
    h = 1e-6
    fdg = [(_gp_nll_scipy(theta + h * e, x, y) - _gp_nll_scipy(theta - h * e, x, y)) / (2 * h)
           for e in np.eye(3)]
    np.testing.assert_allclose(g, fdg, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fd.jit(fd.grad(gp_nll))(theta, x, y), g, rtol=1e-10)
    check_grads(lambda t: gp_nll(t, x, y), (theta,), order=2)


def kalman_nll(log_q, ys, a=0.9, r=0.25):
    """A linear-Gaussian state-space model's negative log likelihood (Kalman filter with
    scipy.linalg.solve/inv/det/lu_solve) as a function of the process noise."""
    q = fnp.exp(log_q) * fnp.eye(2)
    F = np.array([[a, 0.1], [0.0, a]])
    H = np.array([[1.0, 0.0]])
    m, P = np.zeros(2), np.eye(2)
    nll = 0.0
    for y in ys:
        m, P = F @ m, F @ P @ F.T + q
        S = H @ P @ H.T + r
        v = y - H @ m
        K = L.solve(S, H @ P).T                      # P H^T S^{-1}
        nll = nll + 0.5 * (v @ L.lu_solve(L.lu_factor(S), v) + fnp.log(L.det(S)))
        m, P = m + K @ v, P - K @ S @ K.T
        P = L.inv(L.inv(P))                          # a no-op that must differentiate
    return nll


def test_state_space_likelihood_gradient(rng):
    ys = rng.normal(size=(8, 1))
    g = fd.grad(kalman_nll)(0.3, ys)
    h = 1e-6
    want = (kalman_nll(0.3 + h, ys) - kalman_nll(0.3 - h, ys)) / (2 * h)
    np.testing.assert_allclose(g, want, rtol=1e-6)


def test_primitive_errors():
    """The primitives' own checks (funcdiff.scipy.linalg validates before binding)."""
    from funcdiff.primitives import linalg as la
    from funcdiff.core.errors import ShapeError
    cases = [
        (FuncdiffValueError, "cannot compute subsets",
         lambda: la.eigh(np.eye(3), driver="evd", subset=(0, 1))),
        (ShapeError, "index subset", lambda: la.eigh(np.eye(3), driver="evr", subset=(2, 1))),
        (ShapeError, "matrix", lambda: dc.lu(np.ones(3))),
        (FuncdiffValueError, "integers", lambda: dc.lu_pivots_to_permutation(np.ones(2), 3)),
        (ShapeError, "pivots for a permutation",
         lambda: dc.lu_pivots_to_permutation(np.zeros(4, np.int32), 3)),
        (ShapeError, "complex", lambda: dc.rsf2csf(np.eye(2), np.eye(2))),
    ]
    for exc, match, call in cases:
        with pytest.raises(exc, match=match):
            fd.make_jaxpr(lambda x: (call(), x)[1])(1.0)
