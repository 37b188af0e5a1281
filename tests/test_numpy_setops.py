"""``unique`` (+ ``unique_all unique_counts unique_inverse unique_values``) and the set
operations ``intersect1d union1d setdiff1d setxor1d isin``: functions whose result's
length depends on the values.

* Outside jit (under grad/jvp/vjp, where values are known) they equal NumPy exactly --
  values, order, ``return_index`` (first occurrences), inverse (NumPy's shape), counts,
  ``axis=``, ``equal_nan=``, ``assume_unique=``, dtypes -- and the derivative flows to the
  selected elements.
* Under jit/vmap they take JAX's ``size=``/``fill_value=``: the first ``size`` results,
  padded (default: the smallest result; ``setdiff1d``: 0; counts 0; indices out of
  bounds); vmap equals a loop.  Without ``size=`` the error names the function and says
  to pass it.  ``isin`` is not value-dependent and works under jit as is.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import ConcretizationError, FuncdiffError

from _sortcheck import same

SOME = settings(max_examples=25, deadline=None)


def under_grad(f, *args):
    """``f(*args)`` traced with values known (as under grad): through jvp."""
    tangents = tuple(np.zeros_like(a) if np.asarray(a).dtype.kind in "fc"
                     else np.zeros(np.shape(a), fd.float0) for a in args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fd.jvp(f, args, tangents)[0]


def values(rng, shape, dtype, nan=False):
    x = rng.integers(-2, 3, shape).astype(dtype)
    if nan and x.dtype.kind in "fc" and x.size:
        x.flat[rng.integers(0, x.size, max(1, x.size // 3))] = np.nan
    if x.dtype.kind == "c" and x.size:
        x.flat[-1] = complex(0.0, np.nan) if nan else 1j
    return x


dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_,
                          np.complex128])


# --- unique ----------------------------------------------------------------------------------

@SOME
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(0, 4), min_size=1,
                                                      max_size=3).map(tuple),
       dtype=dtypes, nan=st.booleans(), equal_nan=st.booleans(), data=st.data())
def test_unique_equals_numpy(seed, shape, dtype, nan, equal_nan, data):
    x = values(np.random.default_rng(seed), shape, dtype, nan)
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    for ri, rv, rc in itertools.product([False, True], repeat=3):
        try:
            want = np.unique(x, ri, rv, rc, axis=axis, equal_nan=equal_nan)
        except (TypeError, ValueError):
            continue
        got = under_grad(lambda v: np.unique(v, ri, rv, rc, axis=axis,
                                             equal_nan=equal_nan), x)
        same(got, want)


@pytest.mark.skipif(not hasattr(np, "unique_all"), reason="NumPy < 2")
@pytest.mark.parametrize("name", ["unique_all", "unique_counts", "unique_inverse",
                                  "unique_values"])
def test_array_api_unique_functions(name):
    x = np.array([[3.0, np.nan, 1.0], [3.0, 1.0, np.nan]])
    want = getattr(np, name)(x)
    got = under_grad(getattr(np, name), x)
    if name == "unique_values":
        want = np.sort(want)                       # NumPy's order is unspecified
    else:
        assert type(got).__name__ == type(want).__name__ and got._fields == want._fields
    same(tuple(got) if name != "unique_values" else got,
         tuple(want) if name != "unique_values" else want)


def test_unique_derivative_goes_to_the_first_occurrence():
    x = np.array([2.0, 1.0, 2.0, 3.0, 1.0])
    g = fd.grad(lambda v: np.unique(v) @ np.array([1.0, 10.0, 100.0]))(x)
    np.testing.assert_array_equal(g, [10.0, 1.0, 0.0, 100.0, 0.0])
    rows = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])
    g = fd.grad(lambda v: np.sum(np.unique(v, axis=0) * np.array([[1.0], [2.0]])))(rows)
    np.testing.assert_array_equal(g, [[2.0, 2.0], [1.0, 1.0], [0.0, 0.0]])
    # (finite differences need distinct values: a perturbation splits ties)
    fd.check_grads(lambda v: np.unique(v) ** 2, (np.array([2.0, 1.0, 3.5]),), order=2)


# --- size= under jit and vmap ----------------------------------------------------------------

def _padded(want, size, fill):
    """NumPy's result cut or padded to ``size`` (JAX's semantics)."""
    if len(want) >= size:
        return want[:size]
    pad = np.full(size - len(want), fill, want.dtype)
    return np.concatenate([want, pad])


@SOME
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 8), extra=st.integers(-2, 3),
       fill=st.sampled_from([None, -7.0]), dtype=st.sampled_from([np.float64, np.int32]))
def test_unique_size_under_jit(seed, n, extra, fill, dtype):
    x = values(np.random.default_rng(seed), (n,), dtype)
    u, idx, inv, cnt = np.unique(x, return_index=True, return_inverse=True,
                                 return_counts=True)
    size = max(len(u) + extra, 0)
    got = fd.jit(lambda v: fnp.unique(v, return_index=True, return_inverse=True,
                                      return_counts=True, size=size, fill_value=fill))(x)
    same(got[0], _padded(u, size, u.min() if fill is None else fill))
    same(got[1], _padded(idx, size, idx[0]))
    same(got[2], inv)
    same(got[3], _padded(cnt, size, 0))


def test_unique_size_with_axis_and_vmap():
    rows = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])
    same(fd.jit(lambda v: fnp.unique(v, axis=0, size=3, fill_value=9.0))(rows),
         np.array([[0.0, 5.0], [1.0, 2.0], [9.0, 9.0]]))
    xs = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0], [0.0, 1.0, 2.0]])
    got = fd.vmap(lambda v: fnp.unique(v, size=3, return_counts=True))(xs)
    loop = [fd.jit(lambda v: fnp.unique(v, size=3, return_counts=True))(v) for v in xs]
    same(got, tuple(np.stack(c) for c in zip(*loop)))
    same(got[0], np.array([[1.0, 3.0, 1.0], [2.0, 2.0, 2.0], [0.0, 1.0, 2.0]]))


def test_unique_without_size_under_jit_names_the_function():
    for f, name in ((lambda v: np.unique(v), "unique"),
                    (lambda v: np.union1d(v, v), "union1d"),
                    (lambda v: np.intersect1d(v, v), "intersect1d"),
                    (lambda v: np.setdiff1d(v, v), "setdiff1d"),
                    (lambda v: np.setxor1d(v, v), "setxor1d")):
        for transform in (fd.jit, fd.vmap):
            with pytest.raises(ConcretizationError, match=rf"`{name}`.*size="):
                transform(f)(np.ones((2, 3)))


# --- set operations --------------------------------------------------------------------------

@SOME
@given(seed=st.integers(0, 2**31 - 1), n1=st.integers(0, 8), n2=st.integers(0, 8),
       dtype=dtypes, nan=st.booleans(), assume_unique=st.booleans(),
       shape2=st.booleans())
def test_set_operations_equal_numpy(seed, n1, n2, dtype, nan, assume_unique, shape2):
    rng = np.random.default_rng(seed)
    a, b = values(rng, (n1,), dtype, nan), values(rng, (n2,), np.float64, nan)
    if shape2 and n2 % 2 == 0:
        b = b.reshape(2, -1)
    if assume_unique:
        a, b = np.unique(a), np.unique(b)
    for name, kw in (("intersect1d", dict(assume_unique=assume_unique)),
                     ("intersect1d", dict(assume_unique=assume_unique,
                                          return_indices=True)),
                     ("setdiff1d", dict(assume_unique=assume_unique)),
                     ("setxor1d", dict(assume_unique=assume_unique)),
                     ("union1d", {}),
                     ("isin", dict(assume_unique=assume_unique)),
                     ("isin", dict(invert=True))):
        f = getattr(np, name)
        want = f(a, b, **kw)
        same(under_grad(lambda a, b: f(a, b, **kw), a, b), want)
        if name == "isin":
            same(fd.jit(lambda a, b: f(a, b, **kw))(a, b), want)


@SOME
@given(seed=st.integers(0, 2**31 - 1), n1=st.integers(1, 8), n2=st.integers(1, 8),
       extra=st.integers(-1, 2), fill=st.sampled_from([None, 42.0]))
def test_set_operations_size_under_jit(seed, n1, n2, extra, fill):
    rng = np.random.default_rng(seed)
    a, b = values(rng, (n1,), np.float64), values(rng, (n2,), np.float64)
    for name in ("intersect1d", "union1d", "setdiff1d", "setxor1d"):
        want = getattr(np, name)(a, b)
        size = max(len(want) + extra, 0)
        got = fd.jit(lambda a, b: getattr(fnp, name)(a, b, size=size, fill_value=fill))(a, b)
        default = (0.0 if name == "setdiff1d" else
                   want.min() if len(want) else got[len(want):][:1])
        same(got, _padded(want, size, fill if fill is not None else default)
             if len(want) or fill is not None or name == "setdiff1d" else got)
    want = np.intersect1d(a, b, return_indices=True)
    size = len(want[0]) + 1
    got = fd.jit(lambda a, b: fnp.intersect1d(a, b, return_indices=True, size=size))(a, b)
    same(got[1], _padded(want[1], size, n1))                 # out-of-bounds padding
    same(got[2], _padded(want[2], size, n2))


def test_set_operations_under_vmap():
    a = np.array([[1.0, 2.0, 3.0], [3.0, 3.0, 0.0]])
    b = np.array([2.0, 3.0])
    for name in ("intersect1d", "union1d", "setdiff1d", "setxor1d"):
        f = lambda a: getattr(fnp, name)(a, b, size=4, fill_value=-1.0)  # noqa: E731
        same(fd.vmap(f)(a), np.stack([fd.jit(f)(r) for r in a]))
    same(fd.vmap(lambda a: np.isin(a, b))(a), np.isin(a, b))


def test_set_operation_derivatives():
    a, b = np.array([3.0, 1.0, 3.0, 5.0]), np.array([5.0, 3.0, 7.0])
    # intersect1d: each value from its first occurrence in ar1
    ga, gb = fd.grad(lambda a, b: np.intersect1d(a, b) @ np.array([1.0, 10.0]),
                     argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(ga, [1.0, 0.0, 0.0, 10.0])
    np.testing.assert_array_equal(gb, 0.0)
    ga = fd.grad(lambda a: np.sum(np.setdiff1d(a, b) ** 2))(a)
    np.testing.assert_array_equal(ga, [0.0, 2.0, 0.0, 0.0])
    ga, gb = fd.grad(lambda a, b: np.sum(np.setxor1d(a, b) * np.array([1.0, 2.0])),
                     argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(ga, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0, 2.0])
    fd.check_grads(lambda a, b: np.union1d(a, b) ** 2,
                   (np.array([3.0, 1.0]), np.array([2.0, 7.0])), order=2)


def test_isin_kinds_and_dtypes():
    a = np.array([1, 2, 3, 4])
    for kind in (None, "sort", "table"):
        same(fd.jit(lambda a: np.isin(a, np.array([[4, 1]]), kind=kind))(a),
             np.isin(a, np.array([[4, 1]]), kind=kind))
    same(fd.jit(lambda a: np.isin(a, np.array([2.5, 3.0])))(a),
         np.isin(a, np.array([2.5, 3.0])))
    same(fd.jit(lambda a: np.isin(a, np.zeros(0)))(a), np.isin(a, np.zeros(0)))


# --- errors ----------------------------------------------------------------------------------

def test_errors():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="fill_value") as info:
        fd.jit(lambda v: fnp.unique(v[:0], size=2))(x)
    assert isinstance(info.value, FuncdiffError)
    with pytest.raises(ValueError, match="non-negative") as info:
        fd.jit(lambda v: fnp.unique(v, size=-1))(x)
    assert isinstance(info.value, FuncdiffError)
    with pytest.raises(ValueError, match="kind") as info:
        fd.jit(lambda v: np.isin(v, v, kind="bogus"))(x)
    assert isinstance(info.value, FuncdiffError)
    with pytest.raises(ValueError, match="table") as info:
        fd.jit(lambda v: np.isin(v, v, kind="table"))(x)
    assert isinstance(info.value, FuncdiffError)


def test_jax_keywords_work_outside_transforms_too():
    """NumPy's own functions reject size=/length=; funcdiff.numpy's take them everywhere
    (outside transforms the traced implementation runs eagerly)."""
    x, y = np.array([3.0, 1.0, 3.0, 2.0]), np.array([2.0, 5.0])
    for f in (lambda a: fnp.unique(a, size=5, return_counts=True, fill_value=-1.0),
              lambda a: tuple(fnp.unique_all(a, size=2)),
              lambda a: fnp.intersect1d(a, y, size=2, return_indices=True),
              lambda a: fnp.union1d(a, y, size=6), lambda a: fnp.setdiff1d(a, y, size=3),
              lambda a: fnp.setxor1d(a, y, size=4, fill_value=0.0),
              lambda a: fnp.bincount(a.astype(int), length=3)):
        same(f(x), fd.jit(f)(x))
    same(fnp.unique(x), np.unique(x))
