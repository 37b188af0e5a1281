"""The rest of NumPy's ufuncs (funcdiff/numpy/_ufuncs.py) against NumPy.

Table-driven, each function with its domain and kind.  Over hypothesis-chosen
broadcasting shapes and dtypes (float16/32/64, ints, bools, complex, Python scalars):
eagerly NumPy's value exactly; traced (make_jaxpr + check_jaxpr + eval_jaxpr), through
``funcdiff.numpy`` and through NumPy's own dispatch, NumPy's values, shapes and dtypes,
and where NumPy rejects the dtypes a TypeError too.  Signed zeros, infinities, NaNs and
subnormals exactly (bit for bit where the function is exact); derivatives to order 2 in
float64 against finite differences; ``vmap`` equal to a loop and ``jit`` to the eager
result; ``reduce``/``accumulate``; error paths.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import FuncdiffTypeError, FuncdiffValueError
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, nep50, traced

VALUES = settings(max_examples=15, deadline=None)
GRADS = settings(max_examples=5, deadline=None)
seeds = st.integers(0, 2**31 - 1)
NP2 = hasattr(np, "bitwise_count")


def _u(lo, hi):
    return lambda r, n: r.uniform(lo, hi, n)


def _away(lo, hi):
    return lambda r, n: r.uniform(lo, hi, n) * r.choice([-1.0, 1.0], n)


def _frac(r, n):   # integer + a fraction clear of the jumps
    return r.integers(-3, 4, n) + r.uniform(0.15, 0.85, n)


R, UNIT, AWAY = _u(-2.0, 2.0), _u(-0.9, 0.9), _away(0.2, 2.0)

# name -> (domain, kind).  kind: "smooth" (derivatives checked), "zero" (derivative 0),
# "bool" (boolean result), "int" (integer operands only), "first" (smooth in the first
# output of a pair).  Array-API spellings are the same functions as their NumPy names.
UNARY = {
    "acos": (UNIT, "smooth"), "asin": (UNIT, "smooth"), "atan": (R, "smooth"),
    "acosh": (_u(1.2, 3.0), "smooth"), "asinh": (R, "smooth"), "atanh": (UNIT, "smooth"),
    "deg2rad": (R, "smooth"), "radians": (R, "smooth"), "rad2deg": (R, "smooth"),
    "degrees": (R, "smooth"), "fabs": (AWAY, "smooth"), "i0": (R, "smooth"),
    "angle": (AWAY, "zero"), "signbit": (R, "bool"), "spacing": (R, "zero"),
    "isposinf": (R, "bool"), "isneginf": (R, "bool"), "nan_to_num": (R, "smooth"),
    "frexp": (AWAY, "first"), "modf": (_frac, "first"),
    "bitwise_not": (R, "int"), "bitwise_invert": (R, "int"),
}
if NP2:
    UNARY["bitwise_count"] = (R, "int")
BINARY = {
    "atan2": (R, AWAY, "smooth"), "copysign": (AWAY, AWAY, "smooth"),
    "fmax": (R, R, "smooth"), "fmin": (R, R, "smooth"),
    "heaviside": (AWAY, R, "smooth"), "logaddexp2": (R, R, "smooth"),
    "float_power": (_u(0.3, 2.0), R, "smooth"), "pow": (_u(0.3, 2.0), R, "smooth"),
    "nextafter": (R, R, "smooth"), "ldexp": (R, R, "ldexp"),
    "divmod": (R, AWAY, "divmod"), "gcd": (R, R, "int"), "lcm": (R, R, "int"),
    "left_shift": (R, R, "int"), "right_shift": (R, R, "int"),
    "bitwise_left_shift": (R, R, "int"), "bitwise_right_shift": (R, R, "int"),
}
# NumPy 1.26 lacks the array-API spellings (pow, bitwise_invert, ...): test what it has
UNARY = {n: v for n, v in UNARY.items() if hasattr(np, n)}
BINARY = {n: v for n, v in BINARY.items() if hasattr(np, n)}
FLOATS = [np.float64, np.float32, np.float16]
VALUE_DTYPES = FLOATS + [np.int64, np.int32, np.uint8, np.bool_, np.complex128, "py_float",
                         "py_int"]
#: half precision to 1e-2, single to 1e-5, the rest to 1e-12
TOLS = {np.float16: 1e-2, np.float32: 1e-5, np.complex64: 1e-5, DEFAULT: 1e-12}


def make(rng, shape, dtype, domain):
    n = int(np.prod(shape, dtype=np.int64))
    z = np.asarray(domain(rng, n), dtype=np.float64).reshape(shape)
    if dtype == "py_float":
        return float(domain(rng, 1)[0])
    if dtype == "py_int":
        return int(rng.integers(1, 5))
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return z > np.median(z) if z.size else z.astype(bool)
    if dtype.kind in "iu":
        return np.round(np.abs(z) * 2 + 1).astype(dtype)
    if dtype.kind == "c":
        return (z + 0.3j * np.asarray(domain(rng, n)).reshape(shape)).astype(dtype)
    return z.astype(dtype)


def _np(name):
    return getattr(np, name, None)


def assert_same(got, want, exact=False):
    _helpers.assert_same(got, want, exact, TOLS, tree=isinstance(want, tuple))


def compare(name, args):
    """Eager: NumPy's result exactly; traced through funcdiff.numpy and through NumPy's
    dispatch: NumPy's values, shapes and dtypes; or the same kind of error."""
    fnp_fn, np_fn = getattr(fnp, name), _np(name)
    arrays = [i for i, a in enumerate(args) if isinstance(a, (np.ndarray, np.generic))]

    def call(fn):
        def f(*dyn):
            full = list(args)
            for i, v in zip(arrays, dyn):
                full[i] = v
            return fn(*full)
        return f

    dyn = [args[i] for i in arrays]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = np_fn(*args)
        except TypeError:
            with pytest.raises(TypeError):
                fnp_fn(*args)
            if dyn:
                with pytest.raises(TypeError):
                    traced(call(fnp_fn), *dyn)
            return
        assert_same(fnp_fn(*args), want, exact=True)   # eager: NumPy itself
        if not dyn:
            return
        with nep50():   # transforms promote as NumPy 2 on every NumPy
            want = np_fn(*args)
        for fn in (fnp_fn, np_fn):
            got = traced(call(fn), *dyn)
            assert_same(tuple(got) if isinstance(want, tuple) else got[0], want)


@st.composite
def broadcast_pair(draw):
    out = draw(st.lists(st.integers(0, 3), max_size=3))
    a = [d if draw(st.booleans()) else 1 for d in out]
    b = [d if draw(st.booleans()) else 1 for d in out]
    return tuple(a[draw(st.integers(0, len(a))):]), tuple(b[draw(st.integers(0, len(b))):])


shapes = st.lists(st.integers(0, 3), max_size=3).map(tuple)


# --- values -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
@VALUES
@given(shape=shapes, dtype=st.sampled_from(VALUE_DTYPES), seed=seeds)
def test_unary_values(name, shape, dtype, seed):
    domain, kind = UNARY[name]
    if kind == "int" and dtype in FLOATS + [np.complex128, "py_float"]:
        dtype = np.int32
    x = make(np.random.default_rng(seed), shape, dtype, domain)
    compare(name, (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
@VALUES
@given(shapes=broadcast_pair(), dx=st.sampled_from(VALUE_DTYPES),
       dy=st.sampled_from(VALUE_DTYPES), seed=seeds)
def test_binary_values(name, shapes, dx, dy, seed):
    dom_x, dom_y, kind = BINARY[name]
    rng = np.random.default_rng(seed)
    if kind == "int" and dx in FLOATS + [np.complex128, "py_float"]:
        dx = np.int64
    if kind in ("int", "ldexp") and dy in FLOATS + [np.complex128, "py_float"]:
        dy = np.int32
    x = make(rng, shapes[0], dx, dom_x)
    y = make(rng, shapes[1], dy, dom_y)
    if name in ("pow",) and np.asarray(y).dtype.kind in "iub" and \
            np.asarray(x).dtype.kind in "iub":
        y = np.abs(y)
    if "shift" in name:
        y = np.minimum(np.abs(np.asarray(y)), 7).astype(np.asarray(y).dtype) \
            if np.ndim(y) else min(abs(y), 7)
    compare(name, (x, y))


SPECIAL = {np.float64: [0.0, -0.0, 1.0, -1.5, 2.5, -3.0, np.inf, -np.inf, np.nan,
                        5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1],
           np.float32: [0.0, -0.0, 1.0, -1.5, 2.5, -3.0, np.inf, -np.inf, np.nan, 1e-45,
                        -1.17549435e-38, 3.4028235e38, 0.1],
           np.float16: [0.0, -0.0, 1.0, -1.5, 2.5, -3.0, np.inf, -np.inf, np.nan, 6e-8,
                        -6.1e-5, 65504.0, 0.1]}
EXACT_UNARY = ["fabs", "signbit", "spacing", "isposinf", "isneginf", "nan_to_num", "frexp",
               "modf", "angle"]
EXACT_BINARY = ["copysign", "fmax", "fmin", "heaviside", "nextafter"]


def _bits_equal(got, want):
    """Equal including the sign of zeros and NaNs' positions."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got[~np.isnan(want)]),
                                      np.signbit(want[~np.isnan(want)]))


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", EXACT_UNARY + EXACT_BINARY)
def test_special_values_exactly(name, dtype):
    """Signed zeros, infinities, NaN, subnormals and the largest float: bit for bit,
    traced and under jit."""
    x = np.array(SPECIAL[dtype], dtype)
    args = (x,) if name in EXACT_UNARY else (x[:, None], x[None, :])
    with np.errstate(all="ignore"):
        want = getattr(np, name)(*args)
        wants = want if isinstance(want, tuple) else (want,)
        jitted = fd.jit(getattr(fnp, name))(*args)
        for got in (traced(getattr(fnp, name), *args),
                    jitted if isinstance(jitted, tuple) else (jitted,)):
            assert len(got) == len(wants)
            for g, w in zip(got, wants):
                _bits_equal(g, w)


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
def test_frexp_ldexp_over_the_exponent_range(dtype):
    """Every binade, subnormals included: frexp is NumPy's bit for bit (its exponent is
    found from log2 and corrected with the exact ldexp); ldexp inverts it exactly."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(0)
    e = rng.integers(info.minexp - info.nmant, info.maxexp, 400)
    m = rng.uniform(0.5, 1.0, 400) * rng.choice([-1, 1], 400)
    x = np.ldexp(m.astype(dtype), e)
    x = np.concatenate([x, np.ldexp(np.ones(8, dtype), np.arange(-3, 5)),
                        np.nextafter(np.ldexp(np.ones(8, dtype), np.arange(-3, 5)),
                                     dtype(0))])
    with np.errstate(all="ignore"):
        m_want, e_want = np.frexp(x)
        m_got, e_got = fd.jit(fnp.frexp)(x)
        _bits_equal(m_got, m_want)
        _bits_equal(e_got, e_want)
        _bits_equal(fd.jit(fnp.ldexp)(m_got, e_got), x)
        big = np.array([info.maxexp + 5, -info.maxexp - 40], np.int32)
        _bits_equal(fd.jit(fnp.ldexp)(np.array([info.tiny, info.max], dtype) * 0.5, big),
                    np.ldexp(np.array([info.tiny, info.max], dtype) * 0.5, big))


def test_nan_to_num_options_and_complex():
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0])
    z = np.array([complex(np.nan, np.inf), complex(-np.inf, 2.0), 1 + 1j])
    for kw in ({}, dict(nan=-1.0, posinf=9.0, neginf=-9.0), dict(copy=False, nan=2)):
        for v in (x, x.astype(np.float32), z, z.astype(np.complex64), np.arange(3)):
            want = np.nan_to_num(v.copy(), **kw)   # copy=False would overwrite v
            (got,) = traced(lambda u: fnp.nan_to_num(u, **kw), v)
            _helpers.assert_same(got, want, exact=True)
    # traced replacement values get the derivative where they are used
    g = fd.grad(lambda f: fnp.nan_to_num(x, nan=f, posinf=2 * f).sum())(1.0)
    assert g == 3.0


def test_angle_deg_and_complex_dtypes():
    for z in (np.array([1 + 1j, -2j, -3.0 + 0j, 0j]), np.array([1 - 1j, 2j], np.complex64),
              np.array([-1.0, 2.0, -0.0], np.float32), np.array([-2, 3]), 2.5):
        for deg in (False, True):
            want = np.angle(z, deg=deg)
            (got,) = traced(lambda u: fnp.angle(u, deg=deg), z) if not np.isscalar(z) \
                else traced(lambda: fnp.angle(z, deg=deg))
            _helpers.assert_same(got, want, tols=TOLS)


def test_i0_dtypes_and_complex_error():
    for x in (np.linspace(-3, 3, 7), np.linspace(-3, 3, 7).astype(np.float32),
              np.arange(4), np.array([True, False]), np.float16(1.5) * np.ones(2)):
        (got,) = traced(fnp.i0, x)
        _helpers.assert_same(got, np.i0(x), tols=TOLS)
    with pytest.raises(TypeError):
        traced(fnp.i0, np.array([1j]))


# --- derivatives --------------------------------------------------------------------------

SMOOTH_UNARY = sorted(n for n, (_, k) in UNARY.items() if k in ("smooth", "first"))
SMOOTH_BINARY = sorted(n for n, (_, _, k) in BINARY.items() if k == "smooth")


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", SMOOTH_UNARY)
@GRADS
@given(shape=st.lists(st.integers(1, 3), max_size=2).map(tuple), seed=seeds)
def test_unary_grads(name, shape, seed):
    domain, _ = UNARY[name]
    x = make(np.random.default_rng(seed), shape, np.float64, domain)
    check_grads(lambda v: _first(getattr(fnp, name)(v)), (x,), order=2)


@pytest.mark.parametrize("name", SMOOTH_BINARY)
@GRADS
@given(shapes=broadcast_pair(), seed=seeds)
def test_binary_grads(name, shapes, seed):
    dom_x, dom_y, _ = BINARY[name]
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], np.float64, dom_x)
    y = make(rng, shapes[1], np.float64, dom_y)
    if name in ("fmax", "fmin"):   # clear of ties (the derivative jumps there)
        y = y + 0.05 * np.sign(y - np.mean(x) + 1e-3)
    check_grads(getattr(fnp, name), (x, y), order=2)


def test_derivatives_in_closed_form():
    x = np.array([-1.3, 0.4, 2.2])
    n = np.array([3, -2, 0])
    g = fd.grad(lambda v: fnp.ldexp(v, n).sum())(x)
    np.testing.assert_array_equal(g, 2.0 ** n)
    g = fd.grad(lambda v: fnp.frexp(v)[0].sum())(x)
    np.testing.assert_array_equal(g, 2.0 ** -np.frexp(x)[1])
    g = fd.grad(lambda v: fnp.modf(v)[0].sum())(x)
    np.testing.assert_array_equal(g, 1.0)
    g = fd.grad(lambda v: fnp.modf(v)[1].sum())(x)
    np.testing.assert_array_equal(g, 0.0)
    g = fd.grad(lambda v: fnp.spacing(v).sum())(x)
    np.testing.assert_array_equal(g, 0.0)
    gx, gy = fd.grad(lambda u, v: fnp.nextafter(u, v).sum(), argnums=(0, 1))(x, x[::-1])
    np.testing.assert_array_equal(gx, 1.0)
    np.testing.assert_array_equal(gy, 0.0)
    g = fd.grad(lambda v: fnp.i0(v).sum())(x)
    np.testing.assert_allclose(g, [_i1(v) for v in x], rtol=1e-12)
    q, r = fd.jvp(lambda v: fnp.divmod(v, 0.7), (x,), (np.ones(3),))[1]
    np.testing.assert_array_equal(q, 0.0)
    np.testing.assert_array_equal(r, 1.0)
    z = np.array([1 + 2j, -3 - 0.5j])
    g = fd.grad(lambda u: fnp.angle(u).sum())(z)
    # angle = atan2(y, x); grad of a real function of z is d/dx - i d/dy (JAX's
    # convention, docs/autodiff.md) = (-y - i x) / |z|**2 = -i / z
    np.testing.assert_allclose(g, -1j / z, rtol=1e-12)


def _i1(x):
    """I1 by its power series (to double precision for |x| < 3)."""
    return sum((x / 2) ** (2 * k + 1) / (np.prod(np.arange(1, k + 1.0)) *
                                         np.prod(np.arange(1, k + 2.0))) for k in range(30))


def test_float32_and_integer_derivatives():
    x32 = np.linspace(0.3, 1.2, 4, dtype=np.float32)
    for f in (fnp.deg2rad, fnp.fabs, fnp.i0, lambda v: fnp.frexp(v)[0],
              lambda v: fnp.logaddexp2(v, 1.0), lambda v: fnp.copysign(v, -1.0),
              lambda v: fnp.fmax(v, 0.5), lambda v: fnp.heaviside(v - 0.6, v)):
        g = fd.grad(lambda v: f(v).sum())(x32)
        assert g.dtype == np.float32
    # float_power computes in float64 (as NumPy): the gradient is still float32
    g = fd.grad(lambda v: fnp.float_power(v, 2.0).sum())(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x32, rtol=1e-6)


# --- vmap, jit ----------------------------------------------------------------------------

BATCH = {  # name -> (f of one example, example arguments maker)
    **{n: (n, lambda r, d=d: (make(r, (3,), np.float64, d),))
       for n, (d, k) in UNARY.items() if k != "int"},
    **{n: (n, lambda r, dx=dx, dy=dy: (make(r, (3,), np.float64, dx),
                                        make(r, (1,), np.float64, dy)))
       for n, (dx, dy, k) in BINARY.items() if k in ("smooth", "divmod")},
    **{n: (n, lambda r: (r.integers(0, 20, (3,)), r.integers(0, 5, (3,))))
       for n, (_, _, k) in BINARY.items() if k == "int"},
    "ldexp": ("ldexp", lambda r: (r.uniform(-2, 2, 3), r.integers(-4, 4, (3,)))),
}


@pytest.mark.parametrize("name", sorted(BATCH))
def test_vmap_equals_a_loop_and_jit_equals_eager(name):
    fname, make_args = BATCH[name]
    f = getattr(fnp, fname)
    rng = np.random.default_rng(7)
    examples = [make_args(rng) for _ in range(3)]
    for in_axes in (0, (0,) + (None,) * (len(examples[0]) - 1)):
        batched = [np.stack([ex[i] for ex in examples]) if (in_axes == 0 or i == 0)
                   else examples[0][i] for i in range(len(examples[0]))]
        got = fd.vmap(f, in_axes=in_axes)(*batched)
        per = [f(*[b[k] if (in_axes == 0 or i == 0) else b for i, b in enumerate(batched)])
               for k in range(3)]
        with np.errstate(all="ignore"):
            if isinstance(per[0], tuple):
                want = tuple(np.stack([p[j] for p in per]) for j in range(len(per[0])))
            else:
                want = np.stack(per)
        assert_same(got, want)
    args = examples[0]
    with np.errstate(all="ignore"):
        assert_same(fd.jit(f)(*args), f(*args))


def test_jit_emits_numpy_calls():
    src = fd.jit(lambda x, n: (fnp.signbit(x), fnp.gcd(n, 6), fnp.ldexp(x, n),
                               fnp.nextafter(x, 0.0), n << 1)).lower(
        np.ones(3), np.arange(3)).source
    for call in ("np.signbit(", "np.gcd(", "np.ldexp(", "np.nextafter(", "np.left_shift("):
        assert call in src, src


# --- ufunc.reduce / accumulate -------------------------------------------------------------

REDUCERS = ["fmax", "fmin", "logaddexp2", "gcd", "lcm", "bitwise_and", "bitwise_or",
            "bitwise_xor"]


def _reduce_input(name, rng, shape):
    if name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor"):
        return rng.integers(1, 13, shape)
    x = rng.uniform(-2, 2, shape)
    if name in ("fmax", "fmin"):
        x[rng.random(shape) < 0.3] = np.nan
    return x


@pytest.mark.parametrize("name", REDUCERS)
@VALUES
@given(data=st.data())
def test_ufunc_reduce_and_accumulate(name, data):
    u = getattr(np, name)
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.just(tuple(range(ndim)))))
    keepdims = data.draw(st.booleans())
    x = _reduce_input(name, np.random.default_rng(data.draw(seeds)), shape)
    kw = {"keepdims": keepdims} if axis == 0 else {"axis": axis, "keepdims": keepdims}
    if name == "lcm" and ndim > 1 and not isinstance(axis, int):
        with pytest.raises(ValueError, match="not reorderable"):
            traced(lambda v: u.reduce(v, **kw), x)
        return
    with np.errstate(all="ignore"):
        want = u.reduce(x, **kw)
        got = traced(lambda v: u.reduce(v, **kw), x)[0]
        assert_same(got, np.asarray(want))
        ax = axis if isinstance(axis, int) else 0
        want = u.accumulate(x, axis=ax)
        assert_same(fd.jit(lambda v: u.accumulate(v, axis=ax))(x), want)


def test_ufunc_reduce_details():
    x = np.array([[np.nan, 1.0, 3.0], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(fd.jit(lambda v: np.fmax.reduce(v, axis=1))(x),
                                  np.fmax.reduce(x, axis=1))
    # ties split evenly, as numpy.max's; NaNs get nothing
    g = fd.grad(lambda v: np.fmax.reduce(v))(np.array([1.0, np.nan, 1.0, 0.5]))
    np.testing.assert_array_equal(g, [0.5, 0.0, 0.5, 0.0])
    check_grads(lambda v: np.logaddexp2.reduce(v, axis=0), (np.array([[0.3, -1.0],
                                                                       [2.0, 0.1]]),),
                order=2)
    check_grads(lambda v: np.fmin.accumulate(v), (np.array([0.3, -1.0, 2.0, -1.5]),),
                order=1)
    # identities, initial, empty input
    e = np.zeros((0, 2), np.int64)
    for u in (np.gcd, np.bitwise_and, np.bitwise_or):
        _helpers.assert_same(fd.jit(lambda v: u.reduce(v))(e), u.reduce(e))
    np.testing.assert_allclose(fd.jit(lambda v: np.logaddexp2.reduce(v, initial=1.0))(x[0, 1:]),
                               np.logaddexp2.reduce(x[0, 1:], initial=1.0))
    with pytest.raises(ValueError, match="no identity"):
        fd.jit(lambda v: np.fmax.reduce(v))(np.zeros(0))
    with pytest.raises(TypeError, match="scalar"):
        fd.jit(lambda v: np.fmax.accumulate(v))(1.0)
    with pytest.raises(FuncdiffTypeError, match="where="):
        fd.jit(lambda v: np.fmax.reduce(v, where=np.array([True, False])))(np.ones(2))


def test_outer_of_the_new_ufuncs():
    a, b = np.array([0.5, -1.5]), np.array([1.0, -2.0, 3.0])
    for u in (np.copysign, np.fmax, np.heaviside, np.logaddexp2):
        _helpers.assert_same(fd.jit(lambda a, b: u.outer(a, b))(a, b), u.outer(a, b))


# --- bits ---------------------------------------------------------------------------------

@VALUES
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from([np.bool_, np.int32, np.uint8, np.int64]),
       bitorder=st.sampled_from(["big", "little"]), data=st.data())
def test_packbits_unpackbits(shape, dtype, bitorder, data):
    rng = np.random.default_rng(data.draw(seeds))
    x = (rng.integers(0, 3, shape) * (rng.random(shape) < 0.5)).astype(dtype)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    want = np.packbits(x, axis=axis, bitorder=bitorder)
    got = fd.jit(lambda v: np.packbits(v, axis=axis, bitorder=bitorder))(x)
    _helpers.assert_same(got, want)
    count = data.draw(st.one_of(st.none(), st.integers(-9, 20)))
    want2 = np.unpackbits(want, axis=axis, count=count, bitorder=bitorder)
    got2 = fd.jit(lambda v: np.unpackbits(v, axis=axis, count=count, bitorder=bitorder))(
        want)
    _helpers.assert_same(got2, want2)
    got3 = fd.vmap(lambda v: fnp.packbits(v, bitorder=bitorder))(x.reshape(shape[0], -1))
    _helpers.assert_same(got3, np.stack([np.packbits(r, bitorder=bitorder)
                                         for r in x.reshape(shape[0], -1)]))


def test_popcount_fallback_matches_numpy():
    """NumPy < 2.0 has no bitwise_count: the ``ufunc`` primitive then runs a fallback."""
    from funcdiff.primitives.elementwise import _popcount
    for x in (np.array([0, 1, -1, 255, -256, 2**40 + 7, -(2**62), -(2**63)], np.int64),
              np.array([0, 3, 2**64 - 1], np.uint64), np.array([-128, 127, -1], np.int8),
              np.array([True, False]), np.int8(-128)):
        want = np.array([bin(abs(int(v))).count("1") for v in np.ravel(x)],
                        np.uint8).reshape(np.shape(x))
        _helpers.assert_same(_popcount(x), want[()])
        if NP2:
            _helpers.assert_same(_popcount(x), np.bitwise_count(x))
    with pytest.raises(TypeError):
        _popcount(np.ones(2))


def test_shift_operators_and_bitwise_aliases():
    a = np.array([1, 5, 12], np.int32)
    got = fd.jit(lambda v: (v << 2, 40 >> v, v >> 1, fnp.bitwise_not(v),
                            fnp.bitwise_invert(v)))(a)
    want = (a << 2, 40 >> a, a >> 1, ~a, ~a)
    _helpers.assert_same(got, want, tree=True)


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda v: fnp.fabs(v + 1j), lambda v: fnp.copysign(v + 1j, v),
    lambda v: fnp.logaddexp2(v + 1j, v), lambda v: fnp.ldexp(v, v),
    lambda v: fnp.gcd(v, v), lambda v: fnp.left_shift(v, 1), lambda v: fnp.signbit(v + 1j),
    lambda v: fnp.isposinf(v + 1j), lambda v: fnp.frexp(v + 1j),
    lambda v: fnp.heaviside(v + 1j, v), lambda v: fnp.packbits(v),
    lambda v: fnp.unpackbits(v.astype(np.int32)), lambda v: fnp.i0(v + 1j)])
def test_rejected_dtypes_raise_type_errors(call):
    x = np.array([0.5, -1.0])
    with pytest.raises(TypeError):
        traced(call, x)


def test_argument_errors():
    x = np.array([0.5, -1.0])
    with pytest.raises(FuncdiffTypeError, match="out="):
        traced(lambda v: fnp.fmax(v, v, out=np.zeros(2)), x)
    with pytest.raises(FuncdiffTypeError, match="out="):
        traced(lambda v: fnp.isposinf(v, out=np.zeros(2, bool)), x)
    with pytest.raises(FuncdiffTypeError, match="positional"):
        traced(lambda v: fnp.copysign(v), x)
    with pytest.raises(FuncdiffValueError, match="'little' or 'big'"):
        traced(lambda v: fnp.packbits(v, bitorder="middle"), np.array([1, 0]))
    got = traced(lambda v: fnp.fmax(v, 0.0, dtype=np.float32), x)[0]
    _helpers.assert_same(got, np.fmax(x, 0.0, dtype=np.float32))
