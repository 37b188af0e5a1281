"""funcdiff.scipy.signal: convolve and correlate.

Values: eager (SciPy itself), traced (make_jaxpr + check_jaxpr + eval_jaxpr) and the
pure-NumPy path (the traced composition run without a trace) against
``scipy.signal`` over hypothesis-chosen n-d shapes (odd and even sides, either input
larger), all modes and methods, and dtypes (float64/float32/complex/int/uint8/bool and
mixed).  Derivatives: check_grads order 2, forward and reverse, in both inputs, for every
mode and both methods (real and complex).  vmap against a Python loop, jit against the
interpreter, the shifted-slices fallback of the direct method, method choice, errors.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.scipy import signal as S
from funcdiff.test_util import check_grads

import _helpers

VALUES = settings(max_examples=60, deadline=None)
GRAD = settings(max_examples=20, deadline=None)

FUNCS = ["convolve", "correlate"]
MODES = ["full", "same", "valid"]
METHODS = ["auto", "direct", "fft"]
DTYPES = [np.float64, np.float32, np.complex128, np.int64, np.int32, np.uint8, np.bool_]


@st.composite
def shape_pair(draw, max_nd=3, max_side=5):
    nd = draw(st.integers(1, max_nd))
    side = st.integers(1, max_side)
    s1 = tuple(draw(side) for _ in range(nd))
    s2 = tuple(draw(side) for _ in range(nd))
    return s1, s2


def data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(dtype)
    if dtype.kind == "u":
        return rng.integers(0, 6, size=shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-5, 6, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


traced = functools.partial(_helpers.traced, unpack=True)   # a lone output bare


def same(got, want, *inputs):
    """Equal shape and dtype; values exact for integers, else to the precision of the
    least precise input (SciPy transforms a float32 input of a mixed float32/float64
    pair in single precision): single to 1e-4, the rest to 1e-10 (``_helpers.TOLS``)."""
    worst = None
    want_dtype = np.asarray(want).dtype
    if want_dtype.kind not in "biu":
        worst = min([want_dtype] + [np.asarray(x).dtype for x in inputs
                                    if np.asarray(x).dtype.kind in "fc"],
                    key=lambda d: np.finfo(d).precision)
    _helpers.assert_same(got, want, tols=_helpers.TOLS, tol_dtype=worst)


def scipy_ref(name, a, b, mode, method):
    """SciPy's result; for bool output with method='fft' SciPy casts float noise
    (1e-17 where the exact result is 0) to True, so the exact (direct) answer is the
    reference there."""
    if method == "fft" and np.result_type(a, b) == np.bool_:
        return getattr(ss, name)(a.astype(np.int64), b.astype(np.int64), mode,
                                 "direct").astype(bool)
    return getattr(ss, name)(a, b, mode, method)


# --- values ---------------------------------------------------------------------------------------

@VALUES
@given(shapes=shape_pair(), name=st.sampled_from(FUNCS), mode=st.sampled_from(MODES),
       method=st.sampled_from(METHODS), d1=st.sampled_from(DTYPES),
       d2=st.sampled_from(DTYPES), seed=st.integers(0, 2 ** 32 - 1))
def test_values_match_scipy(shapes, name, mode, method, d1, d2, seed):
    rng = np.random.default_rng(seed)
    a, b = data(rng, shapes[0], d1), data(rng, shapes[1], d2)
    fn = getattr(S, name)
    try:
        want = scipy_ref(name, a, b, mode, method)
    except ValueError as e:      # 'valid' shapes, or direct with bool/float16 results
        with pytest.raises(ValueError, match=str(e)[:20]):
            traced(lambda a, b: fn(a, b, mode, method), a, b)
        return
    # eager: SciPy itself
    np.testing.assert_array_equal(fn(a, b, mode, method),
                                  getattr(ss, name)(a, b, mode, method))
    same(traced(lambda a, b: fn(a, b, mode, method), a, b), want, a, b)
    # the same composition on NumPy (the path used without SciPy)
    same(fn.traced(a, b, mode, method), want, a, b)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("mode", MODES)
def test_odd_even_and_larger_kernel_1d_2d(name, mode, rng):
    """The centering of 'same' (even and odd sizes, kernel larger than in1) and
    'valid' with in2 larger (SciPy swaps the inputs), both methods."""
    fn = getattr(S, name)
    for s1, s2 in [((6,), (3,)), ((5,), (4,)), ((3,), (6,)), ((4,), (5,)),
                   ((4, 5), (2, 3)), ((2, 3), (4, 5)), ((5, 4), (3, 2)), ((1, 6), (1, 3))]:
        a, b = rng.normal(size=s1), rng.normal(size=s2)
        for method in METHODS:
            same(traced(lambda a, b: fn(a, b, mode, method), a, b),
                 getattr(ss, name)(a, b, mode, method))


def test_zero_dim_inputs():
    for name in FUNCS:
        a, b = np.array(2.0), np.array(3.0 - 1.0j)
        same(traced(lambda a, b: getattr(S, name)(a, b), a, b), getattr(ss, name)(a, b))
        same(traced(lambda a: getattr(S, name)(a, 4), a), getattr(ss, name)(a, 4))


def test_shifted_slice_path(monkeypatch, rng):
    """Above the window-size limit the direct method sums shifted slices instead."""
    monkeypatch.setattr(S, "_WINDOW_LIMIT", 0)
    for s1, s2 in [((7,), (3,)), ((4, 5), (3, 2)), ((2, 3), (4, 4))]:
        a, b = rng.normal(size=s1), rng.normal(size=s2)
        for name in FUNCS:
            for mode in MODES:
                same(traced(lambda a, b: getattr(S, name)(a, b, mode, "direct"), a, b),
                     getattr(ss, name)(a, b, mode, "direct"))
    a, b = rng.normal(size=(5,)), rng.normal(size=(3,))
    check_grads(lambda a, b: S.convolve(a, b, "same", "direct"), (a, b), order=2)


def test_method_choice_matches_scipy():
    for s1, s2, mode in [((10,), (3,), "full"), ((1000,), (1000,), "full"),
                         ((300,), (40,), "same"), ((5,), (200,), "same"),
                         ((64, 64), (9, 9), "valid"), ((8, 8), (3, 3), "full"),
                         ((200, 200), (50, 50), "same")]:
        a, b = np.ones(s1), np.ones(s2)
        assert S.choose_conv_method(a, b, mode) == ss.choose_conv_method(a, b, mode)
    # integers: always the exact direct method (SciPy picks direct or fft by value;
    # both give the same integers)
    assert S.choose_conv_method(np.ones(1000, int), np.ones(1000, int)) == "direct"


def test_large_auto_uses_fft_and_matches(rng):
    a, b = rng.normal(size=(64, 64)), rng.normal(size=(9, 9))
    assert ss.choose_conv_method(a, b) == "fft"
    closed = fd.make_jaxpr(lambda a, b: S.convolve(a, b))(a, b)
    assert "fft" in {e.primitive.name for e in closed.jaxpr.eqns}
    same(traced(S.convolve, a, b), ss.convolve(a, b))


# --- derivatives ------------------------------------------------------------------------------------

@GRAD
@given(shapes=shape_pair(max_nd=2, max_side=4), name=st.sampled_from(FUNCS),
       mode=st.sampled_from(MODES), method=st.sampled_from(["direct", "fft"]),
       cplx=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_check_grads_order2(shapes, name, mode, method, cplx, seed):
    rng = np.random.default_rng(seed)
    dt = np.complex128 if cplx else np.float64
    a, b = data(rng, shapes[0], dt), data(rng, shapes[1], np.float64)
    fn = getattr(S, name)
    try:
        ss.convolve(a, b, mode)
    except ValueError:
        return              # 'valid' with incompatible shapes
    check_grads(lambda a, b: fn(a, b, mode, method), (a, b), order=2, modes=("fwd", "rev"))


def test_grad_value_against_explicit_formula(rng):
    """d/da sum(w * convolve(a, b, 'full')) = correlate(w, b, 'valid')."""
    a, b, w = rng.normal(size=6), rng.normal(size=3), rng.normal(size=8)
    for method in ("direct", "fft"):
        ga, gb = fd.grad(lambda a, b: (w * S.convolve(a, b, "full", method)).sum(),
                         argnums=(0, 1))(a, b)
        np.testing.assert_allclose(ga, np.correlate(w, b, "valid"), rtol=1e-10)
        np.testing.assert_allclose(gb, np.correlate(w, a, "valid"), rtol=1e-10)


# --- vmap, jit -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("name", FUNCS)
def test_vmap_matches_loop(name, method, rng):
    fn = getattr(S, name)
    xs, k = rng.normal(size=(3, 6, 5)), rng.normal(size=(2, 3))
    for mode in MODES:
        got = fd.vmap(lambda x: fn(x, k, mode, method))(xs)
        np.testing.assert_allclose(got, np.stack([fn(x, k, mode, method) for x in xs]),
                                   rtol=1e-10, atol=1e-12)
        ks = rng.normal(size=(3, 2, 3))
        got = fd.vmap(lambda x, k: fn(x, k, mode, method), in_axes=(None, 0))(xs[0], ks)
        np.testing.assert_allclose(got, np.stack([fn(xs[0], kk, mode, method) for kk in ks]),
                                   rtol=1e-10, atol=1e-12)
    g = fd.vmap(fd.grad(lambda x: (fn(x, k, "same", method) ** 2).sum()))(xs)
    want = np.stack([fd.grad(lambda x: (fn(x, k, "same", method) ** 2).sum())(x)
                     for x in xs])
    np.testing.assert_allclose(g, want, rtol=1e-10)


@pytest.mark.parametrize("name", FUNCS)
def test_jit_matches_interpreter(name, rng):
    fn = getattr(S, name)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    for mode in MODES:
        for method in METHODS:
            f = lambda a, b: fn(a, b, mode, method)   # noqa: E731
            np.testing.assert_allclose(fd.jit(f)(a, b), traced(f, a, b), rtol=1e-12)
    g = fd.grad(lambda a: (abs(fn(a, b, "same")) ** 2).sum())
    np.testing.assert_allclose(fd.jit(g)(a), g(a), rtol=1e-12)


# --- errors --------------------------------------------------------------------------------------

def test_errors():
    a2, a1 = np.ones((3, 3)), np.ones(3)
    for fn in (S.convolve, S.correlate):
        tr = lambda *args, **kw: traced(lambda x: fn(x, *args, **kw), a2)  # noqa: E731
        with pytest.raises(ValueError, match="dimensionality"):
            tr(a1)
        with pytest.raises(ValueError, match="mode"):
            tr(a2, mode="middle")
        with pytest.raises(ValueError, match="method"):
            tr(a2, method="fast")
        with pytest.raises(ValueError, match="at least as large"):
            tr(np.ones((2, 4)), mode="valid")
        with pytest.raises(ValueError, match="empty"):
            tr(np.ones((0, 3)))
    # 'same' with an empty in1: empty, in1's shape
    out = traced(lambda b: S.convolve(np.ones((0, 3)), b, "same"), np.ones((2, 2)))
    assert out.shape == (0, 3)
