"""Regression tests from a hostile review of ``funcdiff.scipy``: the wrong numbers found at
kinks, poles, ties, boundaries, huge arguments and odd dtypes, each against SciPy itself
(its values and dtypes, central differences of its functions) or a closed form.

Every test here failed before its fix: the value or derivative named in its docstring was
NaN, 0 or off where SciPy's function (or its derivative) is finite and right.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
import funcdiff.scipy.special as fsp
from funcdiff.primitives.base import make_complex
from funcdiff.test_util import check_grads

from _helpers import nep50, traced

sp = pytest.importorskip("scipy.special")


def central(f, x, h):
    """Central difference of a NumPy/SciPy function ``f`` at ``x`` with step ``h``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (f(x + h) - f(x - h)) / (2 * h)


def grad_each(f, xs):
    """``grad(f)`` at each point of ``xs`` (a loop: scalar points)."""
    return np.array([fd.grad(f)(x) for x in xs])


# --- special functions -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["i0e", "i1e"])
def test_i0e_i1e_at_huge_arguments(name):
    """i0e/i1e went through ``ive``, which SciPy computes as NaN from |x| = 2^30 on, so
    traced values and derivatives were NaN where SciPy's own i0e/i1e are finite; near it,
    the derivative by ``ive``'s recurrence lost digits to cancellation."""
    f, s = getattr(fsp, name), getattr(sp, name)
    x = np.array([-1e300, -1e10, -2.0 ** 30, -1e5, -9999.0, -3.0, 0.5, 1e4, 1.5e4, 1e9,
                  2.0 ** 31, 1e12, 1e300, np.inf, -np.inf])
    (got,) = traced(f, x)
    np.testing.assert_allclose(got, s(x), rtol=1e-14, atol=0)
    finite = np.isfinite(x) & (np.abs(x) < 1e200)
    h = 1e-4 * np.abs(x[finite])
    want = central(s, x[finite], h)
    np.testing.assert_allclose(grad_each(f, x[finite]), want, rtol=1e-6)
    assert np.all(grad_each(f, x[~finite]) == 0)
    got32 = fd.jit(f)(x.astype(np.float32))
    assert got32.dtype == np.float32
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(got32, s(x.astype(np.float32)), rtol=1e-6, atol=0)


def test_expm1_derivative_far_left():
    """d/dx expm1(x) was ``expm1(x) + 1``, which is 0 below x = -37 (exp(x) is not)."""
    x = np.array([-30.0, -40.0, -345.0, -700.0])
    np.testing.assert_allclose(grad_each(fnp.expm1, x), np.exp(x), rtol=1e-15)


@pytest.mark.parametrize("fn,edge", [("boxcox", 0.0), ("boxcox1p", -1.0)])
def test_boxcox_at_the_edge_of_its_domain(fn, edge):
    """boxcox(0, lmbda) (boxcox1p(-1, lmbda)) for lmbda > 0 is -1/lmbda; its derivatives
    were NaN (``x^lmbda log(x)`` as 0 * inf): d/dlmbda = 1/lmbda^2 and the one-sided
    d/dx = lmbda x^(lmbda - 1) (inf, 1, 0 for lmbda below, at, above 1).  Tiny x (1e-300)
    lost its d/dx to expm1's derivative."""
    f, s = getattr(fsp, fn), getattr(sp, fn)
    for lm in (0.5, 1.0, 2.0, 3.5):
        assert fd.jit(f)(edge, lm) == s(edge, lm) == -1.0 / lm
        np.testing.assert_allclose(fd.grad(f, 1)(edge, lm), 1.0 / lm ** 2, rtol=1e-14)
        np.testing.assert_allclose(fd.grad(f, 1)(edge, lm),
                                   central(lambda v: s(edge, v), lm, 1e-6), rtol=1e-6)
        assert fd.grad(f, 0)(edge, lm) == (np.inf if lm < 1 else 1.0 if lm == 1 else 0.0)
    # lmbda <= 0 (and SciPy's log below 1e-19): -inf, as SciPy
    for lm in (0.0, -0.5, 1e-20):
        assert fd.jit(f)(edge, lm) == s(edge, lm) == -np.inf
    # just inside the domain, d/dx = x^(lmbda - 1) is huge, not 0
    x = 1e-300
    np.testing.assert_allclose(fd.grad(fsp.boxcox, 0)(x, 0.5), x ** -0.5, rtol=1e-12)
    np.testing.assert_allclose(fd.grad(fsp.boxcox, 1)(x, 0.5), 4.0, rtol=1e-12)


def test_beta_at_poles_of_gamma_of_the_sum():
    """B(a, b) is 0 where a + b is a pole of Gamma (a, b not): its derivative was
    ``0 * (digamma(a) - digamma(a + b)) = NaN``; it is ``Gamma(a) Gamma(b) rgamma'(a +
    b)``, to every order."""
    a = np.array([-1.5, 0.5, -2.5, -0.3, -1.2, 2.0])
    b = np.array([0.5, -1.5, 0.5, 0.3, -0.8, 3.0])
    for argnum in (0, 1):
        got = np.array([fd.grad(fsp.beta, argnum)(u, v) for u, v in zip(a, b)])
        h = np.zeros(2)
        h[argnum] = 1e-6
        want = np.array([(sp.beta(u + h[0], v + h[1]) - sp.beta(u - h[0], v - h[1])) / 2e-6
                         for u, v in zip(a, b)])
        np.testing.assert_allclose(got, want, rtol=1e-7)
    # (third derivatives are large near the poles: a small finite-difference step)
    check_grads(fsp.beta, (a, b), order=2, eps=1e-5, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("repetition", [False, True])
def test_comb_outside_its_support_and_at_zeros(repetition):
    """comb is 0 outside 0 <= k <= N (its gradient there was NaN from the discarded beta
    branch); with repetition (SciPy >= 1.16: binom(N + k - 1, k)) it crosses 0 at negative
    integer k with a finite slope, which was NaN.  Both against central differences of
    SciPy's own comb (whichever version's semantics it has)."""
    pts = [(0.5, 2.5), (1.0, 5.0), (5.0, -1.0), (3.5, -1.0), (5.0, 6.0), (5.0, 2.0),
           (-2.5, 1.0), (4.0, -1.0), (2.5, 0.5)]

    def f(n, k):
        return fsp.comb(n, k, repetition=repetition)

    def s(n, k):
        return sp.comb(n, k, repetition=repetition)
    for n, k in pts:
        if abs(s(n + 1e-7, k) - s(n - 1e-7, k)) > 1e-3:
            continue        # a jump of SciPy's version (comb(N + k - 1, k) before 1.16)
        got = fd.grad(f, (0, 1))(n, k)
        np.testing.assert_allclose(fd.jit(f)(n, k), s(n, k), rtol=1e-13)
        want = (central(lambda v: s(v, k), n, 1e-7), central(lambda v: s(n, v), k, 1e-7))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=str((n, k)))
    if not repetition:   # comb(N, 0) jumps from 0 to 1 at N = 0: the right derivative
        assert fd.jit(f)(0.0, 0.0) == 1.0 and fd.grad(f, (0, 1))(0.0, 0.0) == (0.0, 0.0)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_mixed_single_precision_dtypes(name):
    """float32 with complex64 finds SciPy's complex128 loop first (complex64 was
    returned)."""
    f, s = getattr(fsp, name), getattr(sp, name)
    r = np.full(3, 0.5, np.float32)
    c = np.full(3, 0.5 + 0.25j, np.complex64)
    for a, b in ((r, r), (r, c), (c, r), (c, c)):
        (got,) = traced(f, a, b)
        want = s(a, b)
        assert got.dtype == want.dtype, (a.dtype, b.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("extend", ["zero", "complex"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.uint8,
                                   np.int64])
def test_factorial_dtypes_as_scipy(extend, dtype):
    """factorial computes n + 1 in n's dtype and Gamma in the loop that picks (float32
    stays float32 for extend='complex'; float16 rounds n + 1), and returns an empty input
    as it is: it was float64 throughout, from float64 arithmetic."""
    n = np.array([1.1, 2.5, 0.0, 3.0, 7.3, -1.0, -2.5, np.nan])
    n = n[np.isfinite(n) & (n >= 0)] if np.dtype(dtype).kind in "iu" else n
    for x in (n.astype(dtype), np.zeros(0, dtype), np.asarray(n[1], dtype)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # (NumPy 1.26 would promote a 0-d float32 by value: funcdiff follows NEP 50)
            with nep50() if x.ndim == 0 and x.dtype.kind == "f" else contextlib.nullcontext():
                want = sp.factorial(x, extend=extend)
            (got,) = traced(lambda v: fsp.factorial(v, extend=extend), x)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.float32 else 1e-14)


def _componentwise_close(got, want, rtol):
    """Real and imaginary parts each to ``rtol`` of themselves (a tiny real part beside a
    huge imaginary one is checked as tightly as the imaginary part)."""
    for g, w in ((got.real, want.real), (got.imag, want.imag)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0)


def test_complex_erf_on_and_near_the_imaginary_axis():
    """erf(iy) = i erfi(y): the real part was 1 - (1 + eps) (not 0), NaN once exp(y^2)
    overflows (SciPy: 0 + inf j); near the axis the real part, tiny beside the imaginary
    one, lost up to 7 digits to cancellation (SciPy's Faddeeva erf uses a series in x
    there).  erfc likewise (1 - inf j).  Derivatives: 2/sqrt(pi) exp(-z^2)."""
    y = np.array([0.7, 3.0, -3.0, 10.0, 26.0, 26.7, 27.5, 30.0, -30.0, 100.0, 1e300])
    for fn, s in ((fsp.erf, sp.erf), (fsp.erfc, sp.erfc)):
        z = 1j * y
        (got,) = traced(fn, z)
        want = s(z)
        np.testing.assert_array_equal(got.real, want.real)      # exactly 0 (erf), 1 (erfc)
        np.testing.assert_allclose(got.imag, want.imag, rtol=1e-14)
        xs = np.array([1e-12, -1e-9, 3e-6, -1e-4, 4e-3])
        z = (xs[:, None] + 1j * np.array([0.6, 2.4, -5.0, 20.0])[None, :]).ravel()
        (got,) = traced(fn, z)
        _componentwise_close(got, s(z), 1e-12)
        (got,) = traced(fn, z.astype(np.complex64))
        assert got.dtype == np.complex64
    z = np.array([0.3 + 0.2j, 1e-9 + 2.4j, -2.0 + 1.0j, 4.0 - 3.0j, 0.0 + 3.0j, 1.5 + 0.0j])
    for fn, sign in ((fsp.erf, 1.0), (fsp.erfc, -1.0)):
        for direction in (1.0, 1j):
            _, t = fd.jvp(fn, (z,), (direction * np.ones_like(z),))
            _componentwise_close(t, direction * sign * 2 / np.sqrt(np.pi) * np.exp(-z ** 2),
                                 1e-13)
        check_grads(fn, (z,), order=2)


def test_complex_from_infinite_parts():
    """The ``complex`` primitive (complex erf's axis values are built with it) made
    ``complex(0, inf)`` ``nan+infj``: ``x + 1j * y``."""
    for f in (make_complex, fd.jit(make_complex)):
        got = f(np.array([0.0, 1.0, -np.inf]), np.array([np.inf, -np.inf, 2.0]))
        np.testing.assert_array_equal(got.real, [0.0, 1.0, -np.inf])
        np.testing.assert_array_equal(got.imag, [np.inf, -np.inf, 2.0])


# --- distributions -------------------------------------------------------------------------

ss = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("beta", [0.7, 1.0, 2.5])
def test_gennorm_cdf_at_zero(beta):
    """gennorm's cdf is smooth at 0 with slope pdf(0); its derivative there was 0 (sign's
    derivative times the infinite slope of |z|^beta).  sf, logcdf and logsf likewise."""
    import funcdiff.scipy.stats as fst
    pdf0 = ss.gennorm.pdf(0.0, beta)
    for m, want in (("cdf", pdf0), ("sf", -pdf0), ("logcdf", 2 * pdf0), ("logsf", -2 * pdf0)):
        f = getattr(fst.gennorm, m)
        assert fd.jit(f)(0.0, beta) == getattr(ss.gennorm, m)(0.0, beta)
        np.testing.assert_allclose(fd.grad(f)(0.0, beta), want, rtol=1e-13)
        np.testing.assert_allclose(
            fd.grad(f)(0.0, beta),
            central(lambda v: getattr(ss.gennorm, m)(v, beta), 0.0, 1e-7), rtol=1e-5)


@pytest.mark.parametrize("dist,shapes,end,want", [
    ("beta", (2.0, 3.0), 0.0, 12.0), ("beta", (2.0, 3.0), 1.0, 0.0),
    ("beta", (1.0, 2.0), 0.0, -2.0), ("beta", (1.0, 2.0), 1.0, -2.0),
    ("beta", (3.0, 1.5), 1.0, -np.inf), ("beta", (1.0, 1.0), 0.0, 0.0),
    ("gamma", (3.0,), 0.0, 0.0), ("gamma", (2.0,), 0.0, 1.0), ("gamma", (1.0,), 0.0, -1.0),
    ("gamma", (1.5,), 0.0, np.inf), ("chi2", (3.0,), 0.0, np.inf),
    ("chi2", (4.0,), 0.0, 0.25), ("chi2", (5.0,), 0.0, 0.0), ("chi2", (2.0,), 0.0, -0.25)])
def test_pdf_derivative_at_the_ends_of_the_support(dist, shapes, end, want):
    """A pdf at an end of its support (where SciPy's pdf is defined) has the one-sided
    derivative from inside; it was NaN (``exp(xlogy(a - 1, 0)) = exp(-inf)`` times an
    infinite log-derivative)."""
    import funcdiff.scipy.stats as fst
    f = getattr(fst, dist).pdf
    s = getattr(ss, dist).pdf
    assert fd.jit(f)(end, *shapes) == s(end, *shapes)
    got = fd.grad(f)(end, *shapes)
    assert got == want or np.isclose(got, want, rtol=1e-13), got
    if np.isfinite(want):   # the one-sided difference of SciPy's pdf from inside
        h = -1e-10 if end == 1.0 else 1e-10
        np.testing.assert_allclose(got, (s(end + h, *shapes) - s(end, *shapes)) / h,
                                   rtol=1e-4, atol=1e-4)


def _one_sided(s, v, lo, hi, h=1e-7):
    """The one-sided difference of ``s`` at ``v`` from inside ``[lo, hi]``."""
    step = h if v - h < lo else -h
    return (s(v + step) - s(v)) / step


@pytest.mark.parametrize("dist,method,k,shapes,i", [
    ("bernoulli", "pmf", 0, (0.0,), 0), ("bernoulli", "pmf", 1, (0.0,), 0),
    ("bernoulli", "pmf", 1, (1.0,), 0), ("bernoulli", "pmf", 0, (1.0,), 0),
    ("bernoulli", "cdf", 0, (0.0,), 0), ("bernoulli", "sf", 0, (1.0,), 0),
    ("bernoulli", "logsf", -1, (0.0,), 0),
    ("binom", "pmf", 0, (5, 0.0), 1), ("binom", "pmf", 1, (5, 0.0), 1),
    ("binom", "pmf", 5, (5, 1.0), 1), ("binom", "pmf", 4, (5, 1.0), 1),
    ("binom", "cdf", 0, (5, 0.0), 1), ("binom", "sf", 0, (5, 0.0), 1),
    ("binom", "logsf", -1, (5, 0.0), 1), ("binom", "pmf", 600, (2000, 0.0), 1),
    ("poisson", "pmf", 0, (0.0,), 0), ("poisson", "pmf", 1, (0.0,), 0),
    ("poisson", "pmf", 1000, (1000.0,), 0),
    ("geom", "pmf", 2, (1.0,), 0), ("geom", "pmf", 1, (1.0,), 0),
    ("geom", "cdf", 1, (1.0,), 0), ("geom", "sf", 1, (1.0,), 0),
    ("geom", "logsf", 0, (1.0,), 0), ("geom", "logcdf", 1.5, (1.0,), 0),
    ("nbinom", "pmf", 1, (3.0, 1.0), 1), ("nbinom", "pmf", 0, (3.0, 1.0), 1)])
def test_discrete_derivatives_at_parameter_edges(dist, method, k, shapes, i):
    """At p = 0 or 1 (mu = 0) a pmf/cdf/sf is 0 or 1 with a finite one-sided slope in
    the parameter: it was NaN (``exp(xlogy(k, 0))``: 0 * inf), or half of it (the
    ``clip`` to [0, 1], whose tie rule halves the slope at the bound); below the support
    logsf is the constant 0, its derivative was NaN (log(0) in the discarded branch).
    Against SciPy's one-sided difference from inside the parameter range."""
    import funcdiff.scipy.stats as fst
    f = getattr(getattr(fst, dist), method)
    s = getattr(getattr(ss, dist), method)
    shapes = list(shapes)

    def fs_(v):
        return f(k, *shapes[:i], v, *shapes[i + 1:])

    def s_(v):
        return s(k, *shapes[:i], v, *shapes[i + 1:])
    v = float(shapes[i])
    assert fd.jit(fs_)(v) == s_(v)
    lo, hi = (0.0, 1.0) if dist != "poisson" else (0.0, np.inf)
    want = _one_sided(s_, v, lo, hi)
    for diff in (fd.grad, fd.jacfwd):
        np.testing.assert_allclose(diff(fs_)(v), want, rtol=1e-5, atol=1e-5)


# --- ndimage, interpolate ----------------------------------------------------------------

nd = pytest.importorskip("scipy.ndimage")


def test_map_coordinates_bool_output_and_unsupported_dtypes():
    """SciPy stores a bool output as C's cast of the interpolated value (truncated: True
    where |t| >= 1), and refuses float16 data; funcdiff gave ``t != 0`` and
    interpolated float16."""
    import funcdiff.scipy.ndimage as fnd
    from funcdiff.core.errors import FuncdiffTypeError
    x = np.linspace(-3, 3, 25)
    c = np.linspace(0, 24, 49)[None]
    for a, kw in ((x, dict(output=bool)), (np.array([True, False, True]), {})):
        cc = c[:, :2 * len(a) - 1] / (len(x) - 1) * (len(a) - 1) if len(a) < 25 else c
        (got,) = traced(lambda v, u: fnd.map_coordinates(v, u, order=1, **kw), a, cc)
        want = nd.map_coordinates(a, cc, order=1, **kw)
        assert got.dtype == want.dtype == np.bool_
        np.testing.assert_array_equal(got, want)
    for a, kw in ((np.ones(3, np.float16), {}), (np.ones(3), dict(output=np.float16))):
        with pytest.raises(RuntimeError):
            nd.map_coordinates(a, c[:, :3], order=1, **kw)
        with pytest.raises(FuncdiffTypeError, match="float16"):
            traced(lambda v: fnd.map_coordinates(v, c[:, :3], order=1, **kw), a)


def test_map_coordinates_wrap_at_the_last_sample():
    """SciPy's 'wrap' (period n - 1) is left-continuous at the last sample and jumps to
    the first just past it: the derivative there is the slope from the inside; it was
    the slope of a mirrored cell, the inside slope with its sign flipped."""
    import funcdiff.scipy.ndimage as fnd
    a = np.array([0.3, -0.1, 0.6, 0.1, -0.5])
    c = np.array([-4.0, 4.0])        # (8.0 maps to 0: a jump on its left, the right slope)

    def f(u):
        return fnd.map_coordinates(a, u[None], order=1, mode="wrap")
    np.testing.assert_array_equal(fd.jit(f)(c), nd.map_coordinates(a, c[None], order=1,
                                                                   mode="wrap"))
    left = (nd.map_coordinates(a, c[None], order=1, mode="wrap")
            - nd.map_coordinates(a, c[None] - 1e-7, order=1, mode="wrap")) / 1e-7
    np.testing.assert_allclose(fd.vmap(fd.grad(lambda u: f(u[None])[0]))(c), left,
                               rtol=1e-6)
    np.testing.assert_allclose(left, a[-1] - a[-2], rtol=1e-6)
    np.testing.assert_allclose(fd.grad(lambda u: f(u[None])[0])(8.0), a[1] - a[0],
                               rtol=1e-12)


# --- linalg ------------------------------------------------------------------------------

sl = pytest.importorskip("scipy.linalg")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int64,
                                   np.bool_, np.complex64])
def test_matrix_functions_of_1x1_matrices_keep_scipys_dtype(dtype):
    """SciPy's expm takes ``np.exp`` of a (..., 1, 1) matrix (float16, and a bool's
    float16, stay; funcdiff gave float32/float64); SciPy 1.16+'s sqrtm likewise
    ``np.emath.sqrt`` (its scalar case returns an exponential: not followed)."""
    import funcdiff.scipy.linalg as fl
    for shape in ((1, 1), (3, 1, 1), ()):
        a = (np.arange(1, 1 + int(np.prod(shape))).reshape(shape) % 3 + 1).astype(dtype)
        (got,) = traced(fl.expm, a)
        want = sl.expm(a)
        assert got.dtype == want.dtype and got.shape == want.shape, shape
        np.testing.assert_allclose(got, want, rtol=2e-3)
        if shape:
            try:
                want = sl.sqrtm(a)
            except ValueError:      # SciPy 1.15 refuses float16 ("Non-matrix input")
                continue
            (got,) = traced(fl.sqrtm, a)
            assert got.dtype == want.dtype and got.shape == want.shape, shape
            np.testing.assert_allclose(got, want, rtol=2e-3)


# --- spatial, cluster -----------------------------------------------------------------------

def test_as_euler_keeps_pi():
    """Angles of exactly +-pi: SciPy wraps into [-pi, pi] by one turn, keeping pi (the
    middle angle of a symmetric sequence lies in [0, pi]); a remainder made pi -pi."""
    from funcdiff.scipy.spatial.transform import Rotation as FR
    R = pytest.importorskip("scipy.spatial.transform").Rotation
    rv = np.concatenate([np.pi * np.eye(3), -np.pi * np.eye(3), np.pi / 2 * np.eye(3),
                         [[0.0, np.pi - 1e-9, 0.0], [0.3, -0.2, 1.0]]])
    q = R.from_rotvec(rv).as_quat()
    q = np.concatenate([q, -q])
    for seq in ("xyz", "ZYX", "zxz", "XZX", "yxy"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # gimbal lock
            want = R.from_quat(q).as_euler(seq)
            (got,) = traced(lambda v: FR.from_quat(v).as_euler(seq), q)
        np.testing.assert_allclose(got, want, atol=1e-6)
        if seq[0] == seq[2] or seq[0].lower() == seq[2].lower():
            assert np.all((got[:, 1] >= 0) & (got[:, 1] <= np.pi))


def test_vq_refuses_complex_and_odd_floats():
    """vq cast complex observations to float64, dropping the imaginary parts (a wrong
    code and distance); SciPy refuses them, and float16/longdouble."""
    from funcdiff.scipy.cluster.vq import vq
    from funcdiff.core.errors import FuncdiffTypeError, FuncdiffValueError
    svq = pytest.importorskip("scipy.cluster.vq")
    obs = np.array([[0.0, 1j], [1.0, 0.0]])
    codes = np.array([[0.0, 0.0], [0.0, 1j]])
    with pytest.raises(ValueError):
        svq.vq(obs, codes)
    with pytest.raises(FuncdiffValueError, match="complex"):
        fd.jit(vq)(obs, codes)
    for dt in (np.float16, np.longdouble):
        with pytest.raises(TypeError):
            svq.vq(np.ones((2, 2), dt), np.ones((1, 2), dt))
        with pytest.raises(FuncdiffTypeError):
            fd.jit(vq)(np.ones((2, 2), dt), np.ones((1, 2), dt))


@pytest.mark.parametrize("n,m", [(1, 1), (2, 1), (1, -1), (3, -3)])
def test_sph_harm_y_slope_next_to_the_poles(n, m):
    """The theta-derivative is 0 exactly at the poles (SciPy's Y is even in theta: a kink
    there for odd |m|), but every |theta| below 1e-8 was taken for a pole (cos(theta) ==
    1 in floating point), its slope 0 instead of the inside one."""
    for theta, side in ((1e-12, 1), (1e-9, 1), (np.pi - 1e-12, -1), (np.pi + 1e-9, 1)):
        _, t = fd.jvp(lambda v: fsp.sph_harm_y(n, m, v, 0.3), (theta,), (1.0,))
        h = side * 1e-7
        want = (sp.sph_harm_y(n, m, theta + h, 0.3) - sp.sph_harm_y(n, m, theta, 0.3)) / h
        np.testing.assert_allclose(t, want, rtol=1e-5, atol=1e-6)
    for pole in (0.0, np.pi, 2 * np.pi):      # the documented kink rule
        _, t = fd.jvp(lambda v: fsp.sph_harm_y(n, m, v, 0.3), (pole,), (1.0,))
        assert t == 0
