"""funcdiff.numpy's differences and integrals: diff ediff1d gradient trapezoid unwrap
cumulative_sum cumulative_prod -- against NumPy (float64, float32, ints), traced,
jitted, vmapped and differentiated (``check_all``), and NumPy's errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp

from _helpers import traced, values
from _numpy_checks import check_all, same

seeds = st.integers(0, 2 ** 32 - 1)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz
COORDS = np.array([0.0, 0.3, 0.5, 1.2, 1.4])     # non-uniform
UNIFORM = np.arange(5) * 0.25


def _x(shape, dtype=np.float64, seed=0):
    return values(np.random.default_rng(seed), shape, dtype)


CASES = [
    ("diff", lambda a: np.diff(a), [(5,)]),
    ("diff_n2_axis0", lambda a: np.diff(a, 2, axis=0), [(5, 3)]),
    ("diff_n_too_big", lambda a: np.diff(a, 4), [(2, 3)]),
    ("diff_prepend_append", lambda a: np.diff(a, prepend=0.0, append=a[:, :1]), [(3, 4)]),
    ("diff_prepend_array", lambda a, p: np.diff(a, axis=0, prepend=p), [(3, 4), (2, 4)]),
    ("ediff1d", lambda a: np.ediff1d(a), [(2, 3)]),
    ("ediff1d_ends", lambda a, b: np.ediff1d(a, to_end=b, to_begin=[1, 2]), [(4,), (2,)]),
    ("gradient_1d", lambda a: np.gradient(a), [(5,)]),
    ("gradient_2d", lambda a: np.gradient(a), [(3, 4)]),
    ("gradient_scalar_dx", lambda a: np.gradient(a, 0.5), [(3, 5)]),
    ("gradient_per_axis", lambda a: np.gradient(a, 2.0, COORDS), [(3, 5)]),
    ("gradient_uniform_coords", lambda a: np.gradient(a, UNIFORM, axis=-1), [(2, 5)]),
    ("gradient_edge2", lambda a: np.gradient(a, COORDS, edge_order=2), [(5,)]),
    ("gradient_edge2_uniform", lambda a: np.gradient(a, 0.3, edge_order=2, axis=0), [(3, 2)]),
    ("gradient_axes", lambda a: np.gradient(a, axis=(2, 0)), [(3, 2, 4)]),
    ("gradient_traced_coords", lambda a, c: np.gradient(a, c, edge_order=2), [(5,), (5,)]),
    ("gradient_traced_coords_e1", lambda a, c: np.gradient(a, 1.0, c), [(3, 5), (5,)]),
    ("gradient_traced_dx", lambda a, h: np.gradient(a, h), [(4, 3), ()]),
    ("trapezoid", lambda a: _trapezoid(a), [(5,)]),
    ("trapezoid_dx_axis", lambda a: _trapezoid(a, dx=0.3, axis=0), [(4, 3)]),
    ("trapezoid_x", lambda a: _trapezoid(a, COORDS), [(2, 5)]),
    ("trapezoid_x_nd", lambda a, x: _trapezoid(a, x, axis=0), [(4, 3), (4, 3)]),
    ("trapezoid_traced_x", lambda a, x: _trapezoid(a, x), [(5,), (5,)]),
    ("unwrap", lambda a: np.unwrap(4.0 * a), [(6,)]),
    ("unwrap_axis_period", lambda a: np.unwrap(3.0 * a, axis=0, period=2.5), [(5, 3)]),
    ("unwrap_discont", lambda a: np.unwrap(4.0 * a, discont=4.0), [(2, 6)]),
    ("cumulative_sum", lambda a: fnp.cumulative_sum(a, axis=1), [(3, 4)]),
    ("cumulative_sum_initial", lambda a: fnp.cumulative_sum(a, include_initial=True), [(4,)]),
    ("cumulative_prod_initial",
     lambda a: fnp.cumulative_prod(a, axis=0, include_initial=True), [(3, 2)]),
    ("cumulative_0d", lambda a: fnp.cumulative_sum(a, include_initial=True), [()]),
]


def _coords_like(shape, seed):
    """Increasing coordinates (the traced-coordinate cases need distinct steps)."""
    return np.cumsum(np.random.default_rng(seed).uniform(0.2, 1.0, shape), axis=0)


def _args(name, shapes, dtype):
    args = [_x(s, dtype, seed=i) for i, s in enumerate(shapes)]
    if "traced_coords" in name or name.startswith("trapezoid_") and len(shapes) == 2:
        args[1] = _coords_like(shapes[1], 7).astype(dtype)
    if name == "gradient_traced_dx":
        args[1] = np.asarray(0.7, dtype)
    return args


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_float64_all_transforms(name, f, shapes):
    check_all(f, *_args(name, shapes, np.float64))


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_other_dtypes(name, f, shapes, dtype):
    if dtype == np.int32 and ("traced_coords" in name or name == "gradient_traced_dx"):
        pytest.skip("integer coordinates: NumPy's own integer steps")
    check_all(f, *_args(name, shapes, dtype))


def test_bool_and_unsigned():
    b = np.array([True, False, False, True])
    same(traced(lambda a: np.diff(a), b), [np.diff(b)])
    u = np.array([3, 1, 4, 1], np.uint8)
    same(traced(lambda a: np.diff(a), u), [np.diff(u)])          # wraps, as NumPy
    one = np.uint8(1)
    same(traced(lambda a: np.ediff1d(a, to_begin=one), u), [np.ediff1d(u, to_begin=one)])
    with pytest.raises(TypeError, match="same_kind"):        # int64 -> uint8, as NumPy
        traced(lambda a: np.ediff1d(a, to_begin=1), u)
    same(traced(lambda a: np.gradient(a), u), [np.gradient(u)])
    i = np.array([0, 5, 2, 9])
    same(traced(lambda a: np.unwrap(a, period=6), i), [np.unwrap(i, period=6)])
    same(traced(lambda a: np.unwrap(a, period=7), i), [np.unwrap(i, period=7)])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), st.data(), seeds)
def test_diff_and_gradient_shapes(shape, data, seed):
    x = _x(shape, seed=seed)
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    n = data.draw(st.integers(0, 3))
    same(traced(lambda a: np.diff(a, n, axis=axis), x), [np.diff(x, n, axis=axis)])
    edge = data.draw(st.sampled_from([1, 2]))
    if shape[axis] > edge:
        want = np.gradient(x, axis=axis, edge_order=edge)
        same(traced(lambda a: np.gradient(a, axis=axis, edge_order=edge), x), [want])


def test_gradient_with_respect_to_the_coordinates():
    """The coordinates may be traced: the derivative with respect to them is exact (the
    non-uniform formulas, which NumPy uses for unequal steps)."""
    f = np.sin(COORDS)
    for edge in (1, 2):
        check_all(lambda c: np.gradient(f, c, edge_order=edge), COORDS, order=2)
        # with traced coordinates, equal steps still give NumPy's values
        same(fd.jit(lambda c: np.gradient(f, c, edge_order=edge))(UNIFORM),
             np.gradient(f, UNIFORM, edge_order=edge))


def test_gradient_returns_numpys_container():
    x = _x((3, 4))
    out = fd.jit(lambda a: np.gradient(a))(x)
    assert type(out) is type(np.gradient(x)) and len(out) == 2


def test_errors():
    x = _x((3, 4))
    run = lambda f: fd.grad(lambda a: np.sum(f(a)))(x)  # noqa: E731
    with pytest.raises(ValueError, match="non-negative"):
        run(lambda a: np.diff(a, -1))
    with pytest.raises(ValueError, match="at least one dimensional"):
        run(lambda a: np.diff(a[0, 0]))
    with pytest.raises(TypeError, match="same_kind"):
        fd.grad(lambda a: np.sum(np.ediff1d(np.arange(3), to_begin=a[0, 0])))(x)
    with pytest.raises(TypeError):                     # bool subtraction, as NumPy
        run(lambda a: np.ediff1d(a > 0) * a[0, 0])
    with pytest.raises(ValueError, match="too small"):
        run(lambda a: np.gradient(a[:2], axis=0, edge_order=2))
    with pytest.raises(ValueError, match="greater than 2"):
        run(lambda a: np.gradient(a, edge_order=3)[0])
    with pytest.raises(TypeError, match="invalid number of arguments"):
        run(lambda a: np.gradient(a, 1.0, 2.0, 3.0)[0])
    with pytest.raises(ValueError, match="scalars or 1d"):
        run(lambda a: np.gradient(a, 1.0, np.ones((4, 1)))[0])
    with pytest.raises(ValueError, match="must match the length"):
        run(lambda a: np.gradient(a, 1.0, np.arange(3.0))[0])
    # with a plain ndarray the errors are NumPy's own: the same types
    with pytest.raises(ValueError):
        np.gradient(x, 1.0, np.arange(3.0))


def test_unwrap_derivative_is_the_identity():
    """unwrap adds piecewise-constant multiples of the period: the derivative passes the
    tangent through (JAX's convention), also at the jumps."""
    p = np.array([0.0, 3.0, 6.5, 0.5, -3.0])
    g = fd.jacfwd(lambda a: np.unwrap(a))(p)
    np.testing.assert_array_equal(g, np.eye(5))
    np.testing.assert_array_equal(fd.jacrev(lambda a: np.unwrap(a))(p), np.eye(5))


@pytest.mark.skipif(not hasattr(np, "trapz"), reason="NumPy >= 2.4 has no trapz")
def test_trapz_alias():   # pragma: no cover - NumPy < 2.4
    x = _x((4,))
    with np.testing.suppress_warnings() as sup:
        sup.filter(DeprecationWarning)
        same(traced(lambda a: np.trapz(a, dx=0.5), x), [np.trapz(x, dx=0.5)])
        same(traced(lambda a: fnp.trapz(a), x), [np.trapz(x)])
