"""funcdiff.scipy.special against scipy.special (the oracle), and the special-function
primitives' NumPy fallbacks against SciPy.

(1) Eagerly the value is SciPy's exactly; (2) traced (make_jaxpr + check_jaxpr +
eval_jaxpr) it matches SciPy (allclose, same shape and dtype) over hypothesis shapes
and dtypes, and through NumPy's ``__array_ufunc__`` dispatch (``scipy.special.expit(t)``);
(3) derivatives to order 2 match finite differences; (4) the documented edge cases:
|x| up to 800 without overflow or NaN, logsumexp's zero gradient at all -inf, xlogy's
finite x-derivative at x = 0.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.scipy.special as fsp
from funcdiff.core.errors import FuncdiffTypeError
from funcdiff.primitives import special as prims
from funcdiff.test_util import check_grads

sp = pytest.importorskip("scipy.special")

VALUES = settings(max_examples=25, deadline=None)
GRADS = settings(max_examples=8, deadline=None)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
nonempty = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.bool_])
seeds = st.integers(0, 2**31 - 1)

# name -> (domain sampler, complex ok); domain samplers map a normal sample into range
UNARY = {
    "expit": lambda z: 4 * z,
    "logit": lambda z: 1 / (1 + np.exp(-z)),
    "log_expit": lambda z: 4 * z,
    "softplus": lambda z: 4 * z,
    "erf": lambda z: z,
    "erfc": lambda z: 2 * z,
    "gammaln": lambda z: np.abs(z) * 3 + 0.1,
    "digamma": lambda z: np.abs(z) * 3 + 0.1,
}


def make(seed, shape, dtype, domain=lambda z: z):
    rng = np.random.default_rng(seed)
    z = domain(rng.normal(size=shape))
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return z > np.median(z) if z.size else z.astype(bool)
    if dtype.kind in "iu":
        return np.round(np.abs(z) * 2 + 1).astype(dtype)
    return np.asarray(z).astype(dtype)


def traced(f, *args):
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    return fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)


def assert_same(got, want, exact=False):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        t = 2e-2 if want.dtype == np.float16 else 2e-5 if want.dtype in (
            np.float32, np.complex64) else 1e-11
        np.testing.assert_allclose(got, want, rtol=t, atol=t, equal_nan=True)


def quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


# --- elementwise values ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
@VALUES
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_unary_values(name, shape, dtype, seed):
    x = make(seed, shape, dtype, UNARY[name])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(sp, name)(x)
        assert_same(getattr(fsp, name)(x), want, exact=True)
        (got,) = traced(getattr(fsp, name), x)
        assert_same(got, want)
        if isinstance(getattr(sp, name), np.ufunc):  # NumPy dispatch: scipy on a tracer
            (got,) = traced(getattr(sp, name), x)
            assert_same(got, want)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@VALUES
@given(shape_x=shapes, shape_y=shapes, dx=dtypes, dy=dtypes, seed=seeds,
       zeros=st.booleans())
def test_xlogy_values(name, shape_x, shape_y, dx, dy, seed, zeros):
    try:
        np.broadcast_shapes(shape_x, shape_y)
    except ValueError:
        shape_y = shape_x
    x = make(seed, shape_x, dx)
    y = make(seed + 1, shape_y, dy, lambda z: np.abs(z) * 2)
    if zeros and x.size and x.dtype != np.bool_:
        x.flat[0] = 0
        if y.size:
            y.flat[0] = 0 if name == "xlogy" else -1
    with np.errstate(all="ignore"):
        want = getattr(sp, name)(x, y)
        assert_same(getattr(fsp, name)(x, y), want, exact=True)
        (got,) = traced(getattr(fsp, name), x, y)
        assert_same(got, want)
        (got,) = traced(getattr(sp, name), x, y)
        assert_same(got, want)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_python_scalars_and_special_points(name):
    for x, y in [(0.0, 0.0), (0.0, -1.0), (0.0, np.nan), (2.0, 0.0), (0.0, -2.0),
                 (np.float32(0), np.float32(3)), (1, 2), (0.0, np.inf)]:
        with np.errstate(all="ignore"):
            want = getattr(sp, name)(x, y)
            (got,) = traced(lambda u: getattr(fsp, name)(u, y), x)
            assert_same(got, want)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@VALUES
@given(shape=shapes, dtype=st.sampled_from([np.float64, np.float32, np.int64]), seed=seeds)
def test_polygamma_values(n, shape, dtype, seed):
    x = make(seed, shape, dtype, lambda z: np.abs(z) * 3 + 0.2)
    want = sp.polygamma(n, x).astype(np.float32 if x.dtype == np.float32 else np.float64)
    (got,) = traced(lambda v: fsp.polygamma(n, v), x)
    assert_same(got, want)


# --- axis reductions -------------------------------------------------------------------------------

@st.composite
def axis_for(draw, ndim):
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1,
                               max_size=ndim)))


@VALUES
@given(data=st.data(), shape=shapes, dtype=dtypes, seed=seeds, keepdims=st.booleans(),
       with_b=st.sampled_from([None, "array", "scalar", "signed"]),
       return_sign=st.booleans(), special=st.sampled_from([None, "-inf", "inf", "big"]))
def test_logsumexp_values(data, shape, dtype, seed, keepdims, with_b, return_sign, special):
    a = make(seed, shape, dtype, lambda z: 3 * z)
    if special and a.size and a.dtype.kind == "f":
        a.flat[0] = {"-inf": -np.inf, "inf": np.inf, "big": 700.0}[special]
        if special == "-inf" and data.draw(st.booleans()):
            a[...] = -np.inf
    b = None
    if with_b == "array":
        b = np.abs(make(seed + 3, shape[-1:], np.float64))
        if b.size:
            b.flat[0] = 0.0
    elif with_b == "scalar":
        b = 2.0
    elif with_b == "signed":
        b = make(seed + 3, shape, np.float64)
    axis = data.draw(axis_for(len(shape)))
    kw = dict(axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = sp.logsumexp(a, **kw)
        except IndexError:
            # SciPy 1.17 fails on some size-0 inputs; log(sum(b exp(a))) is -inf there
            assert a.size == 0
            a64 = a.astype(np.float64)
            s = np.sum(np.exp(a64) * (1.0 if b is None else b), axis=axis, keepdims=keepdims)
            dt = np.result_type(a.dtype, np.float16) if a.dtype.kind == "f" else np.float64
            want = (np.log(np.abs(s)).astype(dt), np.sign(s).astype(dt)) if return_sign \
                else np.log(s).astype(dt)
            eager = want
        else:
            eager = fsp.logsumexp(a, **kw)
        got = traced(lambda v: fsp.logsumexp(v, **kw), a)
    if return_sign:
        for g, e, w in zip(got, eager, want):
            assert_same(e, w, exact=True)
            assert_same(g, w)
    else:
        assert_same(eager, want, exact=True)
        assert_same(got[0], want)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@VALUES
@given(data=st.data(), shape=nonempty, dtype=dtypes, seed=seeds,
       special=st.sampled_from([None, "-inf", "big"]))
def test_softmax_values(name, data, shape, dtype, seed, special):
    x = make(seed, shape, dtype, lambda z: 3 * z)
    if special and x.dtype.kind == "f":
        x.flat[0] = -np.inf if special == "-inf" else 700.0
    axis = data.draw(axis_for(len(shape)))
    with np.errstate(all="ignore"):
        try:
            want = getattr(sp, name)(x, axis=axis)
        except TypeError:  # e.g. booleans: NumPy has no boolean subtract
            with pytest.raises(TypeError):
                traced(lambda v: getattr(fsp, name)(v, axis=axis), x)
            return
        assert_same(getattr(fsp, name)(x, axis=axis), want, exact=True)
        (got,) = traced(lambda v: getattr(fsp, name)(v, axis=axis), x)
        assert_same(got, want)


# --- derivatives -------------------------------------------------------------------------------------

GRAD_CASES = {
    "expit": (lambda x: fsp.expit(x), lambda z: 3 * z),
    "logit": (lambda x: fsp.logit(x), lambda z: 1 / (1 + np.exp(-z))),
    "log_expit": (lambda x: fsp.log_expit(x), lambda z: 3 * z),
    "softplus": (lambda x: fsp.softplus(x), lambda z: 3 * z),
    "erf": (lambda x: fsp.erf(x), lambda z: z),
    "erfc": (lambda x: fsp.erfc(x), lambda z: z),
    "gammaln": (lambda x: fsp.gammaln(x), lambda z: np.abs(z) * 3 + 0.3),
    "digamma": (lambda x: fsp.digamma(x), lambda z: np.abs(z) * 3 + 0.3),
    "polygamma1": (lambda x: fsp.polygamma(1, x), lambda z: np.abs(z) * 3 + 0.3),
    "xlogy": (lambda x: fsp.xlogy(x, x * x + 0.5), lambda z: z),
    "xlog1py": (lambda x: fsp.xlog1py(x * 2, x * x), lambda z: z),
    "logsumexp": (lambda x: fsp.logsumexp(x, axis=-1), lambda z: 3 * z),
    "logsumexp_b": (lambda x: fsp.logsumexp(x, b=np.arange(x.shape[-1]) + 0.5
                                            if x.ndim else 2.0), lambda z: z),
    "logsumexp_sign": (lambda x: fsp.logsumexp(x, b=-1.0, return_sign=True)[0],
                       lambda z: z),
    "softmax": (lambda x: fsp.softmax(x, axis=0 if x.ndim else None), lambda z: 2 * z),
    "log_softmax": (lambda x: fsp.log_softmax(x), lambda z: 2 * z),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
@GRADS
@given(shape=nonempty, seed=seeds)
def test_grads(name, shape, seed):
    f, domain = GRAD_CASES[name]
    x = make(seed, shape, np.float64, domain)
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
@GRADS
@given(shape=nonempty, seed=seeds)
def test_xlogy_grads_in_both_arguments(name, shape, seed):
    x = make(seed, shape, np.float64)
    y = make(seed + 1, shape, np.float64, lambda z: np.abs(z) + 0.3)
    check_grads(getattr(fsp, name), (x, y), order=2)


# --- documented edge cases ------------------------------------------------------------------------------

LARGE = np.array([-800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0])


@pytest.mark.parametrize("name", ["expit", "log_expit", "softplus"])
def test_large_arguments_stay_exact(name):
    f = getattr(fsp, name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        want = getattr(sp, name)(LARGE)
    (got,) = traced(f, LARGE)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    g = np.array([fd.grad(f)(v) for v in LARGE])
    h = np.array([fd.grad(fd.grad(f))(v) for v in LARGE])
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    d = {"expit": sp.expit(LARGE) * sp.expit(-LARGE), "log_expit": sp.expit(-LARGE),
         "softplus": sp.expit(LARGE)}[name]
    np.testing.assert_allclose(g, d, rtol=1e-12, atol=1e-300)


def test_logaddexp_large_arguments():
    g = fd.grad(lambda u, v: np.logaddexp(u, v), argnums=(0, 1))
    for u, v in [(800.0, 0.0), (-800.0, 0.0), (800.0, 800.0), (-800.0, 799.0)]:
        gu, gv = g(u, v)
        assert np.isfinite(gu) and np.isfinite(gv)
        np.testing.assert_allclose([gu, gv], [sp.expit(u - v), sp.expit(v - u)], atol=1e-300)


def test_logit_extremes():
    (got,) = traced(fsp.logit, np.array([0.0, 1.0, 1e-300, 1 - 1e-16]))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got, sp.logit(np.array([0.0, 1.0, 1e-300, 1 - 1e-16])))


def test_logsumexp_all_neg_inf_has_zero_gradient():
    x = np.full((2, 3), -np.inf)
    np.testing.assert_array_equal(fd.grad(lambda v: fsp.logsumexp(v))(x), np.zeros((2, 3)))
    g = fd.grad(lambda v: fsp.logsumexp(v, axis=1).sum())(
        np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0]]))
    np.testing.assert_allclose(g, [[0, 0, 0], [sp.expit(-1.0), 0, sp.expit(1.0)]])
    _, t = fd.jvp(lambda v: fsp.logsumexp(v), (x,), (np.ones_like(x),))
    assert t == 0.0


def test_logsumexp_large_inputs_and_stopped_shift():
    x = np.array([1000.0, 1000.0, 999.0])
    np.testing.assert_allclose(fsp.logsumexp(x), sp.logsumexp(x))
    np.testing.assert_allclose(fd.grad(fsp.logsumexp)(x), sp.softmax(x), rtol=1e-14)
    closed = fd.make_jaxpr(fd.grad(fsp.logsumexp))(x)
    fd.check_jaxpr(closed)


def test_xlogy_x_derivative_at_zero_is_log_y():
    gx, gy = fd.grad(fsp.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert gx == np.log(2.0) and gy == 0.0
    gx, gy = fd.grad(fsp.xlogy, argnums=(0, 1))(0.0, 0.0)  # documented: 0, not -inf/NaN
    assert gx == 0.0 and gy == 0.0
    gx, gy = fd.grad(fsp.xlog1py, argnums=(0, 1))(0.0, 1.0)
    assert gx == np.log1p(1.0) and gy == 0.0
    # the mixed second derivative d2/dxdy at x=0 is 1/y
    h = fd.grad(fd.grad(fsp.xlogy, argnums=0), argnums=1)(0.0, 4.0)
    np.testing.assert_allclose(h, 0.25)


def test_float32_stays_float32():
    x = np.linspace(0.1, 2.0, 5).astype(np.float32)
    for f in (fsp.expit, fsp.gammaln, fsp.digamma, fsp.erfc, fsp.logsumexp,
              lambda v: fsp.softmax(v)[0], lambda v: fsp.xlogy(v, v).sum()):
        g = fd.grad(lambda v: f(v).sum())(x)
        assert g.dtype == np.float32


def test_type_errors():
    with pytest.raises(FuncdiffTypeError):
        traced(fsp.gammaln, np.ones(2, np.complex128))
    with pytest.raises(FuncdiffTypeError):
        traced(lambda v: fsp.polygamma(np.array([1, 2]), v), np.ones(2))


# --- the primitives' NumPy fallbacks (used when SciPy is absent) ------------------------------------

def test_fallbacks_match_scipy():
    x = np.concatenate([np.linspace(-7.3, 30, 157), [1e-3, 0.5, 1.0, 2.0, 171.5, 1e5, 1e10]])
    x = x[np.abs(x - np.round(x)) > 1e-3]  # off the poles
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(prims.gammaln_np(x), sp.gammaln(x), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(prims.erfc_np(x), sp.erfc(x), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(prims.digamma_np(x), sp.digamma(x), rtol=1e-12,
                                   atol=1e-12)
        for n in (1, 2, 3, 4):
            np.testing.assert_allclose(prims.polygamma_np(n, x), sp.polygamma(n, x),
                                       rtol=1e-12, atol=1e-14)
        # poles and infinities
        np.testing.assert_array_equal(prims.digamma_np(np.array([0.0, -2.0, np.inf])),
                                      sp.digamma(np.array([0.0, -2.0, np.inf])))
        assert prims.gammaln_np(np.array([0.0]))[0] == np.inf
