"""funcdiff.scipy.ndimage.map_coordinates: orders 0 and 1, SciPy's eight modes.

Values: traced, jit and the pure-NumPy composition against scipy.ndimage over
hypothesis shapes (1-3 dimensions, lengths 1-6), random and edge-case coordinates
(integers, half-integers, far outside, just outside by 1e-9), every mode, cval; dtypes
of the input (ints rounded half away from zero, uint clipped, bool, complex) and of
``output``.  Derivatives: check_grads order 2 in the input, the coordinates (away from
cell boundaries) and cval.  vmap against a loop, errors, the namespace.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.ndimage as snd
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
from funcdiff.scipy import ndimage as N
from funcdiff.test_util import check_grads

import _helpers

traced = functools.partial(_helpers.traced, unpack=True)
VALUES = settings(max_examples=60, deadline=None)
MODES = ["constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror",
         "wrap", "grid-wrap"]
EDGES = np.array([-7.3, -5.5, -4.0, -1.5, -1.0, -0.75, -0.5, -0.25, -1e-9, 0.0, 0.25, 0.5,
                  1.5, 2.5, 3.5, 3.75, 4.0, 4.0 + 1e-9, 4.25, 4.5, 4.75, 5.0, 5.5, 8.0,
                  9.5, 13.2])


def close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        tol = 1e-6 if want.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@st.composite
def case(draw):
    shape = tuple(draw(st.integers(1, 6)) for _ in range(draw(st.integers(1, 3))))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal(shape)
    m = max(shape)
    c = rng.uniform(-2 * m - 2, 3 * m + 2, (len(shape), 12))
    c = np.concatenate([c, np.round(c * 2) / 2], axis=1)   # integers and half-integers
    if len(shape) == 1:
        c = np.concatenate([c, EDGES[None] * shape[0] / 5], axis=1)
    return x, c


@VALUES
@given(xc=case(), mode=st.sampled_from(MODES), order=st.sampled_from([0, 1]),
       cval=st.sampled_from([0.0, -0.7, 2.5]))
def test_values_match_scipy(xc, mode, order, cval):
    x, c = xc
    want = snd.map_coordinates(x, c, order=order, mode=mode, cval=cval)
    f = lambda x, c: N.map_coordinates(x, c, order=order, mode=mode, cval=cval)  # noqa: E731
    close(traced(f, x, c), want)
    close(N.map_coordinates.traced(x, c, order=order, mode=mode, cval=cval), want)
    np.testing.assert_array_equal(f(x, c), want)          # eager: SciPy itself


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int16, np.uint8, np.bool_,
                                   np.complex128])
@pytest.mark.parametrize("output", [None, np.float64, np.int64, np.uint8, np.float32,
                                    "float64", np.complex128])
def test_dtypes(dtype, output, rng):
    x = rng.normal(size=(4, 5)) * 10
    x = (x + 1j * x[::-1]).astype(dtype) if dtype == np.complex128 else x.astype(dtype)
    c = rng.uniform(-1, 5, (2, 30))
    kw = dict(output=output, order=1, mode="nearest", cval=2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = snd.map_coordinates(x, c, **kw)
        except RuntimeError as e:
            msg = "complex dtype" if "complex dtype" in str(e) else "not supported"
            with pytest.raises(TypeError, match=msg):
                traced(lambda x, c: N.map_coordinates(x, c, **kw), x, c)
            return
        close(traced(lambda x, c: N.map_coordinates(x, c, **kw), x, c), want)


def test_integer_coordinates_and_lists(rng):
    x = rng.normal(size=(3, 4))
    c = np.array([[0, 2, 1], [3, 1, 0]])
    close(traced(lambda x: N.map_coordinates(x, c, order=1), x),
          snd.map_coordinates(x, c, order=1))
    close(traced(lambda x: N.map_coordinates(x, [[0.5, 1.5], [1.0, 2.5]], order=0), x),
          snd.map_coordinates(x, [[0.5, 1.5], [1.0, 2.5]], order=0))


@pytest.mark.parametrize("mode", MODES)
def test_check_grads(mode, rng):
    x = rng.normal(size=(4, 5))
    c = rng.uniform(-2, 7, (2, 10))
    c = np.where(np.abs(c - np.round(c)) < 0.05, c + 0.1, c)   # away from cell edges
    check_grads(lambda x, c, cv: N.map_coordinates(x, c, order=1, mode=mode, cval=cv),
                (x, c, 0.3), order=2, eps=1e-6)
    check_grads(lambda x, cv: N.map_coordinates(x, c, order=0, mode=mode, cval=cv),
                (x, 0.3), order=2)
    xc = x + 1j * rng.normal(size=x.shape)
    check_grads(lambda x: N.map_coordinates(x, c, order=1, mode=mode), (xc,), order=1)


def test_order0_is_flat_in_the_coordinates(rng):
    x, c = rng.normal(size=(4, 5)), rng.uniform(0, 3, (2, 6))
    g = fd.grad(lambda c: N.map_coordinates(x, c, order=0).sum())(c)
    np.testing.assert_array_equal(g, np.zeros_like(c))


def test_vmap_and_jit(rng):
    x = rng.normal(size=(4, 5))
    cs = rng.uniform(-1, 5, (3, 2, 7))
    for mode in ("reflect", "grid-constant", "wrap"):
        f = lambda c: N.map_coordinates(x, c, order=1, mode=mode, cval=1.5)  # noqa: E731
        close(fd.vmap(f)(cs), np.stack([snd.map_coordinates(x, c, order=1, mode=mode,
                                                            cval=1.5) for c in cs]))
        close(fd.jit(f)(cs[0]), traced(f, cs[0]))
    xs = rng.normal(size=(3, 4, 5))
    close(fd.vmap(lambda x: N.map_coordinates(x, cs[0], order=1))(xs),
          np.stack([snd.map_coordinates(v, cs[0], order=1) for v in xs]))
    g = fd.grad(lambda x: (N.map_coordinates(x, cs[0], order=1) ** 2).sum())
    np.testing.assert_allclose(fd.jit(g)(x), g(x), rtol=1e-12)


def test_errors(rng):
    x, c = rng.normal(size=(3, 3)), rng.uniform(0, 2, (2, 4))
    cases = [
        (lambda x, c: N.map_coordinates(x, c, order=3), ValueError, "order=3"),
        (lambda x, c: N.map_coordinates(x, c, order=7), ValueError, "spline order"),
        (lambda x, c: N.map_coordinates(x, c, order=1, mode="edge"), ValueError, "mode"),
        (lambda x, c: N.map_coordinates(x, c[:1], order=1), ValueError, "coordinate"),
        (lambda x, c: N.map_coordinates(x, c + 0j, order=1), TypeError, "Complex"),
        (lambda x, c: N.map_coordinates(x, c[:, 0], order=1), ValueError, "rank"),
        (lambda x, c: N.map_coordinates(x, c, order=1, output=np.empty(4)), TypeError,
         "output"),
        (lambda x, c: N.map_coordinates(x + 1j, c, order=1, output="float64"), TypeError,
         "complex"),
    ]
    for f, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            traced(f, x, c)
    with pytest.warns(UserWarning, match="promoting"):
        traced(lambda x, c: N.map_coordinates(x + 1j, c, order=1, output=np.float64), x, c)


def test_namespace():
    assert N.__all__ == ["map_coordinates"]
    assert dir(N) == ["map_coordinates"]
