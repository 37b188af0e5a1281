"""funcdiff.numpy's elementwise functions (funcdiff/numpy/_math.py) against NumPy.

Table-driven: each ufunc carries its domain.  Over hypothesis-chosen broadcasting
shapes (0-d and size-0 included) and dtypes (float16/32/64, ints, bools, complex and
weakly typed Python scalars): (1) eagerly the value is NumPy's exactly; (2) traced
(make_jaxpr + check_jaxpr + eval_jaxpr) and through NumPy's dispatch (``np.sin(t)``,
operators) it matches NumPy (allclose, same shape and dtype), and where NumPy rejects
the dtypes the traced call raises a TypeError too; (3) derivatives (order 2, forward
and reverse) match finite differences in float64 (complex128 for the holomorphic
ones); piecewise-constant functions have derivative 0 and ties split evenly.
"""
from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff._np_compat import NUMPY2
from funcdiff.core.errors import FuncdiffTypeError
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, nep50, traced

VALUES = settings(max_examples=20, deadline=None)
GRADS = settings(max_examples=6, deadline=None)
seeds = st.integers(0, 2**31 - 1)


def _u(lo, hi):
    return lambda r, n: r.uniform(lo, hi, n)


def _away(lo, hi):  # |x| in [lo, hi], random sign
    return lambda r, n: r.uniform(lo, hi, n) * r.choice([-1.0, 1.0], n)


R = _u(-2.0, 2.0)
POS = _u(0.2, 3.0)
UNIT = _u(-0.9, 0.9)

# name -> (domain, differentiable, accepts ints/bools)
UNARY = {
    "negative": (R, True, True), "positive": (R, True, True),
    "sin": (R, True, True), "cos": (R, True, True), "tan": (_u(-1.2, 1.2), True, True),
    "arcsin": (UNIT, True, True), "arccos": (UNIT, True, True), "arctan": (R, True, True),
    "sinh": (R, True, True), "cosh": (R, True, True), "tanh": (R, True, True),
    "arcsinh": (R, True, True), "arccosh": (_u(1.2, 4.0), True, True),
    "arctanh": (UNIT, True, True), "exp": (R, True, True), "exp2": (R, True, True),
    "expm1": (R, True, True), "log": (POS, True, True), "log2": (POS, True, True),
    "log10": (POS, True, True), "log1p": (_u(-0.8, 3.0), True, True),
    "sqrt": (POS, True, True), "cbrt": (_away(0.2, 3.0), True, True),
    "square": (R, True, True), "reciprocal": (_away(0.3, 3.0), True, False),
    "absolute": (_away(0.1, 3.0), True, True), "abs": (_away(0.1, 3.0), True, True),
    "conjugate": (R, True, True), "conj": (R, True, True),
    "sign": (R, False, True), "floor": (_u(-3, 3), False, True),
    "ceil": (_u(-3, 3), False, True), "rint": (_u(-3, 3), False, True),
    "trunc": (_u(-3, 3), False, True), "round": (_u(-3, 3), False, True),
    "around": (_u(-3, 3), False, True),
    "logical_not": (R, None, True), "isfinite": (R, None, True), "isnan": (R, None, True),
    "isinf": (R, None, True), "invert": (R, None, True),
}
BINARY = {
    "add": (R, R, True), "subtract": (R, R, True), "multiply": (R, R, True),
    "divide": (R, _away(0.3, 3.0), True), "true_divide": (R, _away(0.3, 3.0), True),
    "power": (POS, R, True), "maximum": (R, R, True), "minimum": (R, R, True),
    "arctan2": (R, _away(0.3, 3.0), True), "remainder": (R, _away(0.3, 3.0), True),
    "mod": (R, _away(0.3, 3.0), True), "fmod": (R, _away(0.3, 3.0), True),
    "floor_divide": (R, _away(0.3, 3.0), False), "logaddexp": (R, R, True),
    "hypot": (_away(0.2, 2.0), R, True),
    "equal": (R, R, None), "not_equal": (R, R, None), "less": (R, R, None),
    "less_equal": (R, R, None), "greater": (R, R, None), "greater_equal": (R, R, None),
    "logical_and": (R, R, None), "logical_or": (R, R, None), "logical_xor": (R, R, None),
    "bitwise_and": (R, R, None), "bitwise_or": (R, R, None), "bitwise_xor": (R, R, None),
}
VALUE_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8,
                np.bool_, np.complex128, "py_float", "py_int"]


def make(rng, shape, dtype, domain):
    n = int(np.prod(shape, dtype=np.int64))
    z = np.asarray(domain(rng, n)).reshape(shape)
    if dtype == "py_float":
        return float(domain(rng, 1)[0])
    if dtype == "py_int":
        return int(np.round(np.abs(domain(rng, 1)[0]) * 2)) + 1
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return z > np.median(z) if z.size else z.astype(bool)
    if dtype.kind in "iu":
        return np.round(np.abs(z) * 2 + 1).astype(dtype)
    if dtype.kind == "c":
        return (z + 0.1j * np.asarray(domain(rng, n)).reshape(shape)).astype(dtype)
    return z.astype(dtype)


#: half precision to 1e-2, single to 1e-5, the rest to 1e-12 (bools and integers exactly)
TOLS = {np.float16: 1e-2, np.float32: 1e-5, np.complex64: 1e-5, DEFAULT: 1e-12}
#: ``exact`` complex: NumPy's own complex loops differ by an ulp between memory layouts
EXACT_COMPLEX_TOLS = {DEFAULT: (1e-15, 0)}


def assert_same(got, want, exact=False):
    """Shape, dtype, values to TOLS; ``exact``: equal (complex: EXACT_COMPLEX_TOLS)."""
    if exact and np.asarray(want).dtype.kind == "c":
        _helpers.assert_same(got, want, tols=EXACT_COMPLEX_TOLS)
    else:
        _helpers.assert_same(got, want, exact, TOLS)


def weak_for_numpy1(v, like):
    """NumPy 1.26's ``where`` and ``clip`` take a Python float as float64 even in its
    NEP 50 mode: for their references it becomes a NumPy scalar of the dtype NumPy 2
    gives it (``like``'s, if floating)."""
    like = np.asarray(like).dtype
    if NUMPY2 or type(v) not in (int, float) or like.kind != "f":
        return v
    return np.asarray(v, like)[()]


def compare(fnp_fn, np_fn, args, np_ref=None):
    """Eager exact; traced through funcdiff.numpy and through NumPy's dispatch (against
    ``np_ref``, default ``np_fn``, promoting as NumPy 2); or the same kind of error as
    NumPy."""
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
            want = (np_ref or np_fn)(*args)
        (got,) = traced(call(fnp_fn), *dyn)
        assert_same(got, want)
        if isinstance(np_fn, np.ufunc):
            (got,) = traced(call(np_fn), *dyn)
            assert_same(got, want)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together (possibly 0-d or size 0)."""
    out = draw(st.lists(st.integers(0, 3), max_size=3))
    a = [d if draw(st.booleans()) else 1 for d in out]
    b = [d if draw(st.booleans()) else 1 for d in out]
    a = a[draw(st.integers(0, len(a))):]
    b = b[draw(st.integers(0, len(b))):]
    return tuple(a), tuple(b)


# --- values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
@VALUES
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple),
       dtype=st.sampled_from(VALUE_DTYPES), seed=seeds)
def test_unary_values(name, shape, dtype, seed):
    domain, _, _ = UNARY[name]
    x = make(np.random.default_rng(seed), shape, dtype, domain)
    compare(getattr(fnp, name), getattr(np, name), (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
@VALUES
@given(shapes=broadcast_pair(), dx=st.sampled_from(VALUE_DTYPES),
       dy=st.sampled_from(VALUE_DTYPES), seed=seeds)
def test_binary_values(name, shapes, dx, dy, seed):
    dom_x, dom_y, _ = BINARY[name]
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], dx, dom_x)
    y = make(rng, shapes[1], dy, dom_y)
    if name in ("power",) and np.asarray(y).dtype.kind in "iu" and \
            np.asarray(x).dtype.kind in "iub":
        y = np.abs(y)  # NumPy raises on negative integer powers of integers at run time
    compare(getattr(fnp, name), getattr(np, name), (x, y))


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.floordiv, operator.mod, operator.pow, operator.lt,
                                operator.le, operator.gt, operator.ge, operator.eq,
                                operator.ne])
@VALUES
@given(shapes=broadcast_pair(), dx=st.sampled_from([np.float64, np.float32, np.int64]),
       dy=st.sampled_from([np.float64, np.float32, np.int32, "py_float", "py_int"]),
       seed=seeds, reflected=st.booleans())
def test_operators(op, shapes, dx, dy, seed, reflected):
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], dx, POS)
    y = make(rng, shapes[1], dy, _u(0.5, 2.0))
    if op is operator.pow and np.asarray(y).dtype.kind in "iu":
        y = np.abs(y)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with nep50():
            want = op(y, x) if reflected else op(x, y)
        if reflected:
            (got,) = traced(lambda v: op(y, v), x)
        else:
            (got,) = traced(lambda v: op(v, y), x)
    assert_same(got, want)


def test_unary_operators_and_weak_scalars():
    x = np.linspace(-1, 1, 5).astype(np.float32)
    for f in (lambda v: -v, lambda v: +v, lambda v: abs(v), lambda v: v * 2.0,
              lambda v: 2 ** v, lambda v: v / 3, lambda v: 1.5 - v):
        (got,) = traced(f, x)
        assert_same(got, f(x))
        assert got.dtype == np.float32
    xi = np.arange(4, dtype=np.int32)
    (got,) = traced(lambda v: ~v, xi)
    assert_same(got, ~xi)


@VALUES
@given(shapes=broadcast_pair(), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.int32, "py_float"]),
       cond_kind=st.sampled_from(["bool", "float"]))
def test_where(shapes, seed, dtype, cond_kind):
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], dtype, R)
    y = make(rng, shapes[1], np.float32, R)
    c = make(rng, shapes[1], np.float64, R)
    c = c > 0 if cond_kind == "bool" else np.round(c)
    compare(fnp.where, np.where, (c, x, y),
            np_ref=lambda c, x, y: np.where(c, weak_for_numpy1(x, y), y))


@VALUES
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.int64]),
       lo=st.sampled_from([None, -0.5, 0]), hi=st.sampled_from([None, 0.7, 2]))
def test_clip(shape, seed, dtype, lo, hi):
    if lo is None and hi is None:
        return
    x = make(np.random.default_rng(seed), shape, dtype, R)
    lo1, hi1 = weak_for_numpy1(lo, x), weak_for_numpy1(hi, x)
    compare(lambda v: fnp.clip(v, lo, hi), lambda v: np.clip(v, lo, hi), (x,),
            np_ref=lambda v: np.clip(v, lo1, hi1))
    compare(lambda v: fnp.clip(v, a_min=lo, a_max=hi),
            lambda v: np.clip(v, a_min=lo, a_max=hi), (x,),
            np_ref=lambda v: np.clip(v, lo1, hi1))
    (got,) = traced(lambda v: v.clip(lo, hi), x)
    with nep50():
        assert_same(got, np.clip(x, lo1, hi1))


@VALUES
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), seed=seeds,
       decimals=st.integers(-1, 3), dtype=st.sampled_from([np.float64, np.float32]))
def test_round_decimals(shape, seed, decimals, dtype):
    x = make(np.random.default_rng(seed), shape, dtype, _u(-50, 50))
    compare(lambda v: fnp.round(v, decimals), lambda v: np.round(v, decimals), (x,))


@VALUES
@given(shape=st.lists(st.integers(0, 3), max_size=3).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.complex128, np.complex64, np.float64]))
def test_real_imag(shape, seed, dtype):
    x = make(np.random.default_rng(seed), shape, dtype, R)
    compare(fnp.real, np.real, (x,))
    compare(fnp.imag, np.imag, (x,))


def test_out_and_where_are_rejected():
    with pytest.raises(FuncdiffTypeError, match="out="):
        traced(lambda v: fnp.sin(v, out=np.zeros(3)), np.ones(3))
    with pytest.raises(FuncdiffTypeError, match="where="):
        traced(lambda v: np.add(v, v, where=np.ones(3, bool)), np.ones(3))


def test_dtype_keyword():
    (got,) = traced(lambda v: fnp.add(v, v, dtype=np.float32), np.ones(3))
    assert_same(got, np.add(np.ones(3), np.ones(3), dtype=np.float32))


# --- derivatives ---------------------------------------------------------------------------------

DIFF_UNARY = sorted(n for n, (_, d, _) in UNARY.items() if d)
DIFF_BINARY = sorted(n for n, (_, _, d) in BINARY.items() if d)
HOLOMORPHIC_UNARY = ["negative", "sin", "cos", "tan", "sinh", "cosh", "tanh", "exp",
                     "expm1", "log", "log1p", "sqrt", "square", "reciprocal", "conjugate"]
HOLOMORPHIC_BINARY = ["add", "subtract", "multiply", "divide"]


@pytest.mark.parametrize("name", DIFF_UNARY)
@GRADS
@given(shape=st.lists(st.integers(1, 3), max_size=2).map(tuple), seed=seeds)
def test_unary_grads(name, shape, seed):
    domain, _, _ = UNARY[name]
    x = make(np.random.default_rng(seed), shape, np.float64, domain)
    check_grads(getattr(fnp, name), (x,), order=2)


@pytest.mark.parametrize("name", DIFF_BINARY)
@GRADS
@given(shapes=broadcast_pair(), seed=seeds)
def test_binary_grads(name, shapes, seed):
    dom_x, dom_y, _ = BINARY[name]
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], np.float64, dom_x)
    y = make(rng, shapes[1], np.float64, dom_y)
    check_grads(getattr(fnp, name), (x, y), order=2)


@pytest.mark.parametrize("name", HOLOMORPHIC_UNARY)
def test_unary_complex_grads(name):
    x = make(np.random.default_rng(3), (3,), np.complex128, POS)
    check_grads(getattr(fnp, name), (x,), order=2)


@pytest.mark.parametrize("name", HOLOMORPHIC_BINARY)
def test_binary_complex_grads(name):
    rng = np.random.default_rng(4)
    x = make(rng, (2, 3), np.complex128, POS)
    y = make(rng, (3,), np.complex128, POS)
    check_grads(getattr(fnp, name), (x, y), order=2)


@GRADS
@given(shapes=broadcast_pair(), seed=seeds)
def test_where_clip_grads(shapes, seed):
    rng = np.random.default_rng(seed)
    x = make(rng, shapes[0], np.float64, R)
    y = make(rng, shapes[1], np.float64, R)
    c = make(rng, shapes[1], np.float64, R) > 0
    check_grads(lambda u, v: fnp.where(c, u * u, v), (x, y), order=2)
    check_grads(lambda u: fnp.clip(u, -0.5, 0.7), (x,), order=2)
    check_grads(lambda u, lo: fnp.clip(u, lo, 3.0), (x, y - 1.0), order=2)


@pytest.mark.parametrize("name", sorted(n for n, (_, d, _) in UNARY.items() if d is False))
def test_piecewise_constant_have_zero_derivative(name):
    x = np.array([-2.3, -0.4, 0.6, 1.7])
    np.testing.assert_array_equal(fd.grad(lambda v: getattr(fnp, name)(v).sum())(x),
                                  np.zeros(4))


def test_floor_divide_has_zero_derivative_and_remainder_is_exact():
    x, y = np.array([3.3, -2.2]), np.array([1.5, 0.7])
    gx, gy = fd.grad(lambda u, v: fnp.floor_divide(u, v).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 0.0)
    np.testing.assert_array_equal(gy, 0.0)
    gx, gy = fd.grad(lambda u, v: fnp.remainder(u, v).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, 1.0)
    np.testing.assert_allclose(gy, -np.floor_divide(x, y))


def test_maximum_minimum_tie_convention():
    """1 where an operand wins, 1/2 each at ties: abs, clip and relu agree at kinks."""
    g = fd.grad(lambda u, v: fnp.maximum(u, v).sum(), argnums=(0, 1))
    gx, gy = g(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0]))
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(gy, [1.0, 0.5, 0.0])
    g = fd.grad(lambda u: fnp.minimum(u, 0.0).sum())
    np.testing.assert_array_equal(g(np.array([-1.0, 0.0, 1.0])), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(fd.grad(lambda u: fnp.abs(u).sum())(np.zeros(2)), 0.0)


def test_special_points():
    # power: d/dx x**0 = 0 at x = 0; d/dy 0**y = 0 (the limit from the right for y > 0)
    gx, gy = fd.grad(lambda u, v: fnp.power(u, v), argnums=(0, 1))(0.0, 0.0)
    assert gx == 0.0 and gy == 0.0
    gx, gy = fd.grad(lambda u, v: fnp.power(u, v), argnums=(0, 1))(0.0, 2.0)
    assert gx == 0.0 and gy == 0.0
    # hypot at the origin: 0, not NaN
    gx, gy = fd.grad(lambda u, v: fnp.hypot(u, v), argnums=(0, 1))(0.0, 0.0)
    assert gx == 0.0 and gy == 0.0
    # logaddexp with -inf: finite
    gx, gy = fd.grad(lambda u, v: fnp.logaddexp(u, v), argnums=(0, 1))(-np.inf, 1.0)
    assert gx == 0.0 and gy == 1.0


def test_float32_grads_stay_float32():
    x = np.linspace(0.2, 1.0, 4).astype(np.float32)
    for name in ("sin", "exp", "log", "sqrt", "tanh", "absolute"):
        g = fd.grad(lambda v: getattr(fnp, name)(v).sum())(x)
        assert g.dtype == np.float32, name
    g = fd.grad(lambda v: (v * 2.0 + v ** 2).sum())(x)
    assert g.dtype == np.float32
