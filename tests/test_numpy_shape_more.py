"""funcdiff.numpy's ``_arrayops``: block insert delete resize trim_zeros rollaxis
apply_along_axis apply_over_axes fill_diagonal put_along_axis diagflat tril triu
meshgrid indices -- against NumPy (values, shapes, dtypes; float64, float32, ints),
traced, jitted, vmapped and differentiated (``check_all``), and NumPy's errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import ConcretizationError, FuncdiffTypeError

from _helpers import traced, values
from _numpy_checks import NUMPY2, check_all, same

DTYPES = [np.float64, np.float32, np.int64, np.int32]
seeds = st.integers(0, 2 ** 32 - 1)
RNG = np.random.default_rng(0)


def _x(shape, dtype=np.float64, seed=0):
    return values(np.random.default_rng(seed), shape, dtype)


# --- the table: (name, function of arrays, argument shapes) ---------------------------------
# each function is written with plain numpy (dispatching on traced values) or fnp

CASES = [
    ("block_2x2", lambda a, b: np.block([[a, b], [b, a]]), [(2, 2), (2, 2)]),
    ("block_mixed_ndim", lambda a, b: np.block([[a], [b]]), [(4,), (2, 4)]),
    ("block_depth3", lambda a, b: np.block([[[a]], [[b]]]), [(2,), (2,)]),
    ("block_scalars", lambda a: np.block([[a[0], a[1]], [a[2], 1.0]]), [(3,)]),
    ("block_array", lambda a: np.block(a), [(2, 3)]),
    ("insert_int", lambda a, v: np.insert(a, 2, v), [(5,), ()]),
    ("insert_list", lambda a, v: np.insert(a, [0, 2, 2, 5], v), [(5,), (4,)]),
    ("insert_axis", lambda a, v: np.insert(a, 1, v, axis=1), [(3, 4), (3,)]),
    ("insert_axis_broadcast", lambda a, v: np.insert(a, [1, 3], v, axis=0), [(4, 2), (2, 1)]),
    ("insert_slice", lambda a, v: np.insert(a, slice(0, 4, 2), v, axis=-1), [(2, 5), ()]),
    ("insert_flat", lambda a, v: np.insert(a, 3, v), [(2, 3), (2,)]),
    ("delete_int", lambda a: np.delete(a, 1), [(5,)]),
    ("delete_list", lambda a: np.delete(a, [0, 2], axis=1), [(3, 4)]),
    ("delete_run", lambda a: np.delete(a, slice(0, 2), axis=0), [(4, 2)]),
    ("delete_mask", lambda a: np.delete(a, np.array([True, False, True]), axis=-1), [(2, 3)]),
    ("delete_flat", lambda a: np.delete(a, [1, 4]), [(2, 3)]),
    ("resize_grow", lambda a: np.resize(a, (3, 4)), [(5,)]),
    ("resize_shrink", lambda a: np.resize(a, 3), [(2, 3)]),
    ("resize_empty", lambda a: np.resize(a, (0, 3)), [(2,)]),
    ("rollaxis", lambda a: np.rollaxis(a, 2), [(2, 3, 4)]),
    ("rollaxis_start", lambda a: np.rollaxis(a, 0, 3), [(2, 3, 4)]),
    ("rollaxis_neg", lambda a: np.rollaxis(a, -1, -2), [(2, 3, 4)]),
    ("apply_along_axis_scalar", lambda a: np.apply_along_axis(np.sum, 0, a), [(3, 4)]),
    ("apply_along_axis_vector",
     lambda a: np.apply_along_axis(lambda r: r[:2] * np.sum(r ** 2), 1, a), [(3, 4)]),
    ("apply_along_axis_matrix",
     lambda a: np.apply_along_axis(lambda r: np.outer(r, r), 1, a), [(2, 3, 2)]),
    ("apply_along_axis_args",
     lambda a, w: np.apply_along_axis(lambda r, w, p=1.0: np.dot(r, w) * p, -1, a, w, p=2.0),
     [(2, 3, 4), (4,)]),
    ("apply_over_axes_sum", lambda a: np.apply_over_axes(np.sum, a, [0, 2]), [(2, 3, 4)]),
    ("apply_over_axes_mean", lambda a: np.apply_over_axes(np.mean, a, -1), [(2, 3)]),
    ("fill_diagonal", lambda a, v: fnp.fill_diagonal(a, v, inplace=False), [(3, 3), ()]),
    ("fill_diagonal_cyclic", lambda a, v: fnp.fill_diagonal(a, v, inplace=False),
     [(4, 4), (3,)]),
    ("fill_diagonal_tall_wrap", lambda a, v: fnp.fill_diagonal(a, v, wrap=True, inplace=False),
     [(7, 3), (2,)]),
    ("fill_diagonal_tall", lambda a, v: fnp.fill_diagonal(a, v, inplace=False), [(7, 3), ()]),
    ("fill_diagonal_3d", lambda a, v: fnp.fill_diagonal(a, v, inplace=False), [(3, 3, 3), (3,)]),
    ("put_along_axis", lambda a, v: fnp.put_along_axis(
        a, np.array([[0], [2], [1]]), v, 1, inplace=False), [(3, 4), (3, 1)]),
    ("put_along_axis_dup", lambda a, v: fnp.put_along_axis(
        a, np.array([[0, 0, 1]]), v, 0, inplace=False), [(2, 3), ()]),
    ("put_along_axis_none", lambda a, v: fnp.put_along_axis(
        a, np.array([5, 0]), v, None, inplace=False), [(2, 3), (2,)]),
    ("diagflat", lambda a: np.diagflat(a), [(2, 2)]),
    ("diagflat_k", lambda a: np.diagflat(a, -2), [(3,)]),
    ("tril", lambda a: np.tril(a), [(3, 4)]),
    ("tril_k", lambda a: np.tril(a, -1), [(2, 4, 3)]),
    ("triu_k", lambda a: np.triu(a, 2), [(4, 3)]),
    ("triu_1d", lambda a: np.triu(a), [(3,)]),
    ("meshgrid", lambda a, b: np.meshgrid(a, b), [(3,), (2,)]),
    ("meshgrid_ij_3", lambda a, b, c: np.meshgrid(a, b, c, indexing="ij"), [(3,), (2,), (4,)]),
    ("meshgrid_sparse", lambda a, b, c: np.meshgrid(a, b, c, sparse=True), [(3,), (2,), (4,)]),
    ("meshgrid_one", lambda a: np.meshgrid(a), [(3,)]),
    ("meshgrid_2d_input", lambda a, b: np.meshgrid(a, b, copy=False), [(2, 2), (3,)]),
    ("indices", lambda a: fnp.indices((2, 3)) * a, [()]),
    ("indices_sparse", lambda a: [i * a for i in fnp.indices((2, 3, 1), sparse=True)], [()]),
]


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_float64_all_transforms(name, f, shapes):
    check_all(f, *[_x(s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_other_dtypes(name, f, shapes, dtype):
    if not NUMPY2 and name.startswith("apply_along_axis"):  # pragma: no cover
        pytest.skip("func1d mixes NumPy scalars and arrays: NumPy 1.x's value-based "
                    "promotion differs (funcdiff follows NumPy 2)")
    check_all(f, *[_x(s, dtype, seed=i) for i, s in enumerate(shapes)])


# --- hypothesis: shapes and positions ---------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), st.data(),
       st.sampled_from(DTYPES), seeds)
def test_insert_delete_positions(shape, data, dtype, seed):
    x = _x(shape, dtype, seed)
    nd = len(shape)
    axis = data.draw(st.sampled_from([None] + list(range(-nd, nd))))
    n = x.size if axis is None else shape[axis]
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=3))
    same(traced(lambda a: np.delete(a, idx, axis=axis), x), [np.delete(x, idx, axis=axis)])
    pos = data.draw(st.lists(st.integers(-n, n), min_size=1, max_size=3))
    vals = _x((len(pos),), dtype, seed + 1)
    if axis is None:
        same(traced(lambda a, v: np.insert(a, pos, v), x, vals), [np.insert(x, pos, vals)])
    else:
        one = data.draw(st.integers(-n, n))
        want = np.insert(x, one, vals[0], axis=axis)
        same(traced(lambda a, v: np.insert(a, one, v[0], axis=axis), x, vals), [want])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple),
       st.integers(-5, 5), st.sampled_from(DTYPES + [np.bool_]), seeds)
def test_tril_triu_shapes(shape, k, dtype, seed):
    x = _x(shape, dtype, seed)
    for fn in (np.tril, np.triu):
        same(traced(lambda a: fn(a, k), x), [fn(x, k)])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.data(), seeds)
def test_rollaxis_every_axis(nd, data, seed):
    x = _x(tuple(range(2, 2 + nd)), seed=seed)
    axis = data.draw(st.integers(-nd, nd - 1))
    start = data.draw(st.integers(-nd, nd))
    same(traced(lambda a: np.rollaxis(a, axis, start), x), [np.rollaxis(x, axis, start)])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple),
       st.lists(st.integers(0, 7), min_size=0, max_size=3).map(tuple), seeds)
def test_resize_shapes(shape, new, seed):
    x = _x(shape, seed=seed)
    same(traced(lambda a: np.resize(a, new), x), [np.resize(x, new)])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), seeds)
def test_block_grids(shape, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (2,))
    c = rng.standard_normal(shape[:-1] + (1,)).astype(np.float32)
    f = lambda a, b, c: np.block([[a, b, c], [c, a, b]])  # noqa: E731
    check_all(f, a, b, c, vmap=False, order=1)


# --- trim_zeros: value-dependent --------------------------------------------------------------

def test_trim_zeros_under_grad_and_its_jit_error():
    x = np.array([0.0, 0.0, 1.5, 0.0, 2.0, 0.0])
    for trim in ("fb", "f", "b", "BF"):
        same(fd.jit(lambda a: a)(np.trim_zeros(x, trim)), np.trim_zeros(x, trim))
        g = fd.grad(lambda a: np.sum(np.trim_zeros(a, trim) ** 2))(x)
        lo = 2 if "f" in trim.lower() else 0
        hi = 5 if "b" in trim.lower() else 6
        want = np.zeros_like(x)
        want[lo:hi] = 2 * x[lo:hi]
        np.testing.assert_allclose(g, want)
    assert fd.grad(lambda a: np.sum(np.trim_zeros(a * 0.0)))(x).tolist() == [0.0] * 6
    with pytest.raises(ConcretizationError, match="trim_zeros"):
        fd.jit(lambda a: np.trim_zeros(a))(x)
    with pytest.raises(ConcretizationError, match="trim_zeros"):
        fd.vmap(lambda a: np.trim_zeros(a))(x[None])
    with pytest.raises(ValueError, match="unexpected character"):
        fd.grad(lambda a: np.sum(np.trim_zeros(a, "x")))(x)


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.2.0", reason="axis: NumPy 2.2")
def test_trim_zeros_axis():
    x = np.zeros((4, 5))
    x[1:3, 2:4] = [[1.0, 2.0], [3.0, 0.0]]
    for axis in (None, 0, 1, -1):
        out, f_vjp = fd.vjp(lambda a: np.trim_zeros(a, axis=axis), x)
        same(out, np.trim_zeros(x, axis=axis))
        (ct,) = f_vjp(np.ones_like(np.trim_zeros(x, axis=axis)))
        assert ct.sum() == np.trim_zeros(x, axis=axis).size


# --- functional fill_diagonal / put_along_axis -------------------------------------------------

def test_fill_diagonal_and_put_along_axis_inplace_forms():
    a = np.zeros((3, 3))
    assert fnp.fill_diagonal(a, 2.0) is None and np.trace(a) == 6.0   # NumPy's, in place
    b = fnp.fill_diagonal(a, 5.0, inplace=False)
    assert isinstance(b, fnp.Array) and np.trace(b) == 15.0 and np.trace(a) == 6.0
    idx = np.array([[1], [0], [2]])
    assert fnp.put_along_axis(a, idx, 7.0, 1) is None and a[0, 1] == 7.0
    c = fnp.put_along_axis(a, idx, -1.0, 1, inplace=False)
    assert c[0, 1] == -1.0 and a[0, 1] == 7.0
    for call in (lambda x: np.fill_diagonal(x, 1.0), lambda x: fnp.fill_diagonal(x, 1.0),
                 lambda x: np.put_along_axis(x, idx, 1.0, 1),
                 lambda x: fnp.put_along_axis(x, idx, 1.0, 1)):
        with pytest.raises(FuncdiffTypeError, match="inplace=False"):
            fd.grad(lambda x: np.sum(call(x)))(a)


def test_fill_diagonal_value_is_differentiable():
    a = np.arange(9.0).reshape(3, 3)
    f = lambda v: np.sum(fnp.fill_diagonal(a, v, inplace=False) ** 2)  # noqa: E731
    np.testing.assert_allclose(fd.grad(f)(np.array([1.0, 2.0])),
                               [2 * (1 + 1), 2 * 2])      # v cycles: v0, v1, v0
    g = fd.grad(lambda a: np.sum(fnp.fill_diagonal(a, 0.0, inplace=False)))(a)
    np.testing.assert_array_equal(g, 1.0 - np.eye(3))


def test_shape_errors():
    x = np.ones((2, 3))
    run = lambda f: fd.grad(lambda a: np.sum(f(a)))(x)  # noqa: E731
    with pytest.raises(TypeError, match="tuple"):
        run(lambda a: np.block([(a, a)]))
    with pytest.raises(ValueError, match="cannot be empty"):
        run(lambda a: np.block([a, []]))
    with pytest.raises(ValueError, match="depths are mismatched"):
        run(lambda a: np.block([[a], a]))
    with pytest.raises(ValueError, match="non-negative"):
        run(lambda a: np.resize(a, (-1, 2)))
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions")
                       else np.AxisError):
        run(lambda a: np.rollaxis(a, 0, 4))
    with pytest.raises(ValueError, match="iteration dimensions"):
        run(lambda a: np.apply_along_axis(np.sum, 1, a[:0]))
    with pytest.raises(ValueError, match="correct shape"):
        run(lambda a: np.apply_over_axes(lambda v, ax: np.sum(v), a, [0]))
    with pytest.raises(ValueError, match="at least 2-d"):
        run(lambda a: fnp.fill_diagonal(a[0], 1.0, inplace=False))
    with pytest.raises(ValueError, match="equal length"):
        run(lambda a: fnp.fill_diagonal(a[None], 1.0, inplace=False))
    with pytest.raises(ValueError, match="same number of dimensions"):
        run(lambda a: fnp.put_along_axis(a, np.array([0]), 1.0, 1, inplace=False))
    with pytest.raises(TypeError, match="integer"):
        run(lambda a: fnp.put_along_axis(a, np.array([[0.5]]), 1.0, 1, inplace=False))
    with pytest.raises(ValueError, match="indexing"):
        run(lambda a: np.meshgrid(a, indexing="xx")[0])
    with pytest.raises(ConcretizationError):
        fd.jit(lambda a, i: np.delete(a, i))(x, 1)
    with pytest.raises(ConcretizationError):
        fd.jit(lambda a, k: np.tril(a, k))(x, 1)


def test_meshgrid_container_and_indices_eagerly():
    x, y = np.arange(3.0), np.arange(2.0)
    for kw in ({}, {"sparse": True}, {"copy": False}, {"sparse": True, "copy": False}):
        want = np.meshgrid(x, y, **kw)
        got = fd.make_jaxpr(lambda a, b: np.meshgrid(a, b, **kw))(x, y)
        assert len(got.jaxpr.outvars) == len(want)
        out = fnp.meshgrid(x, y, **kw)
        assert type(out) is type(want)
    assert isinstance(fnp.indices((2, 2)), fnp.Array)
    same(fd.jit(lambda: fnp.indices((2, 3), dtype=np.int32))(), np.indices((2, 3), np.int32))
    same(fd.jit(lambda: fnp.indices(()))(), np.indices(()))


def test_apply_along_axis_under_vmap_and_jit_is_one_trace():
    calls = []

    def f1d(r):
        calls.append(1)
        return np.sum(np.sin(r) ** 2)

    x = _x((5, 4, 3))
    same(fd.jit(lambda a: np.apply_along_axis(f1d, 1, a))(x),
         np.apply_along_axis(lambda r: np.sum(np.sin(r) ** 2), 1, x))
    assert len(calls) == 1       # func1d traced once, not once per slice
