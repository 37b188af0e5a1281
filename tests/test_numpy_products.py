"""funcdiff.numpy products (``_products.py``): dot, matmul, vdot, inner, outer,
tensordot, einsum, trace, diag, diagonal, kron, cross.  Values against NumPy, eagerly
and traced (``make_jaxpr`` + ``eval_jaxpr``, with ``check_jaxpr``); NumPy's dtypes
and errors; derivatives (``check_grads``, order 2, float64)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.primitives.dot import dot_general_p
from funcdiff.test_util import check_grads

from _helpers import DEFAULT, assert_same, nep50, traced as run_traced, values as _values

DTYPES = [np.float64, np.float32, np.int32, np.int64, np.bool_]


# --- helpers --------------------------------------------------------------------------------

#: single precision to 2e-4, the rest to 1e-10 (bools and integers exactly)
TOLS = {np.float32: 2e-4, np.complex64: 2e-4, DEFAULT: 1e-10}


def _assert_close(got, want):
    """Leaf by leaf: same shape and dtype; bools and integers equal, the rest to TOLS."""
    assert_same(got, want, tols=TOLS, tree=True)


def check(name, args, **kwargs):
    """``fnp.<name>`` equals ``np.<name>`` eagerly (exactly) and traced (ndarray
    arguments traced, the others static)."""
    fn, np_fn = getattr(fnp, name), getattr(np, name)
    want = np_fn(*args, **kwargs)
    got = fn(*args, **kwargs)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)
    traced = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def f(*arrays):
        full = list(args)
        for i, a in zip(traced, arrays):
            full[i] = a
        return fn(*full, **kwargs)

    with nep50():   # transforms promote as NumPy 2 on every NumPy
        want_t = np_fn(*args, **kwargs)
    _assert_close(run_traced(f, *[args[i] for i in traced]), want_t)
    return want


def check_fn(f, np_f, *args):
    with nep50():
        want = np_f(*args)
    _assert_close(run_traced(f, *args), want)
    return want


def raises_both(exc, f, *args, match=None):
    """NumPy raises ``exc``, and so does the traced version (whose message must
    match ``match``: our messages name the shapes)."""
    with pytest.raises(exc):
        f(*args)
    with pytest.raises(exc, match=match):
        run_traced(f, *args)


seeds = st.integers(0, 2 ** 32 - 1)
dtypes = st.sampled_from(DTYPES)
small = st.integers(0, 3)


def _shape(draw, ndim, lo=0):
    return tuple(draw(st.integers(lo, 3)) for _ in range(ndim))


# --- dot, inner, vdot, outer ----------------------------------------------------------------

@st.composite
def dot_case(draw):
    na, nb = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    sa, sb = list(_shape(draw, na)), list(_shape(draw, nb))
    if na and nb:
        k = draw(small)
        sa[-1] = k
        sb[0 if nb == 1 else -2] = k
    return tuple(sa), tuple(sb)


@given(dot_case(), dtypes, dtypes, seeds)
def test_dot(case, da, db, seed):
    rng = np.random.default_rng(seed)
    a, b = _values(rng, case[0], da), _values(rng, case[1], db)
    check("dot", (a, b))
    check_fn(lambda x, y: x.dot(y), lambda x, y: x.dot(y), a, b)
    # plain NumPy on traced values dispatches here
    check_fn(lambda x, y: np.dot(x, y), np.dot, a, b)


def test_dot_scalars_and_errors():
    x32 = np.arange(3, dtype=np.float32)
    # np.dot is not a ufunc: Python scalars are float64 arrays, not weak
    check_fn(lambda x: fnp.dot(x, 2.0), lambda x: np.dot(x, 2.0), x32)
    check_fn(lambda x: fnp.dot(2, x), lambda x: np.dot(2, x), x32.astype(np.int32))
    raises_both(ValueError, lambda a, b: fnp.dot(a, b), np.zeros((2, 3)), np.zeros(4),
                match=r"\(2, 3\).*\(4,\)")
    raises_both(ValueError, lambda a, b: fnp.dot(a, b), np.zeros((2, 3)), np.zeros((2, 3)))


@given(st.integers(0, 3), st.integers(0, 3), small, dtypes, dtypes, seeds)
def test_inner(na, nb, k, da, db, seed):
    rng = np.random.default_rng(seed)
    sa = tuple(rng.integers(0, 3, na)) + ((k,) if na else ())
    sb = tuple(rng.integers(0, 3, nb)) + ((k,) if nb else ())
    a, b = _values(rng, sa, da), _values(rng, sb, db)
    check("inner", (a, b))
    check("outer", (a, b))


@given(st.lists(small, max_size=3).map(tuple),
       st.sampled_from([np.float64, np.float32, np.int32, np.complex128]),
       st.sampled_from([np.float64, np.complex64, np.int64]), seeds)
def test_vdot(shape, da, db, seed):
    rng = np.random.default_rng(seed)
    a, b = _values(rng, shape, da), _values(rng, shape[::-1], db)
    check("vdot", (a, b))


def test_inner_vdot_errors():
    raises_both(ValueError, lambda a, b: fnp.inner(a, b), np.zeros((2, 3)), np.zeros(4))
    raises_both(ValueError, lambda a, b: fnp.vdot(a, b), np.zeros(3), np.zeros(4))


# --- matmul ---------------------------------------------------------------------------------

@st.composite
def matmul_case(draw):
    na, nb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, k, m = draw(small), draw(small), draw(small)
    batch = _shape(draw, max(na, nb, 2) - 2)

    def batch_for(nd):
        b = batch[len(batch) - max(nd - 2, 0):]
        return tuple(1 if draw(st.booleans()) else d for d in b)

    sa = (k,) if na == 1 else batch_for(na) + (n, k)
    sb = (k,) if nb == 1 else batch_for(nb) + (k, m)
    return sa, sb


@given(matmul_case(), dtypes, dtypes, seeds)
def test_matmul(case, da, db, seed):
    rng = np.random.default_rng(seed)
    a, b = _values(rng, case[0], da), _values(rng, case[1], db)
    check("matmul", (a, b))
    check_fn(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check_fn(lambda x: x @ b, lambda x: x @ b, a)
    check_fn(lambda y: a @ y, lambda y: a @ y, b)


def test_matmul_dtype_and_errors():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    b = np.arange(3, dtype=np.int32)
    want = check("matmul", (a, b))
    assert want.dtype == np.int32
    check("matmul", (a, b), dtype=np.float32)
    raises_both(ValueError, lambda x, y: fnp.matmul(x, y), np.zeros((2, 3)),
                np.zeros((4, 2)), match=r"\(2, 3\).*\(4, 2\)")
    raises_both(ValueError, lambda x, y: fnp.matmul(x, y), np.zeros(()), np.zeros(3))
    raises_both(ValueError, lambda x, y: fnp.matmul(x, y), np.zeros((2, 2, 3)),
                np.zeros((3, 3, 4)))


# --- tensordot ------------------------------------------------------------------------------

@st.composite
def tensordot_case(draw):
    na, nb = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    sa, sb = list(_shape(draw, na)), list(_shape(draw, nb))
    if draw(st.booleans()):
        n = draw(st.integers(0, min(na, nb)))
        for i in range(n):
            sb[i] = sa[na - n + i]
        return tuple(sa), tuple(sb), n
    n = draw(st.integers(0, min(na, nb)))
    ax = draw(st.permutations(range(na)))[:n]
    bx = draw(st.permutations(range(nb)))[:n]
    for i, j in zip(ax, bx):
        sb[j] = sa[i]
    ax = [i - na if draw(st.booleans()) else i for i in ax]
    return tuple(sa), tuple(sb), (ax, bx)


@given(tensordot_case(), dtypes, dtypes, seeds)
def test_tensordot(case, da, db, seed):
    sa, sb, axes = case
    rng = np.random.default_rng(seed)
    a, b = _values(rng, sa, da), _values(rng, sb, db)
    check("tensordot", (a, b), axes=axes)


def test_tensordot_errors():
    raises_both(ValueError, lambda a, b: fnp.tensordot(a, b, axes=([0], [0])),
                np.zeros((2, 3)), np.zeros((3, 2)))
    raises_both(ValueError, lambda a, b: fnp.tensordot(a, b, axes=([0, 1], [0])),
                np.zeros((2, 3)), np.zeros((2, 3)))
    check("tensordot", (np.ones((2, 3)), np.ones((3, 2))), axes=(1, 0))


# --- einsum ---------------------------------------------------------------------------------

@st.composite
def einsum_case(draw):
    """Random subscripts and operand shapes: repeated indices within an operand, size-1
    broadcasting, '...' ellipses, implicit or explicit (permuted, partial) output."""
    letters = draw(st.permutations("abcdeXY"))[:draw(st.integers(1, 5))]
    sizes = {c: draw(st.integers(0, 3) if draw(st.integers(0, 9)) == 0 else
                     st.integers(1, 3)) for c in letters}
    use_ell = draw(st.integers(0, 3)) == 0
    ell_shape = _shape(draw, draw(st.integers(0, 2)), lo=1) if use_ell else ()
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        labs = draw(st.lists(st.sampled_from(letters), max_size=4))
        shp = []
        for c in labs:
            # size-1 broadcasting only for an index seen once in the operand
            bcast = labs.count(c) == 1 and draw(st.integers(0, 4)) == 0
            shp.append(1 if bcast else sizes[c])
        term = "".join(labs)
        if use_ell and draw(st.booleans()):
            pos = draw(st.integers(0, len(labs)))
            e = ell_shape[draw(st.integers(0, len(ell_shape))):]
            e = tuple(1 if draw(st.integers(0, 3)) == 0 else d for d in e)
            term = term[:pos] + "..." + term[pos:]
            shp = shp[:pos] + list(e) + shp[pos:]
        terms.append(term)
        shapes.append(tuple(shp))
    seen = sorted({c for t in terms for c in t if c != "."})
    subs = ",".join(terms)
    if draw(st.booleans()):
        out = draw(st.permutations(seen))[:draw(st.integers(0, len(seen)))]
        out = "".join(out)
        if any("..." in t for t in terms):
            pos = draw(st.integers(0, len(out)))
            out = out[:pos] + "..." + out[pos:]
        subs += "->" + out
    return subs, shapes


@settings(max_examples=60)
@given(einsum_case(), st.sampled_from([np.float64, np.float32, np.int64]), seeds)
def test_einsum(case, dtype, seed):
    subs, shapes = case
    rng = np.random.default_rng(seed)
    xs = [_values(rng, s, dtype) for s in shapes]
    try:
        want = np.einsum(subs, *xs)
    except ValueError:
        with pytest.raises(ValueError):
            run_traced(lambda *a: fnp.einsum(subs, *a), *xs)
        return
    check_fn(lambda *a: fnp.einsum(subs, *a), lambda *a: want, *xs)
    check_fn(lambda *a: fnp.einsum(subs, *a, optimize=True), lambda *a: want, *xs)


EINSUM_FIXED = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("iij->j", [(2, 2, 3)]), ("iji->j", [(2, 3, 2)]),
    ("iii->i", [(3, 3, 3)]), ("ij,ij->ij", [(2, 3), (2, 3)]), ("i,j->ij", [(2,), (3,)]),
    (",->", [(), ()]), ("i,->i", [(3,), ()]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("aB", [(2, 3)]), ("bA,Ab", [(2, 3), (3, 2)]),
    ("i,i", [(1,), (3,)]), ("i...,i...", [(2, 1, 3), (2, 3)]), ("...", [(2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("abc,cd,bd->ad", [(2, 3, 4), (4, 5), (3, 5)]),
    ("ii,jj->ij", [(2, 2), (3, 3)]), ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
    ("i j -> j i", [(2, 3)]), ("bij,bjk->bik", [(0, 2, 3), (0, 3, 2)]),
]


@pytest.mark.parametrize("subs,shapes", EINSUM_FIXED, ids=[c[0] for c in EINSUM_FIXED])
def test_einsum_fixed(subs, shapes):
    rng = np.random.default_rng(0)
    xs = [_values(rng, s, np.float64) for s in shapes]
    check("einsum", (subs, *xs))


def test_einsum_interleaved_dtypes_and_dispatch():
    rng = np.random.default_rng(1)
    a, b = _values(rng, (2, 3), np.float64), _values(rng, (3, 4), np.float64)
    check_fn(lambda x, y: fnp.einsum(x, [0, 1], y, [1, 2], [2, 0]),
             lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [2, 0]), a, b)
    check_fn(lambda x, y: fnp.einsum(x, [Ellipsis, 1], y, [1, 2]),
             lambda x, y: np.einsum(x, [Ellipsis, 1], y, [1, 2]), a, b)
    check_fn(lambda x, y: np.einsum("ij,jk", x, y), lambda x, y: np.einsum("ij,jk", x, y),
             a, b)
    ai, bi = a.astype(np.int8) * 3, b.astype(np.uint8)
    check("einsum", ("ij,jk->ik", ai, bi))
    check("einsum", ("ii", (a[:, :2] > 0).astype(np.int32)))
    check("einsum", ("ij->", a > 0))
    check("einsum", ("ij,jk->ik", a, b), dtype=np.float32, casting="same_kind")
    check("einsum", ("i,->i", a[0].astype(np.float32), 2.0))


def test_einsum_errors():
    raises_both(ValueError, lambda a: fnp.einsum("ij->ii", a), np.ones((2, 2)))
    raises_both(ValueError, lambda a: fnp.einsum("ij->k", a), np.ones((2, 2)))
    raises_both(ValueError, lambda a: fnp.einsum("ii", a), np.ones((2, 3)))
    raises_both(ValueError, lambda a: fnp.einsum("ijk", a), np.ones((2, 3)))
    raises_both(ValueError, lambda a: fnp.einsum("i", a), np.ones((2, 3)))
    raises_both(ValueError, lambda a: fnp.einsum("...i->i", a), np.ones((2, 3)))
    raises_both(ValueError, lambda a, b: fnp.einsum("ij,j", a, b), np.ones((2, 2)),
                np.ones(3))
    raises_both(ValueError, lambda a: fnp.einsum("ij,jk", a), np.ones((2, 2)))
    raises_both(TypeError, lambda a: fnp.einsum("ij,jk", a, a, dtype=np.int32),
                np.ones((2, 2)))


def test_einsum_diagonal_uses_no_mask():
    """A repeated index becomes a strided slice: no dense eye mask, no dot."""
    closed = fd.make_jaxpr(lambda a: fnp.einsum("ii->i", a))(np.ones((4, 4)))
    prims = [e.primitive.name for e in closed.jaxpr.eqns]
    assert "slice" in prims and "dot_general" not in prims
    closed = fd.make_jaxpr(lambda a, b: fnp.einsum("ij,jk->ik", a, b))(np.ones((2, 3)),
                                                                        np.ones((3, 4)))
    assert [e.primitive for e in closed.jaxpr.eqns] == [dot_general_p]


# --- diagonal, trace, diag ------------------------------------------------------------------

@given(st.lists(small, min_size=2, max_size=4).map(tuple), dtypes, seeds, st.data())
def test_diagonal_trace(shape, dtype, seed, data):
    x = _values(np.random.default_rng(seed), shape, dtype)
    n = len(shape)
    a1, a2 = data.draw(st.permutations(range(n)))[:2]
    a1 = a1 - n if data.draw(st.booleans()) else a1
    off = data.draw(st.integers(-4, 4))
    check("diagonal", (x, off, a1, a2))
    check("trace", (x, off, a1, a2))
    check("trace", (x,))
    check_fn(lambda v: v.diagonal(off), lambda v: v.diagonal(off), x)
    check_fn(lambda v: v.trace(), lambda v: v.trace(), x)
    check("trace", (x,), dtype=np.float32)


@given(st.integers(0, 4), st.integers(0, 4), st.integers(-5, 5), dtypes, seeds)
def test_diag(n, m, k, dtype, seed):
    rng = np.random.default_rng(seed)
    check("diag", (_values(rng, (n,), dtype), k))
    check("diag", (_values(rng, (n, m), dtype), k))


def test_diag_errors():
    raises_both(ValueError, lambda a: fnp.diag(a), np.zeros((2, 2, 2)))
    raises_both(ValueError, lambda a: fnp.diagonal(a), np.zeros(3))
    raises_both(ValueError, lambda a: fnp.diagonal(a, 0, 1, -1), np.zeros((2, 2)))


# --- kron, cross ----------------------------------------------------------------------------

@given(st.lists(small, max_size=3).map(tuple), st.lists(small, max_size=3).map(tuple),
       dtypes, dtypes, seeds)
def test_kron(sa, sb, da, db, seed):
    rng = np.random.default_rng(seed)
    check("kron", (_values(rng, sa, da), _values(rng, sb, db)))


@given(st.sampled_from([2, 3]), st.sampled_from([2, 3]),
       st.lists(st.integers(1, 3), max_size=2).map(tuple),
       st.sampled_from([np.float64, np.float32, np.int64]), seeds, st.data())
def test_cross(ka, kb, lead, dtype, seed, data):
    rng = np.random.default_rng(seed)
    lead_b = tuple(1 if data.draw(st.booleans()) else d for d in lead)
    a = _values(rng, lead + (ka,), dtype)
    b = _values(rng, lead_b + (kb,), dtype)
    n = len(lead) + 1
    axisa = data.draw(st.integers(-n, n - 1))
    a = np.moveaxis(a, -1, axisa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check("cross", (a, b), axisa=axisa)
        if ka == 3 or kb == 3:
            axisc = data.draw(st.integers(-n, n - 1))
            check("cross", (a, b), axisa=axisa, axisc=axisc)


def test_cross_errors():
    raises_both(ValueError, lambda a, b: fnp.cross(a, b), np.zeros(4), np.zeros(3))


# --- derivatives ----------------------------------------------------------------------------

def _rand(rng, *shape):
    return rng.standard_normal(shape)


GRAD_CASES = [
    ("dot_mm", lambda r: (fnp.dot, (_rand(r, 2, 3), _rand(r, 3, 4)))),
    ("dot_nd", lambda r: (fnp.dot, (_rand(r, 2, 2, 3), _rand(r, 2, 3, 2)))),
    ("dot_scalar", lambda r: (fnp.dot, (_rand(r), _rand(r, 3)))),
    ("matmul_batch", lambda r: (fnp.matmul, (_rand(r, 2, 1, 2, 3), _rand(r, 3, 3, 2)))),
    ("matmul_vec", lambda r: (fnp.matmul, (_rand(r, 3), _rand(r, 2, 3, 2)))),
    ("matmul_left2d", lambda r: (fnp.matmul, (_rand(r, 2, 3), _rand(r, 2, 3, 2)))),
    ("vdot", lambda r: (fnp.vdot, (_rand(r, 2, 3), _rand(r, 3, 2)))),
    ("inner", lambda r: (fnp.inner, (_rand(r, 2, 3), _rand(r, 4, 3)))),
    ("outer", lambda r: (fnp.outer, (_rand(r, 2, 2), _rand(r, 3)))),
    ("tensordot", lambda r: (lambda a, b: fnp.tensordot(a, b, ([0, 2], [1, 0])),
                             (_rand(r, 2, 3, 2), _rand(r, 2, 2)))),
    ("einsum_chain", lambda r: (lambda a, b, c: fnp.einsum("ij,jk,kl->li", a, b, c),
                                (_rand(r, 2, 3), _rand(r, 3, 2), _rand(r, 2, 2)))),
    ("einsum_diag", lambda r: (lambda a, b: fnp.einsum("iij,j->ij", a, b),
                               (_rand(r, 3, 3, 2), _rand(r, 2)))),
    ("einsum_ellipsis", lambda r: (lambda a, b: fnp.einsum("...ij,...j->...i", a, b),
                                   (_rand(r, 2, 3, 2), _rand(r, 1, 2)))),
    ("einsum_trace", lambda r: (lambda a: fnp.einsum("ii", a), (_rand(r, 3, 3),))),
    ("trace", lambda r: (lambda a: fnp.trace(a, 1, 0, 2), (_rand(r, 3, 2, 4),))),
    ("diagonal", lambda r: (lambda a: fnp.diagonal(a, -1, 1, 0), (_rand(r, 3, 4, 2),))),
    ("diag_vec", lambda r: (lambda a: fnp.diag(a, 2), (_rand(r, 3),))),
    ("diag_mat", lambda r: (lambda a: fnp.diag(a, -1), (_rand(r, 3, 4),))),
    ("kron", lambda r: (fnp.kron, (_rand(r, 2, 2), _rand(r, 3, 1)))),
    ("cross", lambda r: (fnp.cross, (_rand(r, 2, 3), _rand(r, 3)))),
]


@pytest.mark.parametrize("name,make", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
@settings(max_examples=3)
@given(seeds)
def test_grads(name, make, seed):
    f, args = make(np.random.default_rng(seed))
    # a quadratic of the product, so order-2 derivatives are not trivially zero
    check_grads(lambda *a: f(*a) ** 2, args, order=2)
