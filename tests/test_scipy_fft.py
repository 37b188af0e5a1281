"""funcdiff.scipy.fft: the DCTs (types 1-4, every norm, orthogonalize, n/s, axis/axes)
and the Fourier transforms with SciPy's signatures.

Values: traced (make_jaxpr + check_jaxpr + eval_jaxpr), jit and the pure-NumPy
composition against scipy.fft over hypothesis shapes and dtypes (float64/float32/
float16/int/complex).  Derivatives: check_grads order 2 (the DCTs are linear: exact
transposes).  vmap against a loop; errors; the namespace.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.fft as sf
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.scipy import fft as F
from funcdiff.test_util import check_grads

import _helpers

traced = functools.partial(_helpers.traced, unpack=True)
VALUES = settings(max_examples=40, deadline=None)

DCTS = ["dct", "idct"]
DCTNS = ["dctn", "idctn"]
NORMS = [None, "ortho", "forward", "backward"]
DTYPES = [np.float64, np.float32, np.float16, np.int32, np.complex128, np.complex64]


def same(got, want):
    _helpers.assert_same(got, want, tols={np.float32: 2e-5, np.complex64: 2e-5,
                                          _helpers.DEFAULT: 1e-10},
                         tol_dtype=np.asarray(want).dtype)


def scaled(got, want):
    """Values relative to the result's size (the transforms sum many terms)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.dtype, want.dtype)
    tol = 2e-5 if want.dtype in (np.float32, np.complex64) else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


@st.composite
def arrays(draw, min_nd=1, max_nd=3):
    nd = draw(st.integers(min_nd, max_nd))
    shape = tuple(draw(st.integers(2, 6)) for _ in range(nd))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return _helpers.values(np.random.default_rng(seed), shape, dtype)


# --- values -------------------------------------------------------------------------------

@VALUES
@given(x=arrays(), name=st.sampled_from(DCTS), type_=st.integers(1, 4),
       norm=st.sampled_from(NORMS), orth=st.sampled_from([None, True, False]),
       n=st.sampled_from([None, 2, 5, 9]), axis=st.integers(-3, 2))
def test_dct_values(x, name, type_, norm, orth, n, axis):
    if not -x.ndim <= axis < x.ndim:
        axis = -1
    kw = dict(type=type_, n=n, axis=axis, norm=norm, orthogonalize=orth)
    want = getattr(sf, name)(x, **kw)
    fn = getattr(F, name)
    scaled(traced(lambda v: fn(v, **kw), x), want)
    scaled(fd.jit(lambda v: fn(v, **kw))(x), want)
    scaled(fn.traced(x, **kw), want)          # the composition on NumPy (no SciPy)
    np.testing.assert_array_equal(fn(x, **kw), want)     # eager: SciPy itself


@VALUES
@given(x=arrays(2, 3), name=st.sampled_from(DCTNS), type_=st.integers(1, 4),
       norm=st.sampled_from(NORMS), which=st.integers(0, 3))
def test_dctn_values(x, name, type_, norm, which):
    kw = [dict(), dict(axes=[0]), dict(s=[3, 4]), dict(s=[5], axes=[-1])][which]
    kw.update(type=type_, norm=norm)
    want = getattr(sf, name)(x, **kw)
    fn = getattr(F, name)
    scaled(traced(lambda v: fn(v, **kw), x), want)
    scaled(fn.traced(x, **kw), want)


@pytest.mark.parametrize("type_", [1, 2, 3, 4])
@pytest.mark.parametrize("norm", NORMS)
def test_inverse_pairs(type_, norm, rng):
    x = rng.normal(size=(3, 7))
    y = fd.jit(lambda v: F.idct(F.dct(v, type_, norm=norm), type_, norm=norm))(x)
    np.testing.assert_allclose(y, x, atol=1e-12)
    y = fd.jit(lambda v: F.idctn(F.dctn(v, type_, norm=norm), type_, norm=norm))(x)
    np.testing.assert_allclose(y, x, atol=1e-12)


def test_ortho_is_orthogonal(rng):
    """With norm='ortho' the DCT matrix is orthogonal: its transpose (vjp) is its
    inverse, for types 1-4."""
    for t in (1, 2, 3, 4):
        x, u = rng.normal(size=6), rng.normal(size=6)
        _, vjp = fd.vjp(lambda v: F.dct(v, t, norm="ortho"), x)
        np.testing.assert_allclose(vjp(u)[0], sf.idct(u, t, norm="ortho"), atol=1e-12)


def test_empty_axes_returns_input(rng):
    x = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(traced(lambda v: F.dctn(v, axes=[]), x), x)


# --- derivatives --------------------------------------------------------------------------

@pytest.mark.parametrize("name", DCTS + DCTNS)
@pytest.mark.parametrize("type_", [1, 2, 3, 4])
def test_check_grads(name, type_, rng):
    fn = getattr(F, name)
    x = rng.normal(size=(3, 5))
    for norm in NORMS:
        check_grads(lambda v: fn(v, type_, norm=norm), (x,), order=2)
    xc = x + 1j * rng.normal(size=x.shape)
    check_grads(lambda v: fn(v, type_, norm="ortho"), (xc,), order=1)
    check_grads(lambda v: fn(v, type_, norm="ortho").astype(np.float32),
                (x.astype(np.float32),), order=1)


def test_fft_family_grads(rng):
    x = rng.normal(size=(4, 6))
    for name in ("fft", "ifft", "rfft", "fftn", "rfftn", "fft2", "hfft", "ihfft"):
        check_grads(lambda v: getattr(F, name)(v), (x,), order=2)
    check_grads(lambda v: F.irfft(F.rfft(v) * 2), (x,), order=2)
    check_grads(lambda d: F.fftfreq(5, d), (0.3,), order=2)


# --- the Fourier transforms ---------------------------------------------------------------

FFTS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn", "ifftn", "rfftn",
        "irfftn", "fft2", "ifft2", "rfft2", "irfft2"]


@pytest.mark.parametrize("name", FFTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fft_family_values(name, dtype, rng):
    x = _helpers.values(rng, (4, 6), dtype)
    try:
        want = getattr(sf, name)(x)
    except TypeError:            # real transforms of complex input
        with pytest.raises(TypeError):
            traced(getattr(F, name), x)
        return
    scaled(traced(getattr(F, name), x), want)
    if name.endswith("n") or name.endswith("2"):
        kw = dict(s=[3, 5])           # SciPy: the last len(s) axes, no warning
        want = getattr(sf, name)(x, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # (NumPy 2 would warn: s without axes)
            scaled(traced(lambda v: getattr(F, name)(v, **kw), x), want)


def test_shift_and_freq(rng):
    x = rng.normal(size=(4, 5))
    same(traced(F.fftshift, x), sf.fftshift(x))
    same(traced(lambda v: F.ifftshift(v, axes=1), x), sf.ifftshift(x, axes=1))
    same(traced(lambda d: F.fftfreq(7, d), 0.25), sf.fftfreq(7, 0.25))
    same(traced(lambda d: F.rfftfreq(7, d), 0.25), sf.rfftfreq(7, 0.25))


# --- vmap, jit ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", DCTS)
def test_vmap_matches_loop(name, rng):
    xs = rng.normal(size=(3, 4, 6))
    fn = getattr(F, name)
    for t in (1, 2, 3, 4):
        got = fd.vmap(lambda v: fn(v, t, axis=0, norm="ortho"))(xs)
        np.testing.assert_allclose(got, np.stack([sf.__dict__[name](v, t, axis=0,
                                                                    norm="ortho")
                                                  for v in xs]), atol=1e-12)
    got = fd.vmap(lambda v: F.dctn(v, 2))(xs)
    np.testing.assert_allclose(got, np.stack([sf.dctn(v, 2) for v in xs]), atol=1e-11)


def test_jit_matches_interpreter(rng):
    x = rng.normal(size=(5, 4))
    for t in (1, 2, 3, 4):
        f = lambda v: F.dct(F.idctn(v, t, norm="forward"), t, axis=0)   # noqa: E731
        np.testing.assert_allclose(fd.jit(f)(x), traced(f, x), rtol=1e-12, atol=1e-12)
    g = fd.grad(lambda v: (F.dct(v, 4) ** 2).sum())
    np.testing.assert_allclose(fd.jit(g)(x), g(x), rtol=1e-12)


# --- errors, namespace --------------------------------------------------------------------

def test_errors(rng):
    x = rng.normal(size=5)
    cases = [
        (lambda v: F.dct(v, 5), ValueError, "DCT type"),
        (lambda v: F.dct(v, n=0), ValueError, "number of data points"),
        (lambda v: F.dct(v, norm="bad"), ValueError, "norm"),
        (lambda v: F.dct(v[:1], 1), ValueError, "at least 2 points"),
        (lambda v: F.dctn(v[None], axes=[0, 0]), ValueError, "unique"),
        (lambda v: F.dctn(v[None], axes=[3]), ValueError, "dimensionality"),
        (lambda v: F.dctn(v[None], s=[3, 4], axes=[0]), ValueError, "same length"),
        (lambda v: F.dctn(v, s=[3, 4]), ValueError, "more axes"),
        (lambda v: F.dct(v[0]), ValueError, "0-d"),
        (lambda v: F.fft(v, plan=object()), TypeError, "plan"),
    ]
    for f, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            traced(f, x)
    with pytest.raises(fd.FuncdiffError):
        traced(lambda v: F.dct(v, 7), x)


def test_namespace():
    assert set(F.__all__) >= {"dct", "idct", "dctn", "idctn"}
    assert dir(F) == sorted(F.__all__)
    for name in F.__all__:
        assert hasattr(sf, name), name          # SciPy's names only


def test_fftfreq_exact_for_every_length():
    """The traced fftfreq's integers are exact (a float product truncated to 30 for
    31 / 120 * 120 once gave a wrong frequency)."""
    for n in (1, 2, 7, 120, 255):
        got = fd.jit(lambda d: F.fftfreq(n, d))(0.7)
        np.testing.assert_allclose(got, sf.fftfreq(n, 0.7), rtol=1e-15, atol=0)
        got = fd.jit(lambda d: fd.numpy.fft.fftfreq(n, d))(0.7)
        np.testing.assert_allclose(got, np.fft.fftfreq(n, 0.7), rtol=1e-15, atol=0)
