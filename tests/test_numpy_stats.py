"""funcdiff.numpy's statistics: average cov corrcoef ptp -- against NumPy (float64,
float32, ints, complex), traced, jitted, vmapped and differentiated (``check_all``,
weights included), NumPy's errors, and the subgradient of ptp at ties."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd

from _helpers import traced, values
from _numpy_checks import NUMPY2, check_all, same

seeds = st.integers(0, 2 ** 32 - 1)
FW = np.array([1, 2, 1, 3, 1])
AW = np.array([0.5, 1.0, 2.0, 0.25, 1.5])


def _x(shape, dtype=np.float64, seed=0):
    return values(np.random.default_rng(seed), shape, dtype)


def _w(shape, dtype=np.float64, seed=5):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype)


CASES = [
    ("average", lambda a: np.average(a), [(3, 4)]),
    ("average_axis", lambda a: np.average(a, axis=1), [(3, 4)]),
    ("average_weights", lambda a, w: np.average(a, weights=w), [(3, 4), "w(3, 4)"]),
    ("average_weights_axis", lambda a, w: np.average(a, axis=0, weights=w), [(3, 4), "w(3,)"]),
    ("average_weights_axes",
     lambda a, w: np.average(a, axis=(2, 0), weights=w, keepdims=True), [(3, 2, 4), "w(4, 3)"]),
    ("average_returned", lambda a, w: np.average(a, axis=-1, weights=w, returned=True),
     [(3, 4), "w(4,)"]),
    ("average_returned_plain", lambda a: np.average(a, axis=0, returned=True), [(3, 4)]),
    ("cov", lambda a: np.cov(a), [(3, 5)]),
    ("cov_1d", lambda a: np.cov(a), [(5,)]),
    ("cov_rowvar_bias", lambda a: np.cov(a, rowvar=False, bias=True), [(5, 3)]),
    ("cov_y", lambda a, b: np.cov(a, b), [(2, 5), (5,)]),
    ("cov_y_rowvar", lambda a, b: np.cov(a, b, rowvar=False), [(5, 2), (5, 2)]),
    ("cov_ddof", lambda a: np.cov(a, ddof=2), [(3, 5)]),
    ("cov_fweights", lambda a: np.cov(a, fweights=FW), [(3, 5)]),
    ("cov_aweights", lambda a: np.cov(a, aweights=AW), [(3, 5)]),
    ("cov_both", lambda a: np.cov(a, fweights=FW, aweights=AW, ddof=1), [(3, 5)]),
    ("cov_both_ddof0", lambda a: np.cov(a, fweights=FW, aweights=AW, ddof=0), [(3, 5)]),
    ("cov_traced_aweights", lambda a, w: np.cov(a, aweights=w), [(3, 5), "w(5,)"]),
    ("corrcoef", lambda a: np.corrcoef(a), [(3, 5)]),
    ("corrcoef_y", lambda a, b: np.corrcoef(a, b, rowvar=False), [(5, 2), (5,)]),
    ("corrcoef_single", lambda a: np.corrcoef(a), [(5,)]),
    ("ptp", lambda a: np.ptp(a), [(3, 4)]),
    ("ptp_axis", lambda a: np.ptp(a, axis=1, keepdims=True), [(3, 4)]),
]


def _args(shapes, dtype):
    out = []
    for i, s in enumerate(shapes):
        if isinstance(s, str):
            out.append(_w(eval(s[1:]), dtype if dtype != np.int32 else np.float64))
        else:
            out.append(_x(s, dtype, seed=i))
    return out


def _skip_numpy1(name, dtype):
    if NUMPY2:
        return
    if name == "average_weights_axes":   # pragma: no cover - NumPy 1.x
        pytest.skip("NumPy 1.x takes 1-d weights along one axis only (see test_errors)")
    if name == "average" and dtype == np.float32:   # pragma: no cover - NumPy 1.x
        pytest.skip("mean of float32 under NumPy 1.x's value-based scalar promotion")


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_float64_all_transforms(name, f, shapes):
    _skip_numpy1(name, np.float64)
    check_all(f, *_args(shapes, np.float64))


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_other_dtypes(name, f, shapes, dtype):
    _skip_numpy1(name, dtype)
    check_all(f, *_args(shapes, dtype))


def test_complex_and_dtype_keyword():
    z = _x((3, 5), np.complex128)
    for f in (lambda a: np.cov(a), lambda a: np.corrcoef(a),
              lambda a: np.cov(a, aweights=AW), lambda a: np.average(a, axis=1, weights=AW)):
        check_all(f, z, grads=False)
    x = _x((3, 5), np.float32)
    for f in (lambda a: np.cov(a, dtype=np.float32), lambda a: np.corrcoef(a, dtype=np.float32),
              lambda a: np.cov(a, aweights=AW, dtype=np.float32)):
        check_all(f, x)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.booleans(), st.sampled_from([None, 0, 1, 2]),
       seeds)
def test_cov_shapes(nvar, nobs, rowvar, ddof, seed):
    x = _x((nvar, nobs) if rowvar else (nobs, nvar), seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.cov(x, rowvar=rowvar, ddof=ddof)
        same(traced(lambda a: np.cov(a, rowvar=rowvar, ddof=ddof), x), [want])


def test_degrees_of_freedom_warning_and_empty():
    x = _x((2, 2))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        np.cov(x, ddof=2)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        fd.grad(lambda a: np.sum(np.cov(a, ddof=2)))(x)
    with np.errstate(all="ignore"):
        same(traced(lambda a: np.cov(a[:0]), x), [np.cov(x[:0])])
    # traced weights under jit: no values to check, the formula's inf/NaN instead
    with np.errstate(all="ignore"):
        out = fd.jit(lambda a, w: np.cov(a, aweights=w, ddof=2))(x, np.ones(2))
    assert np.all(~np.isfinite(out))


def test_errors():
    x = _x((3, 5))
    run = lambda f: fd.grad(lambda a: np.sum(f(a)))(x)  # noqa: E731
    with pytest.raises(ValueError, match="ddof must be integer"):
        run(lambda a: np.cov(a, ddof=1.5))
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        run(lambda a: np.cov(a[None]))
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        run(lambda a: np.cov(a, a[None]))
    with pytest.raises(TypeError, match="fweights must be integer"):
        run(lambda a: np.cov(a, fweights=AW))
    with pytest.raises(ValueError, match="cannot be negative"):
        run(lambda a: np.cov(a, aweights=-AW))
    with pytest.raises(ValueError, match="incompatible numbers"):
        run(lambda a: np.cov(a, fweights=FW[:3]))
    with pytest.raises(ValueError, match="multidimensional"):
        run(lambda a: np.cov(a, aweights=np.ones((5, 1))))
    with pytest.raises(ZeroDivisionError):
        run(lambda a: np.average(a, axis=1, weights=np.zeros(5)))
    with pytest.raises(ZeroDivisionError):      # traced weights with known values
        fd.grad(lambda w: np.average(x, axis=1, weights=w)[0])(np.zeros(5))
    with pytest.raises(TypeError, match="Axis must be specified"):
        run(lambda a: np.average(a, weights=AW))
    with pytest.raises(ValueError, match="consistent|compatible"):
        run(lambda a: np.average(a, axis=0, weights=AW))
    if not NUMPY2:    # pragma: no cover - NumPy 1.x: 1-d weights along one axis only
        with pytest.raises(TypeError, match="1D weights"):
            run(lambda a: np.average(a, axis=1, weights=a[:, :1]))
    with pytest.raises(TypeError, match="boolean subtract"):
        run(lambda a: np.ptp(a > 0) * a)
    with pytest.raises(TypeError, match="out="):
        run(lambda a: np.ptp(a, out=np.zeros(())))


def test_ptp_subgradient_at_ties():
    """ptp = max - min: tied extrema share the derivative evenly (max's convention)."""
    x = np.array([3.0, 1.0, 3.0, 1.0, 2.0])
    g = fd.grad(lambda a: np.ptp(a))(x)
    np.testing.assert_allclose(g, [0.5, -0.5, 0.5, -0.5, 0.0])
    _, t = fd.jvp(lambda a: np.ptp(a), (x,), (np.ones(5),))
    assert t == 0.0


def test_corrcoef_diagonal_is_one_with_zero_derivative():
    x = _x((3, 6))
    J = fd.jacrev(lambda a: np.diagonal(np.corrcoef(a)))(x)
    np.testing.assert_allclose(J, 0.0, atol=1e-12)
