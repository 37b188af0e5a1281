"""Regressions from a hostile review of the NumPy surface: each test is a wrong number
(or a crash, or a dropped imaginary part) that funcdiff once gave where NumPy gives
another answer, checked against NumPy (values, shapes, dtypes) under tracing, ``jit``
and ``vmap``, and the derivatives where they exist."""
from __future__ import annotations

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import FuncdiffError

from _helpers import traced
from _numpy_checks import NUMPY2, check_all, same

RNG = np.random.default_rng(7)


def all_modes(f, *args):
    """``f`` traced and jitted equals NumPy's ``f`` (exactly: these are selections and
    roundings)."""
    want = f(*args)
    same(traced(f, *args), want if isinstance(want, (tuple, list)) else [want])
    same(fd.jit(f)(*args), want)
    return want


# --- nan* reductions of complex arrays: NumPy skips a NaN in either part ------------------

@pytest.mark.parametrize("fn", [np.nanmax, np.nanmin, np.nanargmax, np.nanargmin])
def test_complex_nan_extrema_skip_nans(fn):
    z = np.array([[1 + 1j, np.nan, 2 - 1j, complex(1, np.nan), 2 - 2j],
                  [complex(np.nan, 2), 0.5j, -1 + 0j, 3 + 0j, np.nan]])
    all_modes(fn, z[0])
    all_modes(lambda a: fn(a, axis=1), z)
    all_modes(lambda a: fn(a.astype(np.complex64), axis=1), z)


# --- clip of integers with a Python int bound beyond the dtype's range (NumPy 2) ----------

@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_clip_integer_out_of_range_bounds(dtype):
    x = np.array([0, 2, 5, 100], dtype)
    for lo, hi in [(0, 300), (-300, 3), (-1, 3), (None, 1000), (-1000, None)]:
        want = np.clip(x, lo, hi)
        if not NUMPY2:     # NumPy 1.x promotes by value (int16); NumPy 2 keeps the dtype
            want = want.astype(dtype)
        assert want.dtype == dtype
        f = lambda a, lo=lo, hi=hi: np.clip(a, lo, hi)  # noqa: E731
        same(traced(f, x)[0], want)
        same(fd.jit(f)(x), want)
        same(fd.jit(lambda a, lo=lo, hi=hi: a.clip(lo, hi))(x), want)


# --- round/around with decimals: ints keep their dtype; NumPy's float arithmetic ----------

@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int64, np.float32, np.float64,
                                   np.complex64, np.complex128])
def test_round_decimals_as_numpy(decimals, dtype):
    base = np.array([15, 25, -15, -25, 14, 7, 125, 0.125, 1.005, 2.675, 1e3 + 0.5])
    if np.dtype(dtype).kind == "c":
        x = (RNG.uniform(-1000, 1000, 40).round(3)
             + 1j * RNG.uniform(-1000, 1000, 40).round(3)).astype(dtype)
    elif np.dtype(dtype).kind == "f":
        x = np.concatenate([base, RNG.uniform(-1000, 1000, 40).round(3)]).astype(dtype)
    else:
        x = np.array([15, 25, -15, -25, 14, 7, 105, 95], np.int64)
        x = x[(x >= np.iinfo(dtype).min) & (x <= np.iinfo(dtype).max)].astype(dtype)
    all_modes(lambda a: np.round(a, decimals), x)
    all_modes(lambda a: np.around(a, decimals), x)


def test_round_booleans():
    b = np.array([True, False])
    all_modes(np.round, b)                       # rint: float16
    with pytest.raises(TypeError):
        np.round(b, 1)
    with pytest.raises(FuncdiffError, match="booleans"):
        fd.jit(lambda a: np.round(a, 1))(b)


def test_round_derivative_is_zero():
    g = fd.grad(lambda x: np.round(x, 2) + np.round(x * 1j, -1).real)(1.2345)
    assert g == 0.0


# --- power of a boolean base: np.power's dtype, not the ** operator's ----------------------

def test_boolean_base_power_dtype_under_jit():
    b = np.array([True, False])
    for e in (2, 3, 0, 2.5, np.int8(2)):
        all_modes(lambda a, e=e: np.power(a, e), b)
        want = np.power(b, e)
        same(fd.jit(lambda a, e=e: a ** e)(b), want)


# --- interp: a complex x or xp is NumPy's TypeError, never a dropped imaginary part --------

def test_interp_rejects_complex_coordinates():
    xp, fp = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    for args in [(np.array([0.5 + 1j]), xp, fp), (np.array([0.5]), xp + 0j, fp)]:
        with pytest.raises(TypeError):
            np.interp(*args)
        with pytest.raises(FuncdiffError, match="'safe'"):
            fd.jit(np.interp)(*args)
    for kw in ({"left": 1j}, {"right": 1 + 1j}):
        with pytest.raises(TypeError):
            np.interp(np.array([-3.0]), xp, fp, **kw)
        with pytest.raises(FuncdiffError, match="real number"):
            fd.jit(lambda x: np.interp(x, xp, fp, **kw))(np.array([-3.0]))
    # a complex fp is fine, as is a complex period (NumPy uses its absolute value)
    x = np.array([-1.0, 0.25, 0.5, 3.0])
    check_all(lambda a, f: np.interp(a, xp, f + 1j * f[::-1], left=2.0), x, fp)
    check_all(lambda a: np.interp(a, xp, fp, period=1j), x, grads=False)


# --- numpy.fix and numpy.common_type on traced values ---------------------------------------

@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.float16, np.float32, np.float64])
def test_fix(dtype):
    x = np.array([1.5, -0.5, 0.0, -2.7, np.inf, -np.inf, np.nan])
    x = (x[:4] > 0) if dtype is np.bool_ else x[:4].astype(dtype) \
        if np.dtype(dtype).kind == "i" else x.astype(dtype)
    want = all_modes(np.fix, x)
    same(fd.vmap(np.fix)(np.stack([x, x])), np.stack([want, want]))
    if dtype is np.float64:
        assert np.array_equal(np.signbit(fd.jit(np.fix)(x)), np.signbit(want))
        check_all(lambda a: np.fix(a) + a, x[:4])


def test_common_type():
    a, b = np.ones(2, np.float32), np.ones(2, np.int8)
    want = np.common_type(a, b)
    assert fd.jit(lambda p, q: p * np.common_type(p, q)(2))(a, b).dtype == np.dtype(want)
    assert fnp.common_type(a, np.ones(1, np.complex64)) is np.complex64


# --- roots under jit: a leading zero coefficient gives NaN, not a LinAlgError ---------------

def test_roots_leading_zero_under_jit_is_nan():
    p = np.array([[0.0, 1.0, -3.0, 2.0], [1.0, -6.0, 11.0, -6.0]])
    r = fd.jit(np.roots)(p[0])
    assert r.shape == (3,) and np.all(np.isnan(r))
    got = fd.vmap(np.roots)(p)
    assert np.all(np.isnan(got[0]))
    np.testing.assert_allclose(np.sort(got[1].real), [1.0, 2.0, 3.0], rtol=1e-10)
    assert np.all(got[1].imag == 0)
    # outside jit the values are known: NumPy's trimmed, real result
    same(fnp.roots(p[0]), np.roots(p[0]))


# --- odd shapes: 0-d arrays with axis 0 / -1, empty axes ------------------------------------

AXIS_ERROR = getattr(np, "exceptions", np).AxisError


@pytest.mark.parametrize("axis", [0, -1, 1, -2, None])
@pytest.mark.parametrize("name,f", [
    ("nanmean", lambda a, ax: np.nanmean(a, axis=ax)),
    ("nanvar", lambda a, ax: np.nanvar(a, axis=ax)),
    ("nanstd", lambda a, ax: np.nanstd(a, axis=ax, keepdims=True)),
    ("squeeze", lambda a, ax: np.squeeze(a, axis=ax)),
    ("repeat", lambda a, ax: np.repeat(a, 2, axis=ax)),
    ("compress", lambda a, ax: np.compress([True], a, axis=ax)),
    ("argsort", lambda a, ax: np.argsort(a, axis=ax)),
    # (NumPy 1.x's argpartition of a 0-d array is 0-d; NumPy 2's, funcdiff's: as argsort)
    ("argpartition", lambda a, ax: np.argpartition(a, 0, axis=ax) if NUMPY2 or
     type(a) is fd.core.trace.Tracer else np.argsort(a, axis=ax)),
])
def test_zero_d_arrays_with_an_axis_as_numpy(name, f, axis):
    x = np.float64(0.5)
    try:
        want = f(x, axis)
    except AXIS_ERROR:
        with pytest.raises(AXIS_ERROR):
            fd.jit(lambda a: f(a, axis))(x)
        return
    all_modes(lambda a: f(a, axis), x)
    if name.startswith("nan"):
        check_all(lambda a: f(a, axis) * a, np.float64(0.75))
    assert want is not None


@pytest.mark.parametrize("kth", [0, 1, -1, 5])
def test_partition_of_an_empty_axis_takes_any_kth(kth):
    for shape, axis in (((0,), -1), ((0, 3), 0), ((3, 0), None)):
        x = np.zeros(shape)
        all_modes(lambda a: np.partition(a, kth, axis=axis), x)
        assert fd.jit(lambda a: np.argpartition(a, kth, axis=axis))(x).shape == \
            np.argpartition(x, kth, axis=axis).shape


def test_apply_along_axis_of_empty_slices():
    all_modes(lambda a: np.apply_along_axis(np.sum, 0, a), np.zeros(0))
    all_modes(lambda a: np.apply_along_axis(lambda r: r * 2, 1, a), np.zeros((3, 0)))


def test_polyval_of_coefficient_arrays():
    p = RNG.standard_normal((3, 2))
    for x in (0.7, np.array([0.5, -1.5]), RNG.standard_normal((4, 2))):
        want = np.polyval(p, x)
        same(fd.jit(np.polyval)(p, x), want)
        check_all(lambda c, v: np.polyval(c, v), p, np.broadcast_to(x, want.shape).copy())
    all_modes(np.polyval, np.zeros((3, 0)), np.float64(2.0))
    with pytest.raises(TypeError):
        np.polyval(np.float64(2.0), 1.0)
    with pytest.raises(FuncdiffError, match="0-d"):
        fd.jit(np.polyval)(np.float64(2.0), 1.0)


# --- means and variances of empty slices: NaN values, derivative 0 both ways -----------------

MASK = np.array([[False, False], [True, True], [True, False]])


@pytest.mark.parametrize("name,f", [
    ("mean empty", lambda a: np.mean(a[:0], axis=0)),
    ("mean all empty", lambda a: np.mean(a[:, :0])),
    ("average empty", lambda a: np.average(a[:0])),
    ("mean where", lambda a: np.mean(a, axis=1, where=MASK)),
    ("nanmean all-NaN row", lambda a: np.nanmean(np.where(MASK, a, np.nan), axis=1)),
    ("var where", lambda a: np.var(a, axis=1, where=MASK)),
    ("std where complex", lambda a: np.std(a + 1j * a * a, axis=1, where=MASK)),
    ("std empty", lambda a: np.std(a[:0], axis=0)),
    ("nanvar all-NaN row", lambda a: np.nanvar(np.where(MASK, a, np.nan), axis=1)),
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_empty_slices_have_zero_derivative(name, f):
    """NumPy's 0/0 = NaN for an empty slice is a constant: its derivative is 0 in forward
    and reverse mode (the division used to make it NaN in forward mode, or in reverse
    mode the other entries' derivatives NaN), and the other slices are unaffected."""
    x = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 7.0]])
    with np.errstate(all="ignore"):
        want = f(x)
        all_modes(f, x)
        t = RNG.standard_normal(x.shape)
        _, tan = fd.jvp(f, (x,), (t,))
        g = fd.grad(lambda a: np.nansum(f(a)))(x)
        g_jit = fd.jit(fd.grad(lambda a: np.nansum(f(a))))(x)
    empty = np.isnan(np.asarray(want))
    assert np.all(np.asarray(tan)[empty] == 0)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(tan))
    np.testing.assert_allclose(g_jit, g, rtol=1e-12)
    # finite differences of the finite part (NaN entries dropped, as nansum does)
    eps = 1e-6
    num = (np.nansum(f(x + eps * t)) - np.nansum(f(x - eps * t))) / (2 * eps)
    np.testing.assert_allclose(np.sum(g * t), num, rtol=1e-6, atol=1e-8)
