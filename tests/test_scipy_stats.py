"""funcdiff.scipy.stats (issue 11 part 4): norm t gamma beta chi2 (pdf logpdf cdf logcdf sf
logsf), poisson (pmf logpmf cdf logcdf sf logsf), dirichlet and multivariate_normal
(pdf logpdf).

* values: outside transforms the functions are SciPy's (checked equal); traced
  (make_jaxpr -> check_jaxpr -> eval_jaxpr) they equal SciPy over hypothesis-chosen
  broadcast shapes, dtypes (float64/float32/int, Python scalars) and points that include
  the support's edges, out-of-support values, NaN/inf and invalid parameters;
* derivatives: check_grads(order=2, fwd+rev) in the value, loc, scale and shape
  parameters (pdf/logpdf), in the value/loc/scale for the cdf family, whose shape
  derivatives raise GradientError; poisson in mu; dirichlet in x and alpha;
  multivariate_normal in x, mean and cov;
* vmap equals a Python loop for a sample of functions; jit equals the interpreter;
* without SciPy (a subprocess with SciPy hidden) the compositions on the NumPy
  fallbacks give SciPy's values.
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
from funcdiff.core.errors import GradientError
from funcdiff.scipy import stats as fs
from funcdiff.test_util import check_grads
from _helpers import DEFAULT, assert_same

ss = pytest.importorskip("scipy.stats")

seeds = st.integers(0, 2**31 - 1)
METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


def traced(f, *args):
    closed = fd.make_jaxpr(f)(*args)
    fd.check_jaxpr(closed)
    (out,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    return out


def assert_close(got, want, rtol=1e-9):
    assert_same(got, want, tols={DEFAULT: (rtol, rtol * 1e-3)}, exact_kinds="")


def quiet():
    warnings.simplefilter("ignore")
    return np.errstate(all="ignore")


# --- continuous distributions: values -----------------------------------------------------------

# name -> (x sampler, shape-parameter samplers, x edge values, invalid shape value)
CONT = {
    "norm": (lambda r, s: r.normal(size=s) * 3, [], [-np.inf, np.inf, 0.0, 40.0, -40.0],
             None),
    "t": (lambda r, s: r.normal(size=s) * 3, [lambda r, s: r.uniform(0.3, 8, s)],
          [-np.inf, np.inf, 0.0, 1e3], -1.0),
    "gamma": (lambda r, s: r.uniform(0, 6, s), [lambda r, s: r.uniform(0.2, 5, s)],
              [0.0, -1.0, np.inf, 1e-3], 0.0),
    "beta": (lambda r, s: r.uniform(0, 1, s), [lambda r, s: r.uniform(0.2, 5, s),
                                               lambda r, s: r.uniform(0.2, 5, s)],
             [0.0, 1.0, -0.5, 1.5], -2.0),
    "chi2": (lambda r, s: r.uniform(0, 10, s), [lambda r, s: r.uniform(0.5, 8, s)],
             [0.0, -1.0, np.inf, 1e-3], 0.0),
}
kinds = st.sampled_from(["f64", "f64", "f32", "py"])


def _arg(rng, shape, kind, sample):
    v = sample(rng, shape)
    if kind == "py":
        return float(np.ravel(sample(rng, ()))[0])
    return np.asarray(v, np.float32 if kind == "f32" else np.float64)


def _spice(rng, v, values):
    """Put some special values into ``v`` (an array with entries)."""
    if isinstance(v, np.ndarray) and v.size:
        for i in rng.choice(v.size, size=min(v.size, 2), replace=False):
            v.flat[i] = rng.choice(values)
    return v


def _traced_call(fn, args, kwargs):
    """fn(*args, **kwargs) traced in every array argument (Python scalars stay closed
    over), checked and evaluated."""
    flat = list(args) + list(kwargs.values())
    idx = [i for i, a in enumerate(flat) if isinstance(a, np.ndarray)]

    def f(*xs):
        full = list(flat)
        for i, x in zip(idx, xs):
            full[i] = x
        return fn(*full[:len(args)], **dict(zip(kwargs, full[len(args):])))
    return traced(f, *[flat[i] for i in idx])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(CONT))
@settings(max_examples=8, deadline=None)
@given(data=st.data(), seed=seeds)
def test_continuous_values(name, method, data, seed):
    xs, shape_samplers, edges, invalid = CONT[name]
    rng = np.random.default_rng(seed)
    n = 3 + len(shape_samplers)
    bs = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=2, max_side=3))
    shp = bs.input_shapes
    x = _arg(rng, shp[0], data.draw(st.sampled_from(["f64", "f32", "int"])), xs)
    if x.dtype.kind == "f" and data.draw(st.booleans()):
        x = _spice(rng, x, edges + [np.nan])
    if data.draw(st.booleans()):
        x = np.round(x).astype(np.int64)
    shapes = [_arg(rng, s, data.draw(kinds), f) for s, f in zip(shp[1:], shape_samplers)]
    if invalid is not None and shapes and data.draw(st.booleans()):
        shapes[0] = _spice(rng, shapes[0], [invalid, np.inf if name == "t" else invalid])
    loc = _arg(rng, shp[-2], data.draw(kinds), lambda r, s: r.normal(size=s) * 0.3)
    scale = _arg(rng, shp[-1], data.draw(kinds), lambda r, s: r.uniform(0.5, 2, s))
    if data.draw(st.booleans()):
        scale = _spice(rng, scale, [0.0, -1.0])
    dist, fdist = getattr(ss, name), getattr(fs, name)
    kw = dict(loc=loc, scale=scale)
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(dist, method)(x, *shapes, **kw)
        np.testing.assert_array_equal(getattr(fdist, method)(x, *shapes, **kw), want)
        got = _traced_call(getattr(fdist, method), [x, *shapes], kw)
    f32 = any(getattr(a, "dtype", None) == np.float32 for a in [x, *shapes, loc, scale])
    assert_close(got, want, rtol=2e-5 if f32 else 1e-9)


def test_positional_loc_scale_and_python_scalars():
    with quiet():
        for f, args in [(fs.norm.logpdf, (0.3, 1.0, 2.0)), (fs.t.cdf, (0.3, 4, 0.1, 2.0)),
                        (fs.beta.sf, (0.3, 2.0, 3.0, 0.1, 1.5)), (fs.gamma.logsf, (3, 2))]:
            name, method = f.__module__.rsplit(".", 1)[1], f.__name__
            want = getattr(getattr(ss, name), method)(*args)
            got = traced(lambda *a: f(*a), *args)
            assert_close(got, want)


def test_t_with_infinite_df_is_normal():
    x = np.linspace(-4, 4, 7)
    for m in METHODS:
        got = traced(lambda v: getattr(fs.t, m)(v, np.inf), x)
        assert_close(got, getattr(ss.t, m)(x, np.inf))
        assert_close(got, getattr(ss.norm, m)(x))


def test_far_tails():
    with quiet():
        x = np.array([-1e3, -60.0, -38.0, 0.0, 38.0, 60.0, 1e3])
        for m in ("logcdf", "logsf"):
            assert_close(traced(getattr(fs.norm, m), x), getattr(ss.norm, m)(x), rtol=1e-12)
        xt = np.array([-1e8, -1e3, -30.0, 30.0, 1e3, 1e8])
        for m in ("logcdf", "logsf", "logpdf"):
            assert_close(traced(lambda v: getattr(fs.t, m)(v, 2.5), xt),
                         getattr(ss.t, m)(xt, 2.5))
        big_df = np.array([60.0, 1e3, 1e6, 1e10])
        assert_close(traced(lambda d: fs.t.logpdf(0.7, d), big_df), ss.t.logpdf(0.7, big_df),
                     rtol=1e-12)


# --- poisson -------------------------------------------------------------------------------------

POISSON = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]


@pytest.mark.parametrize("method", POISSON)
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=seeds)
def test_poisson_values(method, data, seed):
    rng = np.random.default_rng(seed)
    bs = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3))
    ks, ms, ls = bs.input_shapes
    k = rng.integers(-2, 12, ks)
    if data.draw(st.booleans()):
        k = _spice(rng, k.astype(data.draw(st.sampled_from([np.float64, np.float32]))),
                   [2.5, -np.inf, np.inf, np.nan, -0.5])
    mu = rng.uniform(0, 6, ms)
    if data.draw(st.booleans()):
        mu = _spice(rng, mu, [0.0, -1.0])
    mu = mu.astype(data.draw(st.sampled_from([np.float64, np.float32])))
    loc = rng.integers(-1, 2, ls) if data.draw(st.booleans()) else 0
    kw = {"loc": loc} if isinstance(loc, np.ndarray) else {}
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(ss.poisson, method)(k, mu, **kw)
        np.testing.assert_array_equal(getattr(fs.poisson, method)(k, mu, **kw), want)
        got = _traced_call(getattr(fs.poisson, method), [k, mu], kw)
    assert_close(got, want, rtol=2e-5 if np.float32 in (k.dtype, mu.dtype) else 1e-9)


# --- dirichlet and multivariate_normal -----------------------------------------------------------

@pytest.mark.parametrize("method", ["pdf", "logpdf"])
@settings(max_examples=12, deadline=None)
@given(K=st.integers(2, 4), n=st.sampled_from([None, 1, 3]), drop=st.booleans(),
       alpha_int=st.booleans(), seed=seeds)
def test_dirichlet_values(method, K, n, drop, alpha_int, seed):
    rng = np.random.default_rng(seed)
    alpha = rng.integers(1, 4, K) if alpha_int else rng.uniform(0.3, 4, K)
    x = rng.dirichlet(np.ones(K), size=n).T if n else rng.dirichlet(np.ones(K))
    if drop:
        x = x[:-1]
    want = getattr(ss.dirichlet, method)(x, alpha)
    np.testing.assert_array_equal(getattr(fs.dirichlet, method)(x, alpha), want)
    got = traced(lambda v, a: getattr(fs.dirichlet, method)(v, a), x, alpha)
    assert_close(got, want)


@pytest.mark.parametrize("bad_x, bad_alpha", [
    ([0.5, 0.6, 0.2], [1.0, 2.0, 3.0]),      # not on the simplex
    ([0.0, 0.4, 0.6], [0.5, 2.0, 3.0]),      # x = 0 where alpha < 1
    ([-0.1, 0.5, 0.6], [1.0, 2.0, 3.0]),     # negative entry
    ([0.2, 0.8], [1.0, 2.0, 3.0, 4.0]),      # wrong length
    ([0.2, 0.3, 0.5], [1.0, -2.0, 3.0]),     # alpha <= 0
])
def test_dirichlet_invalid_input_raises_like_scipy(bad_x, bad_alpha):
    x, alpha = np.array(bad_x), np.array(bad_alpha)
    with pytest.raises(ValueError):
        ss.dirichlet.logpdf(x, alpha)
    with pytest.raises(ValueError):        # values known: the same checks
        fd.jvp(lambda v: fs.dirichlet.logpdf(v, alpha), (x,), (np.ones_like(x),))


MVN_CASES = [
    # (dim, mean kind, cov kind, x shape)
    (1, "none", "scalar", ()), (1, "scalar", "scalar", (4,)), (1, "vector", "matrix", (4, 1)),
    (3, "vector", "matrix", (3,)), (3, "vector", "matrix", (5, 3)),
    (3, "vector", "vector", (2, 4, 3)), (2, "vector", "scalar", (1, 2)),
    (4, "none", "matrix", (6, 4)),
]


def _mvn_args(rng, dim, mk, ck):
    mean = {"none": None, "scalar": rng.normal(), "vector": rng.normal(size=dim)}[mk]
    if ck == "scalar":
        cov = rng.uniform(0.5, 2)
    elif ck == "vector":
        cov = rng.uniform(0.5, 2, dim)
    else:
        a = rng.normal(size=(dim, dim))
        cov = a @ a.T + dim * np.eye(dim)
    return mean, cov


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
@pytest.mark.parametrize("case", MVN_CASES)
def test_multivariate_normal_values(method, case, rng):
    dim, mk, ck, xs = case
    mean, cov = _mvn_args(rng, dim, mk, ck)
    x = rng.normal(size=xs)
    want = getattr(ss.multivariate_normal, method)(x, mean, cov)
    np.testing.assert_array_equal(getattr(fs.multivariate_normal, method)(x, mean, cov), want)
    args = [a for a in (x, mean, cov) if isinstance(a, np.ndarray)]
    n_mean = isinstance(mean, np.ndarray)

    def f(*a):
        it = iter(a)
        xx = next(it)
        m = next(it) if n_mean else mean
        c = next(it) if isinstance(cov, np.ndarray) else cov
        return getattr(fs.multivariate_normal, method)(xx, m, c)
    assert_close(traced(f, *args), want, rtol=1e-10)


def test_multivariate_normal_rejects_bad_shapes():
    # (allow_singular=True is supported since issue 15: tests/test_scipy_stats_more.py)
    with pytest.raises(ValueError):
        traced(lambda x: fs.multivariate_normal.logpdf(x, np.zeros(3), np.eye(2)), np.ones(3))
    with pytest.raises(ValueError):
        traced(lambda m: fs.multivariate_normal.logpdf(np.ones(3), m, np.eye(3)),
               np.ones((1, 3)))


# --- derivatives ---------------------------------------------------------------------------------

# name -> (x sampler inside the support, shape values)
GRAD_POINTS = {
    "norm": (lambda r, s: r.normal(size=s) * 2, ()),
    "t": (lambda r, s: r.normal(size=s) * 2, (3.5,)),
    "gamma": (lambda r, s: r.uniform(0.3, 5, s), (2.3,)),
    "beta": (lambda r, s: r.uniform(0.15, 0.85, s), (1.7, 2.6)),
    "chi2": (lambda r, s: r.uniform(0.3, 8, s), (3.2,)),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(GRAD_POINTS))
@settings(max_examples=2, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), seed=seeds)
def test_continuous_grads(name, method, shape, seed):
    rng = np.random.default_rng(seed)
    xs, shapes = GRAD_POINTS[name]
    z = xs(rng, shape)
    loc, scale = 0.2, 1.3
    x = np.asarray(loc + scale * z, np.float64)
    fn = getattr(getattr(fs, name), method)
    if method in ("pdf", "logpdf"):      # every argument, shape parameters included
        check_grads(lambda x, l, s, *p: fn(x, *p, loc=l, scale=s),
                    (x, loc, scale) + shapes, order=2, modes=("fwd", "rev"))
    else:                                # the shape parameters held fixed
        check_grads(lambda x, l, s: fn(x, *shapes, loc=l, scale=s),
                    (x, loc, scale), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("method", ["cdf", "logcdf", "sf", "logsf"])
@pytest.mark.parametrize("name", ["t", "gamma", "beta", "chi2"])
def test_cdf_shape_derivatives_raise(name, method):
    fn = getattr(getattr(fs, name), method)
    x = 0.4 if name == "beta" else 1.1
    shapes = GRAD_POINTS[name][1]
    for i in range(len(shapes)):
        def f(p):
            s = list(shapes)
            s[i] = p
            return fn(x, *s)
        with pytest.raises(GradientError):
            fd.grad(f)(shapes[i])
        with pytest.raises(GradientError):
            fd.jvp(f, (shapes[i],), (1.0,))


def test_cdf_derivative_is_the_pdf():
    """Exactly, including at t's centre (no 0 * inf there) and the edges of the support."""
    cases = [("t", np.array([0.0, 1e-30, -2.0, 3.0]), (2.5,)),
             ("norm", np.array([0.0, -10.0, 35.0]), ()),
             ("gamma", np.array([1e-3, 1.0, 9.0]), (0.7,)),
             ("beta", np.array([1e-3, 0.5, 0.999]), (0.6, 2.5)),
             ("chi2", np.array([0.01, 1.0, 20.0]), (3.0,))]
    for name, x, shapes in cases:
        d = getattr(fs, name)
        g = fd.vmap(fd.grad(lambda v: d.cdf(v, *shapes, loc=0.1, scale=2.0)))(x)
        want = getattr(ss, name).pdf(x, *shapes, loc=0.1, scale=2.0)
        np.testing.assert_allclose(g, want, rtol=1e-11, err_msg=name)
        g = fd.vmap(fd.grad(lambda v: d.sf(v, *shapes, loc=0.1, scale=2.0)))(x)
        np.testing.assert_allclose(g, -want, rtol=1e-11, err_msg=name)


def test_norm_logcdf_gradient_in_far_tail():
    x = np.array([-1e4, -50.0, -5.0, 0.0, 5.0, 50.0])
    g = fd.vmap(fd.grad(fs.norm.logcdf))(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[2:5], ss.norm.pdf(x[2:5]) / ss.norm.cdf(x[2:5]), rtol=1e-12)
    np.testing.assert_allclose(g[0], 1e4, rtol=1e-7)


@pytest.mark.parametrize("method", POISSON)
@settings(max_examples=3, deadline=None)
@given(seed=seeds)
def test_poisson_grads_in_mu(method, seed):
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 8, 4)
    mu = rng.uniform(0.5, 6, 4)
    check_grads(lambda m: getattr(fs.poisson, method)(k, m), (mu,), order=2,
                modes=("fwd", "rev"))


def test_poisson_cdf_derivative_and_k_derivative():
    k, mu = np.array([0, 1, 4, 9]), np.array([0.5, 2.0, 3.5, 7.0])
    g = fd.grad(lambda m: fs.poisson.cdf(k, m).sum())(mu)
    np.testing.assert_allclose(g, -ss.poisson.pmf(k, mu), rtol=1e-12)
    gk = fd.grad(lambda kk: fs.poisson.logpmf(kk, mu).sum())(k.astype(float))
    np.testing.assert_array_equal(gk, 0.0)          # k is integer-valued: documented 0
    g0 = fd.grad(lambda m: fs.poisson.logpmf(0, m))(0.0)
    assert g0 == -1.0                               # d/dmu (0 log mu - mu) at mu = 0


@settings(max_examples=4, deadline=None)
@given(K=st.integers(2, 4), n=st.sampled_from([None, 3]), seed=seeds)
def test_dirichlet_grads(K, n, seed):
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.5, 4, K)
    x = (rng.dirichlet(np.ones(K) * 3, size=n).T if n else rng.dirichlet(np.ones(K) * 3))[:-1]
    for m in ("logpdf", "pdf"):   # K-1 components: perturbations stay on the simplex
        # (a small eps: the pdf's third derivatives are large, and central differences'
        # error grows with eps^2 times them)
        check_grads(getattr(fs.dirichlet, m), (x, alpha), order=2, modes=("fwd", "rev"),
                    eps=1e-5)


@settings(max_examples=4, deadline=None)
@given(dim=st.integers(1, 3), n=st.sampled_from([None, 1, 3]), seed=seeds)
def test_multivariate_normal_grads(dim, n, seed):
    rng = np.random.default_rng(seed)
    mean, cov = _mvn_args(rng, dim, "vector", "matrix")
    x = rng.normal(size=(n, dim) if n else (dim,))
    check_grads(fs.multivariate_normal.logpdf, (x, mean, cov), order=2, modes=("fwd", "rev"),
                atol=1e-5, rtol=1e-5)
    a = rng.normal(size=(dim, dim))
    check_grads(lambda x, a: fs.multivariate_normal.pdf(x, None, a @ a.T + np.eye(dim)),
                (x, a), order=2, modes=("fwd", "rev"))


def test_multivariate_normal_gradient_closed_form(rng):
    a = rng.normal(size=(3, 3))
    cov, mean, x = a @ a.T + np.eye(3), rng.normal(size=3), rng.normal(size=3)
    gx, gm = fd.grad(fs.multivariate_normal.logpdf, argnums=(0, 1))(x, mean, cov)
    want = -np.linalg.solve(cov, x - mean)
    np.testing.assert_allclose(gx, want, rtol=1e-12)
    np.testing.assert_allclose(gm, -want, rtol=1e-12)


# --- vmap and jit --------------------------------------------------------------------------------

VMAP = {
    "norm.logpdf": (lambda x, l: fs.norm.logpdf(x, l, 2.0), (0, 0),
                    lambda r: [r.normal(size=(4, 3)), r.normal(size=(4, 1))]),
    "t.cdf": (lambda x: fs.t.cdf(x, 3.0), (0,), lambda r: [r.normal(size=(5,))]),
    "t.logsf_df": (lambda x, d: fs.t.logsf(x, d), (None, 0),
                   lambda r: [r.normal(size=3), r.uniform(1, 5, (4, 3))]),
    "gamma.logpdf_a": (lambda a: fs.gamma.logpdf(1.3, a), (0,), lambda r: [r.uniform(1, 3, 5)]),
    "beta.logcdf": (lambda x: fs.beta.logcdf(x, 2.0, 3.0), (1,),
                    lambda r: [r.uniform(0, 1, (2, 4))]),
    "chi2.sf": (lambda x: fs.chi2.sf(x, 3.0), (0,), lambda r: [r.uniform(0, 9, (4,))]),
    "poisson.logpmf_mu": (lambda m: fs.poisson.logpmf(np.arange(3), m), (0,),
                          lambda r: [r.uniform(0.5, 4, (4, 1))]),
    "poisson.cdf": (lambda k, m: fs.poisson.cdf(k, m), (0, 0),
                    lambda r: [r.integers(0, 6, (4,)), r.uniform(0.5, 4, (4,))]),
    "dirichlet.logpdf_alpha": (lambda a: fs.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), a),
                               (0,), lambda r: [r.uniform(0.5, 3, (4, 3))]),
    "mvn.logpdf_x": (lambda x: fs.multivariate_normal.logpdf(x, np.zeros(2), np.eye(2) * 2),
                     (0,), lambda r: [r.normal(size=(5, 2))]),
    "mvn.logpdf_mean": (lambda m: fs.multivariate_normal.logpdf(np.ones(2), m, np.eye(2)),
                        (0,), lambda r: [r.normal(size=(5, 2))]),
    "grad norm.logcdf": (fd.grad(lambda x: fs.norm.logcdf(x, 0.5, 2.0)), (0,),
                         lambda r: [r.normal(size=(5,)) * 10]),
    "grad gamma.logpdf in a": (fd.grad(lambda a: fs.gamma.logpdf(2.0, a)), (0,),
                               lambda r: [r.uniform(0.5, 3, (5,))]),
}


@pytest.mark.parametrize("name", sorted(VMAP))
def test_vmap_equals_loop(name, rng):
    f, in_axes, make_args = VMAP[name]
    args = make_args(rng)
    size = next(np.shape(a)[d] for a, d in zip(args, in_axes) if d is not None)
    got = fd.vmap(f, in_axes=in_axes)(*args)
    want = np.stack([f(*[a if d is None else np.take(a, i, axis=d)
                         for a, d in zip(args, in_axes)]) for i in range(size)])
    assert_close(got, want, rtol=1e-12)


JIT = {f"{name}.{m}": (lambda name=name, m=m: (
    lambda x: getattr(getattr(fs, name), m)(x, *GRAD_POINTS[name][1], loc=0.1, scale=1.5)))
    for name in GRAD_POINTS for m in METHODS}
JIT.update({f"poisson.{m}": (lambda m=m: (lambda x: getattr(fs.poisson, m)(np.arange(4), x)))
            for m in POISSON})
JIT["dirichlet.logpdf"] = lambda: (lambda x: fs.dirichlet.logpdf(
    np.array([0.2, 0.3, 0.5]), x + 1.0))
JIT["mvn.logpdf"] = lambda: (lambda x: fs.multivariate_normal.logpdf(
    np.ones(4), x, np.eye(4) * 2.0))
JIT["grad t.logcdf"] = lambda: fd.grad(lambda x: fs.t.logcdf(x, 3.0).sum())


@pytest.mark.parametrize("name", sorted(JIT))
def test_jit_equals_interpreter(name, rng):
    f = JIT[name]()
    x = rng.uniform(0.2, 0.8, 4)
    assert_close(fd.jit(f)(x), traced(f, x), rtol=1e-13)


# --- without SciPy -------------------------------------------------------------------------------

NO_SCIPY = r"""
import json, sys
sys.modules["scipy"] = None                       # hide SciPy: every import of it fails
import numpy as np
import funcdiff as fd
import funcdiff.scipy.special as fsp
from funcdiff.scipy import stats as fs
from funcdiff.primitives import special as prims
assert prims.gamma_p.sp_fn is None
x = np.array([0.3, 1.7, 4.2])
out = {
  "gammainc": fsp.gammainc(1.5, x), "betaincc": fsp.betaincc(2.0, 3.0, x / 5),
  "erfinv": fsp.erfinv(x / 5), "log_ndtr": fsp.log_ndtr(-10 * x), "iv": fsp.iv(1.5, x),
  "ive": fsp.ive(2, -x), "rgamma": fsp.rgamma(-x), "stdtr": fsp.stdtr(2.5, x - 2),
  "gammasgn": fsp.gammasgn(-x), "entr": fsp.entr(x), "multigammaln": fsp.multigammaln(x + 2, 3),
  "norm.logsf": fs.norm.logsf(x, 0.5, 2.0), "t.cdf": fs.t.cdf(x - 2, 3.0),
  "gamma.logcdf": fs.gamma.logcdf(x, 2.0), "beta.sf": fs.beta.sf(x / 5, 2.0, 3.0),
  "chi2.pdf": fs.chi2.pdf(x, 3.0), "poisson.logcdf": fs.poisson.logcdf([0, 2, 5], x),
  "dirichlet.logpdf": fs.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), x),
  "mvn.logpdf": fs.multivariate_normal.logpdf(x, np.zeros(3), np.diag(x)),
  "grad t.cdf": fd.grad(lambda v: fs.t.cdf(v, 3.0).sum())(x - 2),
}
try:
    fsp.j0(x)
except prims.SciPyRequiredError as e:
    out["j0 error"] = str(e)
print(json.dumps({k: (v if isinstance(v, str) else np.asarray(v).tolist())
                  for k, v in out.items()}))
"""


def test_without_scipy_the_fallbacks_give_scipy_values():
    res = subprocess.run([sys.executable, "-c", NO_SCIPY], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    from scipy import special as sp
    x = np.array([0.3, 1.7, 4.2])
    want = {
        "gammainc": sp.gammainc(1.5, x), "betaincc": sp.betaincc(2.0, 3.0, x / 5),
        "erfinv": sp.erfinv(x / 5), "log_ndtr": sp.log_ndtr(-10 * x), "iv": sp.iv(1.5, x),
        "ive": sp.ive(2, -x), "rgamma": sp.rgamma(-x), "stdtr": sp.stdtr(2.5, x - 2),
        "gammasgn": sp.gammasgn(-x), "entr": sp.entr(x),
        "multigammaln": sp.multigammaln(x + 2, 3),
        "norm.logsf": ss.norm.logsf(x, 0.5, 2.0), "t.cdf": ss.t.cdf(x - 2, 3.0),
        "gamma.logcdf": ss.gamma.logcdf(x, 2.0), "beta.sf": ss.beta.sf(x / 5, 2.0, 3.0),
        "chi2.pdf": ss.chi2.pdf(x, 3.0), "poisson.logcdf": ss.poisson.logcdf([0, 2, 5], x),
        "dirichlet.logpdf": ss.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), x),
        "mvn.logpdf": ss.multivariate_normal.logpdf(x, np.zeros(3), np.diag(x)),
        "grad t.cdf": ss.t.pdf(x - 2, 3.0),
    }
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=1e-11, err_msg=k)
    assert "Install SciPy" in got["j0 error"]
