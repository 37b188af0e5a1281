"""funcdiff.scipy.stats, issue 15: the rest of SciPy's distributions and functions.

* values: eagerly each function is SciPy's (checked equal); traced (make_jaxpr ->
  check_jaxpr -> eval_jaxpr) it equals SciPy over hypothesis broadcast shapes, dtypes
  (float64/float32/int, Python scalars), support edges, NaN/inf and invalid parameters,
  for every method each module exports (``ppf``/``isf`` at q = 0, 1 and outside too);
* derivatives: check_grads(order=2, fwd+rev) in the value, loc, scale and the shapes
  (where a closed form exists; the others raise GradientError), discrete distributions in
  their real parameters (``k`` carries none);
* multivariate_normal with allow_singular (rank-deficient covariances: values, -inf off
  the support, derivatives along rank-preserving directions, repeated eigenvalues) and
  its entropy; multinomial; poisson.entropy; gaussian_kde (every method, resample's
  random stream, derivatives); mode / rankdata / sem (axes, ties, NaN policies);
* vmap equals a loop, jit equals the interpreter; namespaces are SciPy's; without SciPy
  the compositions give SciPy's values.
"""
from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcdiff as fd
from funcdiff.core.errors import FuncdiffValueError, GradientError
from funcdiff.scipy import stats as fs
from funcdiff.test_util import check_grads

from _helpers import nep50

ss = pytest.importorskip("scipy.stats")

seeds = st.integers(0, 2**31 - 1)


@pytest.fixture(autouse=True)
def _quiet():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def traced(f, *args):
    """make_jaxpr (abstract: the values are unknown, as under jit) + check + eval."""
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    out = fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out[0] if len(out) == 1 else tuple(out)


def concrete(f, *args):
    """``f(*args)`` on the traced path with known values: inside a transform (here jvp
    with a dummy argument), where the arguments are concrete constants."""
    out, _ = fd.jvp(lambda dummy: f(*args), (0.0,), (0.0,))
    return out


def assert_close(got, want, rtol=1e-9):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)


def _arg(rng, shape, kind, sample):
    if kind == "py":
        return float(np.ravel(sample(rng, ()))[0])
    return np.asarray(sample(rng, shape), np.float32 if kind == "f32" else np.float64)


def _spice(rng, v, values):
    if isinstance(v, np.ndarray) and v.size:
        for i in rng.choice(v.size, size=min(v.size, 2), replace=False):
            v.flat[i] = rng.choice(values)
    return v


def _traced_call(fn, args, kwargs):
    """fn(*args, **kwargs) traced in every array argument (Python scalars closed over)."""
    flat = list(args) + list(kwargs.values())
    idx = [i for i, a in enumerate(flat) if isinstance(a, np.ndarray)]

    def f(*xs):
        full = list(flat)
        for i, x in zip(idx, xs):
            full[i] = x
        return fn(*full[:len(args)], **dict(zip(kwargs, full[len(args):])))
    return traced(f, *[flat[i] for i in idx])


kinds = st.sampled_from(["f64", "f64", "f32", "py"])

# --- continuous distributions -----------------------------------------------------------------

# name -> (x sampler, shape samplers, x edge values, an invalid shape value or None)
CONT = {
    "cauchy": (lambda r, s: r.standard_cauchy(s), [], [-np.inf, np.inf, 0.0, 1e200], None),
    "expon": (lambda r, s: r.uniform(-0.5, 6, s), [], [0.0, -1.0, np.inf, 800.0], None),
    "gennorm": (lambda r, s: r.normal(size=s) * 2, [lambda r, s: r.uniform(0.4, 4, s)],
                [0.0, -np.inf, np.inf, 30.0], 0.0),
    "gumbel_l": (lambda r, s: r.normal(size=s) * 3, [], [-np.inf, np.inf, -40.0, 5.0], None),
    "gumbel_r": (lambda r, s: r.normal(size=s) * 3, [], [-np.inf, np.inf, 40.0, -5.0], None),
    "laplace": (lambda r, s: r.laplace(size=s) * 2, [], [0.0, -np.inf, np.inf, 50.0], None),
    "logistic": (lambda r, s: r.logistic(size=s) * 2, [], [0.0, -np.inf, 800.0, -50.0],
                 None),
    "pareto": (lambda r, s: r.uniform(0.5, 6, s), [lambda r, s: r.uniform(0.3, 4, s)],
               [1.0, 0.5, np.inf, 1e10], -1.0),
    "truncnorm": (lambda r, s: r.normal(size=s) * 2,
                  [lambda r, s: r.uniform(-3, 0.5, s), lambda r, s: r.uniform(0.6, 3, s)],
                  [-np.inf, np.inf, 0.0, 2.9], 5.0),
    "uniform": (lambda r, s: r.uniform(-0.2, 1.2, s), [], [0.0, 1.0, -1.0, np.inf], None),
    "vonmises": (lambda r, s: r.normal(size=s) * 4, [lambda r, s: r.uniform(0, 20, s)],
                 [0.0, np.pi, -np.pi, 1e3], -1.0),
    "wrapcauchy": (lambda r, s: r.uniform(-0.5, 7, s), [lambda r, s: r.uniform(0.05, 0.95, s)],
                   [0.0, np.pi, 2 * np.pi, -1.0], 1.0),
    "norm": (lambda r, s: r.normal(size=s) * 3, [], [-np.inf, np.inf, 0.0, 40.0], None),
}
CONT_METHODS = [(name, m) for name in sorted(CONT) for m in getattr(fs, name).__all__]


@pytest.mark.parametrize("name,method", CONT_METHODS)
@settings(max_examples=6, deadline=None)
@given(data=st.data(), seed=seeds)
def test_continuous_values(name, method, data, seed):
    xs, shape_samplers, edges, invalid = CONT[name]
    rng = np.random.default_rng(seed)
    n = 3 + len(shape_samplers)
    shp = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=2,
                                                      max_side=3)).input_shapes
    if method in ("ppf", "isf"):
        x = rng.uniform(0, 1, shp[0])
        if data.draw(st.booleans()):
            x = _spice(rng, x, [0.0, 1.0, -0.5, 1.5, np.nan])
    else:
        x = xs(rng, shp[0]).astype(np.float64)
        if data.draw(st.booleans()):
            x = _spice(rng, x, edges + [np.nan])
    x = x.astype(data.draw(st.sampled_from([np.float64, np.float32])))
    shapes = [_arg(rng, s, data.draw(kinds), f) for s, f in zip(shp[1:], shape_samplers)]
    if invalid is not None and shapes and isinstance(shapes[0], np.ndarray) \
            and data.draw(st.booleans()):
        shapes[0] = _spice(rng, shapes[0], [invalid])
    loc = _arg(rng, shp[-2], data.draw(kinds), lambda r, s: r.normal(size=s) * 0.3)
    scale = _arg(rng, shp[-1], data.draw(kinds), lambda r, s: r.uniform(0.5, 2, s))
    if isinstance(scale, np.ndarray) and data.draw(st.booleans()):
        scale = _spice(rng, scale, [0.0, -1.0])
    kw = dict(loc=loc, scale=scale)
    dist, fdist = getattr(ss, name), getattr(fs, name)
    want = getattr(dist, method)(x, *shapes, **kw)
    np.testing.assert_array_equal(getattr(fdist, method)(x, *shapes, **kw), want)
    got = _traced_call(getattr(fdist, method), [x, *shapes], kw)
    f32 = any(getattr(a, "dtype", None) == np.float32 for a in [x, *shapes, loc, scale])
    assert_close(got, want, rtol=3e-5 if f32 else 1e-9)


def test_keyword_shapes_and_positional_loc_scale():
    cases = [(fs.pareto.ppf, (0.3,), dict(b=2.0, loc=0.1, scale=3.0)),
             (fs.truncnorm.logcdf, (0.2, -1.0, 2.0, 0.1, 1.5), {}),
             (fs.gennorm.pdf, (0.3,), dict(beta=1.5)), (fs.wrapcauchy.cdf, (2.0, 0.4), {}),
             (fs.binom.pmf, (3,), dict(n=5, p=0.3, loc=1)), (fs.geom.ppf, (0.7, 0.2), {})]
    for f, args, kw in cases:
        name = f.__module__.rsplit(".", 1)[1]
        want = getattr(getattr(ss, name), f.__name__)(*args, **kw)
        assert_close(traced(lambda: f(*args, **kw)), want)


def test_quantiles_far_in_the_tails():
    q = np.array([1e-300, 1e-20, 1e-10, 0.5 - 1e-12, 0.5, 0.5 + 1e-12, 1 - 1e-10, 1 - 1e-16])
    for name in ("cauchy", "expon", "gumbel_l", "gumbel_r", "laplace", "logistic", "norm",
                 "uniform"):
        for m in ("ppf", "isf"):
            want = getattr(getattr(ss, name), m)(q)
            got = traced(getattr(getattr(fs, name), m), q)
            if name == "cauchy":
                # near q = 1/2 SciPy's -1/tan(pi q) loses digits (pi q rounds next to
                # pi/2); funcdiff's tan(pi (q - 1/2)) keeps them (q - 1/2 is exact)
                sign = 1 if m == "ppf" else -1
                np.testing.assert_allclose(got[3:6], sign * np.tan(np.pi * (q[3:6] - 0.5)),
                                           rtol=1e-15)
                got, want = np.delete(got, [3, 5]), np.delete(want, [3, 5])
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300, err_msg=name + m)


# --- continuous distributions: derivatives ----------------------------------------------------

# name -> (standardized point sampler inside the support, shape values)
GRAD_POINTS = {
    "cauchy": (lambda r, s: r.normal(size=s) * 2, ()),
    "expon": (lambda r, s: r.uniform(0.2, 4, s), ()),
    "gennorm": (lambda r, s: r.uniform(0.2, 2, s) * r.choice([-1, 1], s), (1.7,)),
    "gumbel_l": (lambda r, s: r.normal(size=s), ()),
    "gumbel_r": (lambda r, s: r.normal(size=s), ()),
    "laplace": (lambda r, s: r.uniform(0.2, 3, s) * r.choice([-1, 1], s), ()),
    "logistic": (lambda r, s: r.normal(size=s) * 2, ()),
    "pareto": (lambda r, s: r.uniform(1.3, 5, s), (2.2,)),
    "truncnorm": (lambda r, s: r.uniform(-0.8, 1.8, s), (-1.2, 2.3)),
    "uniform": (lambda r, s: r.uniform(0.2, 0.8, s), ()),
    "vonmises": (lambda r, s: r.normal(size=s) * 2, (2.5,)),
    "wrapcauchy": (lambda r, s: r.uniform(0.3, 6, s), (0.6,)),
    "norm": (lambda r, s: r.normal(size=s), ()),
}
# (dist, method) whose derivative in the shapes has no closed form (GradientError)
NO_SHAPE_GRAD = {("gennorm", m) for m in ("cdf", "logcdf", "sf", "logsf")}
GRAD_CASES = [(n, m) for n in sorted(GRAD_POINTS) for m in getattr(fs, n).__all__]


@pytest.mark.parametrize("name,method", GRAD_CASES)
@settings(max_examples=2, deadline=None)
@given(shape=st.lists(st.integers(1, 3), max_size=1).map(tuple), seed=seeds)
def test_continuous_grads(name, method, shape, seed):
    sample, shapes = GRAD_POINTS[name]
    rng = np.random.default_rng(seed)
    f = getattr(getattr(fs, name), method)
    loc, scale = 0.3, 1.4
    x = rng.uniform(0.1, 0.9, shape) if method in ("ppf", "isf") else \
        loc + scale * sample(rng, shape)
    check_grads(lambda v, l, s: f(v, *shapes, loc=l, scale=s), (x, loc, scale), order=2)
    if not shapes:
        return
    if (name, method) in NO_SHAPE_GRAD:
        with pytest.raises(GradientError):
            fd.grad(lambda b: f(x, b, loc=loc, scale=scale).sum())(shapes[0])
    else:
        check_grads(lambda *sh: f(x, *sh, loc=loc, scale=scale),
                    tuple(np.float64(v) for v in shapes), order=2)


def test_gennorm_at_zero_and_laplace_at_the_median():
    """|z|^beta at z = 0: derivative 0 in z and beta (docs/subgradients.md); the laplace
    cdf is smooth at 0 (slope = pdf(0) = 1/2); logistic's log-density has curvature -1/2
    at 0 (its formula has no |z| kink)."""
    from scipy.special import digamma
    b = 1.5
    np.testing.assert_allclose(fd.grad(lambda v: fs.gennorm.logpdf(0.0, v))(b),
                               1 / b + digamma(1 / b) / b ** 2, rtol=1e-13)
    assert fd.grad(lambda v: fs.gennorm.logpdf(v, 2.5))(0.0) == 0.0
    assert fd.grad(fs.laplace.cdf)(0.0) == 0.5
    np.testing.assert_allclose(fd.grad(fd.grad(fs.logistic.logpdf))(0.0), -0.5, rtol=1e-14)


# --- discrete distributions ------------------------------------------------------------------

# name -> (k sampler, shape samplers, invalid shape value)
DISC = {
    "bernoulli": (lambda r, s: r.integers(-1, 3, s), [lambda r, s: r.uniform(0, 1, s)], 1.5),
    "binom": (lambda r, s: r.integers(-1, 8, s),
              [lambda r, s: r.integers(0, 7, s).astype(float), lambda r, s: r.uniform(0, 1, s)],
              -1.0),
    "betabinom": (lambda r, s: r.integers(-1, 8, s),
                  [lambda r, s: r.integers(0, 7, s).astype(float),
                   lambda r, s: r.uniform(0.2, 3, s), lambda r, s: r.uniform(0.2, 3, s)], 2.5),
    "geom": (lambda r, s: r.integers(0, 8, s), [lambda r, s: r.uniform(0.05, 1, s)], 0.0),
    "nbinom": (lambda r, s: r.integers(-1, 10, s),
               [lambda r, s: r.uniform(0.3, 6, s), lambda r, s: r.uniform(0.05, 1, s)], 0.0),
    "poisson": (lambda r, s: r.integers(-1, 12, s), [lambda r, s: r.uniform(0, 8, s)], -1.0),
}
DISC_METHODS = [(n, m) for n in sorted(DISC) for m in getattr(fs, n).__all__
                if m != "entropy"]


@pytest.mark.parametrize("name,method", DISC_METHODS)
@settings(max_examples=8, deadline=None)
@given(data=st.data(), seed=seeds)
def test_discrete_values(name, method, data, seed):
    ks, shape_samplers, invalid = DISC[name]
    rng = np.random.default_rng(seed)
    shp = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2 + len(shape_samplers),
                                                      max_dims=2, max_side=3)).input_shapes
    if method == "ppf":
        k = _spice(rng, rng.uniform(0, 1, shp[0]), [0.0, 1.0, -0.5, np.nan])
    else:
        k = ks(rng, shp[0])
        if data.draw(st.booleans()):
            k = _spice(rng, k.astype(np.float64), [2.5, -np.inf, np.inf, np.nan])
    shapes = [np.asarray(f(rng, s)) for s, f in zip(shp[1:], shape_samplers)]
    if data.draw(st.booleans()):
        shapes[-1] = _spice(rng, shapes[-1].astype(np.float64), [invalid])
    if data.draw(st.booleans()):
        shapes[-1] = shapes[-1].astype(np.float32)
    loc = rng.integers(-1, 2, shp[-1]) if data.draw(st.booleans()) else 0
    kw = {"loc": loc} if isinstance(loc, np.ndarray) else {}
    dist, fdist = getattr(ss, name), getattr(fs, name)
    want = getattr(dist, method)(k, *shapes, **kw)
    np.testing.assert_array_equal(getattr(fdist, method)(k, *shapes, **kw), want)
    got = _traced_call(getattr(fdist, method), [k, *shapes], kw)
    f32 = any(getattr(a, "dtype", None) == np.float32 for a in shapes)
    assert_close(got, want, rtol=3e-5 if f32 else 1e-9)


# (dist, method, shape values, which shapes are differentiated)
DISC_GRADS = [
    ("bernoulli", "pmf", (0.3,), (0,)), ("bernoulli", "logpmf", (0.7,), (0,)),
    ("bernoulli", "cdf", (0.4,), (0,)), ("bernoulli", "logsf", (0.4,), (0,)),
    ("binom", "pmf", (6.0, 0.3), (1,)), ("binom", "logpmf", (6.0, 0.6), (1,)),
    ("binom", "cdf", (6.0, 0.3), (1,)), ("binom", "logsf", (6.0, 0.6), (1,)),
    ("betabinom", "pmf", (6.0, 1.3, 2.2), (1, 2)), ("betabinom", "logpmf", (5.0, 0.7, 1.9), (1, 2)),
    ("geom", "pmf", (0.3,), (0,)), ("geom", "logpmf", (0.6,), (0,)),
    ("geom", "cdf", (0.3,), (0,)), ("geom", "logsf", (0.3,), (0,)),
    ("nbinom", "pmf", (3.5, 0.4), (0, 1)), ("nbinom", "logpmf", (2.2, 0.7), (0, 1)),
    ("nbinom", "cdf", (3.5, 0.4), (1,)), ("nbinom", "logsf", (3.5, 0.4), (1,)),
    ("poisson", "pmf", (2.5,), (0,)), ("poisson", "logcdf", (2.5,), (0,)),
]


@pytest.mark.parametrize("name,method,shapes,diff", DISC_GRADS,
                         ids=[f"{a}.{b}" for a, b, _, _ in DISC_GRADS])
def test_discrete_grads(name, method, shapes, diff):
    f = getattr(getattr(fs, name), method)
    k = np.array([0.0, 1.0 if "pmf" in method else 0.5]) if name == "bernoulli" else \
        np.array([0.0, 1.0, 2.0, 4.0]) + (1.0 if name == "geom" else 0.0)

    def g(*ps):
        full = list(shapes)
        for i, p in zip(diff, ps):
            full[i] = p
        return f(k, *full)
    check_grads(g, tuple(np.float64(shapes[i]) for i in diff), order=2)
    # k (and loc) carry no derivative
    assert np.all(fd.grad(lambda kk: f(kk, *shapes).sum())(k) == 0)


def test_discrete_cdf_parameter_gradient_errors():
    with pytest.raises(GradientError, match="`a`"):
        fd.grad(lambda n: fs.nbinom.cdf(3, n, 0.4))(2.5)
    # d/dp cdf of binom is -(n) pmf_{n-1}(k; p): against SciPy
    n, p, k = 6, 0.3, 2
    np.testing.assert_allclose(fd.grad(lambda q: fs.binom.cdf(k, n, q))(p),
                               -n * ss.binom.pmf(k, n - 1, p), rtol=1e-12)
    # d/dmu poisson.cdf(k) = -pmf(k)
    np.testing.assert_allclose(fd.grad(lambda m: fs.poisson.cdf(3, m))(2.2),
                               -ss.poisson.pmf(3, 2.2), rtol=1e-12)


# --- poisson.entropy ---------------------------------------------------------------------------

def test_poisson_entropy():
    mu = np.array([0.0, 1e-3, 0.3, 2.0, 10.0, 150.0, 999.0, 1000.5, 1800.0, -1.0, np.nan])
    assert_close(traced(fs.poisson.entropy, mu), ss.poisson.entropy(mu), rtol=1e-10)
    assert_close(traced(lambda m, l: fs.poisson.entropy(m, l), mu[:3], np.array([[1.0], [np.nan]])),
                 ss.poisson.entropy(mu[:3], np.array([[1.0], [np.nan]])), rtol=1e-10)
    assert_close(fs.poisson.entropy(mu), ss.poisson.entropy(mu))      # eager: SciPy
    # dH/dmu by central differences of SciPy's (where it converges) and the asymptotic
    # series' derivative beyond
    m = np.array([0.4, 3.0, 40.0, 900.0])
    e = 1e-5 * m
    np.testing.assert_allclose(fd.vmap(fd.grad(fs.poisson.entropy))(m),
                               (ss.poisson.entropy(m + e) - ss.poisson.entropy(m - e)) / 2 / e,
                               rtol=1e-5)
    big = 5000.0
    np.testing.assert_allclose(fd.grad(fs.poisson.entropy)(big),
                               0.5 / big + 1 / (12 * big ** 2), rtol=1e-8)
    check_grads(fs.poisson.entropy, (np.array([0.7, 5.0, 2500.0]),), order=2)


# --- multivariate_normal: allow_singular, entropy ------------------------------------------------

def _singular(rng, d=3, r=2):
    A = rng.normal(size=(d, r))
    return A, A @ A.T


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("xshape", [(), (4,), (2, 3)])
def test_mvn_allow_singular_values(rank, xshape, rng):
    A, cov = _singular(rng, 3, rank)
    mean = rng.normal(size=3)
    inside = mean + np.einsum("ir,...r->...i", A, rng.normal(size=xshape + (rank,)))
    x = np.concatenate([inside.reshape(-1, 3), inside.reshape(-1, 3) + 0.2]).reshape(
        (2,) + xshape + (3,)) if xshape else inside
    for m in ("logpdf", "pdf"):
        want = getattr(ss.multivariate_normal, m)(x, mean, cov, allow_singular=True)
        assert_close(getattr(fs.multivariate_normal, m)(x, mean, cov, allow_singular=True),
                     want)
        got = traced(lambda v, mu, c: getattr(fs.multivariate_normal, m)(
            v, mu, c, allow_singular=True), x, mean, cov)
        assert_close(got, want, rtol=1e-9)
    want = ss.multivariate_normal.entropy(mean, cov)
    assert_close(traced(lambda c: fs.multivariate_normal.entropy(mean, c), cov), want)


def test_mvn_allow_singular_scalar_and_diagonal_covariances():
    x3 = np.array([[0.5, 0.0, -0.2], [0.5, 0.1, -0.2]])
    cases = [(None, 2.0, x3[:, 0]), (np.zeros(3), np.array([1.0, 0.0, 3.0]), x3),
             (None, np.diag([1.0, 0.0, 0.0]), x3), (None, np.zeros((2, 2)), x3[:, :2]),
             (np.ones(3), 0.0, x3)]
    for mean, cov, x in cases:
        for m in ("logpdf", "pdf"):
            want = getattr(ss.multivariate_normal, m)(x, mean, cov, allow_singular=True)
            got = traced(lambda v: getattr(fs.multivariate_normal, m)(
                v, mean, cov, allow_singular=True), x)
            assert_close(got, want)
        assert_close(traced(lambda c: fs.multivariate_normal.entropy(mean, c),
                            np.asarray(cov, float)),
                     ss.multivariate_normal.entropy(mean, cov))


def test_mvn_allow_singular_derivatives():
    """Along rank-preserving directions (cov = A A^T, x on the support), to order 2; at
    repeated eigenvalues (identity) too; the entropy's d/dcov is pinv(cov)/2."""
    rng = np.random.default_rng(0)
    A, _ = _singular(rng, 3, 2)
    mean, c = rng.normal(size=3), rng.normal(size=(4, 2))

    def f(A, mean, c):
        return fs.multivariate_normal.logpdf(mean + c @ A.T, mean, A @ A.T,
                                             allow_singular=True)
    check_grads(f, (A, mean, c), order=2)
    check_grads(lambda A: fs.multivariate_normal.entropy(None, A @ A.T), (A,), order=2)
    x = rng.normal(size=(3, 3))
    for cov in (np.eye(3) * 1.5, np.diag([1.0, 1.0, 2.0])):
        check_grads(lambda v, m, cv: fs.multivariate_normal.logpdf(v, m, cv,
                                                                    allow_singular=True),
                    (x, mean, cov), order=2)
        g = fd.grad(lambda cv: fs.multivariate_normal.entropy(None, cv))(cov)
        # only the lower triangle is read (as SciPy's eigh): the gradient of
        # logpdet(C(L)) w.r.t. that triangle is pinv on the diagonal, 2 pinv below it
        p = np.linalg.pinv(cov) / 2
        np.testing.assert_allclose(g, np.tril(p) + np.tril(p, -1), rtol=1e-12, atol=1e-15)
    # allow_singular=True equals allow_singular=False on a positive-definite matrix,
    # derivatives included
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
    g1 = fd.grad(lambda cv: fs.multivariate_normal.logpdf(x, mean, cv, allow_singular=True
                                                          ).sum())(cov)
    g2 = fd.grad(lambda cv: fs.multivariate_normal.logpdf(x, mean, cv).sum())(cov)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-13)


def test_mvn_allow_singular_checks():
    with pytest.raises(ValueError, match="positive semidefinite"):   # values known
        fd.grad(lambda c: fs.multivariate_normal.logpdf(np.zeros(2), None, c,
                                                        allow_singular=True))(
            np.array([[1.0, 0.0], [0.0, -1.0]]))
    # the pdf of a degenerate Gaussian is 0 off the support
    x = np.array([[1.0, 1.0], [1.0, 1.5]])
    got = traced(lambda v: fs.multivariate_normal.pdf(v, None, np.ones((2, 2)),
                                                      allow_singular=True), x)
    assert got[1] == 0 and got[0] > 0


# --- multinomial --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["pmf", "logpmf"])
def test_multinomial_values(method, rng):
    p = rng.dirichlet(np.ones(4), size=(2, 1))                  # (2, 1, 4)
    x = rng.multinomial(7, [0.25] * 4, size=(3,)).astype(float)  # (3, 4), sums to 7
    x[0, 0] += 0.5                                               # not an integer
    x[1, 1] = -1.0
    n = np.array([7, 7, 6])
    want = getattr(ss.multinomial, method)(x, n, p)
    assert_close(getattr(fs.multinomial, method)(x, n, p), want)
    assert_close(traced(lambda v, nn, pp: getattr(fs.multinomial, method)(v, nn, pp), x, n, p),
                 want, rtol=1e-11)
    bad = np.array([0.3, -0.1, 0.8])
    assert_close(traced(lambda pp: getattr(fs.multinomial, method)([1, 1, 1], 3, pp), bad),
                 getattr(ss.multinomial, method)([1, 1, 1], 3, bad))
    # along directions that keep sum(p) = 1 (else SciPy's adjustment kicks in)
    p0 = rng.dirichlet(np.ones(4))
    check_grads(lambda u: getattr(fs.multinomial, method)(x[2], 7, p0 + u - u.mean()),
                (np.zeros(4),), order=2)


def test_multinomial_adjusts_p_like_scipy():
    p = np.array([0.2, 0.3, 0.6])                                   # sums to 1.1
    with pytest.warns(FutureWarning):
        got = fd.grad(lambda pp: fs.multinomial.logpmf([1, 2, 0], 3, pp))(p)
    # the last entry is replaced by 1 - 0.2 - 0.3: it gets no derivative, the others
    # get x_i / p_i - x_last / p_last
    np.testing.assert_allclose(got, [1 / 0.2, 2 / 0.3, 0.0], rtol=1e-12)
    with pytest.raises(ValueError, match="x must be an array"):
        traced(lambda pp: fs.multinomial.pmf(1, 3, pp), np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="Size of each quantile"):
        traced(lambda pp: fs.multinomial.pmf([1, 2], 3, pp), np.full(3, 1 / 3))


# --- gaussian_kde --------------------------------------------------------------------------

@pytest.mark.parametrize("bw", [None, "scott", "silverman", 0.35, "callable"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("d", [1, 2])
def test_gaussian_kde_values(bw, weighted, d, rng):
    data = rng.normal(size=(d, 25)) if d > 1 else rng.normal(size=25)
    w = rng.uniform(0.2, 2, 25) if weighted else None
    bw_m = (lambda k: 0.5 * k.scotts_factor()) if bw == "callable" else bw
    K = ss.gaussian_kde(data, bw_method=bw_m, weights=w)
    pts = rng.normal(size=(d, 6)) * 2 if d > 1 else rng.normal(size=6) * 2
    for meth in ("evaluate", "__call__", "pdf", "logpdf"):
        want = getattr(K, meth)(pts)
        got = traced(lambda x, p: getattr(fs.gaussian_kde(x, bw_method=bw_m, weights=w),
                                          meth)(p), data, pts)
        assert_close(got, want, rtol=1e-11)
    k = fs.gaussian_kde(data, bw_method=bw_m, weights=w)
    for attr in ("factor", "covariance", "cho_cov", "log_det", "neff", "weights", "inv_cov"):
        np.testing.assert_allclose(np.asarray(getattr(k, attr)), getattr(K, attr),
                                   rtol=1e-12, err_msg=attr)
    assert (k.d, k.n) == (K.d, K.n)
    mean, cov = rng.normal(size=d), np.eye(d) * 0.7
    np.testing.assert_allclose(k.integrate_gaussian(mean, cov), K.integrate_gaussian(mean, cov),
                               rtol=1e-12)
    other = rng.normal(size=(d, 7))
    np.testing.assert_allclose(k.integrate_kde(fs.gaussian_kde(other)),
                               K.integrate_kde(ss.gaussian_kde(other)), rtol=1e-12)
    np.testing.assert_allclose(fs.gaussian_kde(other).integrate_kde(k),
                               ss.gaussian_kde(other).integrate_kde(K), rtol=1e-12)
    np.testing.assert_allclose(k.resample(size=9, seed=4), K.resample(size=9, seed=4),
                               rtol=1e-12)
    np.testing.assert_allclose(k.resample(seed=np.random.RandomState(2)),
                               K.resample(seed=np.random.RandomState(2)), rtol=1e-12)
    if d == 1:
        np.testing.assert_allclose(k.integrate_box_1d(-0.3, 0.8),
                                   K.integrate_box_1d(-0.3, 0.8), rtol=1e-12)
    else:
        np.testing.assert_allclose(k.marginal([1])(pts[1]), K.marginal([1])(pts[1]),
                                   rtol=1e-12)
        np.testing.assert_allclose(k(pts[:, 0]), K(pts[:, 0]), rtol=1e-12)   # a row vector


def test_gaussian_kde_derivatives():
    rng = np.random.default_rng(1)
    data, w = rng.normal(size=(2, 12)), rng.uniform(0.5, 1.5, 12)
    pts = rng.normal(size=(2, 3))
    check_grads(lambda x, p: fs.gaussian_kde(x)(p), (data, pts), order=2)
    check_grads(lambda x, ww: fs.gaussian_kde(x, weights=ww).logpdf(pts), (data, w), order=2)
    check_grads(lambda b: fs.gaussian_kde(data, bw_method=b).logpdf(pts), (0.4,), order=2)
    check_grads(lambda x: fs.gaussian_kde(x).integrate_gaussian(np.zeros(2), np.eye(2)),
                (data,), order=2)
    check_grads(lambda x: fs.gaussian_kde(x[0]).integrate_box_1d(-0.5, 0.5), (data,), order=2)
    # resample: the same random draws, differentiable in the data by reparametrization
    check_grads(lambda x: fs.gaussian_kde(x[:1]).resample(size=4, seed=0), (data,), order=2)
    # the log-density is finite where the density underflows
    far = fd.jit(lambda x: fs.gaussian_kde(x).logpdf(np.full((2, 1), 60.0)))(data)
    assert np.isfinite(far).all()
    np.testing.assert_allclose(far, ss.gaussian_kde(data).logpdf(np.full((2, 1), 60.0)),
                               rtol=1e-12)


def test_gaussian_kde_errors():
    with pytest.raises(ValueError, match="multiple elements"):
        fs.gaussian_kde(np.ones(1))
    with pytest.raises(ValueError, match="greater than number of samples"):
        fs.gaussian_kde(np.ones((3, 2)))
    with pytest.raises(ValueError, match="of length n"):
        fs.gaussian_kde(np.arange(4.0), weights=np.ones(3))
    with pytest.raises(ValueError, match="one-dimensional"):
        fs.gaussian_kde(np.arange(4.0), weights=np.ones((4, 1)))
    with pytest.raises(ValueError, match="bw_method"):
        fs.gaussian_kde(np.arange(4.0), bw_method="nope")
    k = fs.gaussian_kde(np.random.default_rng(0).normal(size=(2, 9)))
    with pytest.raises(ValueError, match="points have dimension 3"):
        k(np.ones((3, 2)))
    with pytest.raises(ValueError, match="only handles 1D"):
        k.integrate_box_1d(0, 1)
    with pytest.raises(ValueError, match="mean does not have dimension"):
        k.integrate_gaussian(np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="must be unique"):
        k.marginal([0, 0])
    with pytest.raises(ValueError, match="jit"):
        fd.jit(lambda x, w: fs.gaussian_kde(x, weights=w).resample(3, seed=0))(
            np.arange(5.0), np.ones(5))


# --- mode, rankdata, sem ---------------------------------------------------------------------

def _ties(rng, shape, dtype, nans):
    a = rng.integers(0, 4, shape).astype(dtype)
    if nans and a.size and np.dtype(dtype).kind == "f":
        a.flat[rng.choice(a.size, size=max(1, a.size // 4), replace=False)] = np.nan
    return a


axes = st.sampled_from([None, 0, -1, 1])


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8]), axis=axes,
       nans=st.booleans(), policy=st.sampled_from(["propagate", "omit"]),
       keepdims=st.booleans())
def test_mode_values(shape, seed, dtype, axis, nans, policy, keepdims):
    if axis is not None and axis >= len(shape):
        axis = 0
    a = _ties(np.random.default_rng(seed), shape, dtype, nans)
    want = ss.mode(a, axis=axis, nan_policy=policy, keepdims=keepdims)
    got = fs.mode(a, axis=axis, nan_policy=policy, keepdims=keepdims)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    got = concrete(lambda v: tuple(fs.mode(v, axis=axis, nan_policy=policy,
                                           keepdims=keepdims)), a)
    for g, w in zip(got, want):
        assert_close(g, w)
    # under jit the values are unknown: with 'omit' NaNs are assumed, so the counts are
    # float64 and the mode has the dtype SciPy gives when NaNs were omitted (documented)
    got = traced(lambda v: tuple(fs.mode(v, axis=axis, nan_policy=policy,
                                         keepdims=keepdims)), a)
    want_mode = want[0]
    if policy == "omit" and a.dtype.kind == "f":
        want_mode = np.asarray(want_mode).astype(_scipy_mode_dtype_with_nans(
            a.dtype, a.ndim <= 1 or axis is None))
    assert_close(got[0], want_mode)
    np.testing.assert_array_equal(got[1], want[1])


def _scipy_mode_dtype_with_nans(dtype, one_slice):
    """The dtype of SciPy's mode with nan_policy='omit' when a slice had NaNs (SciPy's
    own answer: it changed between versions)."""
    sample = np.ones(3 if one_slice else (3, 2), dtype)
    sample.flat[0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ss.mode(sample, axis=None if one_slice else 0, nan_policy="omit")
    return np.asarray(r.mode).dtype


@pytest.mark.parametrize("method", ["average", "min", "max", "dense", "ordinal"])
@settings(max_examples=12, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.int64]), axis=axes,
       nans=st.booleans(), policy=st.sampled_from(["propagate", "omit"]))
def test_rankdata_values(method, shape, seed, dtype, axis, nans, policy):
    if axis is not None and axis >= len(shape):
        axis = -1
    a = _ties(np.random.default_rng(seed), shape, dtype, nans)
    want = ss.rankdata(a, method, axis=axis, nan_policy=policy)
    np.testing.assert_array_equal(fs.rankdata(a, method, axis=axis, nan_policy=policy), want)
    got = concrete(lambda v: fs.rankdata(v, method, axis=axis, nan_policy=policy), a)
    assert_close(got, want)
    got = traced(lambda v: fs.rankdata(v, method, axis=axis, nan_policy=policy), a)
    if np.dtype(dtype).kind == "f":                   # under jit: float64 (documented)
        np.testing.assert_array_equal(got, want.astype(np.float64))
        assert got.dtype == np.float64
    else:
        assert_close(got, want)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.int64]), axis=axes,
       ddof=st.sampled_from([0, 1]), nans=st.booleans(),
       policy=st.sampled_from(["propagate", "omit"]), keepdims=st.booleans())
def test_sem_values(shape, seed, dtype, axis, ddof, nans, policy, keepdims):
    if axis is not None and axis >= len(shape):
        axis = 0
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=shape) * 3).astype(dtype)
    if nans and dtype != np.int64 and a.size > 1:
        a.flat[0] = np.nan
    with nep50():        # funcdiff's transforms promote as NumPy 2, on NumPy 1.x too
        want = ss.sem(a, axis=axis, ddof=ddof, nan_policy=policy, keepdims=keepdims)
    tol = 1e-5 if dtype == np.float32 else 1e-11
    got = concrete(lambda v: fs.sem(v, axis=axis, ddof=ddof, nan_policy=policy,
                                    keepdims=keepdims), a)
    assert_close(got, want, rtol=tol)
    if policy == "propagate" or not nans:
        got = traced(lambda v: fs.sem(v, axis=axis, ddof=ddof, nan_policy=policy,
                                      keepdims=keepdims), a)
        if policy == "omit" and np.ndim(a) > 1 and axis is not None:
            # under jit 'omit' cannot know that no NaN is present: NaN for n < 2
            want = np.where(np.sum(~np.isnan(a), axis=axis, keepdims=keepdims) < 2, np.nan,
                            want).astype(want.dtype)
        assert_close(got, want, rtol=tol)


def test_mode_rankdata_sem_derivatives():
    a = np.array([[2.0, 1.0, 2.0, 3.0], [0.5, 0.5, 0.5, 4.0]])
    g = fd.grad(lambda v: fs.mode(v, axis=1).mode.sum())(a)
    np.testing.assert_allclose(g, [[0.5, 0, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    _, t = fd.jvp(lambda v: fs.mode(v, axis=1).mode, (a,), (np.ones_like(a),))
    np.testing.assert_allclose(t, [1.0, 1.0])
    assert np.all(fd.grad(lambda v: fs.rankdata(v).sum())(a) == 0)
    check_grads(lambda v: fs.sem(v, axis=1), (a,), order=2)
    check_grads(lambda v: fs.sem(v, axis=None, nan_policy="omit"),
                (np.array([1.0, 2.5, 4.0, 0.3]),), order=2)


def test_stats_function_errors():
    with pytest.raises(ValueError, match="unknown method"):
        traced(lambda v: fs.rankdata(v, "best"), np.ones(3))
    with pytest.raises(ValueError, match="nan_policy"):
        traced(lambda v: fs.sem(v, nan_policy="skip"), np.ones(3))
    with pytest.raises(ValueError, match="contains nan"):
        fd.grad(lambda v: fs.sem(v, nan_policy="raise"))(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="contains nan"):
        concrete(lambda v: fs.mode(v, nan_policy="raise").mode, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="numeric"):
        traced(lambda v: fs.mode(v > 0), np.ones(3))
    with pytest.raises(ValueError, match="out of bounds"):
        traced(lambda v: fs.mode(v, axis=2), np.ones((2, 2)))
    # empty slices: SciPy's NaN mode with count 0 (float64), empty ranks
    got = traced(lambda v: tuple(fs.mode(v, axis=1)), np.zeros((3, 0)))
    for g, w in zip(got, ss.mode(np.zeros((3, 0)), axis=1)):
        assert_close(g, w)
    assert_close(traced(lambda v: fs.rankdata(v, "min"), np.zeros(0)),
                 ss.rankdata(np.zeros(0), "min"))


# --- vmap, jit -------------------------------------------------------------------------------

VMAP_CASES = {
    "cauchy.logpdf": (fs.cauchy.logpdf, (0, None, 0), lambda r: [r.normal(size=(4, 3)), 0.2,
                                                                  r.uniform(1, 2, (4, 1))]),
    "truncnorm.logcdf": (fs.truncnorm.logcdf, (0, 0, None),
                         lambda r: [r.uniform(-1, 1, (5,)), r.uniform(-3, -1.5, (5,)), 2.0]),
    "pareto.ppf": (fs.pareto.ppf, (0, 0), lambda r: [r.uniform(0, 1, (4, 2)),
                                                     r.uniform(0.5, 3, (4, 1))]),
    "binom.logpmf": (fs.binom.logpmf, (0, None, 0), lambda r: [
        r.integers(0, 5, (4,)), 5.0, r.uniform(0.1, 0.9, (4,))]),
    "poisson.entropy": (fs.poisson.entropy, (0,), lambda r: [r.uniform(0.1, 20, (3, 2))]),
    "mvn singular": (lambda x: fs.multivariate_normal.logpdf(x, np.zeros(2), np.ones((2, 2)),
                                                             allow_singular=True),
                     (0,), lambda r: [np.stack([np.ones((3, 2)), r.normal(size=(3, 2))])]),
    "multinomial": (lambda p: fs.multinomial.logpmf([1, 2, 0], 3, p), (0,),
                    lambda r: [r.dirichlet(np.ones(3), size=4)]),
    "kde": (lambda x: fs.gaussian_kde(x)(np.linspace(-1, 1, 3)), (0,),
            lambda r: [r.normal(size=(3, 10))]),
    "sem": (lambda x: fs.sem(x, axis=0), (1,), lambda r: [r.normal(size=(5, 3))]),
    "mode": (lambda x: fs.mode(x).mode, (0,), lambda r: [r.integers(0, 3, (4, 6)) * 1.0]),
    "grad gennorm": (fd.grad(lambda b: fs.gennorm.logpdf(0.7, b)), (0,),
                     lambda r: [r.uniform(0.5, 3, (4,))]),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_vmap_equals_loop(name, rng):
    f, in_axes, make_args = VMAP_CASES[name]
    args = make_args(rng)
    size = next(np.shape(a)[d] for a, d in zip(args, in_axes) if d is not None)
    got = fd.vmap(f, in_axes=in_axes)(*args)
    want = np.stack([np.asarray(f(*[a if d is None else np.take(a, i, axis=d)
                                    for a, d in zip(args, in_axes)])) for i in range(size)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, equal_nan=True)


JIT_CASES = {
    "gumbel_r": lambda x: fs.gumbel_r.logsf(x) + fs.gumbel_r.ppf(abs(x) / 5),
    "laplace": lambda x: fs.laplace.cdf(x, 0.1, 2.0) + fs.laplace.isf(abs(x) / 4),
    "logistic": lambda x: fs.logistic.logpdf(x) + fs.logistic.logcdf(x),
    "vonmises": lambda x: fs.vonmises.logpdf(x, abs(x) + 0.5),
    "wrapcauchy": lambda x: fs.wrapcauchy.cdf(abs(x) * 2, 0.3),
    "geom": lambda x: fs.geom.logpmf(3, abs(x) / 4 + 0.1) + fs.geom.ppf(abs(x) / 4, 0.3),
    "nbinom": lambda x: fs.nbinom.cdf(4, 2.5, abs(x) / 4 + 0.1),
    "bernoulli": lambda x: fs.bernoulli.ppf(abs(x) / 4, 0.3) + fs.bernoulli.pmf(1, 0.3),
    "betabinom": lambda x: fs.betabinom.logpmf(2, 5, abs(x) + 0.5, 2.0),
    "rankdata": lambda x: fs.rankdata(x, "average"),
    "grad truncnorm": fd.grad(lambda x: fs.truncnorm.logpdf(x, -1.0, 2.0).sum()),
    "grad mvn": fd.grad(lambda x: fs.multivariate_normal.logpdf(
        x, np.zeros(3), np.diag([1.0, 2.0, 0.0]), allow_singular=True).sum()),
}


@pytest.mark.parametrize("name", sorted(JIT_CASES))
def test_jit_equals_interpreter(name, rng):
    f = JIT_CASES[name]
    x = rng.normal(size=(3,))
    if name == "grad mvn":
        x[2] = 0.0
    np.testing.assert_allclose(fd.jit(f)(x), traced(f, x), rtol=1e-13, equal_nan=True)


# --- namespaces ------------------------------------------------------------------------------

TARGETS = {
    "bernoulli": "cdf logpmf pmf ppf", "betabinom": "logpmf pmf", "binom": "logpmf pmf",
    "cauchy": "cdf isf logcdf logpdf logsf pdf ppf sf", "expon": "cdf logcdf logpdf logsf pdf ppf sf",
    "gennorm": "cdf logpdf pdf", "geom": "logpmf pmf",
    "gumbel_l": "cdf logcdf logpdf logsf pdf ppf sf", "gumbel_r": "cdf logcdf logpdf logsf pdf ppf sf",
    "laplace": "cdf logpdf pdf", "logistic": "cdf isf logpdf pdf ppf sf",
    "multinomial": "logpmf pmf", "nbinom": "logpmf pmf", "norm": "isf ppf",
    "pareto": "cdf logcdf logpdf logsf pdf ppf sf", "poisson": "entropy",
    "truncnorm": "cdf logcdf logpdf logsf pdf sf", "uniform": "cdf logpdf pdf ppf",
    "vonmises": "logpdf pdf", "wrapcauchy": "logpdf pdf",
    "multivariate_normal": "entropy logpdf pdf",
}


def test_namespaces_are_scipys():
    for name, methods in TARGETS.items():
        assert set(methods.split()) <= set(getattr(fs, name).__all__), name
    assert {"gaussian_kde", "mode", "rankdata", "sem"} <= set(fs.__all__)
    assert dir(fs) == sorted(fs.__all__)
    for name in fs.__all__:
        assert hasattr(ss, name), name
        mod = getattr(fs, name)
        if not hasattr(mod, "__all__"):
            continue
        assert dir(mod) == sorted(mod.__all__), name
        for m in mod.__all__:
            assert hasattr(getattr(ss, name), m), (name, m)
            f = getattr(mod, m)
            assert f.__module__ == f"funcdiff.scipy.stats.{name}" and f.__name__ == m
        for helper in ("np", "fnp", "fsp", "math", "DIST", "Continuous", "scipy_eager",
                       "annotations", "_logpdf"):
            assert not hasattr(mod, helper), (name, helper)
    for helper in ("np", "fnp", "Tracer", "annotations", "ModeResult"):
        assert not hasattr(fs, helper), helper
    ns = {}
    exec("from funcdiff.scipy.stats import *", ns)
    assert set(ns) - {"__builtins__"} == set(fs.__all__)


# --- without SciPy -----------------------------------------------------------------------------

NO_SCIPY = r"""
import json, sys
sys.modules["scipy"] = None
import numpy as np
import funcdiff as fd
from funcdiff.scipy import stats as fs
x = np.array([0.3, 1.7, 4.2])
out = {
  "cauchy.logsf": fs.cauchy.logsf(x, 0.5, 2.0), "expon.ppf": fs.expon.ppf(x / 5),
  "gennorm.cdf": fs.gennorm.cdf(x - 2, 1.5), "gumbel_l.logcdf": fs.gumbel_l.logcdf(x),
  "laplace.logcdf": fs.laplace.logcdf(x - 2), "logistic.isf": fs.logistic.isf(x / 5),
  "pareto.logpdf": fs.pareto.logpdf(x + 1, 2.5), "truncnorm.logsf": fs.truncnorm.logsf(x - 2, -1.0, 3.0),
  "uniform.cdf": fs.uniform.cdf(x / 5), "vonmises.pdf": fs.vonmises.pdf(x, 2.0),
  "wrapcauchy.ppf": fs.wrapcauchy.ppf(x / 5, 0.4), "norm.ppf": fs.norm.ppf(x / 5),
  "bernoulli.ppf": fs.bernoulli.ppf(x / 5, 0.3), "binom.cdf": fs.binom.cdf([0, 2, 5], 6, 0.3),
  "betabinom.pmf": fs.betabinom.pmf([0, 2, 5], 6, 1.5, 2.0), "geom.sf": fs.geom.sf([1, 2, 5], 0.3),
  "nbinom.logpmf": fs.nbinom.logpmf([0, 2, 5], 2.5, 0.4), "poisson.entropy": fs.poisson.entropy(x),
  "multinomial.pmf": fs.multinomial.pmf([1, 2, 0], 3, [0.2, 0.3, 0.5]),
  "mvn singular": fs.multivariate_normal.logpdf(x, np.zeros(3), np.diag([1.0, 2.0, 0.0]), allow_singular=True),
  "mvn entropy": fs.multivariate_normal.entropy(np.zeros(3), np.diag([1.0, 2.0, 0.0])),
  "kde": fs.gaussian_kde(np.array([0.1, 0.5, 1.5, 2.2]))(x), "sem": fs.sem(x),
  "mode": fs.mode(np.array([1.0, 2.0, 2.0])).mode, "rankdata": fs.rankdata(x[::-1]),
}
print(json.dumps({k: np.asarray(v).tolist() for k, v in out.items()}))
"""


def test_without_scipy_the_compositions_give_scipy_values():
    res = subprocess.run([sys.executable, "-c", NO_SCIPY], capture_output=True, text=True,
                         timeout=180)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    x = np.array([0.3, 1.7, 4.2])
    want = {
        "cauchy.logsf": ss.cauchy.logsf(x, 0.5, 2.0), "expon.ppf": ss.expon.ppf(x / 5),
        "gennorm.cdf": ss.gennorm.cdf(x - 2, 1.5), "gumbel_l.logcdf": ss.gumbel_l.logcdf(x),
        "laplace.logcdf": ss.laplace.logcdf(x - 2), "logistic.isf": ss.logistic.isf(x / 5),
        "pareto.logpdf": ss.pareto.logpdf(x + 1, 2.5),
        "truncnorm.logsf": ss.truncnorm.logsf(x - 2, -1.0, 3.0),
        "uniform.cdf": ss.uniform.cdf(x / 5), "vonmises.pdf": ss.vonmises.pdf(x, 2.0),
        "wrapcauchy.ppf": ss.wrapcauchy.ppf(x / 5, 0.4), "norm.ppf": ss.norm.ppf(x / 5),
        "bernoulli.ppf": ss.bernoulli.ppf(x / 5, 0.3),
        "binom.cdf": ss.binom.cdf([0, 2, 5], 6, 0.3),
        "betabinom.pmf": ss.betabinom.pmf([0, 2, 5], 6, 1.5, 2.0),
        "geom.sf": ss.geom.sf([1, 2, 5], 0.3), "nbinom.logpmf": ss.nbinom.logpmf([0, 2, 5], 2.5, 0.4),
        "poisson.entropy": ss.poisson.entropy(x),
        "multinomial.pmf": ss.multinomial.pmf([1, 2, 0], 3, [0.2, 0.3, 0.5]),
        "mvn singular": ss.multivariate_normal.logpdf(x, np.zeros(3), np.diag([1.0, 2.0, 0.0]),
                                                      allow_singular=True),
        "mvn entropy": ss.multivariate_normal.entropy(np.zeros(3), np.diag([1.0, 2.0, 0.0])),
        "kde": ss.gaussian_kde(np.array([0.1, 0.5, 1.5, 2.2]))(x), "sem": ss.sem(x),
        "mode": ss.mode(np.array([1.0, 2.0, 2.0])).mode, "rankdata": ss.rankdata(x[::-1]),
    }
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=1e-10, err_msg=k)
