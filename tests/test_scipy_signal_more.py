"""funcdiff.scipy.signal beyond convolve/correlate: fftconvolve, convolve2d, correlate2d,
detrend, csd, welch, stft, istft and the windows they name.

Values: traced (make_jaxpr + check_jaxpr + eval_jaxpr), jit and the pure-NumPy
composition against scipy.signal, over hypothesis shapes, modes, boundaries, axes and
dtypes.  Derivatives: check_grads order 2 (the median: order 1, away from ties) in the
signals, kernels, fill values and array windows.  vmap against a loop, jit against the
interpreter, SciPy's warnings and errors, the namespace.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.scipy import signal as S
from funcdiff.scipy._spectral import _get_window
from funcdiff.test_util import check_grads

import _helpers

traced = functools.partial(_helpers.traced, unpack=True)
VALUES = settings(max_examples=40, deadline=None)
MODES = ["full", "same", "valid"]


def close(got, want, tol=None):
    """Same shapes and dtypes (leaf by leaf), values relative to the result's size."""
    for g, w in zip(_helpers.leaves(got), _helpers.leaves(want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        t = tol or (1e-4 if w.dtype in (np.float32, np.complex64) else 1e-10)
        if w.dtype.kind in "iu":
            np.testing.assert_array_equal(g, w)
        else:
            scale = np.abs(w).max() if w.size else 1.0
            np.testing.assert_allclose(g, w, rtol=t, atol=t * max(1.0, scale))


def data(rng, shape, dtype):
    return _helpers.values(rng, shape, dtype)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# --- fftconvolve --------------------------------------------------------------------------

@st.composite
def fft_case(draw):
    nd = draw(st.integers(1, 3))
    s1 = [draw(st.integers(1, 5)) for _ in range(nd)]
    s2 = [draw(st.integers(1, 5)) for _ in range(nd)]
    axes = None
    if draw(st.booleans()) and nd > 1:
        axes = sorted(draw(st.sets(st.integers(0, nd - 1), min_size=1, max_size=nd)))
        for i in range(nd):                 # other axes: equal or 1 (broadcast)
            if i not in axes and s1[i] != s2[i] and 1 not in (s1[i], s2[i]):
                s2[i] = s1[i]
    return tuple(s1), tuple(s2), axes


@VALUES
@given(case=fft_case(), mode=st.sampled_from(MODES),
       dts=st.sampled_from([(np.float64, np.float64), (np.float32, np.float32),
                            (np.complex128, np.float64), (np.int32, np.int32),
                            (np.float16, np.float16), (np.complex64, np.float32),
                            (np.int64, np.float32)]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_fftconvolve_values(case, mode, dts, seed):
    rng = np.random.default_rng(seed)
    s1, s2, axes = case
    a, b = data(rng, s1, dts[0]), data(rng, s2, dts[1])
    f = lambda a, b: S.fftconvolve(a, b, mode, axes)     # noqa: E731
    try:
        want = ss.fftconvolve(a, b, mode, axes)
    except ValueError:
        with pytest.raises(ValueError):
            traced(f, a, b)
        return
    # (single-precision inputs are transformed in single precision, as SciPy does)
    tol = 2e-3 if np.float16 in dts else 1e-4 if np.float32 in dts or \
        np.complex64 in dts else None
    close(traced(f, a, b), want, tol)
    close(S.fftconvolve.traced(a, b, mode, axes), want, tol)


def test_fftconvolve_special_cases(rng):
    a, b = rng.normal(size=(4, 1)), rng.normal(size=(1, 3))    # no FFT axis: a product
    close(traced(S.fftconvolve, a, b), ss.fftconvolve(a, b))
    close(traced(S.fftconvolve, np.array(2.0), np.array(3.0)), ss.fftconvolve(2.0, 3.0))
    close(traced(lambda a: S.fftconvolve(a, np.ones(3)), np.ones(0)),
          ss.fftconvolve(np.ones(0), np.ones(3)))
    with pytest.raises(ValueError, match="dimensionality"):
        traced(lambda a: S.fftconvolve(a, np.ones((2, 2))), np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        traced(lambda a: S.fftconvolve(a, np.ones((2, 2)), axes=[]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="incompatible"):
        traced(lambda a: S.fftconvolve(a, np.ones((3, 2)), axes=[1]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="mode"):
        traced(lambda a: S.fftconvolve(a, np.ones(2), "middle"), np.ones(3))


# --- convolve2d, correlate2d --------------------------------------------------------------

@VALUES
@given(s1=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       s2=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       name=st.sampled_from(["convolve2d", "correlate2d"]), mode=st.sampled_from(MODES),
       boundary=st.sampled_from(["fill", "wrap", "symm", "pad", "circular", "symmetric"]),
       dts=st.sampled_from([(np.float64, np.float64), (np.float32, np.float32),
                            (np.complex128, np.float64), (np.int64, np.int64),
                            (np.int32, np.float32), (np.uint8, np.uint8)]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_conv2d_values(s1, s2, name, mode, boundary, dts, seed):
    rng = np.random.default_rng(seed)
    a, b = data(rng, s1, dts[0]), data(rng, s2, dts[1])
    if dts[0] == np.uint8:
        a, b = a % 4, b % 4
    fill = 0.7 if np.result_type(a, b).kind in "fc" else 2
    f = lambda a, b: getattr(S, name)(a, b, mode, boundary, fill)   # noqa: E731
    try:
        want = getattr(ss, name)(a, b, mode, boundary, fill)
    except ValueError:
        with pytest.raises(ValueError):
            traced(f, a, b)
        return
    close(traced(f, a, b), want)
    close(getattr(S, name).traced(a, b, mode, boundary, fill), want)


def test_conv2d_errors(rng):
    a = rng.normal(size=(3, 3))
    for fn in (S.convolve2d, S.correlate2d):
        cases = [
            (lambda x: fn(x, np.ones(3)), ValueError, "2-D"),
            (lambda x: fn(x, x, "middle"), ValueError, "mode"),
            (lambda x: fn(x, x, boundary="mirror"), ValueError, "boundary"),
            (lambda x: fn(x, np.ones((2, 4)), "valid"), ValueError, "at least as large"),
            (lambda x: fn(x, x, fillvalue=[1.0, 2.0]), ValueError, "fillvalue"),
            (lambda x: fn(x, x, fillvalue=1j), ValueError, "complex"),
            (lambda x: fn(x.astype(np.float16), x.astype(np.float16)), TypeError,
             "not available"),
        ]
        for f, exc, msg in cases:
            with pytest.raises(exc, match=msg):
                traced(f, a)


def test_conv2d_grads(rng):
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(2, 3))
    for name in ("convolve2d", "correlate2d"):
        for mode in MODES:
            for bd in ("fill", "wrap", "symm"):
                check_grads(lambda a, b, fv: getattr(S, name)(a, b, mode, bd, fv),
                            (a, b, 0.3), order=2)
    ac = a + 1j * rng.normal(size=a.shape)
    check_grads(lambda a, b: S.correlate2d(a, b, "same", "wrap"), (ac, b), order=1)


# --- detrend ------------------------------------------------------------------------------

@VALUES
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       axis=st.integers(-3, 2), type_=st.sampled_from(["linear", "constant", "l", "c"]),
       bp=st.sampled_from([0, [2], [1, 4], [3, 3, 6]]),
       dtype=st.sampled_from([np.float64, np.float32, np.int32, np.complex128,
                              np.float16]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_detrend_values(shape, axis, type_, bp, dtype, seed):
    x = data(np.random.default_rng(seed), tuple(shape), dtype)
    if not -x.ndim <= axis < x.ndim:
        axis = -1
    f = lambda v: S.detrend(v, axis, type_, bp)      # noqa: E731
    try:
        want = ss.detrend(x, axis, type_, bp)
    except ValueError:
        with pytest.raises(ValueError):
            traced(f, x)
        return
    close(traced(f, x), want, 2e-3 if dtype == np.float16 else None)


def test_detrend_grads_and_errors(rng):
    x = rng.normal(size=(3, 11))
    for type_ in ("linear", "constant"):
        check_grads(lambda v: S.detrend(v, type=type_, bp=[4, 7]), (x,), order=2)
    with pytest.raises(ValueError, match="Trend type"):
        traced(lambda v: S.detrend(v, type="quadratic"), x)
    with pytest.raises(ValueError, match="Breakpoints"):
        traced(lambda v: S.detrend(v, bp=[20]), x)
    with pytest.raises(ValueError, match="non-negative"):
        traced(lambda v: S.detrend(v, bp=[-2]), x)
    with pytest.raises(TypeError, match="static"):
        traced(lambda v, b: S.detrend(v, bp=b), x, np.array(3))


# --- windows ------------------------------------------------------------------------------

WINDOWS = ["hann", "hamming", "blackman", "boxcar", "bartlett", "triang", "parzen",
           "bohman", "barthann", "cosine", "lanczos", "nuttall", "blackmanharris",
           "flattop", "tukey", ("tukey", 0.3), ("tukey", 0.0), ("tukey", 1.0),
           ("kaiser", 5.0), ("gaussian", 2.0), ("general_gaussian", 1.5, 3.0),
           "exponential", ("exponential", None, 2.0), ("general_hamming", 0.6),
           ("general_cosine", [0.5, 0.3, 0.2]), "hann_symmetric", "hann_periodic",
           "ham", "rect", 7.5, ("chebwin", 80)]


@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_windows_match_get_window(window):
    ref, kw = window, {}
    if isinstance(window, str) and window.endswith(("_symmetric", "_periodic")):
        # (names SciPy 1.17 added: get_window(base, fftbins=...) before)
        ref, _, kind = window.rpartition("_")
        kw = dict(fftbins=kind == "periodic")
    for n in (1, 2, 5, 8, 13):
        np.testing.assert_allclose(_get_window(window, n), ss.get_window(ref, n, **kw),
                                   rtol=1e-13, atol=1e-15)


def test_window_errors():
    for window, msg in [("nosuch", "(?i)unknown window|invalid"), (("hann", 3), "parameters"),
                        ("kaiser", "must have parameters"), ([1.0], "tuple, a string")]:
        with pytest.raises(ValueError, match=msg):
            _get_window(window, 5)
    with pytest.raises(ValueError, match="positive"):
        _get_window("hann", 0)


# --- csd, welch ---------------------------------------------------------------------------

WELCH_KW = [dict(), dict(nperseg=32), dict(nperseg=32, noverlap=5, nfft=50),
            dict(nperseg=17, detrend="linear"),
            dict(nperseg=16, detrend=False, scaling="spectrum"),
            dict(nperseg=16, average="median"), dict(nperseg=20, return_onesided=False),
            dict(window="hamming", nperseg=25, fs=10.0), dict(window=("tukey", 0.3)),
            dict(window=np.hanning(15) + 0.1), dict(nperseg=15, average="median", nfft=22),
            dict(nperseg=16, detrend=lambda d: d - d.mean(axis=-1, keepdims=True))]


@pytest.mark.parametrize("kw", WELCH_KW, ids=[str(k) for k in range(len(WELCH_KW))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_welch_csd_values(kw, dtype, rng):
    x, y = data(rng, (120,), dtype), data(rng, (120,), np.float64)
    close(traced(lambda v: S.welch(v, **kw), x), ss.welch(x, **kw))
    close(S.welch.traced(x, **kw), ss.welch(x, **kw))
    want = ss.csd(x, y, **kw)
    tol = 1e-4 if dtype == np.float32 else None      # (x in single precision)
    close(traced(lambda a, b: S.csd(a, b, **kw), x, y), want, tol)


def test_welch_csd_axes_and_broadcasting(rng):
    x3 = rng.normal(size=(3, 64, 2))
    close(traced(lambda v: S.welch(v, nperseg=16, axis=1), x3),
          ss.welch(x3, nperseg=16, axis=1))
    close(traced(lambda v: S.welch(v, nperseg=16, axis=0), x3[:, :, 0].T),
          ss.welch(x3[:, :, 0].T, nperseg=16, axis=0))
    a, b = rng.normal(size=(3, 70)), rng.normal(size=(70,))
    close(traced(lambda a, b: S.csd(a, b, nperseg=20), a, b), ss.csd(a, b, nperseg=20))
    b3 = rng.normal(size=(3, 70))
    close(traced(lambda a, b: S.csd(a, b, nperseg=20), a[:, :50], b3),
          ss.csd(a[:, :50], b3, nperseg=20))          # the shorter one zero-padded


def test_welch_warns_and_errors(rng):
    x = rng.normal(size=50)
    with pytest.warns(UserWarning, match="nperseg"):
        out = traced(lambda v: S.welch(v), x)
    close(out, ss.welch(x))
    cases = [
        (dict(nperseg=16, noverlap=16), "noverlap"),
        (dict(nperseg=16, nfft=8), "nfft"),
        (dict(nperseg=16, average="mode"), "average"),
        (dict(nperseg=16, scaling="power"), "scaling"),
        (dict(window=np.ones(10), nperseg=12), "nperseg"),
        (dict(window=np.ones((2, 5))), "1-D"),
        (dict(nperseg=0), "positive"),
    ]
    for kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            traced(lambda v: S.welch(v, **kw), x)
    with pytest.raises(ValueError, match="broadcast"):
        traced(lambda a, b: S.csd(a, b, nperseg=8), np.ones((2, 20)), np.ones((3, 20)))
    with pytest.raises(ValueError, match="return_onesided"):
        traced(lambda a, b: S.csd(a, b, nperseg=8), np.ones(20), np.ones(20) + 1j)


def test_welch_csd_grads(rng):
    x, y, w = rng.normal(size=48), rng.normal(size=48), np.hanning(12) + 0.2
    check_grads(lambda v: S.welch(v, nperseg=12)[1], (x,), order=2)
    check_grads(lambda v, w: S.welch(v, window=w, detrend="linear")[1], (x, w), order=2)
    check_grads(lambda a, b: S.csd(a, b, nperseg=12, scaling="spectrum")[1], (x, y),
                order=2)
    check_grads(lambda v: S.welch(v, nperseg=12, average="median")[1], (x,), order=1)
    check_grads(lambda v: S.welch(v, fs=2.0, nperseg=12, return_onesided=False)[1],
                (x + 1j * y,), order=1)
    check_grads(lambda fs: S.welch(x, fs=fs, nperseg=12)[1], (3.0,), order=2)


# --- stft, istft --------------------------------------------------------------------------

STFT_KW = [dict(), dict(nperseg=32), dict(nperseg=32, noverlap=5, nfft=50),
           dict(nperseg=17, detrend="linear"), dict(nperseg=16, boundary=None, padded=False),
           dict(nperseg=16, boundary="even"), dict(nperseg=16, boundary="odd"),
           dict(nperseg=16, boundary="constant", scaling="psd"),
           dict(nperseg=20, return_onesided=False), dict(window="hamming", nperseg=25, fs=4.0),
           dict(window=np.hanning(15) + 0.1, nperseg=15)]


@pytest.mark.parametrize("kw", STFT_KW, ids=[str(k) for k in range(len(STFT_KW))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_stft_values(kw, dtype, rng):
    x = data(rng, (100,), dtype)
    close(traced(lambda v: S.stft(v, **kw), x), ss.stft(x, **kw))
    close(S.stft.traced(x, **kw), ss.stft(x, **kw))


def test_stft_axes(rng):
    x3 = rng.normal(size=(3, 60, 2))
    for axis in (0, 1, -1, -2):
        close(traced(lambda v: S.stft(v, nperseg=8, axis=axis), x3),
              ss.stft(x3, nperseg=8, axis=axis))


ISTFT_KW = [dict(nperseg=32), dict(nperseg=32, noverlap=24), dict(nperseg=16, nfft=20),
            dict(nperseg=17), dict(nperseg=16, window="hamming", scaling="psd"),
            dict(nperseg=16, window=np.hanning(16) + 0.1), dict(nperseg=16, boundary=False)]


@pytest.mark.parametrize("kw", ISTFT_KW, ids=[str(k) for k in range(len(ISTFT_KW))])
def test_istft_values_and_roundtrip(kw, rng):
    x = rng.normal(size=128)
    skw = {k: v for k, v in kw.items() if k != "boundary"}
    _, _, z = ss.stft(x, **skw)
    for zz in (z, z.astype(np.complex64)):
        close(traced(lambda v: S.istft(v, **kw), zz), ss.istft(zz, **kw))
    if kw.get("boundary", True):       # the inverse of stft (COLA/NOLA windows)
        _, xr = fd.jit(lambda v: S.istft(S.stft(v, **skw)[2], **kw))(x)
        np.testing.assert_allclose(xr[:128], x, atol=1e-10)


def test_istft_axes_and_twosided(rng):
    x = rng.normal(size=(3, 80, 2))
    _, _, z = ss.stft(x, nperseg=16, axis=1)           # (3, freq, 2, time)
    close(traced(lambda v: S.istft(v, nperseg=16, time_axis=-1, freq_axis=1), z),
          ss.istft(z, nperseg=16, time_axis=-1, freq_axis=1))
    zt = np.moveaxis(z, -1, 0)
    close(traced(lambda v: S.istft(v, nperseg=16, time_axis=0, freq_axis=2), zt),
          ss.istft(zt, nperseg=16, time_axis=0, freq_axis=2))
    xc = rng.normal(size=90) + 1j * rng.normal(size=90)
    _, _, zc = ss.stft(xc, nperseg=16)
    close(traced(lambda v: S.istft(v, nperseg=16, input_onesided=False), zc),
          ss.istft(zc, nperseg=16, input_onesided=False))


def test_istft_nola_warning_and_errors(rng):
    z = rng.normal(size=(9, 12)) + 0j
    bad = np.ones(16)
    bad[::2] = 0.0                              # zero overlap sums: NOLA fails
    with pytest.warns(UserWarning, match="NOLA"):
        out = traced(lambda v: S.istft(v, window=bad, nperseg=16, noverlap=0), z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        close(out, ss.istft(z, window=bad, nperseg=16, noverlap=0))
    cases = [
        (lambda v: S.istft(v[0]), "2d"),
        (lambda v: S.istft(v, time_axis=0, freq_axis=0), "differing"),
        (lambda v: S.istft(v, nperseg=16, noverlap=16), "noverlap"),
        (lambda v: S.istft(v, nperseg=16, nfft=8), "nfft"),
        (lambda v: S.istft(v, nperseg=16, scaling="power"), "scaling"),
        (lambda v: S.istft(v, window=np.ones(5), nperseg=16), "length"),
    ]
    for f, msg in cases:
        with pytest.raises(ValueError, match=msg):
            traced(f, z)
    with pytest.raises(ValueError, match="scaling"):
        traced(lambda v: S.stft(v, scaling="power"), rng.normal(size=30))
    with pytest.raises(ValueError, match="boundary"):
        traced(lambda v: S.stft(v, boundary="wrap"), rng.normal(size=30))


def test_stft_istft_grads(rng):
    x, w = rng.normal(size=40), np.hanning(8) + 0.2
    check_grads(lambda v: S.stft(v, nperseg=8)[2], (x,), order=2)
    check_grads(lambda v, w: S.stft(v, window=w, nperseg=8, boundary="odd")[2], (x, w),
                order=2)
    z = ss.stft(x, nperseg=8)[2]
    check_grads(lambda v: S.istft(v, nperseg=8)[1], (z,), order=2)
    check_grads(lambda w: S.istft(z, window=w, nperseg=8)[1], (w,), order=2)


# --- vmap, jit ----------------------------------------------------------------------------

def test_vmap_matches_loop(rng):
    xs = rng.normal(size=(3, 64))
    fns = [lambda v: S.welch(v, nperseg=16)[1],
           lambda v: S.welch(v, nperseg=16, average="median")[1],
           lambda v: S.stft(v, nperseg=16)[2],
           lambda v: S.detrend(v, bp=[20]),
           lambda v: S.fftconvolve(v, np.hanning(5), "same"),
           lambda v: S.convolve2d(v.reshape(8, 8), np.ones((2, 3)), "same", "symm"),
           lambda v: S.csd(v, v[::-1], nperseg=16)[1]]
    for f in fns:
        got = fd.vmap(f)(xs)
        close(got, np.stack([f(v) for v in xs]))
    zs = np.stack([ss.stft(v, nperseg=16)[2] for v in xs])
    close(fd.vmap(lambda z: S.istft(z, nperseg=16)[1])(zs),
          np.stack([ss.istft(z, nperseg=16)[1] for z in zs]))


def test_jit_matches_interpreter(rng):
    x = rng.normal(size=64)
    fns = [lambda v: S.welch(v, nperseg=16, average="median")[1],
           lambda v: S.istft(S.stft(v, nperseg=16)[2], nperseg=16)[1],
           lambda v: S.correlate2d(v.reshape(8, 8), v[:6].reshape(2, 3), "full", "wrap"),
           lambda v: S.fftconvolve(v.reshape(8, 8), v[:3].reshape(1, 3), axes=1)]
    for f in fns:
        close(fd.jit(f)(x), traced(f, x))
    g = fd.grad(lambda v: (S.welch(v, nperseg=16)[1] ** 2).sum())
    close(fd.jit(g)(x), g(x))


def test_namespace():
    assert dir(S) == sorted(S.__all__)
    assert {"fftconvolve", "convolve2d", "correlate2d", "csd", "welch", "stft", "istft",
            "detrend"} <= set(S.__all__)
    assert all(hasattr(ss, n) for n in S.__all__)
