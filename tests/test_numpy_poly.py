"""NumPy's polynomial functions (funcdiff/numpy/_poly.py) against NumPy.

Values, shapes and dtypes under a trace that knows the values (``vjp``: where NumPy
decides a shape or dtype from the values, funcdiff does the same) and, for the
functions whose result never depends on the values, under ``jit``; derivatives (order 2
where smooth) against finite differences; ``vmap`` equal to a loop; the structural
results under ``jit`` for the value-dependent ones; roots' derivative in closed form
(simple roots, zero roots; the repeated-root row is in
tests/test_subgradients_numpy.py); error paths.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffTypeError, FuncdiffValueError
from funcdiff.test_util import check_grads

import _helpers

VALUES = settings(max_examples=15, deadline=None)
GRADS = settings(max_examples=4, deadline=None)
seeds = st.integers(0, 2**31 - 1)
TOLS = {np.float32: 1e-4, np.complex64: 1e-4, "default": 1e-9}
DTYPES = [np.float64, np.float32, np.int64, np.complex128]


def coeffs(rng, n, dtype):
    c = rng.uniform(-2, 2, n)
    if n:
        c[0] = rng.choice([-1, 1]) * rng.uniform(0.5, 2)
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        return np.round(c * 3).astype(dtype) + (c[0] > 0) if n else c.astype(dtype)
    if dtype.kind == "c":
        return (c + 1j * rng.uniform(-1, 1, n)).astype(dtype)
    return c.astype(dtype)


def concrete(f, *args):
    """``f`` traced with known values (vjp's forward pass; integer inputs as constants)."""
    fl = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc"]
    if not fl:
        return _helpers.traced(lambda: f(*args))[0]

    def g(*xs):
        full = list(args)
        for i, x in zip(fl, xs):
            full[i] = x
        return f(*full)
    return fd.vjp(g, *[args[i] for i in fl])[0]


def assert_same(got, want):
    _helpers.assert_same(got, want, tols=TOLS, tree=isinstance(want, tuple))


def both(name, *args, **kw):
    """NumPy's result (promoting as NumPy 2, as transforms do on every NumPy), and
    funcdiff's through NumPy's dispatch and funcdiff.numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with _helpers.nep50():
            want = getattr(np, name)(*args, **kw)
        for m in (np, fnp):
            assert_same(concrete(lambda *a: getattr(m, name)(*a, **kw), *args), want)
    return want


# --- values ---------------------------------------------------------------------------------

@VALUES
@given(n1=st.integers(1, 5), n2=st.integers(1, 5), d1=st.sampled_from(DTYPES),
       d2=st.sampled_from(DTYPES), seed=seeds)
def test_add_sub_mul_div(n1, n2, d1, d2, seed):
    rng = np.random.default_rng(seed)
    a, b = coeffs(rng, n1, d1), coeffs(rng, n2, d2)
    for name in ("polyadd", "polysub", "polymul", "polydiv"):
        both(name, a, b)
    # leading zeros: polymul drops them (poly1d), polydiv's remainder too
    z = np.concatenate([np.zeros(2, a.dtype), a])
    both("polymul", z, b)
    both("polydiv", z, b)
    both("polyadd", a, 2.5)
    both("polymul", 3, b)


@VALUES
@given(n=st.integers(0, 6), m=st.integers(0, 3), dtype=st.sampled_from(DTYPES), seed=seeds)
def test_der_int_val(n, m, dtype, seed):
    rng = np.random.default_rng(seed)
    p = coeffs(rng, n, dtype)
    both("polyder", p, m)
    both("polyint", p, m)
    if m:
        both("polyint", p, m, k=rng.uniform(-1, 1, m))
        both("polyint", p, m, k=1.5)
    if n:
        for x in (rng.uniform(-2, 2, (2, 3)), rng.uniform(-2, 2, 3).astype(np.float32),
                  np.arange(3), 0.5, np.float32(2.0)):
            both("polyval", p, x)
        both("polyval", list(p), 1.5)


@VALUES
@given(n=st.integers(1, 5), N=st.one_of(st.none(), st.integers(0, 5)),
       increasing=st.booleans(), dtype=st.sampled_from(DTYPES + [np.bool_]), seed=seeds)
def test_vander(n, N, increasing, dtype, seed):
    x = coeffs(np.random.default_rng(seed), n, dtype)
    if np.dtype(dtype) == np.bool_:
        x = x > 0
    want = both("vander", x, N, increasing)
    _helpers.assert_same(fd.jit(lambda u: fnp.vander(u, N, increasing))(x), want, tols=TOLS)


@VALUES
@given(n=st.integers(1, 6), lead=st.integers(0, 2), trail=st.integers(0, 2),
       dtype=st.sampled_from([np.float64, np.float32, np.int64, np.complex128]),
       real_roots=st.booleans(), seed=seeds)
def test_roots_and_poly(n, lead, trail, dtype, real_roots, seed):
    rng = np.random.default_rng(seed)
    if real_roots:   # distinct real roots: NumPy gives a float array
        r = np.sort(rng.uniform(-2, 2, n - 1)) + np.arange(n - 1)
        core = np.atleast_1d(np.poly(r)) * rng.uniform(0.5, 2)
    else:
        core = coeffs(rng, n, np.float64)
    p = np.concatenate([np.zeros(lead), core, np.zeros(trail)])
    p = (np.round(p * 4) + (np.round(p * 4) == 0) * (np.arange(p.size) == lead)).astype(
        dtype) if np.dtype(dtype).kind == "i" else p.astype(dtype)
    want = np.roots(p)
    got = concrete(fnp.roots, p)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(want), rtol=1e-4,
                               atol=1e-4 if np.dtype(dtype) == np.float32 else 1e-7)
    both("poly", want)
    both("poly", p[p != 0][:3])


def test_roots_corner_cases():
    for p in ([0.0, 0.0], [0.0, 3.0], [2.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0],
              [1.0, 0.0, 1.0], np.array([1, -3, 2])):
        want = np.roots(p)
        got = concrete(fnp.roots, np.asarray(p, float) if not isinstance(p, np.ndarray)
                       else p)
        assert got.dtype == want.dtype and got.shape == want.shape, p
        np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(want), atol=1e-12)
    both("poly", np.array([[1.0, 2.0], [3.0, 4.0]]))
    both("poly", np.array([1 + 1j, 1 - 1j, 2]))
    both("poly", np.array([1 + 1j, 2]))
    assert fnp.poly(np.zeros(0)) == np.poly(np.zeros(0)) == 1.0
    assert concrete(lambda: fnp.poly(np.zeros(0))) == 1.0


@VALUES
@given(n=st.integers(3, 8), deg=st.integers(0, 3), twod=st.booleans(),
       weighted=st.booleans(), dtype=st.sampled_from([np.float64, np.float32, np.int64]),
       seed=seeds)
def test_polyfit(n, deg, twod, weighted, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (np.arange(n) + rng.uniform(0, 0.5, n)).astype(dtype)
    y = rng.standard_normal((n, 2) if twod else n)
    w = rng.uniform(0.5, 2, n) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.polyfit(x, y, deg, w=w)
        got = concrete(lambda a, b: fnp.polyfit(a, b, deg, w=w), x, y)
        _helpers.assert_same(got, want, tols={np.float32: 1e-3, "default": 1e-8})
        want = np.polyfit(x, y, deg, w=w, full=True)
        got = concrete(lambda a, b: np.polyfit(a, b, deg, w=w, full=True), x, y)
        assert len(got) == 5
        for g, wv in zip(got, want):
            _helpers.assert_same(g, np.asarray(wv), tols={np.float32: 1e-3, "default": 1e-8})
        if n > deg + 1:
            for cov in (True, "unscaled"):
                want = np.polyfit(x, y, deg, w=w, cov=cov)
                got = concrete(lambda a, b: np.polyfit(a, b, deg, w=w, cov=cov), x, y)
                assert_same(got, want)


def test_polyfit_rank_warning_and_errors():
    x = np.array([1.0, 1.0, 1.0, 2.0])
    with pytest.warns(Warning, match="poorly conditioned"):
        concrete(lambda a: fnp.polyfit(a, a, 3), x)
    for bad, err in [(lambda a: fnp.polyfit(a, a, -1), FuncdiffValueError),
                     (lambda a: fnp.polyfit(a[:, None], a, 1), FuncdiffTypeError),
                     (lambda a: fnp.polyfit(a, a[:2], 1), FuncdiffTypeError),
                     (lambda a: fnp.polyfit(a, a, 1, w=a[:2]), FuncdiffTypeError),
                     (lambda a: fnp.polyfit(a + np.arange(4.0), a, 3, cov=True),
                      FuncdiffValueError)]:
        with pytest.raises(err):
            concrete(bad, x)


def test_other_errors():
    for bad in (lambda a: fnp.polyder(a, -1), lambda a: fnp.polyint(a, -1),
                lambda a: fnp.polyint(a, 3, k=[1.0, 2.0]), lambda a: fnp.vander(a[None]),
                lambda a: fnp.roots(a[None]), lambda a: fnp.poly(np.ones((2, 3))),
                lambda a: fnp.polymul(a[None], a)):
        with pytest.raises(ValueError):
            concrete(bad, np.array([1.0, 2.0, 3.0]))


# --- derivatives ---------------------------------------------------------------------------

@GRADS
@given(seed=seeds)
def test_grads(seed):
    rng = np.random.default_rng(seed)
    p, q, x = coeffs(rng, 4, float), coeffs(rng, 2, float), rng.uniform(-2, 2, 3)
    for f, args in [(fnp.polyadd, (p, q)), (fnp.polysub, (q, p)), (fnp.polymul, (p, q)),
                    (fnp.polydiv, (p, q)), (fnp.polydiv, (q, p)),
                    (lambda a: fnp.polyder(a, 2), (p,)),
                    (lambda a, k: fnp.polyint(a, 2, k=k), (p, x[:2])),
                    (fnp.polyval, (p, x)), (lambda a: fnp.vander(a, 4), (x,)),
                    (fnp.poly, (x,)),
                    (lambda a, b: fnp.polyfit(a, b, 2), (np.arange(5.0) + x[0] / 9,
                                                        rng.standard_normal(5))),
                    (lambda a, b, w: fnp.polyfit(a, b, 1, w=w, cov=True),
                     (np.arange(5.0), rng.standard_normal((5, 2)), rng.uniform(1, 2, 5)))]:
        check_grads(f, args, order=2)


def test_vander_and_polyval_derivatives_at_zero():
    x = np.array([0.0, 1.5, -2.0])
    J = fd.jacfwd(lambda u: fnp.vander(u, 4, increasing=True))(x)
    # d/dx x**k = k x**(k-1): at 0 only the linear column has slope 1
    want = np.zeros((3, 4, 3))
    for i, v in enumerate(x):
        want[i, :, i] = [0.0, 1.0, 2 * v, 3 * v * v]
    np.testing.assert_allclose(J, want, atol=1e-12)
    np.testing.assert_allclose(fd.grad(lambda u: fnp.polyval([2.0, 0.0, 1.0], u))(0.0), 0.0)


def test_roots_derivative_in_closed_form():
    # dr/dp_k = -r**(n-k) / p'(r) at a simple root r
    p = np.array([2.0, -3.0, -11.0, 6.0])     # roots 3, -2, 0.5
    r = np.roots(p)
    J = fd.jacfwd(fnp.roots)(p)
    dp = np.polyder(p)
    want = -np.stack([r ** (3 - k) for k in range(4)], 1) / np.polyval(dp, r)[:, None]
    np.testing.assert_allclose(J, want, rtol=1e-9, atol=1e-12)
    check_grads(fnp.roots, (p,), order=2)
    # complex roots: the derivative in each component, through the complex eigenvalues
    check_grads(fnp.roots, (np.array([1.0, 0.5, 2.0]),), order=2)
    # a zero root appended for a trailing zero moves by -dp[-1] / p[-2]
    q = np.array([1.0, -3.0, 2.0, 0.0])
    J = fd.jacrev(fnp.roots)(q)
    assert np.roots(q)[-1] == 0 and fnp.roots(q)[-1] == 0
    np.testing.assert_allclose(J[-1], [0.0, 0.0, 0.0, -1 / q[-2]], atol=1e-12)


# --- vmap and jit --------------------------------------------------------------------------

def test_vmap_equals_a_loop():
    rng = np.random.default_rng(3)
    P, Q, X = rng.uniform(-2, 2, (3, 4)) + [3, 0, 0, 0], rng.uniform(1, 2, (3, 2)), \
        rng.uniform(-1, 1, (3, 5))
    for f, args in [(fnp.polyadd, (P, Q)), (fnp.polymul, (P, Q)), (fnp.polydiv, (P, Q)),
                    (fnp.polyder, (P,)), (fnp.polyint, (P,)), (fnp.polyval, (P, X)),
                    (fnp.vander, (X,)), (fnp.poly, (X,)),
                    (lambda a, b: fnp.polyfit(a, b, 2), (X + np.arange(5), X))]:
        got = fd.vmap(f)(*args)
        per = [f(*[a[i] for a in args]) for i in range(3)]
        want = tuple(np.stack(w) for w in zip(*per)) if isinstance(per[0], tuple) \
            else np.stack(per)
        assert_same(got, want)
    # roots under vmap: complex (the values are unknown), the same roots as a loop
    got = fd.vmap(fnp.roots)(P)
    assert got.dtype == np.complex128
    for i in range(3):
        np.testing.assert_allclose(np.sort_complex(got[i]),
                                   np.sort_complex(np.roots(P[i]).astype(complex)),
                                   rtol=1e-10)


def test_jit_structural_results():
    """Under jit the values are unknown: no value-based trimming, complex roots."""
    p, q = np.array([1.0, -6.0, 11.0, -6.0]), np.array([1.0, -1.0])
    for f in (fnp.polyadd, fnp.polymul, fnp.polysub, fnp.polyval):
        assert_same(fd.jit(f)(p, q), getattr(np, f.__name__)(p, q))
    q_, r_ = fd.jit(fnp.polydiv)(p, q)
    wq, wr = np.polydiv(p, q)
    _helpers.assert_same(q_, wq)
    assert r_.shape == (1,) and wr.shape == (1,)    # (x - 1) divides p: remainder [0]
    np.testing.assert_allclose(r_, wr, atol=1e-12)
    r = fd.jit(fnp.roots)(p)
    assert r.dtype == np.complex128
    np.testing.assert_allclose(np.sort(r.real), [1.0, 2.0, 3.0], rtol=1e-12)
    # a leading zero is kept under jit: polymul's result is longer than NumPy's
    z = np.concatenate([[0.0], p])
    assert fd.jit(fnp.polymul)(z, q).shape == (6,) and np.polymul(z, q).shape == (5,)
