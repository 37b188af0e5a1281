"""The rest of SciPy's ``scipy.special`` list (issue 15) against scipy.special itself.

(1) Eagerly each function is SciPy's; traced (make_jaxpr + check_jaxpr + eval_jaxpr) it
matches SciPy in value, shape and dtype over hypothesis shapes, dtypes (float64, float32,
float16, integers, bools, complex where SciPy has complex loops) and broadcast operands,
and through NumPy's ``__array_ufunc__`` dispatch; (2) derivatives to order 2 against
finite differences (``check_grads``, forward and reverse), holomorphic ones on complex
input, and the closed forms at the special points (spence' at 1, Si' at 0, boxcox at
lmbda = 0); (3) the documented GradientErrors; (4) vmap equals a loop, jit equals the
interpreter; (5) the namespace is SciPy's; (6) without SciPy the compositions still run
and the primitives raise SciPyRequiredError.
"""
from __future__ import annotations

import functools
import json
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcdiff as fd
import funcdiff.scipy.special as fsp
from funcdiff.core.errors import FuncdiffTypeError, FuncdiffValueError, GradientError
from funcdiff.scipy import _special
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, nep50, traced

sp = pytest.importorskip("scipy.special")

VALUES = settings(max_examples=12, deadline=None)
GRAD_EXAMPLES = settings(max_examples=3, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
seeds = st.integers(0, 2**31 - 1)
REAL = [np.float64, np.float32, np.float16, np.int64, np.int8, np.bool_]
COMPLEX = [np.complex128, np.complex64]

#: single precision to 2e-5 (SciPy computes its float32 loops in double too), double 1e-11
TOLS = {np.float16: 2e-3, np.float32: 2e-5, np.complex64: 2e-5, DEFAULT: 1e-11}
assert_same = functools.partial(_helpers.assert_same, tols=TOLS, exact_kinds="")


def make(seed, shape, dtype, domain=lambda z: z):
    """Values of ``dtype`` from ``domain`` of a standard normal sample (complex: of a
    complex one; integers: small positive; bools: above the median)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    z = rng.normal(size=shape)
    if dtype.kind == "c":
        z = z + 1j * rng.normal(size=shape)
    z = domain(z)
    if dtype == np.bool_:
        return np.real(z) > np.median(np.real(z)) if np.size(z) else np.zeros(shape, bool)
    if dtype.kind in "iu":
        return np.round(np.abs(np.real(z)) * 2 + 1).astype(dtype)
    return np.asarray(z).astype(dtype)


@pytest.fixture(autouse=True)
def _quiet():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _outputs(v):
    return list(v) if isinstance(v, tuple) else [v]


# --- values: one argument --------------------------------------------------------------------

# name -> (domain, complex ok); a domain maps a normal sample into range
UNARY = {
    "erfcx": (lambda z: 3 * z, True),
    "wofz": (lambda z: 2 * z, True),
    "dawsn": (lambda z: 3 * z, True),
    "exp1": (lambda z: 2 * z, True),
    "expi": (lambda z: 3 * z, True),
    "i0e": (lambda z: 4 * z, False),
    "i1e": (lambda z: 4 * z, False),
    "loggamma": (lambda z: 3 * z, True),
    "spence": (lambda z: 2 * z, True),
    "sici": (lambda z: 3 * z, True),
    "fresnel": (lambda z: 2 * z, True),
    "zeta": (lambda z: 3 * z, True),
    "erf": (lambda z: 2 * z, True),
    "erfc": (lambda z: 2 * z, True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@VALUES
@given(shape=shapes, dtype=st.sampled_from(REAL + COMPLEX), seed=seeds)
def test_unary_values(name, shape, dtype, seed):
    domain, complex_ok = UNARY[name]
    if np.dtype(dtype).kind == "c" and not complex_ok:
        dtype = np.float64
    x = make(seed, shape, dtype, domain)
    want = getattr(sp, name)(x)
    for g, w in zip(_outputs(getattr(fsp, name)(x)), _outputs(want)):
        assert_same(g, w, exact=True)                      # eager: SciPy itself
    with nep50():
        want = getattr(sp, name)(x)
    got = traced(getattr(fsp, name), x)
    for g, w in zip(got, _outputs(want)):
        assert_same(g, w)
    if isinstance(getattr(sp, name), np.ufunc):            # scipy's ufunc on a tracer
        for g, w in zip(traced(getattr(sp, name), x), _outputs(want)):
            assert_same(g, w)


# name -> one domain per argument (from a standard normal sample); complex: which argument
# may be complex
NARY = {
    "expn": ((lambda z: np.round(np.abs(3 * z)), lambda z: np.abs(3 * z) + 0.05), None),
    "kl_div": ((lambda z: np.abs(2 * z), lambda z: np.abs(2 * z) + 0.1), None),
    "rel_entr": ((lambda z: np.abs(2 * z), lambda z: np.abs(2 * z) + 0.1), None),
    "hyp1f1": ((lambda z: z, lambda z: np.abs(2 * z) + 0.5, lambda z: 3 * z), 2),
    "hyp2f1": ((lambda z: z, lambda z: z, lambda z: np.abs(2 * z) + 0.5,
                lambda z: 0.9 * np.tanh(z)), 3),
    "zeta": ((lambda z: np.abs(3 * z) + 1.1, lambda z: np.abs(3 * z) + 0.1), 0),
    "poch": ((lambda z: 3 * z, lambda z: 2 * z), None),
    "owens_t": ((lambda z: 2 * z, lambda z: 2 * z), None),
    "boxcox": ((lambda z: np.abs(3 * z), lambda z: z), None),
    "boxcox1p": ((lambda z: np.abs(3 * z) - 0.5, lambda z: z), None),
    "comb": ((lambda z: np.round(np.abs(6 * z)), lambda z: np.round(3 * z)), None),
}
arg_kinds = st.sampled_from(["f64", "f32", "int", "py", "c128", "c64"])


def make_arg(seed, shape, kind, domain, complex_ok):
    if kind.startswith("c") and not complex_ok:
        kind = "f64"
    if kind == "py":
        return float(domain(np.random.default_rng(seed).normal()))
    dt = {"f64": np.float64, "f32": np.float32, "int": np.float64, "c128": np.complex128,
          "c64": np.complex64}[kind]
    v = make(seed, shape, dt, domain)
    return np.round(v).astype(np.int64) if kind == "int" else v


@pytest.mark.parametrize("name", sorted(NARY))
@VALUES
@given(data=st.data(), seed=seeds)
def test_nary_values(name, data, seed):
    doms, cplx = NARY[name]
    bs = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=len(doms), max_dims=3,
                                                     max_side=3))
    kinds = [data.draw(arg_kinds) for _ in doms]
    args = [make_arg(seed + i, s, k, d, i == cplx)
            for i, (s, k, d) in enumerate(zip(bs.input_shapes, kinds, doms))]
    arrays = [i for i, a in enumerate(args) if not isinstance(a, float)]

    def f(*xs):
        full = list(args)
        for i, x in zip(arrays, xs):
            full[i] = x
        return getattr(fsp, name)(*full)

    want = getattr(sp, name)(*args)
    assert_same(getattr(fsp, name)(*args), want, exact=True)
    with nep50():
        want = getattr(sp, name)(*args)
    if arrays:
        (got,) = traced(f, *[args[i] for i in arrays])
        assert_same(np.asarray(got), np.asarray(want))


def test_extra_loop_tables_match_scipy():
    """The loops used for comb (binom) and zeta (two private ufuncs) without SciPy."""
    real = set("?bhilqBHILQefd")
    for name, loops in _special.EXTRA_LOOPS.items():
        fn = _special._ufunc(name)
        mine = tuple(t for t in fn.types if set(t.replace("->", "")) <= real)
        assert set(loops) == set(mine), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int8])
def test_sph_harm_y_values(dtype, rng):
    n = rng.integers(0, 6, (4, 1))
    m = rng.integers(-5, 6, (1, 5))                          # |m| > n too: 0
    theta = rng.uniform(-1, 7, (4, 5)).astype(dtype)          # beyond [0, pi] too
    phi = rng.uniform(-4, 4, (5,)).astype(dtype)
    want = sp.sph_harm_y(n, m, theta, phi)
    assert_same(fsp.sph_harm_y(n, m, theta, phi), want, exact=True)
    (got,) = traced(lambda t, p: fsp.sph_harm_y(n, m, t, p), theta, phi)
    assert_same(got, want)
    (got,) = traced(lambda nn, mm: fsp.sph_harm_y(nn, mm, theta, phi), n, m)
    assert_same(got, want)


@pytest.mark.parametrize("v", [0, 1, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_bessel_jn_values(v, dtype, rng):
    z = (rng.normal(size=(2, 3)) * 5).astype(dtype)
    want = np.stack([sp.jv(k, z) for k in range(v + 1)])
    assert_same(fsp.bessel_jn(z, v=v), want)
    (got,) = traced(lambda u: fsp.bessel_jn(u, v=v), z)
    assert_same(got, want)
    assert fsp.bessel_jn(1.5, v=2).shape == (3,)
    with pytest.raises(FuncdiffValueError, match="static non-negative integer"):
        fsp.bessel_jn(z, v=-1)


def test_complex_erf_erfc_on_a_grid():
    """erf/erfc of complex input (they raised before): small |z| (the series), both
    half-planes, near the imaginary axis, moderately large |z|; complex64 too."""
    re, im = np.meshgrid(np.concatenate([-np.geomspace(1e-8, 6, 12), [0.0],
                                         np.geomspace(1e-8, 6, 12)]),
                         np.concatenate([-np.geomspace(1e-8, 4, 9), [0.0],
                                         np.geomspace(1e-8, 4, 9)]))
    z = re + 1j * im
    for name in ("erf", "erfc"):
        for dt, rtol in ((np.complex128, 1e-12), (np.complex64, 2e-6)):
            zz = z.astype(dt)
            (got,) = traced(getattr(fsp, name), zz)
            want = getattr(sp, name)(zz)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=0, err_msg=name)
    # the real function is unchanged (its own primitive)
    (got,) = traced(fsp.erf, np.array([0.3, -1.2]))
    np.testing.assert_allclose(got, sp.erf(np.array([0.3, -1.2])), rtol=1e-15)


def test_special_points():
    pts = {
        "spence": [0.0, 1.0, 1.0 + 1e-9, 2.0, -1.0, np.inf, np.nan],
        "exp1": [0.0, -1.0, 1e-300, 700.0, np.inf, np.nan],
        "expi": [0.0, -1.0, 1e-300, 700.0, -700.0, np.nan],
        "loggamma": [0.0, -1.5, 1.0, 2.0, 1e300, np.inf, np.nan],
        "erfcx": [-30.0, 0.0, 30.0, 1e10, np.inf, -np.inf, np.nan],
        "dawsn": [0.0, 1e-300, 1e10, np.nan],
        "i0e": [0.0, 700.0, -700.0, np.inf, np.nan],
        "i1e": [0.0, 700.0, -700.0, np.inf, np.nan],
    }
    for name, xs in pts.items():
        x = np.array(xs)
        for g, w in zip(traced(getattr(fsp, name), x), _outputs(getattr(sp, name)(x))):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True,
                                       err_msg=name)
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, -1.0, 1.0, np.nan, 0.0, np.inf])
    y = np.array([0.0, 1.0, -1.0, 0.0, 3.0, 1.0, np.inf, 1.0, np.nan, 1.0])
    for name in ("kl_div", "rel_entr"):
        np.testing.assert_allclose(traced(getattr(fsp, name), x, y)[0],
                                   getattr(sp, name)(x, y), rtol=1e-15, err_msg=name)
    lam = np.array([0.0, 0.0, 1e-300, 1e-20, 0.5, -0.5, 2.0, 0.0, 1e-300])
    xb = np.array([0.0, 2.0, 0.0, 3.0, 0.0, 0.0, -1.0, np.inf, np.inf])
    for name in ("boxcox", "boxcox1p"):
        np.testing.assert_allclose(traced(getattr(fsp, name), xb, lam)[0],
                                   getattr(sp, name)(xb, lam), rtol=1e-14, equal_nan=True,
                                   err_msg=name)


def test_comb_factorial_bernoulli():
    N = np.array([5.0, 10.0, 3.0, 0.0, 7.5, 4.0, -2.0, 30.0])
    k = np.array([2.0, 3.0, 4.0, 0.0, 2.5, -1.0, 1.0, 15.0])
    for rep in (False, True):
        want = sp.comb(N, k, repetition=rep)
        (got,) = traced(lambda a, b: fsp.comb(a, b, repetition=rep), N, k)
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=str(rep))
    assert fsp.comb(5, 2, exact=True) == 10 and type(fsp.comb(5, 2, exact=True)) is int
    with pytest.raises(FuncdiffTypeError, match="exact=True"):
        fd.grad(lambda n: fsp.comb(n, 2.0, exact=True))(5.0)
    # exact=True on constants inside a transform is fine (nothing traced)
    assert fd.grad(lambda x: x * fsp.comb(5, 2, exact=True))(1.0) == 10.0
    n = np.array([3.0, 0.5, -1.0, 4.0, np.nan, 0.0, 170.5])
    for extend in ("zero", "complex"):
        want = sp.factorial(n, extend=extend) if extend == "zero" else \
            sp.factorial(n, extend=extend).real
        (got,) = traced(lambda v: fsp.factorial(v, extend=extend), n)
        np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)
    (got,) = traced(fsp.factorial, np.array([3, 4], np.int8))
    assert_same(got, sp.factorial(np.array([3, 4], np.int8)))
    (got,) = traced(fsp.factorial, np.array([3.0, 4.0], np.float32))
    assert got.dtype == np.float64
    assert fsp.factorial(5, exact=True) == 120
    with pytest.raises(FuncdiffValueError, match="extend"):
        traced(lambda v: fsp.factorial(v, extend="bad"), np.ones(2))
    np.testing.assert_array_equal(fsp.bernoulli(12), sp.bernoulli(12))
    from funcdiff.scipy._special_more import _bernoulli_fractions
    # the fallback is exact (SciPy's own values are off by ~1e-12 relatively)
    exact = _bernoulli_fractions(20)
    assert exact[:5] == [1, Fraction(-1, 2), Fraction(1, 6), 0, Fraction(-1, 30)]
    assert exact[20] == Fraction(-174611, 330)
    np.testing.assert_allclose([float(b) for b in exact], sp.bernoulli(20), rtol=1e-11,
                               atol=1e-300)
    with pytest.raises(ValueError, match="non-negative"):
        fsp.bernoulli(-1)                                  # SciPy's error, eagerly
    with pytest.raises(FuncdiffValueError, match="non-negative"):
        fsp.bernoulli.traced(-1)
    with pytest.raises(FuncdiffTypeError, match="static"):
        fd.jit(fsp.bernoulli)(3)


# --- derivatives -----------------------------------------------------------------------------

GRAD_CASES = {
    "erfcx": (fsp.erfcx, lambda z: 2 * z, False),
    "erfcx_c": (fsp.erfcx, lambda z: z, True),
    "wofz": (fsp.wofz, lambda z: z, True),
    "dawsn": (fsp.dawsn, lambda z: 3 * z, False),
    "dawsn_c": (fsp.dawsn, lambda z: z, True),
    "exp1": (fsp.exp1, lambda z: np.abs(z) + 0.2, False),
    "exp1_c": (fsp.exp1, lambda z: z + 2.5, True),
    "expi": (fsp.expi, lambda z: np.sign(z) * (np.abs(z) + 0.2), False),
    "expi_c": (fsp.expi, lambda z: z + 2.5, True),
    "expn": (lambda x: fsp.expn(3, x), lambda z: np.abs(z) + 0.3, False),
    "expn_orders": (lambda x: fsp.expn(np.array([[0], [1], [2], [5]]), x),
                    lambda z: np.abs(z) + 0.3, False),
    "expn_real_order": (lambda x: fsp.expn(2.7, x), lambda z: np.abs(z) + 0.3, False),
    "hyp1f1": (lambda x: fsp.hyp1f1(0.7, 1.9, x), lambda z: 2 * z, False),
    "hyp1f1_c": (lambda x: fsp.hyp1f1(0.7, 1.9, x), lambda z: z, True),
    "hyp2f1": (lambda x: fsp.hyp2f1(0.7, 1.2, 2.5, x), lambda z: 0.8 * np.tanh(z), False),
    "hyp2f1_c": (lambda x: fsp.hyp2f1(0.7, 1.2, 2.5, x), lambda z: 0.4 * np.tanh(z), True),
    "zeta_q": (lambda q: fsp.zeta(3.5, q), lambda z: np.abs(z) + 0.5, False),
    "poch_z": (lambda z: fsp.poch(z, 1.7), lambda z: np.abs(z) + 0.3, False),
    "poch_m": (lambda m: fsp.poch(2.3, m), lambda z: z, False),
    "loggamma": (fsp.loggamma, lambda z: np.abs(z) + 0.3, False),
    "loggamma_c": (fsp.loggamma, lambda z: 3 * z, True),
    "spence": (fsp.spence, lambda z: np.abs(z) + 0.1, False),
    "spence_near_1": (fsp.spence, lambda z: 1 + 0.02 * z, False),
    "spence_c": (fsp.spence, lambda z: z + 1.5, True),
    "si": (lambda x: fsp.sici(x)[0], lambda z: 3 * z, False),
    "si_near_0": (lambda x: fsp.sici(x)[0], lambda z: 0.1 * z, False),
    "ci": (lambda x: fsp.sici(x)[1], lambda z: np.abs(3 * z) + 0.1, False),
    "sici_c": (lambda x: fsp.sici(x)[0] * fsp.sici(x)[1], lambda z: z + 1.5, True),
    "fresnel": (lambda x: fsp.fresnel(x)[0] - fsp.fresnel(x)[1], lambda z: 2 * z, False),
    "fresnel_c": (lambda x: fsp.fresnel(x)[0] * fsp.fresnel(x)[1], lambda z: z, True),
    "owens_t_h": (lambda h: fsp.owens_t(h, 0.8), lambda z: 2 * z, False),
    "owens_t_a": (lambda a: fsp.owens_t(0.6, a), lambda z: 2 * z, False),
    "i0e": (fsp.i0e, lambda z: 3 * z + 0.05, False),
    "i1e": (fsp.i1e, lambda z: 3 * z + 0.05, False),
    "bessel_jn": (lambda z: fsp.bessel_jn(z, v=3), lambda z: 4 * z, False),
    "kl_div_x": (lambda x: fsp.kl_div(x, 1.3), lambda z: np.abs(z) + 0.1, False),
    "kl_div_y": (lambda y: fsp.kl_div(0.7, y), lambda z: np.abs(z) + 0.1, False),
    "rel_entr_x": (lambda x: fsp.rel_entr(x, 1.3), lambda z: np.abs(z) + 0.1, False),
    "rel_entr_y": (lambda y: fsp.rel_entr(0.7, y), lambda z: np.abs(z) + 0.1, False),
    "boxcox_x": (lambda x: fsp.boxcox(x, 0.4), lambda z: np.abs(z) + 0.2, False),
    "boxcox_lmbda": (lambda lm: fsp.boxcox(1.7, lm), lambda z: z, False),
    "boxcox_lmbda_small": (lambda lm: fsp.boxcox(1.7, lm), lambda z: 1e-3 * z, False),
    "boxcox1p_lmbda": (lambda lm: fsp.boxcox1p(0.7, lm), lambda z: 0.05 * z, False),
    "comb_N": (lambda n: fsp.comb(n, 2.5), lambda z: np.abs(z) + 3.0, False),
    "comb_k": (lambda k: fsp.comb(7.0, k), lambda z: 0.5 * z + 3.0, False),
    "factorial": (fsp.factorial, lambda z: np.abs(z) + 0.1, False),
    "erf_c": (fsp.erf, lambda z: z, True),
    "erf_c_small": (fsp.erf, lambda z: 0.1 * z, True),
    "erfc_c": (fsp.erfc, lambda z: z, True),
    "sph_harm_y_theta": (lambda t: fsp.sph_harm_y(3, -2, t, 0.4), lambda z: 1.5 + z, False),
    "sph_harm_y_phi": (lambda p: fsp.sph_harm_y(4, 3, 1.1, p), lambda z: 2 * z, False),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
@GRAD_EXAMPLES
@given(shape=nonempty, seed=seeds)
def test_grads(name, shape, seed):
    f, domain, cplx = GRAD_CASES[name]
    x = make(seed, shape, np.complex128 if cplx else np.float64, domain)
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))


def test_closed_form_derivatives():
    """Against SciPy's values of the closed forms, at and near the special points."""
    x = np.array([-2.0, -0.3, 0.0, 0.4, 3.0])
    np.testing.assert_allclose(fd.vmap(fd.grad(fsp.erfcx))(x),
                               2 * x * sp.erfcx(x) - 2 / np.sqrt(np.pi), rtol=1e-13)
    np.testing.assert_allclose(fd.vmap(fd.grad(fsp.dawsn))(x), 1 - 2 * x * sp.dawsn(x),
                               rtol=1e-13, atol=1e-16)
    z = np.array([0.3 + 0.2j, -1.0 + 2.0j, 2.0 - 0.5j])
    w_prime = fd.vmap(fd.grad(fsp.wofz, holomorphic=True))(z)
    np.testing.assert_allclose(w_prime, -2 * z * sp.wofz(z) + 2j / np.sqrt(np.pi), rtol=1e-13)
    np.testing.assert_allclose(fd.vmap(fd.grad(fsp.erf, holomorphic=True))(z),
                               2 / np.sqrt(np.pi) * np.exp(-z ** 2), rtol=1e-12)
    np.testing.assert_allclose(fd.vmap(fd.grad(fsp.loggamma, holomorphic=True))(z),
                               sp.psi(z), rtol=1e-13)
    # spence' = log(z)/(1 - z): -1 at 1, and the second derivative 1/2 there
    assert fd.grad(fsp.spence)(1.0) == -1.0
    np.testing.assert_allclose(fd.grad(fd.grad(fsp.spence))(1.0), 0.5, rtol=1e-14)
    u = np.array([0.5, 0.97, 1.03, 2.0])
    np.testing.assert_allclose(fd.vmap(fd.grad(fsp.spence))(u), np.log(u) / (1 - u),
                               rtol=1e-13)
    # Si' = sin(x)/x: 1 at 0, Si''' (0) = -1/3; Ci' = cos(x)/x
    assert fd.grad(lambda v: fsp.sici(v)[0])(0.0) == 1.0
    np.testing.assert_allclose(fd.grad(fd.grad(fd.grad(lambda v: fsp.sici(v)[0])))(0.0),
                               -1 / 3, rtol=1e-14)
    np.testing.assert_allclose(fd.vmap(fd.grad(lambda v: fsp.sici(v)[1]))(u), np.cos(u) / u)
    # d/dx expn(n, x) = -expn(n - 1, x); expn(0, x) = exp(-x)/x
    n = np.array([0, 1, 2, 7])
    np.testing.assert_allclose(fd.grad(lambda v: fsp.expn(n, v).sum())(np.full(4, 1.3)),
                               np.where(n > 0, -sp.expn(np.maximum(n - 1, 0), 1.3),
                                        -np.exp(-1.3) / 1.3 * (1 + 1 / 1.3)), rtol=1e-13)
    # Hurwitz zeta in q; hyp1f1 / hyp2f1 in x; poch in z and m
    np.testing.assert_allclose(fd.grad(fsp.zeta, argnums=1)(2.5, 1.7),
                               -2.5 * sp.zeta(3.5, 1.7), rtol=1e-14)
    np.testing.assert_allclose(fd.grad(lambda v: fsp.hyp1f1(0.5, 1.5, v))(0.8),
                               0.5 / 1.5 * sp.hyp1f1(1.5, 2.5, 0.8), rtol=1e-14)
    np.testing.assert_allclose(fd.grad(lambda v: fsp.hyp2f1(0.5, 1.0, 1.5, v))(0.3),
                               0.5 / 1.5 * sp.hyp2f1(1.5, 2.0, 2.5, 0.3), rtol=1e-14)
    gz, gm = fd.grad(fsp.poch, argnums=(0, 1))(1.3, 2.2)
    np.testing.assert_allclose([gz, gm], [sp.poch(1.3, 2.2) * (sp.psi(3.5) - sp.psi(1.3)),
                                          sp.poch(1.3, 2.2) * sp.psi(3.5)], rtol=1e-13)
    # Owen's T against central differences of SciPy's
    h, a, e = 0.7, 1.3, 1e-6
    gh, ga = fd.grad(fsp.owens_t, argnums=(0, 1))(h, a)
    np.testing.assert_allclose(gh, (sp.owens_t(h + e, a) - sp.owens_t(h - e, a)) / 2 / e,
                               rtol=1e-8)
    np.testing.assert_allclose(ga, (sp.owens_t(h, a + e) - sp.owens_t(h, a - e)) / 2 / e,
                               rtol=1e-8)
    # boxcox at lmbda = 0: d/dlmbda = log(x)^2/2, d2 = log(x)^3/3 (SciPy's own switch to
    # log(x) below |lmbda| = 1e-19 would give 0)
    x0 = 2.5
    np.testing.assert_allclose(fd.grad(fsp.boxcox, argnums=1)(x0, 0.0), np.log(x0) ** 2 / 2,
                               rtol=1e-15)
    np.testing.assert_allclose(fd.grad(fd.grad(fsp.boxcox, argnums=1), argnums=1)(x0, 0.0),
                               np.log(x0) ** 3 / 3, rtol=1e-14)
    np.testing.assert_allclose(fd.grad(fsp.boxcox1p, argnums=1)(x0, 0.0),
                               np.log1p(x0) ** 2 / 2, rtol=1e-15)
    np.testing.assert_allclose(fd.grad(fsp.boxcox)(x0, 0.3), x0 ** (0.3 - 1), rtol=1e-14)
    # comb's derivative in N from the digamma form of beta
    N, k = 7.5, 2.5
    np.testing.assert_allclose(fd.grad(fsp.comb)(N, k), sp.comb(N, k) * (
        sp.psi(N + 1) - sp.psi(N - k + 1)), rtol=1e-13)


def test_sph_harm_y_derivatives():
    """d/dtheta against SciPy's own diff_n=1 Jacobian inside (0, pi); beyond it SciPy's
    function is even and 2pi-periodic in theta; 0 at the poles (its kink for odd |m|)."""
    n, m = np.array([[1], [3], [4], [6]]), np.array([-3, -1, 0, 2, 4])
    theta = np.array([[0.3], [1.1], [2.0], [2.9]])
    phi = 0.7
    dt = np.stack([fd.jacfwd(lambda t: fsp.sph_harm_y(n[i, 0], m, t, phi))(theta[i, 0])
                   for i in range(4)])
    dp = np.stack([fd.jacfwd(lambda p: fsp.sph_harm_y(n[i, 0], m, theta[i, 0], p))(phi)
                   for i in range(4)])
    _, jac = sp.sph_harm_y(n, m, theta, phi, diff_n=1)     # [..., 0]: d/dtheta, 1: d/dphi
    np.testing.assert_allclose(dt, jac[..., 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dp, jac[..., 1], rtol=1e-12, atol=1e-14)
    # outside [0, pi]: Y(-t) = Y(t), Y(2 pi - t) = Y(t)
    for t in (0.4, 2.0):
        d = fd.jacfwd(lambda u: fsp.sph_harm_y(3, 1, u, phi))
        np.testing.assert_allclose(d(-t), -d(t), rtol=1e-12)
        np.testing.assert_allclose(d(2 * np.pi - t), -d(t), rtol=1e-12)
    for t in (0.0, np.pi):
        assert fd.jacfwd(lambda u: fsp.sph_harm_y(3, 1, u, phi))(t) == 0
    check_grads(lambda u: fsp.sph_harm_y(3, 1, u, phi), (np.array([0.0, np.pi]),), order=1)


PARAM_ERRORS = [
    ("hyp1f1", (0.5, 1.5, 0.3), 0, "a"), ("hyp1f1", (0.5, 1.5, 0.3), 1, "b"),
    ("hyp2f1", (0.5, 1.0, 1.5, 0.3), 0, "a"), ("hyp2f1", (0.5, 1.0, 1.5, 0.3), 1, "b"),
    ("hyp2f1", (0.5, 1.0, 1.5, 0.3), 2, "c"), ("zeta", (2.5, 1.5), 0, "x"),
    ("expn", (2.0, 0.7), 0, "n"),
]


@pytest.mark.parametrize("name,args,argnum,argname", PARAM_ERRORS)
def test_parameter_derivatives_raise_gradient_error(name, args, argnum, argname):
    f = getattr(fsp, name)
    with pytest.raises(GradientError, match=f"`{argname}`"):
        fd.grad(f, argnums=argnum)(*args)

    def g(p):
        full = list(args)
        full[argnum] = p
        return f(*full)
    with pytest.raises(GradientError, match=f"`{argname}`"):
        fd.jvp(g, (args[argnum],), (1.0,))
    # the last argument still differentiates with this one held fixed
    check_grads(lambda v: f(*args[:-1], v), (args[-1],), order=2)


def test_riemann_zeta_derivative_raises():
    with pytest.raises(GradientError, match="`x`"):
        fd.grad(fsp.zeta)(2.5)
    (got,) = traced(fsp.zeta, np.array([2.5, -1.5, 0.5]))
    np.testing.assert_allclose(got, sp.zeta(np.array([2.5, -1.5, 0.5])), rtol=1e-13)


def test_argument_errors():
    with pytest.raises(FuncdiffValueError, match="out="):
        traced(lambda v: fsp.zeta(v, out=np.empty(2)), np.ones(2) * 2)
    with pytest.raises(FuncdiffValueError, match="diff_n"):
        traced(lambda t: fsp.sph_harm_y(2, 1, t, 0.3, diff_n=1), 0.4)
    with pytest.raises(FuncdiffTypeError, match="`n` must be an integer"):
        traced(lambda t: fsp.sph_harm_y(2.0, 1, t, 0.3), 0.4)
    with pytest.raises(FuncdiffTypeError, match="`theta` must be real"):
        traced(lambda t: fsp.sph_harm_y(2, 1, t, 0.3), 0.4 + 0j)
    with pytest.raises(FuncdiffTypeError, match="complex"):
        traced(fsp.kl_div, np.ones(2, complex), np.ones(2))
    with pytest.raises(FuncdiffTypeError, match="complex"):
        traced(fsp.factorial, np.ones(2, complex))
    with pytest.raises(FuncdiffTypeError, match="complex"):
        traced(fsp.owens_t, np.ones(2), np.ones(2, complex))    # SciPy: real loops only


# --- vmap, jit -------------------------------------------------------------------------------

VMAP_CASES = {
    "erfcx": (fsp.erfcx, (0,), lambda r: [r.normal(size=(4, 3))]),
    "wofz": (fsp.wofz, (1,), lambda r: [r.normal(size=(2, 3)) + 1j * r.normal(size=(2, 3))]),
    "expn_both": (fsp.expn, (0, 0), lambda r: [r.integers(0, 4, (4,)),
                                               r.uniform(0.2, 3, (4,))]),
    "hyp1f1_x": (fsp.hyp1f1, (None, None, 0), lambda r: [0.5, 1.5, r.normal(size=(5, 2))]),
    "hyp2f1_c": (fsp.hyp2f1, (0, None, None, 1), lambda r: [
        r.uniform(0.1, 1, (3,)), 1.0, 2.5, r.uniform(-0.5, 0.5, (2, 3))]),
    "zeta_q": (fsp.zeta, (None, 0), lambda r: [2.5, r.uniform(0.5, 3, (4, 2))]),
    "sici": (lambda v: fsp.sici(v)[1], (0,), lambda r: [r.uniform(0.1, 3, (4,))]),
    "sph_harm_y": (lambda m, t: fsp.sph_harm_y(3, m, t, 0.4), (0, 0), lambda r: [
        r.integers(-3, 4, (5,)), r.uniform(0, 3, (5,))]),
    "boxcox": (fsp.boxcox, (0, 0), lambda r: [r.uniform(0.1, 3, (4,)),
                                              r.uniform(-1, 1, (4,))]),
    "comb": (fsp.comb, (0, None), lambda r: [r.integers(0, 9, (5,)) * 1.0, 2.0]),
    "bessel_jn": (lambda z: fsp.bessel_jn(z, v=2), (1,), lambda r: [r.normal(size=(2, 3))]),
    "grad_loggamma_c": (fd.grad(lambda z: fsp.loggamma(z).real.sum()), (0,),
                        lambda r: [r.normal(size=(3, 2)) + 1j * r.normal(size=(3, 2))]),
    "grad_owens_t": (fd.grad(lambda h, a: fsp.owens_t(h, a).sum(), argnums=(0, 1)), (0, 0),
                     lambda r: [r.normal(size=(4, 2)), r.normal(size=(4, 2))]),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_equals_loop(name, rng):
    f, in_axes, make_args = VMAP_CASES[name]
    args = make_args(rng)
    size = next(np.shape(a)[d] for a, d in zip(args, in_axes) if d is not None)
    got = fd.vmap(f, in_axes=in_axes)(*args)
    per = [f(*[a if d is None else np.take(a, i, axis=d) for a, d in zip(args, in_axes)])
           for i in range(size)]
    if isinstance(got, tuple):
        for j, g in enumerate(got):
            assert_same(g, np.stack([p[j] for p in per]))
    else:
        assert_same(got, np.stack(per))


JIT_CASES = {
    "erfcx": lambda x: fsp.erfcx(x),
    "dawsn_c": lambda x: fsp.dawsn(x + 0.5j),
    "exp1_expi": lambda x: fsp.exp1(abs(x) + 0.1) + fsp.expi(x),
    "expn": lambda x: fsp.expn(2, abs(x) + 0.1),
    "hyp": lambda x: fsp.hyp1f1(0.5, 1.5, x) + fsp.hyp2f1(0.5, 1.0, 2.5, x / 4),
    "zeta": lambda x: fsp.zeta(abs(x) + 1.5) + fsp.zeta(3.0, abs(x) + 0.5),
    "poch_loggamma": lambda x: fsp.poch(abs(x) + 0.2, x) + fsp.loggamma(abs(x) + 0.1),
    "spence_sici_fresnel": lambda x: fsp.spence(abs(x)) + fsp.sici(x)[0] + fsp.fresnel(x)[1],
    "owens_t": lambda x: fsp.owens_t(x, 2 * x),
    "i0e_i1e": lambda x: fsp.i0e(x) * fsp.i1e(x),
    "entropies": lambda x: fsp.kl_div(abs(x), 1.0) + fsp.rel_entr(abs(x), 2.0),
    "boxcox": lambda x: fsp.boxcox(abs(x) + 0.1, x) + fsp.boxcox1p(abs(x), x),
    "comb_factorial": lambda x: fsp.comb(abs(x) + 5, 2.0) + fsp.factorial(abs(x)),
    "erf_c": lambda x: fsp.erf(x + 1j * x) + fsp.erfc(x - 0.5j),
    "sph_harm_y": lambda x: fsp.sph_harm_y(3, 2, abs(x), x),
    "grad_spence": fd.grad(lambda x: fsp.spence(abs(x) + 0.5).sum()),
    "hessian_owens_t": fd.hessian(lambda x: fsp.owens_t(x, 0.7).sum()),
}


@pytest.mark.parametrize("name", sorted(JIT_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jit_equals_interpreter(name, dtype, rng):
    f = JIT_CASES[name]
    x = rng.normal(size=(3,)).astype(dtype)
    (want,) = traced(f, x)
    assert_same(fd.jit(f)(x), want)


def test_jit_calls_scipy_directly():
    src = fd.jit(lambda x: fsp.wofz(x) + fsp.expn(2, x.real) + fsp.hyp1f1(0.5, 1.5, x)
                 ).lower(np.ones(3, complex)).source
    for name in ("wofz", "expn", "hyp1f1"):
        assert name in src


def test_cost_analysis_counts_them():
    x = np.linspace(0.1, 0.9, 8)
    c = fd.cost_analysis(lambda v: fsp.hyp2f1(0.5, 1.0, 1.5, v))(x)
    assert c["flops"] >= 8 and c["transcendentals"] >= 8


# --- the namespace ---------------------------------------------------------------------------

def test_namespace_is_scipys():
    assert set(TARGETS) <= set(fsp.__all__)
    for name in fsp.__all__:
        assert callable(getattr(fsp, name)), name
        assert hasattr(sp, name) or name == "bessel_jn", name      # JAX's extra
    assert dir(fsp) == sorted(fsp.__all__)
    for helper in ("np", "ew", "math", "Tracer", "aval", "annotations", "_special",
                   "FUNCTIONS", "LOOPS", "SciPyRequiredError", "loop_dtypes"):
        assert not hasattr(fsp, helper), helper
    ns = {}
    exec("from funcdiff.scipy.special import *", ns)
    assert set(ns) - {"__builtins__"} == set(fsp.__all__)


# scipy.special's targets (../shared/api-targets.txt, the jax.scipy.special list)
TARGETS = """bernoulli bessel_jn beta betainc betaln boxcox boxcox1p comb dawsn digamma entr
erf erfc erfcx erfinv exp1 expi expit expn factorial fresnel gamma gammainc gammaincc gammaln
gammasgn hyp1f1 hyp2f1 i0 i0e i1 i1e kl_div log_ndtr log_softmax loggamma logit logsumexp
multigammaln ndtr ndtri owens_t poch polygamma rel_entr sici softmax spence sph_harm_y wofz
xlog1py xlogy zeta""".split()


# --- without SciPy -----------------------------------------------------------------------------

NO_SCIPY = r"""
import json, sys
sys.modules["scipy"] = None                       # hide SciPy: every import of it fails
import numpy as np
import funcdiff as fd
import funcdiff.scipy.special as fsp
from funcdiff.primitives import special as prims
x = np.array([0.3, 1.7, 4.2])
out = {
  "i0e": fsp.i0e(-x), "i1e": fsp.i1e(x), "kl_div": fsp.kl_div(x, x[::-1]),
  "rel_entr": fsp.rel_entr(x, 2.0), "boxcox": fsp.boxcox(x, 0.3),
  "boxcox1p": fsp.boxcox1p(x, -0.4), "comb": fsp.comb(x + 5, x),
  "factorial": fsp.factorial(x), "bernoulli": fsp.bernoulli(8),
  "comb exact": fsp.comb(7, 3, exact=True), "factorial exact": fsp.factorial(6, exact=True),
  "grad boxcox": fd.grad(lambda l: fsp.boxcox(x, l).sum())(0.0),
}
errors = {}
for name, f in [("wofz", lambda: fsp.wofz(x)), ("hyp1f1", lambda: fsp.hyp1f1(1.0, 2.0, x)),
                ("erf complex", lambda: fsp.erf(x + 1j)), ("bessel_jn", lambda: fsp.bessel_jn(x, v=2))]:
    try:
        f()
    except prims.SciPyRequiredError as e:
        errors[name] = str(e)
out["errors"] = errors
print(json.dumps({k: (v if isinstance(v, (str, dict, int)) else np.asarray(v).tolist())
                  for k, v in out.items()}))
"""


def test_without_scipy():
    res = subprocess.run([sys.executable, "-c", NO_SCIPY], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    x = np.array([0.3, 1.7, 4.2])
    want = {
        "i0e": sp.i0e(-x), "i1e": sp.i1e(x), "kl_div": sp.kl_div(x, x[::-1]),
        "rel_entr": sp.rel_entr(x, 2.0), "boxcox": sp.boxcox(x, 0.3),
        "boxcox1p": sp.boxcox1p(x, -0.4), "comb": sp.comb(x + 5, x),
        "factorial": sp.factorial(x), "bernoulli": sp.bernoulli(8),
        "grad boxcox": np.sum(np.log(x) ** 2 / 2),
    }
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=1e-11, err_msg=k)
    assert got["comb exact"] == 35 and got["factorial exact"] == 720
    assert set(got["errors"]) == {"wofz", "hyp1f1", "erf complex", "bessel_jn"}
    assert all("Install SciPy" in e for e in got["errors"].values())
