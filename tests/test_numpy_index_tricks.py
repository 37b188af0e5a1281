"""Index tricks, ndarray methods and funcdiff arrays indexed by tracers (issue 14, items 4
and 5): ``r_ c_ s_ ix_ ravel_multi_index unravel_index diag_indices(_from)
tril/triu_indices(_from) mask_indices fromfunction`` (``_index_tricks.py``), the ndarray
methods of traced values (``_methods.py``) and ``Array.__getitem__`` with a traced index.

Everything is compared with NumPy (values, shapes, dtypes) under ``grad``/``jvp``
(concrete tracing), ``jit``, ``vmap`` (a Python loop) and ``make_jaxpr`` +
``eval_jaxpr``; derivatives by ``check_grads`` (order 2).  Plain ``numpy.r_`` /
``numpy.c_`` with traced parts are checked the same way as ``funcdiff.numpy``'s.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp
from funcdiff.core.errors import (ConcretizationError, FuncdiffError,
                                  TracerArrayConversionError)
from funcdiff.core.trace import Tracer
from funcdiff.test_util import check_grads

from _helpers import DEFAULT, assert_same as _assert_same, traced

CASES = settings(max_examples=30, deadline=None)
TOLS = {np.float32: 1e-6, DEFAULT: 1e-13}
seeds = st.integers(0, 2 ** 32 - 1)
RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal(3), RNG.standard_normal(3)
M = RNG.standard_normal((2, 3))
INTS = np.array([4, 5])


def assert_same(got, want, exact=False):
    _assert_same(got, want, exact, TOLS, tree=True)


def under_all(f, *args, order=2, batch=True):
    """``f(*args)`` written against ``m`` (numpy or funcdiff.numpy): the NumPy result
    equals funcdiff's traced (``make_jaxpr``), jit, grad-path (jvp values) and vmap
    results; derivatives check out."""
    want = f(np, *args)
    for m in (np, fnp):
        assert_same(traced(lambda *a: f(m, *a), *args, unpack=True), want)
        assert_same(fd.jit(lambda *a: f(m, *a))(*args), want)
        if all(np.asarray(a).dtype.kind == "f" for a in args):
            out, _ = fd.jvp(lambda *a: f(m, *a), args, tuple(np.ones_like(a) for a in args))
            assert_same(out, want)
        if batch:
            args2 = [a + 1 for a in args]
            got = fd.vmap(lambda *a: f(m, *a))(*[np.stack([a, b]) for a, b in zip(args, args2)])
            assert_same(got, np.stack([want, f(np, *args2)]))
    if order and all(np.asarray(a).dtype == np.float64 for a in args + (want,)):
        check_grads(lambda *a: f(np, *a), args, order=order)
    return want


# --- r_, c_, s_ -----------------------------------------------------------------------------

CONCAT = [
    ("r_ two", lambda m, x, y: m.r_[x, y]),
    ("r_ scalars", lambda m, x, y: m.r_[x, 1.0, y[:1], 2]),
    ("r_ a slice", lambda m, x, y: m.r_[x, 0:3, y]),
    ("r_ linspace", lambda m, x, y: m.r_[x, -1:1:4j]),
    ("r_ ints", lambda m, x, y: m.r_[x, INTS]),
    ("r_ float32", lambda m, x, y: m.r_[x.astype(np.float32), y.astype(np.float32)]),
    ("r_ 2-d rows", lambda m, x, y: m.r_["0,2", x, y]),
    ("r_ 2-d columns", lambda m, x, y: m.r_["1,2,0", x, y]),
    ("r_ 3-d", lambda m, x, y: m.r_["0,3,1", x, y]),
    ("r_ axis", lambda m, x, y: m.r_["-1", m.outer(x, y), m.outer(y, x)]),
    ("r_ matrices", lambda m, x, y: m.r_[m.outer(x, y), M]),
    ("c_ vectors", lambda m, x, y: m.c_[x, y]),
    ("c_ matrix", lambda m, x, y: m.c_[m.outer(x, y), x]),
    ("c_ one", lambda m, x, y: m.c_[x]),
]


@pytest.mark.parametrize("name,f", CONCAT, ids=[c[0] for c in CONCAT])
def test_r_c_with_traced_parts(name, f):
    want = under_all(f, X, Y)
    assert isinstance(fnp.r_[X, Y], fnp.Array) and isinstance(fnp.c_[X, Y], fnp.Array)
    assert_same(f(fnp, X, Y), want, exact=True)


def test_r_c_errors_and_directives():
    with pytest.raises(ValueError, match="special directive"):
        fd.jit(lambda x: np.r_["bogus", x])(X)
    with pytest.raises(ValueError):
        fd.jit(lambda x: np.r_[x, M])(X)            # concatenate's own error
    # slices of traced bounds: the shape depends on the value (fine under grad)
    g = fd.grad(lambda x, n: fnp.sum(np.r_[x, 0:n]) * x[0])(X, 2)
    assert np.isfinite(g).all()
    with pytest.raises(ConcretizationError):
        fd.jit(lambda x, n: np.r_[x, 0:n])(X, 2)
    assert fnp.s_ is np.s_


def test_s_with_traced_parts():
    A = RNG.standard_normal((3, 4))
    for idx in (lambda i: np.s_[i], lambda i: np.s_[..., i], lambda i: np.s_[1:, i],
                lambda i: np.s_[i, None]):
        f = (lambda i: fnp.asarray(A)[idx(i)])
        assert_same(fd.jit(f)(2), A[idx(2)])
        assert_same(fd.vmap(f)(np.array([0, 2])), np.stack([A[idx(0)], A[idx(2)]]))
        assert_same(fd.jit(lambda a, i: a[idx(i)])(A, 1), A[idx(1)])
    check_grads(lambda a: a[np.s_[1:, 2]] ** 2, (A,), order=2)


# --- ix_ -------------------------------------------------------------------------------------

def test_ix_with_traced_indices():
    A = RNG.standard_normal((3, 4))
    i, j = np.array([0, 2]), np.array([3, 1, 1])
    want = A[np.ix_(i, j)]
    for m in (np, fnp):
        assert_same(fd.jit(lambda a, i, j: a[m.ix_(i, j)])(A, i, j), want)
        assert_same(fd.vmap(lambda i, j: fnp.asarray(A)[m.ix_(i, j)])(
                    np.stack([i, i[::-1]]), np.stack([j, j])),
                    np.stack([want, A[np.ix_(i[::-1], j)]]))
        assert_same(traced(lambda i, j: m.ix_(i, j), i, j), np.ix_(i, j))
    check_grads(lambda a: a[np.ix_(i, j)] ** 2, (A,), order=2)
    # boolean indices need their values (grad knows them; jit does not)
    mask = np.array([True, False, True, False])
    g = fd.grad(lambda a: fnp.sum(a[np.ix_(a[:, 0] > -9, mask)]))(A)
    assert_same(g, np.where(mask, 1.0, 0.0) * np.ones((3, 1)))
    with pytest.raises(ConcretizationError, match="ix_"):
        fd.jit(lambda a: a[np.ix_(a[:, 0] > 0, mask)])(A)
    with pytest.raises(ValueError, match="1 dimensional"):
        fd.jit(lambda a: np.ix_(a))(A)
    assert_same(fnp.ix_([], [1]), np.ix_([], [1]), exact=True)
    assert_same(fd.jit(lambda: fnp.ix_(np.array([], int), [1]))(), np.ix_([], [1]),
                exact=True)


# --- ravel_multi_index, unravel_index ------------------------------------------------------------

@CASES
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       st.sampled_from(["raise", "wrap", "clip"]), st.sampled_from(["C", "F"]), seeds)
def test_ravel_multi_index_matches_numpy(dims, mode, order, seed):
    rng = np.random.default_rng(seed)
    lo, hi = (0, 1) if mode == "raise" else (-2, 3)
    idx = tuple(rng.integers(lo * d, hi * d + (mode != "raise") * 2, size=(2, 3))
                for d in dims)
    idx2 = tuple(rng.integers(lo * d, hi * d + (mode != "raise") * 2, size=(2, 3))
                 for d in dims)
    want = np.ravel_multi_index(idx, dims, mode=mode, order=order)

    def f(*i):
        return np.ravel_multi_index(i, dims, mode=mode, order=order)
    assert_same(traced(f, *idx, unpack=True), want, exact=True)
    assert_same(fd.jit(f)(*idx), want, exact=True)
    assert_same(fd.vmap(f)(*[np.stack([a, b]) for a, b in zip(idx, idx2)]),
                np.stack([want, f(*idx2)]), exact=True)
    # and back
    flat = np.ravel_multi_index(tuple(i % d for i, d in zip(idx, dims)), dims, order=order)
    got = fd.jit(lambda i: np.unravel_index(i, dims, order=order))(flat)
    assert_same(got, np.unravel_index(flat, dims, order=order), exact=True)
    assert_same(fd.vmap(lambda i: fnp.unravel_index(i, dims, order=order))(flat),
                np.unravel_index(flat, dims, order=order), exact=True)


def test_ravel_unravel_forms_and_errors():
    dims = (3, 4)
    assert_same(fd.jit(lambda i, j: fnp.ravel_multi_index((i, j), dims,
                                                          mode=("clip", "wrap")))(
        np.array([5, -1]), np.array([9, -3])),
        np.ravel_multi_index((np.array([5, -1]), np.array([9, -3])), dims,
                             mode=("clip", "wrap")), exact=True)
    assert_same(fnp.ravel_multi_index((1, 2), dims), np.ravel_multi_index((1, 2), dims))
    assert_same(fd.jit(lambda b: fnp.ravel_multi_index((b, 2), dims))(np.array([True])),
                np.array([6]), exact=True)
    assert_same(fd.jit(lambda i: fnp.unravel_index(i, 12))(np.array([[7, 2]])),
                np.unravel_index(np.array([[7, 2]]), 12), exact=True)
    bad = (np.array([1]), np.array([4]))
    for mode_err in (lambda: np.ravel_multi_index(bad, dims),
                     lambda: fd.grad(lambda x: x * fnp.ravel_multi_index(
                         bad, dims)[0])(1.0)):
        with pytest.raises(ValueError, match="invalid entry in coordinates array"):
            mode_err()
    # under jit the coordinates are unknown: checked when the program runs
    for b in (np.array([4]), np.array([-1])):
        with pytest.raises(IndexError):
            fd.jit(lambda i, j: np.ravel_multi_index((i, j), dims))(np.array([1]), b)
        with pytest.raises(IndexError):
            fd.jit(lambda i: np.unravel_index(i, dims))(b * 4)
    with pytest.raises(ValueError, match="out of bounds for array with size 12"):
        fd.grad(lambda x: x * fnp.unravel_index(np.array([12]), dims)[0][0])(1.0)
    with pytest.raises(ValueError, match="out of bounds"):
        np.unravel_index(np.array([12]), dims)
    with pytest.raises(TypeError, match="only int indices"):
        fd.jit(lambda x: np.unravel_index(x, dims))(np.array([1.0]))
    with pytest.raises(TypeError, match="only int indices"):
        fd.jit(lambda x: np.ravel_multi_index((x, x), dims))(np.array([1.0]))
    with pytest.raises(ValueError, match="sequence of length 2"):
        fnp.ravel_multi_index((np.array([1]),), dims)
    with pytest.raises(ValueError, match="clipmode"):
        fnp.ravel_multi_index(bad, dims, mode="bogus")
    with pytest.raises(ConcretizationError, match="unravel_index"):
        fd.jit(lambda n: fnp.unravel_index(np.array([1]), (n, 3)))(4)


# --- diagonal and triangle index helpers, mask_indices, fromfunction -----------------------------

@pytest.mark.parametrize("n,k,m", [(3, 0, None), (4, 1, 2), (3, -1, 5), (0, 0, None)])
def test_tri_and_diag_indices_match_numpy(n, k, m):
    for name in ("tril_indices", "triu_indices"):
        want = getattr(np, name)(n, k, m)
        assert_same(getattr(fnp, name)(n, k, m), want, exact=True)
        assert_same(fd.jit(lambda: getattr(fnp, name)(n, k, m))(), want, exact=True)
        A = RNG.standard_normal((n, n if m is None else m))
        frm = name + "_from"
        assert_same(fd.jit(lambda a: getattr(np, frm)(a, k))(A), getattr(np, frm)(A, k),
                    exact=True)
        if A.size:
            check_grads(lambda a: a[getattr(np, frm)(a, k)] ** 2, (A,), order=2)
    assert_same(fnp.diag_indices(n, 3), np.diag_indices(n, 3), exact=True)
    C = RNG.standard_normal((n,) * 3)
    assert_same(fd.jit(lambda c: np.diag_indices_from(c))(C), np.diag_indices_from(C),
                exact=True)


def test_index_helper_errors():
    with pytest.raises(ValueError, match="2-d"):
        fd.jit(lambda a: np.tril_indices_from(a))(np.ones(3))
    with pytest.raises(ValueError, match="at least 2-d"):
        fd.jit(lambda a: np.diag_indices_from(a))(np.ones(3))
    with pytest.raises(ValueError, match="equal length"):
        fd.jit(lambda a: np.diag_indices_from(a))(np.ones((2, 3)))
    with pytest.raises(ConcretizationError, match="tril_indices.*static"):
        fd.jit(lambda n: fnp.tril_indices(n))(3)
    assert_same(fd.jit(lambda: fnp.triu_indices(3.5))(), np.triu_indices(3.5))  # as NumPy
    # a traced n whose value is known (under grad) is fine
    assert_same(fd.grad(lambda x: x * fnp.triu_indices(fnp.asarray(3))[0][-1])(1.0), 2.0)


def test_fromfunction():
    want = np.fromfunction(lambda i, j: i * 10 + j, (2, 3), dtype=int)
    assert_same(fnp.fromfunction(lambda i, j: i * 10 + j, (2, 3), dtype=int), want,
                exact=True)
    f = (lambda s: fnp.fromfunction(lambda i, j: fnp.sin(s * i) + j, (2, 3)))
    assert_same(fd.jit(f)(0.5), np.fromfunction(lambda i, j: np.sin(0.5 * i) + j, (2, 3)))
    check_grads(f, (0.5,), order=2)
    assert_same(fd.vmap(f)(np.array([0.5, 1.5])), np.stack([f(0.5), f(1.5)]))


# --- ndarray methods on traced values -----------------------------------------------------------

METHODS = [
    ("clip", lambda x: x.clip(-0.5, 0.5)),
    ("clip kw", lambda x: x.clip(min=-0.2)),
    ("round", lambda x: x.round(1)),
    ("astype", lambda x: x.astype(np.float32)),
    ("astype int", lambda x: (x * 3).astype(int)),
    ("cumsum", lambda x: x.cumsum(axis=1)),
    ("cumprod", lambda x: x.cumprod()),
    ("trace", lambda x: x[:, :2].trace()),
    ("trace offset", lambda x: x.trace(offset=1)),
    ("diagonal", lambda x: x.diagonal()),
    ("diagonal offset", lambda x: x.diagonal(1)),
    ("repeat", lambda x: x.repeat(2, axis=0)),
    ("squeeze", lambda x: x[:, None].squeeze()),
    ("swapaxes", lambda x: x.swapaxes(0, 1)),
    ("conj", lambda x: x.conj()),
    ("conjugate", lambda x: x.conjugate()),
    ("std", lambda x: x.std(axis=0)),
    ("var", lambda x: x.var(ddof=1)),
    ("any", lambda x: (x > 0).any(axis=1)),
    ("all", lambda x: (x > -5).all()),
    ("argmax", lambda x: x.argmax(axis=1)),
    ("argmin", lambda x: x.argmin()),
    ("flatten", lambda x: x.flatten()),
    ("ravel", lambda x: x.ravel()),
    ("take", lambda x: x.take([0, 4])),
    ("dot", lambda x: x.dot(x.T)),
    ("real imag", lambda x: x.real + x.imag),
    ("T", lambda x: x.T),
    ("mT", lambda x: x.mT),
    ("copy", lambda x: x.copy()),
    ("view", lambda x: x.view()),
    ("flat", lambda x: x.flat[3]),
    ("compress", lambda x: x.compress([True, False, True], axis=1)),
    ("choose", lambda x: fnp.asarray(np.array([1, 0, 1])).choose([x[0], x[1]])),
    ("nonzero static", lambda x: x[np.array([[1.0, 0, 2]]).nonzero()]),
    ("sum mean", lambda x: x.sum(axis=0) + x.mean()),
]


@pytest.mark.parametrize("name,f", METHODS, ids=[m[0] for m in METHODS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_methods_under_every_transform(name, f, dtype):
    x = M.astype(dtype)
    # ndarray.mT is NumPy 2's; funcdiff's tracers have it on NumPy 1.x too
    numpy1_mT = name == "mT" and not hasattr(x, "mT")
    ref = (lambda v: np.swapaxes(v, -1, -2)) if numpy1_mT else f
    want = ref(x)
    assert_same(fd.jit(f)(x), want)
    assert_same(traced(f, x, unpack=True), want)
    out, _ = fd.jvp(f, (x,), (np.ones_like(x),))
    assert_same(out, want)
    assert_same(fd.vmap(f)(np.stack([x, x + 1])), np.stack([want, ref(x + 1)]))
    if dtype == np.float64 and np.asarray(want).dtype == np.float64 and name != "round" \
            and not numpy1_mT:     # (finite differences run f on NumPy arrays)
        check_grads(f, (x,), order=2)


def test_ptp_method():
    for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}):
        want = np.ptp(M, **kw)
        assert_same(fd.jit(lambda x: x.ptp(**kw))(M), want)
        assert_same(fd.vmap(lambda x: x.ptp(**kw))(np.stack([M, 2 * M])),
                    np.stack([want, np.ptp(2 * M, **kw)]))
    # (NumPy 2's ndarray has no ptp: finite differences use numpy.ptp)
    check_grads(lambda x: x.ptp(axis=1) if isinstance(x, Tracer) else np.ptp(x, axis=1),
                (M,), order=2)
    with pytest.raises(TypeError, match="out="):
        fd.jit(lambda x: x.ptp(out=x))(M)


def test_nonzero_method_and_concrete_only_methods():
    x = np.array([[0.0, 1.5], [2.0, 0.0]])
    seen = {}

    def f(x):
        seen["nz"] = x.nonzero()
        seen["item"] = x[1, 0].item()
        seen["tolist"] = x.tolist()
        return fnp.sum(x[x.nonzero()] ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # item/tolist drop the derivative: a warning
        g = fd.grad(f)(x)
    assert_same(g, 2 * x)
    assert_same(seen["nz"], np.nonzero(x), exact=True)
    assert seen["item"] == 2.0 and seen["tolist"] == x.tolist()
    assert_same(fd.jit(lambda x: x.nonzero(size=3, fill_value=-1))(x),
                fnp.nonzero(x, size=3, fill_value=-1), exact=True)
    for f in (lambda x: x.item(0), lambda x: x.tolist(), lambda x: x.nonzero()):
        with pytest.raises(ConcretizationError):
            fd.jit(f)(x)


def test_in_place_methods_raise():
    x = np.arange(4.0)
    for f, fix in ((lambda x: x.fill(1.0), "full_like"), (lambda x: x.put([0], [1.0]),
                                                          "inplace=False"),
                   (lambda x: x.resize(2, 2), "reshape")):
        with pytest.raises(FuncdiffError, match=fix):
            fd.jit(f)(x)
    with pytest.raises(TypeError, match="astype"):
        fd.jit(lambda x: x.view(np.int64))(x)
    assert fd.jit(lambda x: x.to_device("cpu") * 2)(x).shape == (4,)
    assert fd.make_jaxpr(lambda x: x.device == "cpu" and x)(x) is not None


# --- funcdiff arrays indexed by a traced integer (item 5) ---------------------------------------

MAKERS = [
    ("arange", lambda: fnp.arange(5.0)),
    ("array", lambda: fnp.array([0.0, 1.0, 2.0, 3.0, 4.0])),
    ("asarray", lambda: fnp.asarray(np.arange(5.0))),
    ("zeros", lambda: fnp.zeros(5)),
    ("ones", lambda: fnp.ones(5, np.float32)),
    ("full", lambda: fnp.full(5, 2.0)),
    ("linspace", lambda: fnp.linspace(0, 1, 5)),
    ("eye", lambda: fnp.eye(5)),
    ("identity", lambda: fnp.identity(5)),
    ("tri", lambda: fnp.tri(5)),
    ("empty", lambda: fnp.empty(5)),
    ("zeros_like", lambda: fnp.zeros_like(np.arange(5.0))),
    ("full_like", lambda: fnp.full_like(np.arange(5), 3)),
    ("copy", lambda: fnp.copy(np.arange(5.0))),
    ("r_", lambda: fnp.r_[0:5]),
    ("at-set", lambda: fnp.arange(5.0).at[0].set(9.0)),
    ("result of numpy", lambda: np.sin(fnp.arange(5.0))),
]


@pytest.mark.parametrize("name,make", MAKERS, ids=[m[0] for m in MAKERS])
def test_funcdiff_array_indexed_by_a_traced_integer(name, make):
    xa = make()
    assert isinstance(xa, fnp.Array)
    base = np.asarray(xa)
    idx = np.array([0, 3, 4])
    assert_same(fd.jit(lambda i: xa[i])(2), base[2], exact=True)
    assert_same(fd.vmap(lambda i: xa[i])(idx), base[idx], exact=True)
    zero = np.zeros_like(base[0])   # (NumPy 1.x makes float32(1) * 0 a float64)
    got = lax.fori_loop(0, 3, lambda i, s: s + xa[i], zero)
    assert_same(got, base[:3].sum(0))
    got = fd.jit(lambda: lax.fori_loop(0, 3, lambda i, s: s + xa[i], zero))()
    assert_same(got, base[:3].sum(0))
    assert_same(fd.jit(lambda i: xa[i, ...])(1), base[1, ...], exact=True)
    assert_same(fd.jit(lambda i: xa[[i, 0]])(1), base[[1, 0]], exact=True)


def test_array_index_forms_and_derivatives():
    xa = fnp.asarray(np.arange(12.0).reshape(3, 4))
    assert_same(fd.jit(lambda i, j: xa[i, j])(1, 2), 6.0)
    assert_same(fd.jit(lambda i: xa[:, i])(3), np.arange(12.0).reshape(3, 4)[:, 3])
    assert_same(fd.jit(lambda i: xa[i, 1:3])(2), np.array([9.0, 10.0]))
    assert_same(fd.jit(lambda i: xa[np.array([0, 2]), i])(1), np.array([1.0, 9.0]))
    assert_same(fd.jit(lambda m: xa[0][m])(np.array([1, 2])), np.array([1.0, 2.0]))
    # grad flows through the traced values, the array being a constant
    g = fd.grad(lambda w, i: fnp.sum(w * xa[i]))(np.ones(4), 1)
    assert_same(g, np.arange(4.0, 8.0))
    check_grads(lambda w: w * xa[fnp.argmax(w)], (np.array([0.1, 0.9, 0.3, 0.2]),), order=2)
    # a traced boolean mask: concrete under grad, the usual error under jit
    g = fd.grad(lambda w: fnp.sum(xa[0][w > 0.5] * w[w > 0.5]))(np.array([0.1, 0.9, 0.3, 1.2]))
    assert_same(g, np.array([0.0, 1.0, 0.0, 3.0]))
    # indexing without tracers: plain NumPy, also inside a trace
    assert type(xa[1]) is fnp.Array and fd.jit(lambda: xa[1, 2])() == 6.0


def test_numpy_array_indexed_by_a_tracer_says_to_wrap_it():
    a = np.arange(5.0)
    for f, arg in ((fd.jit(lambda i: a[i]), 2), (fd.jit(lambda i: a[i]), np.array([1, 2])),
                   (fd.vmap(lambda i: a[i]), np.array([1, 2])),
                   (fd.jit(lambda i: a[1:][i]), 2)):
        with pytest.raises(TracerArrayConversionError) as ei:
            f(arg)
        msg = str(ei.value)
        assert "fnp.asarray(a)[i]" in msg and "test_numpy_index_tricks.py" in msg
    # the value is known under grad, and an integer carries no derivative: fine
    assert fd.grad(lambda x, i: x * a[i])(1.0, 3) == 3.0
    # writing with a traced index into a NumPy/funcdiff array is a buffer write: an error
    xa = fnp.zeros(3)

    def write(i):
        xa[i] = 1.0
        return xa
    with pytest.raises(TracerArrayConversionError):
        fd.jit(write)(1)
