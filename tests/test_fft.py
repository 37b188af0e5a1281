"""funcdiff.numpy.fft and the ``fft`` primitive.

Values (eager: NumPy itself; traced: make_jaxpr + check_jaxpr + eval_jaxpr) against
NumPy over hypothesis-chosen shapes, dtypes, odd and even lengths, ``n``/``s``
(cropping and zero-padding), axes and all three norms; round trips and their
gradients (the transposes of the real transforms, with their halving, make the vjp
of ``irfft(rfft(x), n)`` the identity only if they are right); check_grads (order 2,
forward and reverse) in float64/complex128; vmap against a Python loop; jit against
the interpreter; check_jaxpr on jvp/grad/vmap jaxprs; plain ``numpy.fft`` dispatch;
errors; cost.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2
from funcdiff.primitives.fft import fft_p
from funcdiff.test_util import check_grads

VALUES = settings(max_examples=25, deadline=None)
GRAD = settings(max_examples=20, deadline=None)

seeds = st.integers(0, 2**32 - 1)
norms = st.sampled_from([None, "backward", "ortho", "forward"])
lengths = st.integers(1, 6)                      # odd and even
shapes = st.lists(lengths, min_size=1, max_size=3).map(tuple)

ONE_D = ["fft", "ifft", "rfft", "irfft"]
N_D = ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"]
REAL_IN = {"rfft", "rfftn", "rfft2"}


def data(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        x = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    elif dtype.kind == "b":
        x = rng.integers(0, 2, size=shape)
    elif dtype.kind in "iu":
        x = rng.integers(-5, 6, size=shape)
    else:
        x = rng.normal(size=shape)
    return np.asarray(x).astype(dtype)


def traced(f, *args):
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    return fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def tol(dtype):
    single = np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64),
                                 np.dtype(np.float16))
    return dict(rtol=1e-4, atol=1e-4) if single else dict(rtol=1e-10, atol=1e-10)


def same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, **tol(want.dtype))


def call_args(draw, name, shape):
    """Hypothesis: (n/s, axis/axes) keyword arguments valid for ``name`` on ``shape``."""
    nd = len(shape)
    kw = {}
    if name in ONE_D:
        kw["axis"] = draw(st.integers(-nd, nd - 1))
        if draw(st.booleans()):
            kw["n"] = draw(st.integers(1, 8))
        return kw
    k = draw(st.integers(1, nd)) if name.endswith("n") else min(2, nd)
    if name.endswith("2") and nd < 2:
        return None
    axes = draw(st.permutations(range(nd)))[:k]
    axes = [a - nd if draw(st.booleans()) else a for a in axes]
    if name.endswith("n") or draw(st.booleans()):
        kw["axes"] = tuple(axes)
    else:
        axes = [-2, -1]
    if draw(st.booleans()):
        kw["s"] = tuple(draw(st.integers(1, 7)) for _ in axes)
        kw["axes"] = tuple(axes)      # s without axes is deprecated: tested separately
    return kw


@st.composite
def fft_cases(draw, names=tuple(ONE_D + N_D), dtypes=(np.float32, np.float64,
                                                       np.complex64, np.complex128)):
    name = draw(st.sampled_from(names))
    shape = draw(shapes)
    if name.startswith("irfft"):   # default n = 2 (len - 1) needs len >= 2
        shape = tuple(max(d, 2) for d in shape)
    kw = call_args(draw, name, shape)
    if kw is None:
        shape = shape + (draw(lengths) + 1,)
        kw = call_args(draw, name, shape)
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if name in REAL_IN and dtype.kind == "c":
        dtype = np.dtype(np.float32 if dtype == np.complex64 else np.float64)
    kw["norm"] = draw(norms)
    return name, shape, dtype, kw


# --- values --------------------------------------------------------------------------------

@VALUES
@given(fft_cases(dtypes=(np.float32, np.float64, np.complex64, np.complex128, np.int32,
                         np.bool_, np.float16)), seeds)
def test_values_match_numpy(case, seed):
    name, shape, dtype, kw = case
    x = data(seed, shape, dtype)
    np_fn, fd_fn = getattr(np.fft, name), getattr(fnp.fft, name)
    want = np_fn(x, **kw)
    eager = fd_fn(x, **kw)                     # outside transforms: NumPy itself
    assert eager.dtype == want.dtype and eager.shape == want.shape
    np.testing.assert_array_equal(eager, want)
    (got,) = traced(lambda v: fd_fn(v, **kw), x)
    same(got, want)


@VALUES
@given(st.sampled_from(ONE_D), st.integers(1, 9), st.integers(1, 9), norms, seeds)
def test_one_d_odd_even_crop_pad(name, length, n, norm, seed):
    dtype = np.float64 if name == "rfft" else np.complex128
    x = data(seed, (2, length), dtype)
    (got,) = traced(lambda v: getattr(fnp.fft, name)(v, n=n, norm=norm), x)
    same(got, getattr(np.fft, name)(x, n=n, norm=norm))


def test_single_precision_stays_single():
    x32 = data(0, (4, 6), np.float32)
    for name in ("fft", "rfft", "fft2", "rfftn"):
        (got,) = traced(getattr(fnp.fft, name), x32)
        assert got.dtype == getattr(np.fft, name)(x32).dtype
    z64 = data(0, (4, 6), np.complex64)
    for name in ("ifft", "irfft", "ifftn", "irfft2"):
        (got,) = traced(getattr(fnp.fft, name), z64)
        assert got.dtype == getattr(np.fft, name)(z64).dtype


@pytest.mark.parametrize("name,kw", [
    ("fftn", dict(axes=(0, 0))), ("fftn", dict(axes=(1, 0, 1), s=(3, 5, 2))),
    ("rfftn", dict(axes=(1, 1, 0))), ("irfftn", dict(axes=(1, 0, 1))),
    ("irfftn", dict(axes=(0, 0), s=(3, 7))), ("ifftn", dict(axes=(-1, 1))),
    ("fftn", dict(s=(4, -1), axes=(0, 1))), ("irfftn", dict(s=(-1, 5), axes=(0, 1))),
])
def test_repeated_axes_and_minus_one(name, kw):
    x = data(3, (3, 4), np.complex128 if name != "rfftn" else np.float64)
    (got,) = traced(lambda v: getattr(fnp.fft, name)(v, **kw), x)
    if not NUMPY2 and "s" in kw:   # NumPy 2's s=-1 (the input's length) for NumPy 1.x
        kw = dict(kw, s=tuple(x.shape[a] if n == -1 else n
                              for n, a in zip(kw["s"], kw["axes"])))
    same(got, getattr(np.fft, name)(x, **kw))


def test_deprecated_s_arguments_warn_as_numpy():
    x = data(0, (3, 4), np.complex128)
    with warnings.catch_warnings(record=True) as np_w:
        warnings.simplefilter("always")
        want = np.fft.fftn(x, s=(2, 5))
    with warnings.catch_warnings(record=True) as fd_w:
        warnings.simplefilter("always")
        (got,) = traced(lambda v: fnp.fft.fftn(v, s=(2, 5)), x)
    same(got, want)
    if NUMPY2:
        assert [w.category for w in fd_w] == [w.category for w in np_w]
    else:   # funcdiff warns as NumPy 2 does on every NumPy; NumPy 1.x did not warn
        assert [w.category for w in fd_w] == [DeprecationWarning] and not np_w
    if np_w:
        assert str(fd_w[0].message) == str(np_w[0].message)


def test_empty_batch_axes_and_empty_axes_list():
    x = np.zeros((0, 4))
    (got,) = traced(fnp.fft.fft, x)
    same(got, np.fft.fft(x))
    (got,) = traced(fnp.fft.rfft, x)
    same(got, np.fft.rfft(x))
    y = data(0, (3,), np.float64)
    (got,) = traced(lambda v: fnp.fft.fftn(v, axes=()), y)
    same(got, np.fft.fftn(y, axes=()))


@VALUES
@given(shapes, st.one_of(st.none(), st.integers(-3, 2), st.just((0,)), st.just((-1, 0))),
       seeds)
def test_shifts(shape, axes, seed):
    nd = len(shape)
    if isinstance(axes, int) and not -nd <= axes < nd:
        axes = -1
    if isinstance(axes, tuple):
        axes = tuple(a for a in axes if -nd <= a < nd) or None
    x = data(seed, shape, np.float64)
    for name in ("fftshift", "ifftshift"):
        (got,) = traced(lambda v: getattr(fnp.fft, name)(v, axes=axes), x)
        same(got, getattr(np.fft, name)(x, axes=axes))
        check_grads(lambda v: getattr(fnp.fft, name)(v, axes=axes), (x,), order=1)
    (back,) = traced(lambda v: fnp.fft.ifftshift(fnp.fft.fftshift(v, axes), axes), x)
    same(back, x)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_fftfreq_helpers(n):
    same(fnp.fft.fftfreq(n, 0.5), np.fft.fftfreq(n, 0.5))
    same(fnp.fft.rfftfreq(n, 0.5), np.fft.rfftfreq(n, 0.5))
    (got,) = traced(lambda d: fnp.fft.fftfreq(n, d), 0.25)
    same(got, np.fft.fftfreq(n, 0.25))
    (got,) = traced(lambda d: fnp.fft.rfftfreq(n, d), np.float64(0.25))
    same(got, np.fft.rfftfreq(n, 0.25))
    # differentiable in the spacing d: d/dd (k / (n d)) = -k / (n d^2)
    g = fd.grad(lambda d: fnp.sum(fnp.fft.fftfreq(n, d)))(0.5)
    np.testing.assert_allclose(g, -np.sum(np.fft.fftfreq(n, 1.0)) / 0.25, atol=1e-12)
    check_grads(lambda d: fnp.fft.rfftfreq(n, d), (0.7,), order=2)


# --- round trips and their gradients ---------------------------------------------------------

@VALUES
@given(st.integers(1, 9), st.integers(1, 3), norms, seeds)
def test_round_trips_and_their_gradients(n, batch, norm, seed):
    x = data(seed, (batch, n), np.float64)
    z = data(seed, (batch, n), np.complex128)

    def c_trip(v):
        return fnp.fft.ifft(fnp.fft.fft(v, norm=norm), norm=norm)

    def r_trip(v):   # needs n: the halved length does not say whether n is odd or even
        return fnp.fft.irfft(fnp.fft.rfft(v, norm=norm), n=n, norm=norm)

    (got,) = traced(c_trip, z)
    np.testing.assert_allclose(got, z, atol=1e-12)
    (got,) = traced(r_trip, x)
    np.testing.assert_allclose(got, x, atol=1e-12)
    # the round trips are the identity, so are their vjps: this checks the transposes of
    # rfft / irfft (halving, odd and even n) against each other
    ct_x = data(seed + 1, (batch, n), np.float64)
    ct_z = data(seed + 1, (batch, n), np.complex128)
    _, back = fd.vjp(r_trip, x)
    np.testing.assert_allclose(back(ct_x)[0], ct_x, atol=1e-12)
    _, back = fd.vjp(c_trip, z)
    np.testing.assert_allclose(back(ct_z)[0], ct_z, atol=1e-12)
    # the gradient of |x|^2 after a round trip is 2x
    g = fd.grad(lambda v: fnp.sum(r_trip(v) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x, atol=1e-12)
    # n-d: irfftn(rfftn(x), s) with odd/even last axis
    x2 = data(seed, (3, n), np.float64)
    f2 = lambda v: fnp.fft.irfftn(fnp.fft.rfftn(v, norm=norm), s=x2.shape, axes=(0, 1),
                                   norm=norm)  # noqa: E731
    _, back = fd.vjp(f2, x2)
    np.testing.assert_allclose(back(x2)[0], x2, atol=1e-12)


def test_parseval_gradient_ortho():
    # with norm='ortho' the FFT is unitary: sum |fft(x)|^2 = sum |x|^2, gradient 2x
    x = data(5, (7,), np.float64)
    g = fd.grad(lambda v: fnp.sum(fnp.abs(fnp.fft.fft(v, norm="ortho")) ** 2))(x)
    np.testing.assert_allclose(g, 2 * x, atol=1e-12)
    # rfft keeps half the spectrum: the inner frequencies count twice
    def half_parseval(v):
        r = fnp.abs(fnp.fft.rfft(v, norm="ortho")) ** 2
        return r[0] + 2 * fnp.sum(r[1:4])   # n = 7: no Nyquist entry
    np.testing.assert_allclose(fd.grad(half_parseval)(x), 2 * x, atol=1e-12)


# --- derivatives: check_grads order 2, forward and reverse ----------------------------------------

@GRAD
@given(fft_cases(dtypes=(np.float64, np.complex128)), seeds)
def test_check_grads_order2(case, seed):
    name, shape, dtype, kw = case
    x = data(seed, shape, dtype)
    check_grads(lambda v: getattr(fnp.fft, name)(v, **kw), (x,), order=2,
                modes=("fwd", "rev"))


@pytest.mark.parametrize("n", [5, 6])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_grads_real_transforms_odd_even(n, norm):
    x = data(n, (2, n), np.float64)
    z = data(n, (2, n // 2 + 1), np.complex128)
    check_grads(lambda v: fnp.fft.rfft(v, norm=norm), (x,), order=2)
    check_grads(lambda v: fnp.fft.irfft(v, n=n, norm=norm), (z,), order=2)
    check_grads(lambda v: fnp.fft.irfft2(v, s=(2, n), norm=norm), (z,), order=2)
    # a real-valued loss through the complex spectrum, via plain numpy
    check_grads(lambda v: np.sum(np.abs(np.fft.rfft(v, norm=norm)) ** 2), (x,), order=2)


def test_dense_jacobians_match_dft_matrices():
    n = 5
    x = data(0, (n,), np.float64)
    F = np.fft.fft(np.eye(n))                       # F[j, k] = exp(-2 pi i jk/n)
    jf = fd.jacfwd(fnp.fft.rfft)(x)
    np.testing.assert_allclose(jf, F[: n // 2 + 1], atol=1e-12)
    # reverse mode of a real-valued function of the spectrum = Re(J^T ct)
    ct = data(1, (n // 2 + 1,), np.complex128)
    _, back = fd.vjp(fnp.fft.rfft, x)
    np.testing.assert_allclose(back(ct)[0], np.real(F[: n // 2 + 1].T @ ct), atol=1e-12)


# --- vmap, jit, transformed jaxprs ----------------------------------------------------------------

@VALUES
@given(fft_cases(dtypes=(np.float64, np.complex128)), st.integers(1, 3), st.data(), seeds)
def test_vmap_matches_loop(case, size, data_, seed):
    name, shape, dtype, kw = case
    nd = len(shape)
    in_axis = data_.draw(st.integers(0, nd))
    xs = data(seed, shape[:in_axis] + (size,) + shape[in_axis:], dtype)
    f = lambda v: getattr(fnp.fft, name)(v, **kw)  # noqa: E731
    got = fd.vmap(f, in_axes=in_axis)(xs)
    want = np.stack([getattr(np.fft, name)(np.take(xs, i, axis=in_axis), **kw)
                     for i in range(size)])
    same(got, want)
    closed = fd.make_jaxpr(fd.vmap(f, in_axes=in_axis))(xs)
    fd.check_jaxpr(closed)


@VALUES
@given(fft_cases(dtypes=(np.float32, np.float64, np.complex64, np.complex128)), seeds)
def test_jit_matches_interpreter(case, seed):
    name, shape, dtype, kw = case
    x = data(seed, shape, dtype)
    f = lambda v: getattr(fnp.fft, name)(v, **kw)  # noqa: E731
    (interp,) = traced(f, x)
    same(fd.jit(f)(x), interp)


@pytest.mark.parametrize("name", ONE_D + N_D)
def test_transformed_jaxprs_check(name):
    dtype = np.float64 if name in REAL_IN else np.complex128
    x = data(0, (3, 4), dtype)

    def loss(v):
        y = getattr(fnp.fft, name)(v, norm="ortho")
        return fnp.sum(fnp.abs(y) ** 2)

    for closed in (fd.make_jaxpr(fd.grad(loss))(x),
                   fd.make_jaxpr(lambda v: fd.jvp(loss, (v,), (v,)))(x),
                   fd.make_jaxpr(fd.vmap(fd.grad(loss)))(np.stack([x, x]))):
        fd.check_jaxpr(closed)
    np.testing.assert_allclose(fd.jit(fd.grad(loss))(x), fd.grad(loss)(x), atol=1e-10)


# --- plain numpy dispatch, errors, cost -------------------------------------------------------------

def test_plain_numpy_fft_dispatches():
    x = data(0, (4, 5), np.float64)

    def f(v):
        spec = np.fft.rfft2(v)
        back = np.fft.irfft2(spec * np.conj(spec), s=v.shape)
        return np.fft.fftshift(back) + np.real(np.fft.ifft(np.fft.fft(v, axis=0), axis=0))

    closed = fd.make_jaxpr(f)(x)
    fd.check_jaxpr(closed)
    assert any(e.primitive is fft_p for e in closed.jaxpr.eqns)
    (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    same(got, f(x))
    check_grads(f, (x,), order=1)


def test_errors_as_numpy():
    x = data(0, (4,), np.float64)
    z = data(0, (4,), np.complex128)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        fd.make_jaxpr(lambda v: fnp.fft.fft(v, n=0))(x)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        fd.make_jaxpr(lambda v: fnp.fft.irfft(v))(z[:1])     # (1 - 1) * 2 = 0 points
    with pytest.raises(ValueError, match="Invalid norm value"):
        fd.make_jaxpr(lambda v: fnp.fft.fft(v, norm="unitary"))(x)
    with pytest.raises(TypeError):
        fd.make_jaxpr(lambda v: fnp.fft.rfft(v))(z)            # as NumPy: no complex rfft
    if NUMPY2:   # NumPy 1.x dropped the imaginary part (with a ComplexWarning)
        with pytest.raises(TypeError):
            np.fft.rfft(z)
    with pytest.raises(ValueError, match="Shape and axes have different lengths"):
        fd.make_jaxpr(lambda v: fnp.fft.fftn(v, s=(2, 2), axes=(0,)))(x)
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions") else IndexError):
        fd.make_jaxpr(lambda v: fnp.fft.fft(v, n=3, axis=2))(x)
    with pytest.raises(TypeError, match="out="):
        fd.make_jaxpr(lambda v: fnp.fft.fft(v, out=np.empty(4, complex)))(x)


def test_primitive_rejects_bad_operands():
    from funcdiff.core.errors import FuncdiffTypeError, ShapeError
    from funcdiff.primitives.fft import fft
    x = data(0, (4,), np.float64)
    with pytest.raises(FuncdiffTypeError, match="complex"):
        fd.make_jaxpr(lambda v: fft(v, "fft", (0,), (4,)))(x)
    with pytest.raises(ShapeError, match="lengths"):
        fd.make_jaxpr(lambda v: fft(v, "rfft", (0,), (5,)))(x)
    with pytest.raises(ShapeError, match="axes"):
        fd.make_jaxpr(lambda v: fft(v, "rfft", (0, 0), (4, 4)))(x)


def test_cost_is_5_n_log2_n():
    z = data(0, (3, 8), np.complex128)
    c = fd.cost_analysis(lambda v: fnp.fft.fft(v))(z)
    assert c["flops"] == int(5 * 8 * math.log2(8) * 3)
    c2 = fd.cost_analysis(lambda v: fnp.fft.fft2(v))(z)
    assert c2["flops"] == int(5 * 24 * math.log2(24))
    x = data(0, (3, 8), np.float64)
    c3 = fd.cost_analysis(lambda v: fnp.fft.rfft(v))(x)
    assert c3["flops"] == int(5 * 8 * math.log2(8) * 3 / 2)


def test_jit_source_calls_numpy_fft():
    z = data(0, (3, 8), np.complex128)
    src = fd.jit(lambda v: fnp.fft.ifft2(v, norm="ortho")).lower(z).source
    assert "np.fft.ifftn(" in src and "norm='ortho'" in src
