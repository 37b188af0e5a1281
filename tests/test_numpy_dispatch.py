"""Plain NumPy code under funcdiff's transforms (issue 8): NumPy's dispatch protocols on
traced values (``__array_ufunc__`` / ``__array_function__``), operators with ndarrays on
either side, and every way out of the trace.

* A corpus of user-style functions, each written once against a module ``m`` and run
  with ``m = numpy`` (``import numpy as np`` code) and ``m = funcdiff.numpy``: identical
  values, grads, jvps and printed jaxprs (of the functions and of their gradients).
* Every ufunc funcdiff.numpy has, called as ``numpy.X(traced)``; ``reduce`` and
  ``accumulate``; ``out=`` / ``where=`` / ``ufunc.at`` are clear errors.
* Every funcdiff.numpy / .linalg / .fft function is reachable as ``numpy.X``; every NumPy
  function funcdiff does not cover raises ``UnsupportedNumpyFunctionError`` naming it.
* Mixed code (numpy and funcdiff.numpy, ndarray constants on either side of every
  operator, in-place operators rebinding a name) differentiates correctly.
* Conversions: ``numpy.asarray``/``numpy.array`` raise ``TracerArrayConversionError``
  for values carrying a derivative; ``float() int() bool() complex() .item() .tolist()``
  raise ``ConcretizationError`` under jit/vmap, and under grad see the value (Python
  control flow on values, API.md), warning when a derivative is dropped.
"""
from __future__ import annotations

import inspect
import operator
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import (ConcretizationError, DerivativeCutWarning, FuncdiffTypeError,
                      TracerArrayConversionError, TracerBufferWriteError, TracerLeakError,
                      UnsupportedNumpyFunctionError)
from funcdiff.numpy._core import FUNCTIONS
from funcdiff.numpy._methods import _IN_PLACE
from funcdiff.test_util import check_grads

HERE = os.path.basename(__file__)
RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 4))
SPD = A @ A.T + 4 * np.eye(4)
W1, B1 = RNG.standard_normal((5, 4)), RNG.standard_normal(5)
W2 = RNG.standard_normal((2, 5))
LABELS = np.array([0, 2, 1])
EYE4 = np.eye(4)
ONE_HOT = np.eye(3)[LABELS]
RAMP = np.arange(12.0)


# --- the corpus: each function is written once against the module ``m`` ---------------------
# (``m.X`` is ``np.X`` in one run and ``fnp.X`` in the other; operators and methods on
# traced values are the same in both.)  Constants are NumPy arrays made outside.

def logsumexp(m, x):
    c = m.max(x)
    return m.log(m.sum(m.exp(x - c))) + c


def softmax_xent(m, x):
    z = x.reshape(3, 4)[:, :3]
    logp = z - m.log(m.sum(m.exp(z), axis=1, keepdims=True))
    return -m.mean(m.sum(ONE_HOT * logp, axis=-1))


def mlp(m, x):
    h = m.tanh(W1 @ x + B1)
    out = m.dot(W2, h)
    return m.sum(out ** 2) / 2.0


def rosenbrock(m, x):
    return m.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def pair_energy(m, x):
    pos = x.reshape(4, 3)
    diff = pos[:, None, :] - pos[None, :, :]
    r2 = m.sum(diff ** 2, axis=-1) + EYE4
    inv = 1.0 / r2
    return 0.5 * m.sum(inv * (1.0 - EYE4))


def gaussian_nll(m, x):
    v = x[:4]
    cov = SPD + m.outer(v, v)
    sign, logdet = m.linalg.slogdet(cov)
    alpha = m.linalg.solve(cov, x[4:8])
    return 0.5 * (logdet + m.dot(x[4:8], alpha))


def norms(m, x):
    return m.linalg.norm(x) + m.linalg.norm(A @ x[:4], ord=1) + m.linalg.norm(
        x.reshape(3, 4), axis=1).sum()


def cumulative(m, x):
    return m.sum(m.cumsum(x) * m.cumprod(1.0 + 0.1 * x))


def leaky_relu(m, x):
    return m.mean(m.where(x > 0, x, 0.01 * x) ** 2)


def moments(m, x):
    z = x.reshape(3, 4)
    return m.sum(m.std(z, axis=0)) + m.var(z) + m.mean(z, axis=1)[1]


def einsum_gram(m, x):
    z = x.reshape(3, 4)
    g = m.einsum("ij,kj->ik", z, z)
    return m.trace(g) + m.sum(m.einsum("ij,j->i", z, x[:4]))


def stacking(m, x):
    s = m.stack([x, m.sin(x)], axis=1)
    c = m.concatenate([x[:3], m.cos(x[3:6]), x[::-1]])
    return m.sum(s[:, 1] * s[:, 0]) + m.sum(c ** 3) + m.sum(m.hstack([x, x])[5:])


def shapes(m, x):
    z = m.transpose(x.reshape(2, 2, 3), (2, 0, 1))
    z = m.swapaxes(m.expand_dims(z, 0), 0, 3).squeeze()
    return m.sum(m.moveaxis(z, 0, -1).ravel() * RAMP) + m.sum(x.reshape(-1, 6).T)


def clipping(m, x):
    return m.sum(m.clip(x, -0.5, 0.5) ** 2 + m.maximum(x, 0.2) * m.minimum(x, 0.1)
                 + m.abs(x) * m.sign(x))


def fancy_indexing(m, x):
    z = x.reshape(3, 4)
    return m.sum(z[[0, 2, 2], 1:] ** 2) + m.sum(m.take(x, [5, 0, 5])) + z[LABELS, [1, 2, 3]].prod()


def spectrum(m, x):
    return m.sum(m.abs(m.fft.rfft(x)) ** 2) + m.real(m.fft.ifft(m.fft.fft(x)))[3]


def angles(m, x):
    return m.sum(m.arctan2(x[1:], x[:-1] + 3.0) + m.hypot(x[1:], x[:-1])) + m.sum(m.sinc(x))


def softplus(m, x):
    return m.sum(m.logaddexp(0.0, x) + m.log1p(m.exp(-m.abs(x))) + m.expm1(x / 4.0))


def products(m, x):
    z = x.reshape(3, 4)
    return (m.sum(m.matmul(z, z.T)) + m.vdot(x, x) + m.sum(m.tensordot(z, z, axes=([1], [1])))
            + m.inner(x[:4], x[4:8]) + m.sum(m.kron(x[:2], x[2:4])))


def tiling(m, x):
    z = m.tile(x[:3], 2) * m.repeat(x[3:6], 2) + m.roll(x[:6], 2) * m.flip(x[6:])
    return m.sum(z ** 2) + m.sum(m.diag(m.outer(x[:3], x[3:6])))


def linear_algebra(m, x):
    M = SPD + x[:16].reshape(4, 4) * 0.1
    L = m.linalg.cholesky(M @ M.T)
    return (m.sum(m.linalg.inv(M)) + m.linalg.det(M) * 1e-3 + m.sum(L)
            + m.sum(m.linalg.eigh(M + M.T)[0]))


def reductions_keyword(m, x):
    z = x.reshape(2, 3, 2)
    return (m.sum(z, axis=(0, 2)) @ m.prod(z, axis=-1).max(axis=0)
            + m.amax(z, axis=1, keepdims=True).sum() + m.amin(z) + m.mean(z, axis=-2)[0, 1])


def power_tower(m, x):
    y = m.sqrt(x ** 2 + 1.0) ** 1.5 + m.exp2(x / 3.0) + m.cbrt(x + 4.0) + m.square(x)
    return m.sum(m.log(y) / m.log10(y + 1.0)) + m.sum(m.reciprocal(y))


def more_ufuncs(m, x):
    y = (m.logaddexp2(x, 0.5 * x) + m.rad2deg(m.deg2rad(x)) * m.i0(x)
         + m.float_power(x * x + 1.0, 1.5) + m.heaviside(x, x) + m.fmax(x, np.nan))
    return m.sum(m.nan_to_num(y) * m.frexp(x + 3.0)[0]) + m.sum(m.modf(4.0 * x)[0])


def polynomials(m, x):
    p = m.polymul(x[:3], x[3:5] + 2.0)
    q, r = m.polydiv(p, x[5:7] + 3.0)
    return (m.sum(m.polyval(p, x[6:])) + m.sum(m.polyder(p, 2)) + m.sum(q) + m.sum(r)
            + m.sum(m.convolve(x[:5], x[5:8], "same")) + m.sum(m.correlate(x, x[:3]))
            + m.sum(m.vander(x[:3], 3)) + m.sum(m.polyint(x[:4])))


def selection(m, x):
    z = m.select([x < -0.3, x > 0.3], [x ** 2, m.sin(x)], 0.5 * x)
    w = m.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 3, lambda v: m.exp(v)])
    c = m.choose(LABELS, [x[:3], x[3:6] ** 2, x[6:9]])
    r = m.r_[x[:2], 1.0, x[-2:]] + m.c_[x[:5], x[5:10]].sum(axis=1)
    return (m.sum(z * w) + m.sum(c) + m.sum(m.compress(RAMP > 5, x) ** 2) + m.sum(r ** 2)
            + m.sum(x[m.ix_([0, 2])] * m.extract(RAMP < 2, x)))


def finite_differences(m, x):
    z = x.reshape(3, 4)
    gy, gx = m.gradient(z, 0.5, edge_order=2)
    trapezoid = getattr(m, "trapezoid", None) or m.trapz     # NumPy 1.x: trapz
    return (m.sum(m.diff(z, axis=0) ** 2) + trapezoid(z[0] ** 2, dx=0.25)
            + m.sum(gx * gy) + m.sum(m.ediff1d(x, to_begin=x[:1]) ** 2)
            + m.sum(m.unwrap(4.0 * x) ** 2))


def statistics(m, x):
    z = x.reshape(3, 4)
    return (m.sum(m.cov(z)) + 0.1 * m.sum(m.corrcoef(z) ** 2)
            + m.sum(m.average(z, axis=1, weights=[1.0, 2.0, 3.0, 4.0]))
            + m.sum(m.ptp(z, axis=0)))


def editing(m, x):
    z = m.delete(m.insert(x[:6], [1, 4], x[6:8]), [0, 3]) * m.resize(x[:3], 6)
    r = m.apply_along_axis(lambda r: m.sum(r ** 2), 1, x.reshape(3, 4))
    g = m.block([[m.tril(x[:9].reshape(3, 3)), m.triu(x[:6].reshape(3, 2), -1)]])
    X, Y = m.meshgrid(x[:3], x[3:5])
    return (m.sum(z ** 2) + m.sum(r) + m.sum(m.rollaxis(x.reshape(2, 3, 2), 2) ** 3)
            + m.sum(g ** 2) + m.sum(X * Y) + m.sum(m.diagflat(x[:2]) @ x[4:8].reshape(2, 2)))


def linear_algebra_more(m, x):
    M = SPD + x[:16].reshape(4, 4) * 0.1
    return (m.linalg.cond(M, "fro") + 0.1 * m.sum(m.linalg.tensorinv(M.reshape(2, 2, 4)))
            + m.sum(m.linalg.tensorsolve(M.reshape(4, 2, 2), x[:4])) + m.sum(m.fft.hfft(x[:5]))
            + m.sum(m.abs(m.fft.ihfft(x[5:11])) ** 2))


KNOTS = np.array([-1.0, -0.3, 0.4, 1.0])


def order_statistics(m, x):
    z = x.reshape(3, 4)
    return (m.sum(m.sort(x) * RAMP) + m.median(z, axis=1) @ m.percentile(z, [25.0, 75.0],
                                                                       axis=1)[1]
            + m.sum(m.quantile(z, 0.3, axis=0, method="hazen") ** 2)
            + m.nanmean(m.nanmax(z, axis=0)) + m.sum(m.interp(x[:5], KNOTS, x[5:9] ** 2))
            + m.sum(x * m.searchsorted(KNOTS, x)) + m.sum(x * m.isin(m.round(x), KNOTS))
            + m.sum(m.sort_complex(x[:3]).real) + m.sum(m.nancumsum(m.nanprod(z, axis=1))))


def running(m, x):
    """NumPy's ufunc methods (running maximum, reductions of any binary ufunc) and
    roundings: piecewise constant, derivative zero."""
    z = x.reshape(3, 4)
    return (m.sum(m.maximum.accumulate(x) ** 2) + m.sum(m.logaddexp.reduce(z, axis=1))
            + m.sum(m.minimum.reduceat(x, [0, 5, 2]) ** 3)
            + m.sum(m.subtract.accumulate(z, axis=1) * z)
            + m.sum(m.fix(3.0 * x) * x) + m.sum(m.round(x, 1) * x))


CORPUS = [logsumexp, softmax_xent, mlp, rosenbrock, pair_energy, gaussian_nll, norms,
          cumulative, leaky_relu, moments, einsum_gram, stacking, shapes, clipping,
          fancy_indexing, spectrum, angles, softplus, products, tiling, linear_algebra,
          reductions_keyword, power_tower, more_ufuncs, polynomials,
          selection, finite_differences, statistics, editing,
          linear_algebra_more, order_statistics, running]
SIZES = {"linear_algebra": 16, "gaussian_nll": 8, "mlp": 4, "linear_algebra_more": 16}


def _input(f, seed=1):
    n = SIZES.get(f.__name__, 12)
    return np.random.default_rng(seed).uniform(-0.9, 0.9, n)


def _both(f):
    return (lambda x: f(np, x)), (lambda x: f(fnp, x))


@pytest.mark.parametrize("f", CORPUS, ids=lambda f: f.__name__)
def test_corpus_numpy_and_funcdiff_numpy_agree(f):
    f_np, f_fnp = _both(f)
    x = _input(f)
    # untransformed: both are NumPy
    np.testing.assert_array_equal(f_np(x), f_fnp(x))
    # the same program: printed jaxprs equal, of the function and of its gradient
    assert str(fd.make_jaxpr(f_np)(x)) == str(fd.make_jaxpr(f_fnp)(x))
    assert str(fd.make_jaxpr(fd.grad(f_np))(x)) == str(fd.make_jaxpr(fd.grad(f_fnp))(x))
    fd.check_jaxpr(fd.make_jaxpr(fd.grad(f_np))(x))
    # hence the same numbers, bit for bit
    np.testing.assert_array_equal(fd.grad(f_np)(x), fd.grad(f_fnp)(x))
    t = np.random.default_rng(2).standard_normal(x.shape)
    out_np, tan_np = fd.jvp(f_np, (x,), (t,))
    out_fnp, tan_fnp = fd.jvp(f_fnp, (x,), (t,))
    np.testing.assert_array_equal(out_np, out_fnp)
    np.testing.assert_array_equal(tan_np, tan_fnp)
    np.testing.assert_array_equal(out_np, f_np(x))
    np.testing.assert_array_equal(fd.jit(fd.grad(f_np))(x), fd.jit(fd.grad(f_fnp))(x))
    np.testing.assert_allclose(fd.jit(fd.grad(f_np))(x), fd.grad(f_np)(x), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("f", CORPUS, ids=lambda f: f.__name__)
def test_corpus_plain_numpy_derivatives_are_right(f):
    """The numpy-written versions against finite differences (order 2)."""
    f_np, _ = _both(f)
    check_grads(f_np, (_input(f, seed=3),), order=2)


def test_corpus_under_vmap_and_hessian():
    xs = np.stack([_input(mlp, s) for s in range(3)])
    g = fd.vmap(fd.grad(lambda x: mlp(np, x)))(xs)
    np.testing.assert_allclose(g, np.stack([fd.grad(lambda x: mlp(fnp, x))(x) for x in xs]),
                               rtol=1e-12)
    H_np = fd.hessian(lambda x: rosenbrock(np, x))(_input(rosenbrock))
    H_fnp = fd.hessian(lambda x: rosenbrock(fnp, x))(_input(rosenbrock))
    np.testing.assert_array_equal(H_np, H_fnp)


# --- ufuncs: every one funcdiff.numpy has, called as numpy.X(traced) ---------------------------

UFUNCS = sorted((u for u in FUNCTIONS if isinstance(u, np.ufunc)
                 and getattr(np, u.__name__, None) is u), key=lambda u: u.__name__)
_INT_ONLY = {"bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift",
             "right_shift", "gcd", "lcm", "bitwise_count"}
_BOOL = {"logical_and", "logical_or", "logical_xor", "logical_not"}
# operand shapes of the gufuncs (matmul and the vector/matrix products)
_GUFUNC_SHAPES = {"matmul": [(2, 3), (3, 2)], "matvec": [(2, 3), (3,)],
                  "vecmat": [(3,), (3, 2)], "vecdot": [(2, 3), (2, 3)]}


def _ufunc_inputs(u, rng):
    name = u.__name__
    if name in _INT_ONLY:
        return [rng.integers(0, 7, (2, 3)) for _ in range(u.nin)]
    if name in _BOOL:
        return [rng.random((2, 3)) > 0.5 for _ in range(u.nin)]
    if name in _GUFUNC_SHAPES:
        return [rng.uniform(0.2, 0.9, s) for s in _GUFUNC_SHAPES[name]]
    if name == "ldexp":
        return [rng.uniform(0.2, 0.9, (2, 3)), rng.integers(-3, 4, (2, 3))]
    lo = 1.2 if name == "arccosh" else 0.2
    return [rng.uniform(lo, lo + 0.7, (2, 3)) for _ in range(u.nin)]


def test_the_ufunc_list_is_the_expected_one():
    names = {u.__name__ for u in UFUNCS}
    assert {"add", "sin", "exp", "log", "maximum", "arctan2", "matmul", "equal",
            "logical_and", "sqrt", "tanh", "power"} <= names
    assert len(names) >= 50


@pytest.mark.parametrize("u", UFUNCS, ids=lambda u: u.__name__)
def test_every_ufunc_dispatches(u):
    rng = np.random.default_rng(4)
    args = _ufunc_inputs(u, rng)
    fn = getattr(fnp, u.__name__)
    want = u(*args)
    for k in range(len(args)):   # the traced value in each position, ndarrays elsewhere
        def via_numpy(*a):
            full = list(args)
            full[k] = a[0]
            return u(*full)

        def via_fnp(*a):
            full = list(args)
            full[k] = a[0]
            return fn(*full)

        closed = fd.make_jaxpr(via_numpy)(args[k])
        assert str(closed) == str(fd.make_jaxpr(via_fnp)(args[k]))
        gots = fd.eval_jaxpr(closed.jaxpr, closed.consts, args[k])
        wants = want if u.nout > 1 else (want,)
        assert len(gots) == len(wants)
        for got, w in zip(gots, wants):
            assert got.dtype == w.dtype and got.shape == w.shape
            if w.dtype.kind == "f":
                np.testing.assert_allclose(got, w, rtol=1e-13)
            else:
                np.testing.assert_array_equal(got, w)
    first = want[0] if u.nout > 1 else want
    if args[0].dtype.kind == "f" and first.dtype.kind == "f" and u.__name__ not in (
            "floor", "ceil", "trunc", "rint", "sign", "floor_divide", "remainder", "fmod",
            "divmod", "spacing"):
        g_np = fd.grad(lambda a: np.sum(_first(u(a, *args[1:]))))(args[0])
        g_fnp = fd.grad(lambda a: fnp.sum(_first(fn(a, *args[1:]))))(args[0])
        np.testing.assert_array_equal(g_np, g_fnp)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def test_ufunc_keywords_dtype_and_weak_scalars():
    x32 = np.linspace(0.1, 0.9, 4, dtype=np.float32)
    g = fd.grad(lambda x: np.sum(np.sin(x) * 2.0))(x32)
    assert g.dtype == np.float32
    out = fd.jit(lambda x: np.add(x, 1, dtype=np.float64))(x32)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.add(x32, 1, dtype=np.float64))
    out = fd.jit(lambda x: np.multiply(x, 2, casting="same_kind", order="K"))(x32)
    np.testing.assert_array_equal(out, x32 * 2)


@given(st.sampled_from(["add", "multiply", "maximum", "minimum"]), st.data())
def test_ufunc_reduce(name, data):
    u = getattr(np, name)
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.just(tuple(range(ndim)))))
    keepdims = data.draw(st.booleans())
    x = np.random.default_rng(data.draw(st.integers(0, 99))).uniform(0.5, 1.5, shape)
    kw = {"keepdims": keepdims} if axis == 0 else {"axis": axis, "keepdims": keepdims}
    want = u.reduce(x, **kw)
    closed = fd.make_jaxpr(lambda x: u.reduce(x, **kw))(x)
    fd.check_jaxpr(closed)
    (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    check_grads(lambda x: u.reduce(x, **kw), (x,), order=2)
    if name in ("add", "multiply"):
        want = u.reduce(x, axis=axis, dtype=np.float32)
        got = fd.jit(lambda x: u.reduce(x, axis=axis, dtype=np.float32))(x)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ufunc_reduce_initial_where_and_accumulate():
    x = np.array([[0.5, 2.0, -1.0], [1.5, -0.5, 3.0]])
    mask = np.array([True, False, True])
    for u, fn in [(np.add, fnp.sum), (np.multiply, fnp.prod), (np.maximum, fnp.max),
                  (np.minimum, fnp.min)]:
        got = fd.jit(lambda x: u.reduce(x, axis=1, initial=0.25, where=mask))(x)
        np.testing.assert_allclose(got, u.reduce(x, axis=1, initial=0.25, where=mask))
        # the same program as the funcdiff.numpy function
        assert str(fd.make_jaxpr(lambda x: u.reduce(x, axis=1))(x)) == \
            str(fd.make_jaxpr(lambda x: fn(x, axis=1))(x))
    for u, fn in [(np.add, fnp.cumsum), (np.multiply, fnp.cumprod)]:
        for axis in (0, 1, -1):
            got = fd.jit(lambda x: u.accumulate(x, axis=axis))(x)
            np.testing.assert_allclose(got, u.accumulate(x, axis=axis))
            assert str(fd.make_jaxpr(lambda x: u.accumulate(x, axis=axis))(x)) == \
                str(fd.make_jaxpr(lambda x: fn(x, axis=axis))(x))
            check_grads(lambda x: u.accumulate(x, axis=axis), (x,), order=2)
        got = fd.jit(lambda x: u.accumulate(x[0]))(x)     # default axis 0
        np.testing.assert_allclose(got, u.accumulate(x[0]))
    with pytest.raises(TypeError):
        fd.jit(lambda x: np.add.accumulate(x[0, 0]))(x)


def test_ufunc_outer():
    a, b = np.array([0.5, 1.5]), np.array([[1.0, 2.0, 3.0]])
    for u in (np.add, np.multiply, np.subtract, np.arctan2, np.maximum):
        got = fd.jit(lambda a, b: u.outer(a, b))(a, b)
        np.testing.assert_allclose(got, u.outer(a, b))
        assert got.shape == (2, 1, 3)
        check_grads(lambda a, b: u.outer(a, b), (a, b + 0.25), order=1)
    np.testing.assert_allclose(fd.grad(lambda a: np.multiply.outer(a, b[0]).sum())(a),
                               np.full(2, b.sum()))


@pytest.mark.parametrize("call, what", [
    (lambda x: np.add(x, 1.0, out=np.empty(3)), "out="),
    (lambda x: np.sin(x, out=np.empty(3)), "out="),
    (lambda x: np.matmul(np.eye(3), x, out=np.empty(3)), "out="),
    (lambda x: np.add.reduce(x, out=np.empty(())), "out="),
    (lambda x: np.add.accumulate(x, out=np.empty(3)), "out="),
    (lambda x: np.add(x, 1.0, out=x), "immutable"),
    (lambda x: np.add(x, 1.0, where=np.array([True, False, True])), "where"),
    (lambda x: np.exp(x, where=x > 0), "where"),
    (lambda x: np.add.at(x, [0], 1.0), ".at[idx].add(v)"),
    (lambda x: np.add.at(np.zeros(3), [0], x[0]), ".at[idx].add(v)"),
])
def test_out_where_and_at_are_clear_errors(call, what):
    x = np.array([0.5, 1.0, 1.5])
    for transform in (fd.grad, fd.jit):
        f = (lambda x: np.sum(call(x))) if transform is fd.grad else call
        with pytest.raises(FuncdiffTypeError) as ei:
            transform(f)(x)
        msg = str(ei.value)
        assert what in msg, msg
        assert HERE in msg                      # the user's line
        assert isinstance(ei.value, TypeError)


def test_inplace_operator_on_a_numpy_array_says_what_to_write():
    def f(x):
        acc = np.zeros(3)
        acc += x
        return np.sum(acc)

    with pytest.raises(TracerBufferWriteError) as ei:
        fd.grad(f)(np.ones(3))
    assert "`acc = acc + x`" in str(ei.value) and "`acc += x`" in str(ei.value)


# --- every funcdiff.numpy function is reachable through numpy ----------------------------------

def _public(mod):
    return [n for n in dir(mod) if not n.startswith("_")]


def _fnp_functions():
    out = []
    for ours, theirs, prefix in ((fnp, np, "numpy."), (fnp.linalg, np.linalg, "numpy.linalg."),
                                 (fnp.fft, np.fft, "numpy.fft.")):
        for name in _public(ours):
            f = getattr(ours, name)
            if hasattr(f, "traced"):
                out.append((prefix + name, f, getattr(theirs, name, None)))
    return out


def test_every_function_is_reachable_as_numpy_x():
    rows = _fnp_functions()
    assert len(rows) > 150
    missing = [name for name, f, np_f in rows
               if np_f is not None and (isinstance(np_f, np.ufunc) or hasattr(
                   np_f, "_implementation")) and FUNCTIONS.get(np_f) is not f]
    assert not missing, f"not dispatched from NumPy: {missing}"
    assert FUNCTIONS[np.round] is fnp.round and FUNCTIONS[np.around] is fnp.round


# (call, args): spot checks through NumPy's own names, outputs compared with funcdiff.numpy's
SPOT = [
    (lambda x: np.round(x * 10, 1), ()), (lambda x: np.linalg.norm(x, axis=0), ()),
    (lambda x: np.linalg.pinv(x), ()), (lambda x: np.linalg.svd(x)[1], ()),
    (lambda x: np.linalg.qr(x)[1], ()), (lambda x: np.fft.fft2(x), ()),
    (lambda x: np.fft.rfftn(x, axes=(0,)), ()), (lambda x: np.fft.fftshift(x), ()),
    (lambda x: np.split(x, 3)[1], ()), (lambda x: np.pad(x, 1), ()),
    (lambda x: np.atleast_3d(x), ()), (lambda x: np.broadcast_to(x[0], (2, 3)), ()),
    (lambda x: np.cross(x[0], x[1]), ()), (lambda x: np.rot90(x), ()),
    (lambda x: np.linalg.matrix_power(x, 3), ()), (lambda x: np.linalg.multi_dot([x, x, x]), ()),
    (lambda x: np.nansum(x), ()), (lambda x: np.take_along_axis(x, np.array([[0], [2], [1]]), 1),
                                   ()),
    (lambda x: np.cumulative_sum(x, axis=1) if hasattr(np, "cumulative_sum") else x, ()),
    (lambda x: np.append(x, x[0]), ()), (lambda x: np.column_stack([x, x]), ()),
    (lambda x: np.dstack([x, x]), ()), (lambda x: np.diagonal(x, 1), ()),
    (lambda x: np.full_like(x, 2.0) * x, ()), (lambda x: np.zeros_like(x) + x, ()),
    (lambda x: np.copy(x), ()), (lambda x: np.real(x) + np.imag(x), ()),
    (lambda x: np.linalg.eigvalsh(x + x.T), ()), (lambda x: np.linalg.svdvals(x)
                                                 if hasattr(np.linalg, "svdvals") else x, ()),
]


@pytest.mark.parametrize("k", range(len(SPOT)))
def test_spot_checks_through_numpy_names(k):
    call, _ = SPOT[k]
    x = np.random.default_rng(k).uniform(0.2, 1.2, (3, 3)) + 2 * np.eye(3)
    want = call(x)
    closed = fd.make_jaxpr(call)(x)
    fd.check_jaxpr(closed)
    got = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
    want_leaves = want if isinstance(want, (list, tuple)) else [want]
    for g, w in zip(got, want_leaves):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def _dispatched_numpy_functions():
    """(qualified name, function) for NumPy's dispatched functions and ufuncs that
    funcdiff does not cover."""
    out = []
    for mod, prefix in ((np, "numpy."), (np.linalg, "numpy.linalg."), (np.fft, "numpy.fft.")):
        for name in _public(mod):
            try:
                f = getattr(mod, name)
            except AttributeError:
                continue
            if not (isinstance(f, np.ufunc) or hasattr(f, "_implementation")):
                continue
            if f in FUNCTIONS or f in _IN_PLACE:     # (in-place: test_buffer_writes.py)
                continue
            out.append((prefix + name, f))
    return out


def test_uncovered_numpy_functions_raise_unsupported_naming_them():
    """Every NumPy function funcdiff does not trace, applied to traced values (in every
    required positional argument), raises UnsupportedNumpyFunctionError naming it --
    never NumPy's generic TypeError ("no implementation found ...")."""
    rows = _dispatched_numpy_functions()
    assert "numpy.busday_count" in dict(rows)     # the scan finds what is not covered
    x = np.linspace(0.1, 0.9, 6).reshape(2, 3)
    failures = []

    def probe(x):
        for qual, f in rows:
            try:
                params = inspect.signature(f).parameters.values()
                args = [x for p in params if p.default is p.empty and p.kind in (
                    p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                args += [x for p in params if p.kind is p.VAR_POSITIONAL]  # savez(f, *a)
                args = args or [x]
            except (TypeError, ValueError):     # no signature (ufuncs, C functions)
                args = [x] * getattr(f, "nin", 1)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        f(*args)
                    except TypeError as e:
                        # NumPy 1.x has no signature for C functions: NumPy's dispatcher
                        # says how many arguments are missing; pass that many more
                        missing = re.search(r"missing (\d+) required positional", str(e))
                        if missing is None:
                            raise
                        f(*args, *[x] * int(missing.group(1)))
                failures.append((qual, "no error"))
            except UnsupportedNumpyFunctionError as e:
                # aliases name the object (numpy.bitwise_left_shift is left_shift)
                named = qual in str(e) or f"numpy.{f.__name__}" in str(e)
                if not named or "issue" not in str(e) or HERE not in str(e):
                    failures.append((qual, str(e)))
            except Exception as e:  # noqa: BLE001 - the point is which class it is
                failures.append((qual, f"{type(e).__name__}: {e}"))
        return fnp.sum(x)

    fd.grad(probe)(x)
    assert not failures, failures[:10]


def test_unsupported_examples_and_methods():
    x = np.array([0.1, 3.5, 0.2])
    with pytest.raises(UnsupportedNumpyFunctionError, match=r"numpy\.isnat"):
        fd.grad(lambda x: np.sum(x * np.isnat(x)))(x)
    with pytest.raises(UnsupportedNumpyFunctionError, match=r"numpy\.array2string"):
        fd.jit(lambda x: np.array2string(x))(x)
    # the methods of every binary ufunc funcdiff has are traced (test_numpy_vectorize.py)
    np.testing.assert_array_equal(fd.grad(lambda x: np.sum(np.maximum.accumulate(x)))(x),
                                  [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(fd.grad(lambda x: np.sum(np.add.reduceat(x, [0, 2])))(x),
                                  [1.0, 1.0, 1.0])
    with pytest.raises(TypeError):            # still a TypeError, as NumPy's would be
        fd.grad(lambda x: np.sum(x * np.isnat(x)))(x)


# --- mixed code and operators with ndarrays on either side -------------------------------------

BINOPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
          operator.floordiv, operator.mod, operator.matmul, operator.lt, operator.le,
          operator.gt, operator.ge, operator.eq, operator.ne]
SMOOTH = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
          operator.matmul}


@pytest.mark.parametrize("op", BINOPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("const", ["ndarray", "float32 ndarray", "np.float64", "0-d"])
def test_operators_with_numpy_on_either_side(op, const):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 1.5, (3, 3))
    c = {"ndarray": rng.uniform(0.5, 1.5, (3, 3)),
         "float32 ndarray": rng.uniform(0.5, 1.5, (3,)).astype(np.float32),
         "np.float64": np.float64(1.25), "0-d": np.array(0.75)}[const]
    if op is operator.matmul and np.ndim(c) == 0:
        return
    for f in (lambda x: op(c, x), lambda x: op(x, c)):
        want = f(x)
        closed = fd.make_jaxpr(f)(x)
        fd.check_jaxpr(closed)
        (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13)
        if op in SMOOTH:
            check_grads(f, (x,), order=2)


def test_inplace_operators_on_tracers_rebind():
    A3 = np.arange(9.0).reshape(3, 3) / 9

    def f(x):
        y = x
        y += 1.0                  # a new traced value bound to y; x is untouched
        y *= 2.0
        assert y is not x
        return x

    def g(x):
        y = x * 1.0               # eagerly (finite differences) a copy: += would mutate x
        y += 1.0
        y *= np.array([1.0, 2.0, 3.0])
        y -= x ** 2
        y /= 2.0
        y **= 2
        y @= A3
        return np.sum(y) + np.sum(x)

    x = np.array([0.3, -0.2, 0.5])
    np.testing.assert_array_equal(fd.grad(lambda x: np.sum(f(x)))(x), np.ones(3))
    check_grads(g, (x,), order=2)
    want = g(x)
    np.testing.assert_allclose(fd.jit(g)(x), want)


def test_mixed_numpy_and_funcdiff_numpy():
    rng = np.random.default_rng(6)
    W = rng.standard_normal((4, 3))
    c = rng.standard_normal(4)

    def mixed(x):
        h = np.tanh(W @ x)                              # numpy, ndarray @ tracer
        h = fnp.concatenate([h, fnp.ones(2)])          # funcdiff.numpy creation
        z = c - h[:4]                                   # ndarray - tracer
        z = h[:4] / (c ** 2 + 1.0) + z * c              # tracer / ndarray, tracer * ndarray
        z = fnp.where(z > c, z, np.exp(z))              # comparisons with an ndarray
        acc = fnp.zeros(4).at[1:].add(z[:3])            # functional update
        acc = acc + np.sum(z) * np.arange(4.0)
        return np.sum(acc ** 2) + fnp.linalg.norm(x) + np.float64(0.5) * np.sum(h)

    def pure(x):
        h = fnp.tanh(W @ x)
        h = fnp.concatenate([h, fnp.ones(2)])
        z = c - h[:4]
        z = h[:4] / (c ** 2 + 1.0) + z * c
        z = fnp.where(z > c, z, fnp.exp(z))
        acc = fnp.zeros(4).at[1:].add(z[:3])
        acc = acc + fnp.sum(z) * fnp.arange(4.0)
        return fnp.sum(acc ** 2) + fnp.linalg.norm(x) + 0.5 * fnp.sum(h)

    x = rng.standard_normal(3)
    np.testing.assert_allclose(mixed(x), pure(x), rtol=1e-13)
    np.testing.assert_allclose(fd.grad(mixed)(x), fd.grad(pure)(x), rtol=1e-13)
    check_grads(mixed, (x,), order=2)
    np.testing.assert_allclose(fd.jit(fd.grad(mixed))(x), fd.grad(pure)(x), rtol=1e-12)
    t = rng.standard_normal(3)
    np.testing.assert_allclose(fd.jvp(mixed, (x,), (t,))[1], fd.jvp(pure, (x,), (t,))[1],
                               rtol=1e-13)


# --- conversions out of the trace --------------------------------------------------------------

def _line_of(fn):
    return f"{HERE}:{inspect.getsourcelines(fn)[1]}"


ASARRAY_PATHS = {
    "np.asarray": lambda x: np.asarray(x),
    "np.array": lambda x: np.array(x),
    "np.array(list)": lambda x: np.array([x[0], 1.0]),
    "np.asarray(dtype)": lambda x: np.asarray(x, dtype=np.float32),
    "np.ascontiguousarray-like": lambda x: np.array(x, copy=True),
    "np.vectorize": lambda x: np.vectorize(lambda v: v)(x),
}   # (`buf[:] = x` and other writes into NumPy arrays: tests/test_buffer_writes.py)


@pytest.mark.parametrize("path", sorted(ASARRAY_PATHS))
@pytest.mark.parametrize("transform", ["grad", "jvp", "vjp", "jit", "vmap"])
def test_array_conversion_raises(path, transform):
    call = ASARRAY_PATHS[path]
    x = np.array([0.5, 1.0, 1.5])

    def f(x):
        return fnp.sum(fnp.asarray(call(x)) * x)

    run = {"grad": lambda: fd.grad(f)(x),
           "jvp": lambda: fd.jvp(f, (x,), (x,)),
           "vjp": lambda: fd.vjp(f, x),
           "jit": lambda: fd.jit(f)(x),
           "vmap": lambda: fd.vmap(f)(np.stack([x, x]))}[transform]
    with pytest.raises(TracerArrayConversionError) as ei:
        run()
    msg = str(ei.value)
    assert HERE in msg                       # names the user's line
    assert "funcdiff.numpy.array" in msg and "np.stack" in msg
    if transform in ("grad", "jvp", "vjp"):
        assert "stop_gradient" in msg and "derivative" in msg
    else:
        assert "jit or vmap" in msg


def test_array_conversion_message_names_the_exact_line():
    def f(x):
        y = x * 2.0
        return np.asarray(y).sum()       # <- this line

    with pytest.raises(TracerArrayConversionError) as ei:
        fd.grad(f)(np.ones(2))
    assert f"{HERE}:{inspect.getsourcelines(f)[1] + 2}" in str(ei.value)


def test_array_conversion_of_values_without_derivative_is_allowed():
    """Under grad, integer/boolean values, constants and stop_gradient(x) convert (no
    derivative is lost); under jit they still have no value."""
    def f(x):
        mask = np.asarray(x > 0.7)                   # boolean
        k = np.asarray(fnp.argmax(x))                # integer
        const = np.asarray(fnp.ones(3) * 2.0)        # computed from constants only
        frozen = np.asarray(fd.stop_gradient(x))     # explicitly no derivative
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert int(k) == 2 and const.tolist() == [2.0, 2.0, 2.0]
        return np.sum(np.where(mask, x, 0.0) * const) + np.sum(frozen * x)

    x = np.array([0.5, 1.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # and none of them warns
        g = fd.grad(f)(x)
    np.testing.assert_allclose(g, np.where(x > 0.7, 2.0, 0.0) + x)
    with pytest.raises(TracerArrayConversionError):
        fd.jit(f)(x)


SCALAR_PATHS = {
    "float": lambda x: float(x[0]),
    "int": lambda x: int(x[0]),
    "bool": lambda x: bool(x[0] > 0),
    "complex": lambda x: complex(x[0]),
    "item": lambda x: x[0].item(),
    "tolist": lambda x: x.tolist(),
    "math.exp": lambda x: __import__("math").exp(x[0]),
    "if": lambda x: 1.0 if x[0] > 0 else 0.0,
    "range": lambda x: len(range(fnp.argmax(x))),
    "format": lambda x: f"{x[0]:.3f}",
}


@pytest.mark.parametrize("path", sorted(SCALAR_PATHS))
@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_python_scalar_conversion_needs_a_value(path, transform):
    call = SCALAR_PATHS[path]
    x = np.array([0.5, 1.0, 1.5])

    def f(x):
        call(x)
        return x

    with pytest.raises(ConcretizationError) as ei:
        if transform == "jit":
            fd.jit(f)(x)
        else:
            fd.vmap(f)(np.stack([x, x]))
    msg = str(ei.value)
    assert HERE in msg
    assert "funcdiff.lax" in msg and "static_argnums" in msg
    if path in ("float", "complex", "item"):
        assert "use x itself" in msg
    if path == "tolist":
        assert "list(x)" in msg
    assert isinstance(ei.value, TypeError)


@pytest.mark.parametrize("path", ["float", "complex", "item", "tolist", "math.exp"])
def test_python_number_of_a_derivative_warns_under_grad(path):
    """Under grad the value is known (Python control flow on values works), but a float
    made from a value that carries a derivative has none: a DerivativeCutWarning naming
    the line and the fix, never a silent cut."""
    call = SCALAR_PATHS[path]

    def f(x):
        call(x)
        return np.sum(x)

    with pytest.warns(DerivativeCutWarning) as rec:
        fd.grad(f)(np.array([0.5, 1.0]))
    msg = str(rec[0].message)
    assert HERE in msg and "stop_gradient" in msg
    assert rec[0].filename == __file__           # attributed to the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fd.grad(lambda x: call(fd.stop_gradient(x)) and np.sum(x))(np.array([0.5, 1.0]))
        fd.grad(lambda x: call(fnp.ones(2) * 0.5) and np.sum(x))(np.array([0.5, 1.0]))


def test_control_flow_conversions_under_grad():
    """int(), bool() and Python `if` see the value without warning (their derivative is
    zero anyway); the value is the true one."""
    def f(x):
        n = int(fnp.argmax(x))
        k = int(x[1] * 10)
        total = 0.0
        for i in range(n + k):
            total = total + x[i % 3]
        return total if bool(x[0] > 0) else -total

    x = np.array([0.5, 0.25, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = fd.grad(f)(x)
    np.testing.assert_allclose(g, [2.0, 1.0, 1.0])    # x0 + x1 + x2 + x0


def test_leaked_tracer_conversions():
    leaked = []
    fd.grad(lambda x: leaked.append(x) or np.sum(x))(np.ones(2))
    fd.grad(lambda x: leaked.append(x) or x ** 2)(1.0)
    vec, scalar = leaked
    for call, t in [(np.asarray, vec), (lambda t: t.tolist(), vec), (np.sin, vec),
                    (np.sum, vec), (float, scalar), (int, scalar), (complex, scalar),
                    (lambda t: t.item(), scalar), (np.asarray, scalar)]:
        with pytest.raises(TracerLeakError):
            call(t)


def test_scipy_special_ufunc_dispatches_without_importing_funcdiff_scipy():
    """``import funcdiff`` does not import SciPy; a scipy.special ufunc applied to a
    traced value still finds its funcdiff rule (fresh interpreter: nothing imported)."""
    pytest.importorskip("scipy")
    import subprocess
    import sys
    code = ("import sys, scipy.special as ss, funcdiff as fd\n"
            "assert 'funcdiff.scipy' not in sys.modules\n"
            "print(repr(float(fd.grad(ss.gammaln)(3.5))), repr(float(ss.digamma(3.5))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert float(out[0]) == pytest.approx(float(out[1]), rel=1e-14)
