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

import functools
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcdiff as fd
import funcdiff.scipy.special as fsp
from funcdiff.core.errors import FuncdiffTypeError, GradientError
from funcdiff.primitives import special as prims
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, nep50, traced

sp = pytest.importorskip("scipy.special")
# SciPy 1.16 changed what some references below give (funcdiff follows SciPy >= 1.16):
# the order of some ufunc loops, betainc at a = 0 or b = 0 (NaN before), logsumexp of
# bools (a TypeError before) and the sign of an all -inf logsumexp (+1 before, now 0)
SCIPY_1_16 = np.lib.NumpyVersion(pytest.importorskip("scipy").__version__) >= "1.16.0"

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


#: half precision to 2e-2, single to 2e-5, the rest (integers too) to 1e-11
TOLS = {np.float16: 2e-2, np.float32: 2e-5, np.complex64: 2e-5, DEFAULT: 1e-11}

assert_same = functools.partial(_helpers.assert_same, tols=TOLS, exact_kinds="")


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
        assert_same(getattr(fsp, name)(x), want, exact=True)   # eager: SciPy itself
        with nep50():   # transforms promote as NumPy 2 on every NumPy
            want = getattr(sp, name)(x)
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
        with nep50():
            want = getattr(sp, name)(x, y)
        (got,) = traced(getattr(fsp, name), x, y)
        assert_same(got, want)
        (got,) = traced(getattr(sp, name), x, y)
        assert_same(got, want)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_python_scalars_and_special_points(name):
    for x, y in [(0.0, 0.0), (0.0, -1.0), (0.0, np.nan), (2.0, 0.0), (0.0, -2.0),
                 (np.float32(0), np.float32(3)), (1, 2), (0.0, np.inf)]:
        with np.errstate(all="ignore"):
            with nep50():
                want = getattr(sp, name)(x, y)
            (got,) = traced(lambda u: getattr(fsp, name)(u, y), x)
            assert_same(got, want)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@VALUES
@given(shape=shapes, dtype=st.sampled_from([np.float64, np.float32, np.int64]), seed=seeds)
def test_polygamma_values(n, shape, dtype, seed):
    x = make(seed, shape, dtype, lambda z: np.abs(z) * 3 + 0.2)
    with nep50():      # (NumPy 1.26 would let float32 x keep float32 in SciPy's formula)
        want = sp.polygamma(n, x)      # float64 whatever x is: a Python function in SciPy
    (got,) = traced(lambda v: fsp.polygamma(n, v), x)
    assert_same(got, want)
    # an array of orders (or a traced one) runs SciPy's own formula
    orders = np.arange(x.size).reshape(x.shape) % 4
    with nep50():
        want = sp.polygamma(orders, x)
    (got,) = traced(lambda v: fsp.polygamma(orders, v), x)
    assert_same(got, want)
    (got,) = traced(fsp.polygamma, orders, x)
    assert_same(got, want)


# --- axis reductions -----------------------------------------------------------------------------

@st.composite
def axis_for(draw, ndim):
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1,
                               max_size=ndim)))


# SciPy 1.15.0-1.15.2's logsumexp gives NaN for a positive weighted sum whose largest term
# has a negative weight (scipy/scipy#22903)
_WEIGHTED_LSE_NAN = "1.15.0" <= np.lib.NumpyVersion(pytest.importorskip("scipy").__version__) \
    < "1.15.3"


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
    if not SCIPY_1_16:   # no reference for these before SciPy 1.16 (see SCIPY_1_16)
        assume(a.dtype != np.bool_ and not (return_sign and special == "-inf"))
        # SciPy 1.15 adds log(b) of the largest element's weight: NaN where that weight is
        # negative, even when the weighted sum is positive (1.16 fixed it)
        assume(not (with_b == "signed" and not return_sign))
        # and SciPy 1.15 takes a Python scalar b strongly (float32 a gives float64)
        assume(not (with_b == "scalar" and a.dtype in (np.float16, np.float32)))
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

    def reference():
        try:
            out = sp.logsumexp(a, **kw)
            if _WEIGHTED_LSE_NAN and b is not None and not return_sign:
                # SciPy 1.15.0-1.15.2 gives NaN for some positive weighted sums
                # (scipy/scipy#22903); its return_sign path is right there
                lse, sign = sp.logsumexp(a, **dict(kw, return_sign=True))
                out = np.where(np.isnan(out) & (sign >= 0), lse, out)[()]
            return out, True
        except IndexError:
            # SciPy 1.17 fails on some size-0 inputs; log(sum(b exp(a))) is -inf there
            assert a.size == 0
            a64 = a.astype(np.float64)
            s = np.sum(np.exp(a64) * (1.0 if b is None else b), axis=axis, keepdims=keepdims)
            dt = np.result_type(a.dtype, np.float16) if a.dtype.kind == "f" else np.float64
            if isinstance(b, np.ndarray):   # a float64 b promotes, as SciPy does
                dt = np.result_type(dt, b.dtype)
            # (the sign of an empty sum is -1 in SciPy, where it does not fail)
            return ((np.log(np.abs(s)).astype(dt), np.full(s.shape, -1.0, dt)) if return_sign
                    else np.log(s).astype(dt)), False

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, by_scipy = reference()
        eager = fsp.logsumexp(a, **kw) if by_scipy else want   # eager: SciPy itself
        with nep50():    # transforms promote as NumPy 2 on every NumPy
            want_t, _ = reference()
        got = traced(lambda v: fsp.logsumexp(v, **kw), a)
    if return_sign:
        for g, e, w, wt in zip(got, eager, want, want_t):
            assert_same(e, w, exact=True)
            assert_same(g, wt)
    else:
        assert_same(eager, want, exact=True)
        assert_same(got[0], want_t)


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


# --- derivatives ---------------------------------------------------------------------------------

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


# --- documented edge cases -----------------------------------------------------------------------

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


def _central_diff(f, x, eps=1e-6):
    """Central differences of a scalar function of a float64 vector (the oracle)."""
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def _sp_logsumexp(a, axis=None, b=None):
    """SciPy's logsumexp of a positive weighted sum, through ``return_sign``: SciPy
    1.15.0-1.15.2 give NaN without it where the largest term's weight is negative
    (scipy/scipy#22903), as the central differences' ``b_i - eps`` makes it."""
    lse, sign = sp.logsumexp(a, axis=axis, b=b, return_sign=True)
    assert np.all(sign > 0)
    return lse


def test_logsumexp_gradient_wrt_zero_weights():
    """issue 16: d/db_i was 0 wherever b_i == 0 (the mask was applied to a before
    b * exp(a - m)), so zero-initialized weights could never move.  It is
    exp(a_i - lse), against SciPy's value by central differences."""
    a = np.array([1.0, 0.5, 2.0])
    b = np.array([1.0, -0.5, 0.0])
    g = fd.grad(lambda b: fsp.logsumexp(a, b=b))(b)
    want = _central_diff(lambda b: _sp_logsumexp(a, b=b), b)
    np.testing.assert_allclose(g, want, rtol=1e-8)
    np.testing.assert_allclose(g[2], np.exp(a[2] - sp.logsumexp(a, b=b)), rtol=1e-14)
    np.testing.assert_allclose(g, [1.4353, 0.8705, 3.9015], atol=1e-4)   # the report
    _, t = fd.jvp(lambda b: fsp.logsumexp(a, b=b), (b,), (np.eye(3)[2],))
    np.testing.assert_allclose(t, g[2], rtol=1e-14)
    check_grads(lambda b: fsp.logsumexp(a, b=b), (b,), order=2)

    # along an axis, w.r.t. a and b at once, zeros in every row
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 4))
    B = np.abs(rng.standard_normal((3, 4))) + 0.1
    B[:, 1] = 0.0
    B[2, 3] = 0.0
    ga, gb = fd.grad(lambda a, b: fsp.logsumexp(a, axis=1, b=b).sum(), argnums=(0, 1))(A, B)
    np.testing.assert_allclose(gb, _central_diff(lambda b: _sp_logsumexp(A, axis=1, b=b).sum(),
                                                 B), rtol=1e-7)
    np.testing.assert_allclose(ga, _central_diff(lambda a: _sp_logsumexp(a, axis=1, b=B).sum(),
                                                 A), rtol=1e-7, atol=1e-10)
    assert np.all(ga[B == 0] == 0.0)    # d/da_i of b_i exp(a_i) is 0 where b_i == 0
    check_grads(lambda a, b: fsp.logsumexp(a, axis=1, b=b), (A, B), order=2)

    # negative weights (return_sign gives log|sum| and the sign), zeros among them
    S = rng.standard_normal((3, 4))
    S[:, 0] = 0.0
    lse = lambda b: fsp.logsumexp(A, axis=1, b=b, return_sign=True)[0].sum()
    np.testing.assert_allclose(
        fd.grad(lse)(S),
        _central_diff(lambda b: sp.logsumexp(A, axis=1, b=b, return_sign=True)[0].sum(), S),
        rtol=1e-6)
    check_grads(lambda b: fsp.logsumexp(A, axis=1, b=b, return_sign=True)[0], (S,), order=2)
    assert np.all(np.sign(fsp.logsumexp(A, axis=1, b=S, return_sign=True)[1]) ==
                  sp.logsumexp(A, axis=1, b=S, return_sign=True)[1])


def test_logsumexp_negative_weight_on_the_largest_term():
    """A positive sum whose largest term has a negative weight: SciPy 1.15.0-1.15.2 give
    NaN (scipy/scipy#22903); funcdiff's eager call and its trace give the log of the
    sum, as the closed form and SciPy's ``return_sign`` do, on every SciPy."""
    a = np.array([3.06409428, 0.37251854, 3.87471931])   # the SciPy report's values
    b = np.array([1.88190708, 2.84174795, -0.85016884])
    want = np.log(np.sum(b * np.exp(a)))
    np.testing.assert_allclose(fsp.logsumexp(a, b=b), want, rtol=1e-14)
    np.testing.assert_allclose(_sp_logsumexp(a, b=b), want, rtol=1e-14)
    (got,) = traced(lambda b: fsp.logsumexp(a, b=b), b)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    with np.errstate(invalid="ignore"):   # a negative sum is NaN without return_sign
        assert np.isnan(fsp.logsumexp(a, b=-b))


def test_logsumexp_zero_weights_edge_cases():
    """All weights 0: the value is -inf, the gradient 0 (the all -inf convention), never
    NaN.  Entries with b == 0 where a is inf or NaN are ignored, as SciPy ignores them,
    and a huge a_i there (exp overflows) leaves the value exact and no NaN."""
    a = np.array([1.0, 0.5, 2.0])
    z = np.zeros(3)
    assert fsp.logsumexp(a, b=z) == sp.logsumexp(a, b=z) == -np.inf
    for h in (fd.grad(lambda b: fsp.logsumexp(a, b=b)), fd.grad(lambda a: fsp.logsumexp(a, b=z)),
              lambda b: fd.jvp(lambda b: fsp.logsumexp(a, b=b), (b,), (np.ones(3),))[1]):
        np.testing.assert_array_equal(h(z), 0.0)
    for bad in (np.inf, np.nan, 1000.0):
        a2 = np.array([1.0, bad, 0.5])
        b2 = np.array([2.0, 0.0, 1.0])
        want = sp.logsumexp(a2, b=b2)
        assert fsp.logsumexp(a2, b=b2) == want
        (got,) = traced(lambda b: fsp.logsumexp(a2, b=b), b2)
        np.testing.assert_allclose(got, want)
        gb = fd.grad(lambda b: fsp.logsumexp(a2, b=b))(b2)
        ga = fd.grad(lambda a: fsp.logsumexp(a, b=b2))(a2)
        assert not np.any(np.isnan(gb)) and not np.any(np.isnan(ga))
        np.testing.assert_allclose(gb[[0, 2]], np.exp(a2[[0, 2]] - want))
        np.testing.assert_allclose(ga, [2 * np.exp(1.0 - want), 0.0, np.exp(0.5 - want)])
        if bad == 1000.0:    # a huge finite derivative (exp(1000 - lse) overflows)
            assert gb[1] > 1e300


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
    with pytest.raises(FuncdiffTypeError, match="complex"):
        traced(lambda v: fsp.polygamma(np.array([1, 2]), v), np.ones(2, np.complex128))


# --- the primitives' NumPy fallbacks (used when SciPy is absent) ---------------------------------

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


# =================================================================================================
# The rest of SciPy's list: gamma/beta families, incomplete functions, inverse erf, normal cdf,
# entr, Bessel functions (issue 11 part 3)
# =================================================================================================

from funcdiff.core.errors import GradientError  # noqa: E402
from funcdiff.primitives import _special_np as fb  # noqa: E402
from funcdiff.scipy._special import LOOPS  # noqa: E402

NEW_UNARY = {
    "gamma": lambda z: 4 * z,
    "rgamma": lambda z: 4 * z,
    "gammasgn": lambda z: 4 * z,
    "erfinv": lambda z: np.tanh(z),
    "erfcinv": lambda z: 1 + np.tanh(z),
    "ndtr": lambda z: 5 * z,
    "log_ndtr": lambda z: 15 * z,
    "ndtri": lambda z: 1 / (1 + np.exp(-3 * z)),
    "entr": lambda z: z + 0.5,
    "i0": lambda z: 3 * z,
    "i1": lambda z: 3 * z,
    "j0": lambda z: 5 * z,
    "j1": lambda z: 5 * z,
    "y0": lambda z: np.abs(5 * z) + 0.05,
    "y1": lambda z: np.abs(5 * z) + 0.05,
}


@pytest.mark.parametrize("name", sorted(NEW_UNARY))
@settings(max_examples=12, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_new_unary_values(name, shape, dtype, seed):
    x = make(seed, shape, dtype, NEW_UNARY[name])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(sp, name)(x)
        assert_same(getattr(fsp, name)(x), want, exact=True)   # eager: SciPy itself
        with nep50():   # transforms promote as NumPy 2 on every NumPy
            want = getattr(sp, name)(x)
        (got,) = traced(getattr(fsp, name), x)
        assert_same(got, want)
        (got,) = traced(getattr(sp, name), x)      # NumPy dispatch: scipy's ufunc on a tracer
        assert_same(got, want)


# name -> one domain sampler per argument (all from a standard normal sample)
NARY = {
    "beta": (lambda z: np.abs(3 * z) + 0.1, lambda z: np.abs(3 * z) + 0.1),
    "betaln": (lambda z: np.abs(10 * z) + 0.1, lambda z: np.abs(10 * z) + 0.1),
    "gammainc": (lambda z: np.abs(3 * z) + 0.1, lambda z: np.abs(3 * z)),
    "gammaincc": (lambda z: np.abs(3 * z) + 0.1, lambda z: np.abs(3 * z)),
    "betainc": (lambda z: np.abs(3 * z) + 0.1, lambda z: np.abs(3 * z) + 0.1,
                lambda z: 1 / (1 + np.exp(-2 * z))),
    "betaincc": (lambda z: np.abs(3 * z) + 0.1, lambda z: np.abs(3 * z) + 0.1,
                 lambda z: 1 / (1 + np.exp(-2 * z))),
    "stdtr": (lambda z: np.abs(5 * z) + 0.3, lambda z: 3 * z),
    "iv": (lambda z: np.round(3 * z), lambda z: 3 * z),
    "ive": (lambda z: np.round(3 * z) + 0.5, lambda z: np.abs(3 * z)),
    "jv": (lambda z: 2 * z, lambda z: np.abs(5 * z)),
    "jn": (lambda z: np.round(3 * z), lambda z: 5 * z),
    "yn": (lambda z: np.round(3 * z), lambda z: np.abs(5 * z) + 0.1),
}
arg_kinds = st.sampled_from(["f64", "f32", "int", "py"])


def make_arg(seed, shape, kind, domain):
    if kind == "py":
        return float(domain(np.random.default_rng(seed).normal()))
    v = make(seed, shape, np.float32 if kind == "f32" else np.float64, domain)
    return np.round(v).astype(np.int64) if kind == "int" else v


@pytest.mark.parametrize("name", sorted(NARY))
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=seeds)
def test_nary_values(name, data, seed):
    doms = NARY[name]
    bs = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=len(doms), max_dims=3,
                                                     max_side=3))
    kinds = [data.draw(arg_kinds) for _ in doms]
    args = [make_arg(seed + i, s, k, d)
            for i, (s, k, d) in enumerate(zip(bs.input_shapes, kinds, doms))]
    arrays = [i for i, a in enumerate(args) if not isinstance(a, float)]

    def f(*xs):
        full = list(args)
        for i, x in zip(arrays, xs):
            full[i] = x
        return getattr(fsp, name)(*full)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(sp, name)(*args)
        assert_same(getattr(fsp, name)(*args), want, exact=True)
        with nep50():
            want = getattr(sp, name)(*args)
        if arrays:
            (got,) = traced(f, *[args[i] for i in arrays])
            assert_same(np.asarray(got), np.asarray(want))


# --- SciPy's loop selection (the dtypes) ---------------------------------------------------------

def test_loop_table_matches_scipy():
    real = set("?bhilqBHILQefd")
    for name, loops in LOOPS.items():
        mine = tuple(t for t in getattr(sp, name).types if set(t.replace("->", "")) <= real)
        assert loops == mine if SCIPY_1_16 else set(loops) == set(mine), (name, loops, mine)


SAMPLES = {"f16": np.ones(2, np.float16), "f32": np.ones(2, np.float32),
           "f64": np.ones(2, np.float64), "i8": np.ones(2, np.int8),
           "i64": np.ones(2, np.int64), "b": np.ones(2, bool), "f32s": np.float32(1.0),
           "pyf": 1.0, "pyi": 1}
COMBOS2 = [("f32", "f32"), ("f32", "f64"), ("pyf", "f32"), ("f32", "pyf"), ("pyi", "f32"),
           ("i8", "f32"), ("f16", "f32"), ("i64", "f32"), ("b", "f32"), ("f32s", "f32"),
           ("pyf", "pyf"), ("i64", "i64"), ("f16", "f16")]


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_dtypes_follow_scipy_loops(name):
    """The traced result has the dtype SciPy's ufunc gives, for every kind of operand mix
    (Python scalars weakly, exact loop matches first, then the first safe loop)."""
    nin = getattr(sp, name).nin
    combos = [(k,) for k in SAMPLES] if nin == 1 else \
        [c + (c[-1],) * (nin - 2) for c in COMBOS2]
    for combo in combos:
        args = [SAMPLES[k] for k in combo]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with nep50():
                want = np.asarray(getattr(sp, name)(*args)).dtype
        arrays = [i for i, k in enumerate(combo) if not k.startswith("py")]

        def f(*xs):
            full = list(args)
            for i, x in zip(arrays, xs):
                full[i] = x
            return getattr(fsp, name)(*full)

        closed = fd.make_jaxpr(f)(*[args[i] for i in arrays])
        assert closed.jaxpr.outvars[0].aval.dtype == want, (name, combo)


# --- derivatives ---------------------------------------------------------------------------------

NEW_GRADS = {
    "gamma": (fsp.gamma, lambda z: np.abs(z) * 2 + 0.3),
    "gamma_neg": (fsp.gamma, lambda z: -np.abs(z) % 0.6 - 0.2 - np.floor(np.abs(2 * z))),
    "rgamma": (fsp.rgamma, lambda z: 3 * z),
    "gammasgn_times_x": (lambda x: fsp.gammasgn(x) * x, lambda z: np.abs(z) + 0.3),
    "erfinv": (fsp.erfinv, lambda z: 0.9 * np.tanh(z)),
    "erfcinv": (fsp.erfcinv, lambda z: 1 + 0.9 * np.tanh(z)),
    "ndtr": (fsp.ndtr, lambda z: 3 * z),
    "log_ndtr": (fsp.log_ndtr, lambda z: 12 * z),
    "ndtri": (fsp.ndtri, lambda z: 0.1 + 0.8 / (1 + np.exp(-z))),
    "entr": (fsp.entr, lambda z: np.abs(z) + 0.2),
    "multigammaln": (lambda a: fsp.multigammaln(a, 3), lambda z: np.abs(z) + 1.2),
    "i0": (fsp.i0, lambda z: 2 * z),
    "i1": (fsp.i1, lambda z: 2 * z),
    "iv": (lambda x: fsp.iv(1.5, x), lambda z: np.abs(2 * z) + 0.1),
    "iv_int_neg_x": (lambda x: fsp.iv(2, x), lambda z: 2 * z),
    "ive": (lambda x: fsp.ive(0.5, x), lambda z: np.abs(2 * z) + 0.1),
    "ive_int": (lambda x: fsp.ive(3, x), lambda z: 2 * z + 0.05),
    "j0": (fsp.j0, lambda z: 4 * z),
    "j1": (fsp.j1, lambda z: 4 * z),
    "jv": (lambda x: fsp.jv(2.5, x), lambda z: np.abs(4 * z) + 0.1),
    "jn": (lambda x: fsp.jn(3, x), lambda z: 4 * z),
    "y0": (fsp.y0, lambda z: np.abs(4 * z) + 0.2),
    "y1": (fsp.y1, lambda z: np.abs(4 * z) + 0.2),
    "yn": (lambda x: fsp.yn(2, x), lambda z: np.abs(4 * z) + 0.3),
    "yn_neg_order": (lambda x: fsp.yn(-3, x), lambda z: np.abs(4 * z) + 0.3),
    "gammainc_x": (lambda x: fsp.gammainc(1.7, x), lambda z: np.abs(2 * z) + 0.05),
    "gammaincc_x": (lambda x: fsp.gammaincc(0.6, x), lambda z: np.abs(2 * z) + 0.05),
    "betainc_x": (lambda x: fsp.betainc(1.5, 0.7, x), lambda z: 1 / (1 + np.exp(-z))),
    "betaincc_x": (lambda x: fsp.betaincc(2.5, 3.0, x), lambda z: 1 / (1 + np.exp(-z))),
    "stdtr_t": (lambda t: fsp.stdtr(2.5, t), lambda z: 3 * z),
    "stdtr_t_inf_df": (lambda t: fsp.stdtr(np.inf, t), lambda z: 3 * z),
}


@pytest.mark.parametrize("name", sorted(NEW_GRADS))
@settings(max_examples=3, deadline=None)
@given(shape=nonempty, seed=seeds)
def test_new_grads(name, shape, seed):
    f, domain = NEW_GRADS[name]
    x = make(seed, shape, np.float64, domain)
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))


def test_rgamma_derivatives_at_the_poles_of_gamma():
    """issue 16: rgamma' was NaN at 0, -1, -2, ... (from digamma's poles), where 1/Gamma
    is smooth.  Near -n, 1/Gamma(-n + e) = (-1)^n n! e (1 - psi(n + 1) e + O(e^2)), so
    rgamma'(-n) = (-1)^n n! and rgamma''(-n) = -2 (-1)^n n! psi(n + 1); at 0 the third
    derivative is 3 gamma^2 - pi^2/2 (1/Gamma(z) = z + gamma z^2 + (gamma^2/2 - pi^2/12)
    z^3 + ...).  Forward and reverse mode, eager and jit, and central differences agree."""
    import math
    d1 = fd.grad(fsp.rgamma)
    d2 = fd.grad(d1)
    for n in range(8):
        x = float(-n)
        fact = (-1) ** n * math.factorial(n)
        assert d1(x) == fact
        assert fd.jvp(fsp.rgamma, (x,), (1.0,))[1] == fact
        assert fd.jit(d1)(x) == fact
        np.testing.assert_allclose(d2(x), -2 * fact * sp.psi(n + 1), rtol=1e-13)
        np.testing.assert_allclose(fd.jacfwd(d1)(x), d2(x), rtol=1e-13)
        np.testing.assert_allclose(d1(x), (sp.rgamma(x + 1e-6) - sp.rgamma(x - 1e-6)) / 2e-6,
                                   rtol=1e-7)
    euler = -sp.psi(1.0)
    np.testing.assert_allclose(fd.grad(d2)(0.0), 3 * euler ** 2 - np.pi ** 2 / 2, rtol=1e-12)
    xs = np.array([0.0, -1.0, -2.0, -3.0, -0.5, 1.5, -2.0 + 1e-9])
    g = fd.grad(lambda x: fsp.rgamma(x).sum())(xs)
    assert np.all(np.isfinite(g))
    check_grads(fsp.rgamma, (xs,), order=3, modes=("fwd", "rev"))
    g32 = fd.grad(fsp.rgamma)(np.float32(-3.0))
    assert g32.dtype == np.float32 and g32 == -6.0


@pytest.mark.parametrize("name", ["beta", "betaln"])
@settings(max_examples=4, deadline=None)
@given(shape=nonempty, seed=seeds)
def test_beta_grads_in_both_arguments(name, shape, seed):
    a = make(seed, shape, np.float64, lambda z: np.abs(2 * z) + 0.3)
    b = make(seed + 1, shape[-1:], np.float64, lambda z: np.abs(2 * z) + 0.3)
    check_grads(getattr(fsp, name), (a, b), order=2, modes=("fwd", "rev"))


def test_gammainc_mixed_second_derivative_is_closed_form():
    """d/da of d/dx gammainc(a, x) exists in closed form (density (log x - digamma(a)))
    even though d/da gammainc itself does not."""
    a, x = 1.7, 0.9
    h = fd.grad(fd.grad(fsp.gammainc, argnums=1), argnums=0)(a, x)
    dens = x ** (a - 1) * np.exp(-x) / sp.gamma(a)
    np.testing.assert_allclose(h, dens * (np.log(x) - sp.digamma(a)), rtol=1e-12)
    h = fd.grad(fd.grad(fsp.betainc, argnums=2), argnums=1)(1.5, 2.5, 0.3)
    d = 0.3 ** 0.5 * 0.7 ** 1.5 / sp.beta(1.5, 2.5)
    np.testing.assert_allclose(h, d * (np.log1p(-0.3) - sp.digamma(2.5) + sp.digamma(4.0)),
                               rtol=1e-12)


PARAM_ERRORS = [
    ("gammainc", (1.5, 0.7), 0, "a"), ("gammaincc", (1.5, 0.7), 0, "a"),
    ("betainc", (1.5, 2.0, 0.3), 0, "a"), ("betainc", (1.5, 2.0, 0.3), 1, "b"),
    ("betaincc", (1.5, 2.0, 0.3), 1, "b"), ("stdtr", (3.0, 0.4), 0, "df"),
    ("iv", (1.5, 0.7), 0, "v"), ("ive", (1.5, 0.7), 0, "v"), ("jv", (1.5, 0.7), 0, "v"),
    ("jn", (2.0, 0.7), 0, "v"), ("yn", (2.0, 0.7), 0, "n"),
]


@pytest.mark.parametrize("name,args,argnum,argname", PARAM_ERRORS)
def test_parameter_derivatives_raise_gradient_error(name, args, argnum, argname):
    f = getattr(fsp, name)
    with pytest.raises(GradientError, match=f"`{argname}`"):
        fd.grad(f, argnums=argnum)(*args)
    tangents = tuple(1.0 if i == argnum else 0.0 for i in range(len(args)))

    def g(p):
        full = list(args)
        full[argnum] = p
        return f(*full)
    with pytest.raises(GradientError, match=f"`{argname}`"):
        fd.jvp(g, (args[argnum],), (tangents[argnum],))
    # the other arguments still differentiate (order 2) with this one held fixed
    other = len(args) - 1

    def h(x):
        full = list(args)
        full[other] = x
        return f(*full)
    check_grads(h, (args[other],), order=2)


def test_polygamma_order_has_no_derivative():
    for diff in (fd.grad, fd.jacfwd):
        with pytest.raises(GradientError, match="order `n`"):
            diff(lambda n: fsp.polygamma(n, 1.5))(1.0)
    # orders in an array: the x-derivative is the next order's value, to second order
    x = np.array([0.5, 1.5, 2.5])
    n = np.array([0, 1, 2])
    np.testing.assert_allclose(fd.grad(lambda v: fsp.polygamma(n, v).sum())(x),
                               sp.polygamma(n + 1, x), rtol=1e-12)
    check_grads(lambda v: fsp.polygamma(n, v), (x,), order=2)


# --- vmap, jit, cost -----------------------------------------------------------------------------

VMAP_CASES = {
    "gamma": (fsp.gamma, (0,), lambda r: [r.uniform(0.2, 3, (4, 3))]),
    "iv_both": (fsp.iv, (0, 0), lambda r: [r.integers(-2, 3, (4, 3)) * 1.0,
                                            r.normal(size=(4, 3))]),
    "iv_unmapped_order": (fsp.iv, (None, 1), lambda r: [1.5, r.uniform(0.1, 3, (3, 4))]),
    "betainc_x": (lambda x: fsp.betainc(1.5, 2.0, x), (0,), lambda r: [r.uniform(0, 1, (5,))]),
    "betainc_ab": (fsp.betainc, (0, None, 0), lambda r: [r.uniform(0.5, 2, (4, 2)),
                                                          np.array([1.0, 2.0]),
                                                          r.uniform(0, 1, (4, 1))]),
    "yn_int_order": (fsp.yn, (0, 0), lambda r: [r.integers(-2, 4, (4,)),
                                                 r.uniform(0.2, 3, (4,))]),
    "polygamma": (lambda x: fsp.polygamma(2, x), (1,), lambda r: [r.uniform(0.3, 3, (2, 3))]),
    "erfinv": (fsp.erfinv, (0,), lambda r: [r.uniform(-0.9, 0.9, (3, 2)).astype(np.float32)]),
    "log_ndtr": (fsp.log_ndtr, (0,), lambda r: [r.normal(size=(4,)) * 20]),
    "stdtr": (fsp.stdtr, (0, 0), lambda r: [r.uniform(1, 5, (4,)), r.normal(size=(4,))]),
    "grad_ive": (fd.grad(lambda x: fsp.ive(1.5, x).sum()), (0,),
                 lambda r: [r.uniform(0.1, 3, (3, 2))]),
    "jacfwd_jv": (fd.jacfwd(lambda x: fsp.jv(1.0, x)), (0,), lambda r: [r.normal(size=(3, 2))]),
    "gammasgn": (fsp.gammasgn, (0,), lambda r: [r.normal(size=(5,)) * 4]),
    "multigammaln": (lambda a: fsp.multigammaln(a, 2), (0,), lambda r: [r.uniform(1, 3, (4,))]),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_equals_loop(name, rng):
    f, in_axes, make_args = VMAP_CASES[name]
    args = make_args(rng)
    size = next(np.shape(a)[d] for a, d in zip(args, in_axes) if d is not None)
    got = fd.vmap(f, in_axes=in_axes)(*args)
    want = np.stack([f(*[a if d is None else np.take(a, i, axis=d)
                         for a, d in zip(args, in_axes)]) for i in range(size)])
    assert_same(got, want)


JIT_CASES = {name: (getattr(fsp, name), NEW_UNARY[name]) for name in NEW_UNARY}
JIT_CASES.update({
    "iv": (lambda x: fsp.iv(x, x), lambda z: np.abs(z) * 2),
    "betainc": (lambda x: fsp.betainc(x + 1, 2.0, 1 / (1 + np.exp(-x))), lambda z: np.abs(z)),
    "yn": (lambda x: fsp.yn(3, x), lambda z: np.abs(z) + 0.2),
    "polygamma": (lambda x: fsp.polygamma(3, x), lambda z: np.abs(z) + 0.2),
    "grad_stdtr": (fd.grad(lambda t: fsp.stdtr(3.0, t).sum()), lambda z: z),
    "hessian_gamma": (fd.hessian(lambda x: fsp.gamma(x).sum()), lambda z: np.abs(z) + 0.5),
})


@pytest.mark.parametrize("name", sorted(JIT_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jit_equals_interpreter(name, dtype, rng):
    f, domain = JIT_CASES[name]
    x = domain(rng.normal(size=(3,))).astype(dtype)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (want,) = traced(f, x)
        got = fd.jit(f)(x)
    assert_same(got, want)


def test_jit_source_calls_scipy_directly():
    src = fd.jit(lambda x: fsp.gamma(x) + fsp.iv(1.0, x) + fsp.polygamma(2, x)).lower(
        np.ones(3)).source
    assert "_gamma" in src and "_iv" in src and "_polygamma" in src


def test_cost_rules():
    x = np.linspace(0.1, 0.9, 8)
    for f in (fsp.gamma, fsp.erfinv, lambda v: fsp.betainc(1.0, 2.0, v),
              lambda v: fsp.iv(1.0, v)):
        c = fd.cost_analysis(f)(x)
        assert c["flops"] >= 8 and c["transcendentals"] >= 8
    assert fd.cost_analysis(lambda v: fsp.betainc(1.0, 2.0, v))(x)["flops"] > \
        fd.cost_analysis(fsp.gamma)(x)["flops"]


# --- documented edge cases -----------------------------------------------------------------------

def test_new_special_points():
    pts = {
        "gamma": [0.0, -0.0, -1.0, -2.5, 171.7, -180.5, np.inf, -np.inf, np.nan],
        "rgamma": [0.0, -0.0, -1.0, -2.5, 171.7, -180.5, np.inf, -np.inf, np.nan],
        "gammasgn": [0.0, -0.0, -1.0, -2.5, -1.5, -0.5, np.nan, np.inf, -np.inf, 1e300],
        "entr": [0.0, -1.0, np.nan, np.inf, 1e-300, 1.0],
        "erfinv": [-1.0, 1.0, 1.5, 0.0, 1 - 1e-16, -1e-300],
        "erfcinv": [0.0, 2.0, -0.1, 1.0, 1e-300, 2 - 1e-16],
        "log_ndtr": [-1e5, -40.0, -20.0, -19.99, 6.0, 6.01, 40.0, -np.inf, np.inf, np.nan],
        "ndtr": [-40.0, -1e-20, 0.0, 40.0, np.inf, -np.inf, np.nan],
        "ndtri": [0.0, 1.0, 1e-300, 0.5, 1 - 1e-16, 2.0, np.nan],
        "i0": [0.0, 700.0, -700.0, np.inf, np.nan],
    }
    for name, xs in pts.items():
        x = np.array(xs)
        with np.errstate(all="ignore"):
            want = getattr(sp, name)(x)
            (got,) = traced(getattr(fsp, name), x)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=name)


def test_log_ndtr_derivative_in_the_far_tails():
    x = np.array([-1e4, -300.0, -40.0, -20.0, -5.0, 0.0, 5.0, 10.0, 40.0])
    g = np.array([fd.grad(fsp.log_ndtr)(v) for v in x])
    # d/dx log Phi(x) = phi(x) / Phi(x) = exp(log phi - log Phi); far out (where that
    # difference of huge numbers loses digits) -x / (1 - 1/x^2 + 3/x^4 - 15/x^6)
    with np.errstate(all="ignore"):
        want = np.where(x > -300, np.exp(-x ** 2 / 2 - 0.5 * np.log(2 * np.pi)
                                         - sp.log_ndtr(x)),
                        -x / (1 - x ** -2 + 3 * x ** -4 - 15 * x ** -6))
    np.testing.assert_allclose(g, want, rtol=1e-10)
    assert np.all(np.isfinite([fd.grad(fd.grad(fsp.log_ndtr))(v) for v in x]))


def test_entr_derivative():
    x = np.array([0.1, 1.0, 3.0])
    g = fd.grad(lambda v: fsp.entr(v).sum())(x)
    np.testing.assert_allclose(g, -(np.log(x) + 1))
    assert fd.grad(fsp.entr)(0.0) == 0.0    # the documented convention (as xlogy's)


def test_multigammaln_checks_and_dtype():
    assert fsp.multigammaln(np.float32(3.0), 2) == sp.multigammaln(np.float32(3.0), 2)
    (got,) = traced(lambda a: fsp.multigammaln(a, 3), np.array([3.0, 4.0], np.float32))
    np.testing.assert_allclose(got, sp.multigammaln(np.array([3.0, 4.0], np.float32), 3),
                               rtol=1e-6)
    with pytest.raises(ValueError):
        fd.grad(lambda a: fsp.multigammaln(a, 3))(0.9)      # a <= (d-1)/2
    with pytest.raises(ValueError):
        fd.grad(lambda a: fsp.multigammaln(a, 2.5))(3.0)


def test_jn_is_jv_and_real_yn_order_truncates():
    assert fsp.jn is fsp.jv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (got,) = traced(lambda x: fsp.yn(2.7, x), np.array([0.5, 2.0]))
        np.testing.assert_allclose(got, sp.yn(2, np.array([0.5, 2.0])))
        g = fd.grad(lambda x: fsp.yn(2.7, x))(2.0)
    np.testing.assert_allclose(g, (sp.yn(1, 2.0) - sp.yn(3, 2.0)) / 2)


def test_new_fallbacks_match_scipy(rng):
    """The pure-NumPy impls used without SciPy, against SciPy, on wide ranges."""
    def close(got, want, rtol):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.concatenate([rng.uniform(-20, 180, 100),
                            [0., -0., -1, -2.5, -180.5, 171.7, np.nan, np.inf, -np.inf]])
        close(fb.gamma_np(x), sp.gamma(x), 1e-13)
        close(fb.rgamma_np(x), sp.rgamma(x), 1e-13)
        close(fb.gammasgn_np(x), sp.gammasgn(x), 0)
        a = np.exp(rng.uniform(-3, 6, 200))
        xx = a * np.exp(rng.uniform(-2, 2, 200))
        close(fb.gammainc_np(a, xx), sp.gammainc(a, xx), 1e-10)
        close(fb.gammaincc_np(a, xx), sp.gammaincc(a, xx), 1e-10)
        ea, ex = np.array([0, 0, 1, 1, np.inf, 1, 2, -1.]), np.array([0, 1, 0, np.inf, 1, -1,
                                                                       np.nan, 1])
        close(fb.gammainc_np(ea, ex), sp.gammainc(ea, ex), 0)
        close(fb.gammaincc_np(ea, ex), sp.gammaincc(ea, ex), 0)
        a, b = np.exp(rng.uniform(-2, 5, (2, 200)))
        u = rng.uniform(0, 1, 200)
        close(fb.betainc_np(a, b, u), sp.betainc(a, b, u), 1e-10)
        close(fb.betaincc_np(a, b, u), sp.betaincc(a, b, u), 1e-10)
        ea, eb = np.array([0, 0, 1, 1, 2, 2, -1.]), np.array([0, 1, 0, 1, 2, 2, 1.])
        eu = np.array([0.5, 0.5, 0.5, 0, 1, 1.5, 0.5])
        if SCIPY_1_16:
            close(fb.betainc_np(ea, eb, eu), sp.betainc(ea, eb, eu), 0)
            close(fb.betaincc_np(ea, eb, eu), sp.betaincc(ea, eb, eu), 0)
        close(fb.beta_np(a, b), sp.beta(a, b), 1e-12)
        close(fb.betaln_np(a, b), sp.betaln(a, b), 1e-10)
        df, t = np.exp(rng.uniform(-2, 5, 200)), rng.normal(size=200) * 3
        close(fb.stdtr_np(df, t), sp.stdtr(df, t), 1e-10)
        u = np.concatenate([rng.uniform(-1, 1, 200), [1 - 1e-16, -1, 1, 0, 1.5, -1e-20]])
        close(fb.erfinv_np(u), sp.erfinv(u), 1e-13)
        q = np.concatenate([rng.uniform(0, 2, 200), 10.0 ** -rng.uniform(0, 300, 50),
                            [0, 2, -0.1, 2.1]])
        close(fb.erfcinv_np(q), sp.erfcinv(q), 1e-13)
        v = np.concatenate([rng.integers(-5, 6, 100).astype(float), rng.uniform(0, 8, 100)])
        xb = rng.normal(size=200) * 30
        xb = np.where(v == np.floor(v), xb, np.abs(xb))
        close(fb.iv_np(v, xb), sp.iv(v, xb), 1e-12)
        close(fb.ive_np(v, xb), sp.ive(v, xb), 1e-12)
        xl = rng.uniform(0, 2000, 50)
        close(fb.ive_np(1.5, xl), sp.ive(1.5, xl), 1e-12)
        close(fb.i0_np(xb), sp.i0(xb), 1e-13)
        close(fb.i1_np(xb), sp.i1(xb), 1e-12)
    # the primitives' impl wrapper keeps float32 and Python scalars
    impl = prims._wrap(fb.gamma_np)
    assert impl(np.float32([1.5])).dtype == np.float32 and type(impl(1.5)) is float
    with pytest.raises(prims.SciPyRequiredError, match="Install SciPy"):
        prims.scipy_required("j0")(np.ones(2))
    with pytest.raises(prims.SciPyRequiredError, match="negative non-integer order"):
        fb.iv_np(-0.5, 1.0)
