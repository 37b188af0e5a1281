"""Indexing (``x[idx]``), ``.at[idx]`` updates, ``take``/``take_along_axis`` and the
value-dependent ``nonzero``/``argwhere``: values against NumPy (eager, and traced
through ``make_jaxpr`` + ``eval_jaxpr`` with ``check_jaxpr``), errors, and derivatives
(``check_grads``) through every index kind and every ``.at`` method."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import (ConcretizationError, FuncdiffIndexError, FuncdiffError,
                                  NonConcreteBooleanIndexError, ShapeError)
from funcdiff.primitives.indexing import make_indexer
from funcdiff.test_util import check_grads

import _helpers
from _helpers import DEFAULT, traced as _traced, values as _values

DTYPES = [np.float64, np.float32, np.int32, np.bool_]


# --- strategies ---------------------------------------------------------------------------------

@st.composite
def shape_and_index(draw, kinds=("int", "slice", "array", "mask"), max_ndim=3,
                    allow_newaxis=True):
    """An array shape and a valid NumPy index into it, mixing the given kinds (plus
    None and Ellipsis; some 1-d integer arrays become Python lists).  Index arrays
    broadcast together."""
    ndim = draw(st.integers(0, max_ndim))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    n_cons = draw(st.integers(0, ndim))
    ell = draw(st.booleans())
    if ell:       # the explicitly indexed axes sit on both sides of the ellipsis
        n_before = draw(st.integers(0, n_cons))
        axes = list(range(n_before)) + list(range(ndim - (n_cons - n_before), ndim))
    else:
        n_before = n_cons
        axes = list(range(n_cons))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    bshape = draw(st.sampled_from([(), (2,), (3,), (2, 1), (2, 3)]))

    def arr_shape():
        s = [1 if draw(st.booleans()) else d for d in bshape]
        return tuple(s[draw(st.integers(0, len(s))):])

    entries = []
    for ax in axes:
        n = shape[ax]
        kind = draw(st.sampled_from([k for k in kinds if k in ("slice", "mask") or n > 0]))
        if kind == "int":
            entries.append(int(rng.integers(-n, n)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-6, 6))
            step = draw(st.one_of(st.none(), st.sampled_from([1, 2, 3, -1, -2])))
            entries.append(slice(draw(bound), draw(bound), step))
        elif kind == "array":
            a = rng.integers(-n, n, size=arr_shape())
            entries.append(a.tolist() if a.ndim == 1 and draw(st.booleans()) else a)
        else:
            entries.append(rng.random(n) > 0.4)
    if ell:
        entries.insert(n_before, Ellipsis)
    if allow_newaxis:
        for _ in range(draw(st.integers(0, 2))):
            entries.insert(draw(st.integers(0, len(entries))), None)
    idx = tuple(entries) if (len(entries) != 1 or draw(st.booleans())) else entries[0]
    try:
        np.empty(shape)[idx]
    except (IndexError, ValueError):
        from hypothesis import assume
        assume(False)
    return shape, idx


def _split_arrays(idx):
    """(template, arrays): the integer arrays of an index taken out, to pass them as
    traced arguments; ``rebuild(template, arrays)`` puts them back."""
    tup = idx if isinstance(idx, tuple) else (idx,)
    template, arrays = [], []
    for e in tup:
        if isinstance(e, (np.ndarray, list)) and np.asarray(e).dtype.kind == "i":
            template.append(("arr", len(arrays)))
            arrays.append(np.asarray(e, dtype=np.intp))
        else:
            template.append(("static", e))
    return (template, isinstance(idx, tuple)), arrays


def _rebuild(template, arrays):
    tpl, was_tuple = template
    out = tuple(arrays[v] if k == "arr" else v for k, v in tpl)
    return out if was_tuple or len(out) != 1 else out[0]


#: when not exact: rtol 1e-6, atol 1e-12 for every dtype
TOLS = {DEFAULT: (1e-6, 1e-12)}


def _assert_same(got, want, exact=True):
    """Same shape and dtype; values equal, or (not ``exact``) allclose to TOLS."""
    _helpers.assert_same(got, want, exact, TOLS, exact_kinds="")


# --- getitem against NumPy -----------------------------------------------------------------------

@given(shape_and_index(), st.sampled_from(DTYPES))
def test_getitem_traced_matches_numpy(si, dtype):
    shape, idx = si
    x = _values(np.random.default_rng(1), shape, dtype)
    want = x[idx]
    (got,) = _traced(lambda x: (x[idx],), x)
    _assert_same(got, want)


@given(shape_and_index(kinds=("int", "slice", "array")), st.sampled_from(DTYPES))
def test_getitem_traced_index_arrays(si, dtype):
    """Index arrays passed as traced arguments (abstract under make_jaxpr)."""
    shape, idx = si
    x = _values(np.random.default_rng(2), shape, dtype)
    template, arrays = _split_arrays(idx)
    want = x[_rebuild(template, arrays)]
    (got,) = _traced(lambda x, *arrs: (x[_rebuild(template, list(arrs))],), x, *arrays)
    _assert_same(got, want)


@given(shape_and_index(), st.sampled_from([np.float64, np.int32]))
def test_at_get_eager_and_traced(si, dtype):
    shape, idx = si
    x = _values(np.random.default_rng(3), shape, dtype)
    a = fnp.asarray(x)
    got = a.at[idx].get()
    _assert_same(got, x[idx])
    if got.size:
        assert not np.shares_memory(got, x)
    (got_t,) = _traced(lambda x: (x.at[idx].get(),), x)
    _assert_same(got_t, x[idx])


def test_basic_index_uses_cheap_primitives():
    x = np.arange(24.0).reshape(2, 3, 4)
    closed = fd.make_jaxpr(lambda x: x[1, ::-2, None, 1:3])(x)
    names = {e.primitive.name for e in closed.eqns}
    assert "gather" not in names and names <= {"slice", "rev", "reshape"}
    closed = fd.make_jaxpr(lambda x: x[:, [2, 0], 1])(x)
    assert [e.primitive.name for e in closed.eqns] == ["gather"]


def test_indexer_prints_numpy_style():
    x = np.zeros((2, 3, 4))
    text = str(fd.make_jaxpr(lambda x, i: x[i, 1:, None, ..., ::-1])(x, np.array([0, 1])))
    assert "gather[indexer=[@1, 1:, None, ..., ::-1]]" in text
    ix = make_indexer([("int", -1), ("slice", None, 3, 2), ("newaxis",), ("array", 0)])
    assert str(ix) == "[-1, :3:2, None, @1]"
    assert hash(ix) == hash(make_indexer(list(ix)))


@pytest.mark.parametrize("idx", [True, False, (Ellipsis, True), (0, False), (None, True, 1),
                                 (), Ellipsis, [], (slice(None), [])])
def test_special_indices(idx):
    x = np.arange(6.0).reshape(2, 3)
    (got,) = _traced(lambda x: (x[idx],), x)
    _assert_same(got, x[idx])


def test_zero_d_array_and_index_tracer_act_as_integers():
    x = np.arange(24.0).reshape(2, 3, 4)
    # NumPy: integers count as advanced indices next to arrays (advanced dims first)
    (got,) = _traced(lambda x, i: (x[i, :, [0, 1]],), x, np.array(1))
    _assert_same(got, x[1, :, [0, 1]])
    (got,) = _traced(lambda x, i: (x[:, i],), x, np.array(-1))
    _assert_same(got, x[:, -1])
    (got,) = _traced(lambda x: (x[np.array(1), np.int64(2)],), x)
    _assert_same(got, x[1, 2])


def test_list_of_tracers_and_slice_bounds():
    x = np.arange(12.0).reshape(3, 4)
    i, j = np.array(2), np.array(0)
    (got,) = _traced(lambda x, i, j: (x[[i, j, i]],), x, i, j)
    _assert_same(got, x[[2, 0, 2]])
    # slice bounds must be static: concrete under grad, an error under jit-like tracing
    g = fd.grad(lambda x, n: x[:n].sum())(x, 2)
    np.testing.assert_allclose(g, np.where(np.arange(3)[:, None] < 2, 1.0, 0.0) + 0 * x)
    with pytest.raises(ConcretizationError):
        fd.make_jaxpr(lambda x, n: x[:n])(x, np.array(2))


def test_plain_numpy_functions_dispatch():
    x = np.arange(12.0).reshape(3, 4)
    ind = np.array([[0, 3], [1, 1], [2, 0]])
    (a, b) = _traced(lambda x: (np.take(x, [2, 0], axis=1),
                                np.take_along_axis(x, ind, axis=1)), x)
    _assert_same(a, np.take(x, [2, 0], axis=1))
    _assert_same(b, np.take_along_axis(x, ind, axis=1))
    g = fd.grad(lambda x: (x[np.nonzero(x > 4.0)] ** 2).sum())(x)
    np.testing.assert_allclose(g, np.where(x > 4.0, 2 * x, 0.0))


def test_fancy_list_repeats():
    x = np.arange(5.0)
    (got,) = _traced(lambda x: (x[[0, 0, 2]],), x)
    _assert_same(got, x[[0, 0, 2]])


# --- boolean masks ------------------------------------------------------------------------------

def test_mask_with_concrete_value_outside_jit():
    x = np.array([1.0, -2.0, 3.0, -0.5])
    g = fd.grad(lambda x: (x[x > 0] ** 2).sum())(x)
    np.testing.assert_allclose(g, np.where(x > 0, 2 * x, 0.0))
    out, _ = fd.jvp(lambda x: x[x > 0], (x,), (np.ones_like(x),))
    _assert_same(out, x[x > 0])


def test_abstract_mask_raises_with_hint():
    x = np.arange(4.0)
    with pytest.raises(NonConcreteBooleanIndexError) as ei:
        fd.make_jaxpr(lambda x: x[x > 1])(x)
    assert "where(mask, x, 0)" in str(ei.value)
    assert isinstance(ei.value, IndexError)
    with pytest.raises(NonConcreteBooleanIndexError):
        fd.make_jaxpr(lambda x: x.at[x > 1].set(0.0))(x)


# --- errors --------------------------------------------------------------------------------------

def test_static_out_of_bounds_names_index_axis_shape():
    x = np.zeros((2, 3))
    with pytest.raises(FuncdiffIndexError) as ei:
        fd.make_jaxpr(lambda x: x[:, 3])(x)
    msg = str(ei.value)
    assert "3" in msg and "axis 1" in msg and "(2, 3)" in msg
    with pytest.raises(IndexError):
        fd.make_jaxpr(lambda x: x[-3])(x)
    with pytest.raises(IndexError):
        fd.make_jaxpr(lambda x: x.at[5].set(1.0))(x)


def test_array_out_of_bounds_raises_at_run_time():
    x = np.zeros((2, 3))
    closed = fd.make_jaxpr(lambda x, i: x[i])(x, np.array([0, 1]))
    with pytest.raises(IndexError):
        fd.eval_jaxpr(closed.jaxpr, closed.consts, x, np.array([0, 2]))
    # negative indices wrap as in NumPy (no clamping)
    (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x + np.arange(3), np.array([-1, -2]))
    _assert_same(got, (x + np.arange(3))[[-1, -2]])
    with pytest.raises(IndexError):
        fd.grad(lambda x: x[np.array([0, 7])].sum())(x)
    closed = fd.make_jaxpr(lambda x, i, v: x.at[i].add(v))(x, np.array([0]), np.ones(3))
    with pytest.raises(IndexError):
        fd.eval_jaxpr(closed.jaxpr, closed.consts, x, np.array([4]), np.ones(3))


@pytest.mark.parametrize("idx, exc", [
    (1.0, IndexError), (np.array([0.0]), IndexError), ((0, 0, 0), IndexError),
    ((Ellipsis, Ellipsis), IndexError), (np.array([True, False]), IndexError),
    ("a", IndexError), (slice(0, 2, 0), ValueError)])
def test_invalid_indices_raise_like_numpy(idx, exc):
    x = np.zeros((3, 2))
    with pytest.raises(exc):
        x[idx]
    with pytest.raises(exc) as ei:
        fd.make_jaxpr(lambda x: x[idx])(x)
    assert isinstance(ei.value, FuncdiffError)


def test_float_tracer_index_raises():
    with pytest.raises(IndexError):
        fd.make_jaxpr(lambda x, i: x[i])(np.zeros(3), np.array([0.0]))


def test_setitem_on_tracer_points_to_at_set():
    def f(x):
        x[0] = 1.0
        return x

    with pytest.raises(TypeError) as ei:
        fd.make_jaxpr(f)(np.zeros(3))
    assert "x.at[0].set(v)" in str(ei.value) and "immutable" in str(ei.value)
    with pytest.raises(TypeError) as ei:
        fd.grad(lambda x: f(x).sum())(np.zeros(3))
    assert ".at[" in str(ei.value)


def test_updates_shape_mismatch():
    x = np.zeros((3, 4))
    with pytest.raises(ShapeError) as ei:
        fd.make_jaxpr(lambda x: x.at[0].set(np.ones(3)))(x)
    assert isinstance(ei.value, ValueError) and "(3,)" in str(ei.value)
    with pytest.raises(ValueError):
        fnp.asarray(x).at[:, 1].add(np.ones(4))


def test_nonzero_needs_concrete_values():
    x = np.array([0.0, 1.5, 0.0, -2.0])
    for fn in (fnp.nonzero, fnp.argwhere, fnp.flatnonzero):
        with pytest.raises(ConcretizationError):
            fd.make_jaxpr(fn)(x)


# --- .at updates against NumPy -------------------------------------------------------------------

def _numpy_update(op, x, idx, v):
    out = x.copy()
    v = np.asarray(v).astype(x.dtype)
    if op == "set":
        out[idx] = v
    else:
        {"add": np.add, "multiply": np.multiply, "min": np.minimum,
         "max": np.maximum}[op].at(out, idx, v)
    return out


OPS = ["set", "add", "multiply", "min", "max"]


@st.composite
def update_case(draw, kinds=("int", "slice", "array", "mask"), dtypes=tuple(DTYPES)):
    shape, idx = draw(shape_and_index(kinds=kinds))
    op = draw(st.sampled_from(OPS))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if dtype.kind == "b" and op in ("multiply",):
        dtype = np.dtype(np.float64)
    ishape = np.empty(shape)[idx].shape
    # values broadcast to the indexed shape: drop leading axes, set some to 1
    vshape = [1 if draw(st.booleans()) else d for d in ishape]
    vshape = tuple(vshape[draw(st.integers(0, len(vshape))):])
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = _values(rng, shape, dtype)
    v = _values(rng, vshape, dtype)
    return op, x, idx, v


@given(update_case())
def test_at_updates_eager(case):
    op, x, idx, v = case
    x_before = x.copy()
    a = fnp.asarray(x)
    got = getattr(a.at[idx], op)(v)
    _assert_same(got, _numpy_update(op, x, idx, v))
    assert isinstance(got, fnp.Array)
    np.testing.assert_array_equal(x, x_before)        # never mutates the input
    np.testing.assert_array_equal(a, x_before)


@given(update_case())
def test_at_updates_traced(case):
    op, x, idx, v = case
    (got,) = _traced(lambda x, v: (getattr(x.at[idx], op)(v),), x, v)
    _assert_same(got, _numpy_update(op, x, idx, v))


@given(update_case(kinds=("int", "slice", "array")))
def test_at_updates_traced_index_arrays(case):
    op, x, idx, v = case
    template, arrays = _split_arrays(idx)
    (got,) = _traced(lambda x, v, *arrs: (getattr(x.at[_rebuild(template, list(arrs))],
                                                  op)(v),), x, v, *arrays)
    _assert_same(got, _numpy_update(op, x, _rebuild(template, arrays), v))


def test_add_duplicates_accumulate():
    x = np.zeros(4)
    idx = [0, 2, 0, 0, 3]
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    want = np.zeros(4)
    for i, vi in zip(idx, v):
        want[i] += vi
    _assert_same(fnp.asarray(x).at[idx].add(v), want)
    (got,) = _traced(lambda x, v: (x.at[idx].add(v),), x, v)
    _assert_same(got, want)
    (got,) = _traced(lambda x, v: (x.at[idx].subtract(v),), x, v)
    _assert_same(got, -want)
    m = np.ones(4)
    for i, vi in zip(idx, v):
        m[i] *= vi
    _assert_same(fnp.asarray(np.ones(4)).at[idx].multiply(v), m)
    mx = np.zeros(4)
    for i, vi in zip(idx, v):
        mx[i] = max(mx[i], vi)
    _assert_same(fnp.asarray(x).at[idx].max(v), mx)
    (got,) = _traced(lambda x, v: (x.at[idx].max(v),), x, v)
    _assert_same(got, mx)


def test_at_casts_values_and_keeps_dtype():
    x = np.zeros(3, np.float32)
    got = fnp.asarray(x).at[1].set(2.5)
    _assert_same(got, np.array([0, 2.5, 0], np.float32))
    xi = np.zeros(3, np.int32)
    got = fnp.asarray(xi).at[[0, 0]].add(np.array([1, 2], np.int64))
    _assert_same(got, np.array([3, 0, 0], np.int32))
    (got,) = _traced(lambda x: (x.at[0].set(1.0),), x)
    _assert_same(got, np.array([1, 0, 0], np.float32))


def test_at_values_with_leading_unit_axes():
    x = np.zeros(4)
    v = np.array([[[7.0, 8.0]]])
    ref = x.copy()
    ref[1:3] = v
    _assert_same(fnp.asarray(x).at[1:3].set(v), ref)
    (got,) = _traced(lambda x, v: (x.at[1:3].set(v),), x, v)
    _assert_same(got, ref)


def test_at_mode_other_than_raise_is_rejected():
    with pytest.raises(ValueError):
        fnp.asarray(np.zeros(3)).at[5].set(1.0, mode="clip")


# --- take, take_along_axis, nonzero --------------------------------------------------------------

@given(st.data())
def test_take_matches_numpy(data):
    ndim = data.draw(st.integers(0, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1) if ndim else st.none()))
    mode = data.draw(st.sampled_from(["raise", "wrap", "clip"]))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    ishape = data.draw(st.sampled_from([(), (3,), (2, 2)]))
    lo, hi = (-n, n) if mode == "raise" else (-2 * n - 1, 2 * n + 2)
    ind = rng.integers(lo, hi, size=ishape)
    x = _values(rng, shape, data.draw(st.sampled_from(DTYPES)))
    want = np.take(x, ind, axis=axis, mode=mode)
    _assert_same(fnp.take(x, ind, axis=axis, mode=mode), want)
    (got,) = _traced(lambda x, i: (fnp.take(x, i, axis=axis, mode=mode),), x, ind)
    _assert_same(got, want)
    (got,) = _traced(lambda x, i: (x.take(i, axis=axis, mode=mode),), x, ind)
    _assert_same(got, want)


@given(st.data())
def test_take_along_axis_matches_numpy(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.integers(-ndim, ndim - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    ishape = list(shape)
    ishape[axis] = data.draw(st.integers(0, 5))
    ishape = [1 if (i != axis % ndim and data.draw(st.booleans())) else d
              for i, d in enumerate(ishape)]
    ind = rng.integers(-shape[axis], shape[axis], size=ishape)
    x = _values(rng, shape, data.draw(st.sampled_from(DTYPES)))
    want = np.take_along_axis(x, ind, axis=axis)
    _assert_same(fnp.take_along_axis(x, ind, axis=axis), want)
    (got,) = _traced(lambda x, i: (fnp.take_along_axis(x, i, axis=axis),), x, ind)
    _assert_same(got, want)
    if x.dtype.kind == "f" and x.dtype.itemsize == 8:
        check_grads(lambda x: fnp.take_along_axis(x, ind, axis=axis), (x,), order=2)


def test_take_along_axis_none_and_argsort_use():
    x = np.array([[3.0, 1.0, 2.0], [0.5, 2.5, 1.5]])
    order = np.argsort(x, axis=1)
    _assert_same(_traced(lambda x: (fnp.take_along_axis(x, order, axis=1),), x)[0],
                 np.take_along_axis(x, order, axis=1))
    flat = np.array([5, 0, 1])
    _assert_same(_traced(lambda x: (fnp.take_along_axis(x, flat, axis=None),), x)[0],
                 np.take_along_axis(x, flat, axis=None))


def test_nonzero_argwhere_flatnonzero_concrete():
    x = np.array([[0.0, 1.5], [0.0, -2.0]])

    def f(x):
        nz = fnp.nonzero(x)
        assert all(isinstance(i, np.ndarray) for i in nz)
        for got, want in zip(nz, np.nonzero(x)):
            _assert_same(got, want)
        _assert_same(fnp.argwhere(x), np.argwhere(x))
        _assert_same(fnp.flatnonzero(x), np.flatnonzero(x))
        _assert_same(x.nonzero()[1], np.nonzero(x)[1])
        return (x[fnp.nonzero(x)] ** 3).sum()

    g = fd.grad(f)(x)
    np.testing.assert_allclose(g, 3 * x ** 2)
    for got, want in zip(fnp.nonzero(x), np.nonzero(x)):
        _assert_same(got, want)


# --- derivatives ---------------------------------------------------------------------------------

F64 = np.float64


@given(shape_and_index())
@settings(max_examples=20)
def test_grad_getitem(si):
    shape, idx = si
    x = _values(np.random.default_rng(4), shape, F64)
    check_grads(lambda x: fnp.asarray(x)[idx] * 1.5, (x,), order=2)
    check_grads(lambda x: fnp.sin(fnp.asarray(x)[idx]), (x,), order=1)


@given(update_case(dtypes=(F64,)))
@settings(max_examples=25)
def test_grad_at_updates(case):
    op, x, idx, v = case
    if op in ("min", "max"):
        # keep away from ties, where the derivative jumps
        rng = np.random.default_rng(5)
        x = rng.permutation(np.arange(x.size, dtype=F64)).reshape(x.shape) * 0.37
        v = rng.permutation(np.arange(v.size, dtype=F64)).reshape(v.shape) * 0.37 + 0.1
    if op == "multiply":
        v = v + np.where(v >= 0, 0.5, -0.5)     # away from zero (see scatter_mul's docs)

    def f(x, v):
        return getattr(fnp.asarray(x).at[idx], op)(v)

    check_grads(f, (x, v), order=2)
    check_grads(lambda x, v: fnp.tanh(f(x, v)) ** 2, (x, v), order=1)


def test_grad_set_with_duplicates_credits_the_winner():
    x = np.arange(4.0)
    v = np.array([10.0, 20.0, 30.0])
    idx = [1, 3, 1]
    out = fnp.asarray(x).at[idx].set(v)
    g_v = fd.grad(lambda v: (fnp.asarray(x).at[idx].set(v) * np.arange(1.0, 5.0)).sum())(v)
    # reference: which update NumPy kept at each position decides the gradient
    winner = {int(i): j for j, i in enumerate(idx) if out[i] == v[j]}
    want = np.zeros(3)
    for pos, j in winner.items():
        want[j] = pos + 1.0
    np.testing.assert_allclose(g_v, want)
    check_grads(lambda x, v: fnp.asarray(x).at[idx].set(v) ** 2, (x, v), order=2)
    # broadcast scalar value at a repeated index
    check_grads(lambda x, s: fnp.asarray(x).at[[0, 0, 2]].set(s) * x, (x, 2.0), order=2)


def test_grad_multiply_duplicates_and_zeros():
    x = np.array([1.5, -2.0, 0.7])
    idx = [0, 0, 2, 0]
    for v in (np.array([2.0, -3.0, 0.5, 1.5]),       # no zeros: exact to order 2
              np.array([0.0, -3.0, 0.5, 1.5])):      # a zero update: exact to order 1
        order = 2 if np.all(v) else 1
        check_grads(lambda x, v: fnp.asarray(x).at[idx].multiply(v), (x, v), order=order)
    v = np.array([0.0, 0.0, 0.5, 1.5])               # two zeros at one position
    check_grads(lambda x, v: fnp.asarray(x).at[idx].multiply(v), (x, v), order=1)


def _extremal_reference(op, x, idx, v, tx, tv):
    """Value and tangent of x.at[idx].max/min(v) by the convention: at each position the
    tangent is the mean of the tangents of every candidate (x[p] and each update there)
    equal to the result."""
    pick = max if op == "max" else min
    cands = {p: [(x[p], tx[p])] for p in range(len(x))}
    for j, p in enumerate(np.arange(len(x))[idx]):
        cands[int(p)].append((v[j], tv[j]))
    out, t = np.empty_like(x), np.empty_like(x)
    for p, cs in cands.items():
        out[p] = pick(c[0] for c in cs)
        t[p] = np.mean([c[1] for c in cs if c[0] == out[p]])
    return out, t


@pytest.mark.parametrize("op", ["max", "min"])
def test_min_max_tie_convention(op):
    rng = np.random.default_rng(8)
    x = np.array([1.0, 4.0, 3.0, 2.0])
    v = np.array([4.0, 4.0, 2.0, 0.5, 3.0, 1.0])
    idx = [1, 1, 0, 2, 2, 3]
    tx, tv = rng.standard_normal(4), rng.standard_normal(6)
    out, t = fd.jvp(lambda x, v: getattr(fnp.asarray(x).at[idx], op)(v), (x, v), (tx, tv))
    want_out, want_t = _extremal_reference(op, x, idx, v, tx, tv)
    _assert_same(out, want_out)
    np.testing.assert_allclose(t, want_t)
    # reverse mode agrees (dot-product identity at the tie)
    ct = rng.standard_normal(4)
    _, pullback = fd.vjp(lambda x, v: getattr(fnp.asarray(x).at[idx], op)(v), x, v)
    gx, gv = pullback(ct)
    np.testing.assert_allclose(gx @ tx + gv @ tv, ct @ t)


@pytest.mark.parametrize("op, ref", [("max", fnp.maximum), ("min", fnp.minimum)])
def test_min_max_agree_with_elementwise_maximum(op, ref):
    """Unique indices: .at[i].max(v) == .at[i].set(maximum(x[i], v)), derivatives too
    (ties included: both split evenly)."""
    x = np.array([1.0, 2.0, 3.0])
    v = np.array([2.0, 0.5])
    idx = [1, 2]
    tx, tv = np.array([0.3, -1.1, 0.7]), np.array([2.0, 5.0])

    def f(x, v):
        return getattr(fnp.asarray(x).at[idx], op)(v)

    def g(x, v):
        return fnp.asarray(x).at[idx].set(ref(x[np.array(idx)], v))

    out1, t1 = fd.jvp(f, (x, v), (tx, tv))
    out2, t2 = fd.jvp(g, (x, v), (tx, tv))
    _assert_same(out1, out2)
    np.testing.assert_allclose(t1, t2)


def test_grad_through_traced_index_arrays():
    x = np.random.default_rng(6).standard_normal((4, 3))
    i = np.array([3, 0, 3])

    def f(x, i):
        return (fnp.asarray(x)[i, 1:] ** 2).sum() + fnp.asarray(x).at[i, 0].add(x[0, 0]).sum()

    g = fd.grad(f)(x, i)
    want = np.zeros_like(x)
    np.add.at(want, (i, slice(1, None)), 2 * x[i, 1:])
    want += 1.0
    want[0, 0] += len(i)
    np.testing.assert_allclose(g, want)
    check_grads(lambda x: f(x, i), (x,), order=2)


def test_take_grads():
    x = np.random.default_rng(7).standard_normal((3, 4))
    for axis, mode in [(None, "raise"), (0, "wrap"), (1, "clip"), (-1, "raise")]:
        check_grads(lambda x: fnp.take(x, np.array([[0, 5], [-1, 2]]) if mode != "raise"
                                       else np.array([[0, 2], [-1, 2]]), axis=axis,
                                       mode=mode), (x,), order=2)


def test_transformed_jaxprs_type_check():
    """grad and jvp-of-grad through every index kind and .at method, traced abstractly:
    the jaxprs check and evaluate to the eager derivatives."""
    x = np.arange(12.0).reshape(3, 4) / 7
    i = np.array([1, 1, 2])

    def f(x, i):
        a = fnp.asarray(x)
        return ((a[i, 1:] ** 2).sum() + a.at[i].add(x[0]).sum()
                + (a.at[0].max(x[2]) ** 2).sum() + (a.at[i, ::-1].set(x[0] ** 2) ** 2).sum()
                + a.at[i].multiply(x[2]).sum() + a.at[i].min(x[0]).sum()
                + (a[None, ..., -1] * a[:, 0]).sum())

    def hvp(x, i):
        return fd.jvp(lambda x: fd.grad(f)(x, i), (x,), (np.ones_like(x),))[1]

    for fn in (fd.grad(f), hvp):
        closed = fd.make_jaxpr(fn)(x, i)
        fd.check_jaxpr(closed)
        (got,) = fd.eval_jaxpr(closed.jaxpr, closed.consts, x, i)
        np.testing.assert_allclose(got, fn(x, i), rtol=1e-12)
