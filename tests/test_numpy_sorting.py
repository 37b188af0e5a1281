"""The sort family (``sort argsort lexsort sort_complex partition argpartition``), the
searches (``searchsorted digitize``), ``count_nonzero`` and the ndarray methods
``.sort() .argsort() .searchsorted() .partition() .argpartition()`` on traced values.

Table-driven (tests/_sortcheck.py): each row is written against plain ``numpy`` and, in
float32 and float64, must equal NumPy under make_jaxpr/eval_jaxpr and jit, equal a loop
under vmap, and (float64) pass jvp/vjp checks against finite differences, to order 2.
Hypothesis then varies shapes and axes, ties and NaNs (against ``kind='stable'``), and
each error path has a test.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import FuncdiffError

from _helpers import traced
from _sortcheck import Case, check_values, run_case, same

FEW = settings(max_examples=15, deadline=None)
AXIS_ERROR = getattr(np, "exceptions", np).AxisError
DTYPES = [np.float64, np.float32]


def distinct(rng, shape, dtype):
    """Values without ties (finite differences see one ordering)."""
    n = int(np.prod(shape))
    v = rng.permutation(n).astype(np.float64) * 0.5 + rng.uniform(0.05, 0.2, n)
    return (v.reshape(shape) - n / 4).astype(dtype)


def _one(shape):
    return lambda rng, dt: (distinct(rng, shape, dt),)


def _keys(rng, dt):
    k1 = rng.integers(0, 3, 7).astype(dt)          # ties in the primary key ...
    return distinct(rng, (7,), dt), k1             # ... broken by the secondary


def _sorted_and_values(rng, dt):
    return np.sort(distinct(rng, (6,), dt)), distinct(rng, (3, 2), dt)


def _bins_and_x(decreasing):
    def make(rng, dt):
        b = np.sort(distinct(rng, (5,), dt))
        return distinct(rng, (4, 2), dt), b[::-1].copy() if decreasing else b
    return make


CASES = {
    "sort": Case(lambda x: np.sort(x), _one((3, 5))),
    "sort_axis0": Case(lambda x: np.sort(x, axis=0), _one((4, 3))),
    "sort_axis_none": Case(lambda x: np.sort(x, axis=None), _one((2, 3))),
    "sort_kind": Case(lambda x: np.sort(x, kind="mergesort", axis=-2), _one((3, 2, 2))),
    "argsort": Case(lambda x: np.argsort(x, axis=1), _one((3, 4)), diff=()),
    "argsort_flat": Case(lambda x: np.argsort(x, axis=None), _one((3, 4)), diff=()),
    "argsort_gather": Case(lambda x: np.take_along_axis(x, np.argsort(x, axis=0), axis=0),
                           _one((4, 3))),
    "lexsort": Case(lambda a, b: np.lexsort((a, b)), _keys, diff=()),
    "lexsort_array": Case(lambda a, b: np.lexsort(np.stack([a, b])), _keys, diff=()),
    "sort_complex": Case(lambda x: np.sort_complex(x), _one((5,))),
    "sort_complex_c": Case(lambda x, y: np.sort_complex(x + 1j * np.round(y)),
                           lambda rng, dt: (distinct(rng, (6,), dt),
                                            distinct(rng, (6,), dt)), diff=(0,)),
    "partition": Case(lambda x: np.partition(x, 2), _one((3, 5))),
    "partition_kths": Case(lambda x: np.partition(x, [0, 3], axis=0), _one((5, 2))),
    "argpartition": Case(lambda x: np.argpartition(x, 1, axis=None), _one((2, 3)),
                         diff=()),
    "searchsorted": Case(lambda a, v: np.searchsorted(a, v), _sorted_and_values, diff=()),
    "searchsorted_right": Case(lambda a, v: np.searchsorted(a, v, side="right"),
                               _sorted_and_values, diff=()),
    "searchsorted_sorter": Case(
        lambda a, v: np.searchsorted(a[::-1], v, sorter=np.arange(6)[::-1]),
        _sorted_and_values, diff=()),
    "digitize": Case(lambda x, b: np.digitize(x, b), _bins_and_x(False), diff=()),
    "digitize_right": Case(lambda x, b: np.digitize(x, b, right=True), _bins_and_x(False),
                           diff=()),
    "digitize_decreasing": Case(lambda x, b: np.digitize(x, b), _bins_and_x(True),
                                diff=()),
    "count_nonzero": Case(lambda x: np.count_nonzero(np.round(x), axis=0), _one((4, 3)),
                          diff=()),
    "count_nonzero_all": Case(lambda x: np.count_nonzero(np.round(x)), _one((4, 3)),
                              diff=()),
    "count_nonzero_keepdims": Case(
        lambda x: np.count_nonzero(np.round(x), axis=(0, 1), keepdims=True), _one((2, 3)),
        diff=()),
    # the ndarray methods (functional on traced values)
    "method_sort": Case(lambda x: x.sort(axis=0), _one((3, 4))),
    "method_argsort": Case(lambda x: x.argsort(), _one((3, 4)), diff=()),
    "method_searchsorted": Case(lambda a, v: a.searchsorted(v, side="right"),
                                _sorted_and_values, diff=()),
    "method_partition": Case(lambda x: x.partition(1), _one((2, 4))),
    "method_argpartition": Case(lambda x: x.argpartition(1, axis=0), _one((4, 2)),
                                diff=()),
}

#: NumPy's .sort() and .partition() sort in place and return None: compared to np.sort.
#: funcdiff's partition/argpartition return the fully sorted order (one valid
#: partition, module docstring), compared to np.sort/stable np.argsort: NumPy's own
#: arrangement of the non-kth elements is unspecified and differs between versions
#: (test_partition_is_a_numpy_partition checks the partition property itself).
NUMPY_EQUIVALENT = {"method_sort": lambda x: np.sort(x, axis=0),
                    "method_partition": lambda x: np.sort(x),
                    "partition": lambda x: np.sort(x),
                    "partition_kths": lambda x: np.sort(x, axis=0),
                    "argpartition": lambda x: np.argsort(x, axis=None, kind="stable"),
                    "method_argpartition": lambda x: np.argsort(x, axis=0, kind="stable")}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, dtype):
    case = CASES[name]
    if name in NUMPY_EQUIVALENT:
        # the NumPy reference of a functional method is the matching function
        ref = NUMPY_EQUIVALENT[name]
        args = case.make(np.random.default_rng(0), dtype)
        same(traced(case.f, *args)[0], ref(*args))
        same(fd.jit(case.f)(*args), ref(*args))
        case = case._replace(f=case.f)
        batch = [case.make(np.random.default_rng(k), dtype) for k in range(3)]
        same(fd.vmap(case.f)(np.stack([b[0] for b in batch])),
             np.stack([ref(*b) for b in batch]))
        if case.diff and dtype == np.float64:
            # (finite differences would run NumPy's own partition, whose arrangement
            # differs: the derivatives equal the reference's, which are checked)
            fd.check_grads(ref, args, order=2)
            t = np.random.default_rng(1).standard_normal(args[0].shape)
            same(fd.jvp(case.f, args, (t,)), fd.jvp(ref, args, (t,)))
            same(fd.vjp(case.f, *args)[1](ref(*args)), fd.vjp(ref, *args)[1](ref(*args)))
        return
    run_case(case, np.random.default_rng(0), dtype)


@pytest.mark.parametrize("kth", [0, 2, -1, [1, 3]])
@pytest.mark.parametrize("axis", [0, -1, None])
def test_partition_is_a_numpy_partition(kth, axis):
    """What NumPy guarantees: the kth entries equal np.partition's, smaller or equal
    values before them, greater or equal after (values and, through the indices, argpartition)."""
    x = np.round(np.random.default_rng(3).standard_normal((5, 4)), 1)   # with ties
    want = np.partition(x, kth, axis=axis)
    for got in (fd.jit(lambda v: np.partition(v, kth, axis=axis))(x),
                np.take_along_axis(x if axis is not None else x.ravel(),
                                   fd.jit(lambda v: np.argpartition(v, kth, axis=axis))(x),
                                   axis=-1 if axis is None else axis)):
        ax = -1 if axis is None else axis
        g, w = np.moveaxis(got, ax, -1), np.moveaxis(want, ax, -1)
        for k in np.atleast_1d(kth):
            k = k % g.shape[-1]
            np.testing.assert_array_equal(g[..., k], w[..., k])
            assert np.all(g[..., :k] <= g[..., k:k + 1])
            assert np.all(g[..., k + 1:] >= g[..., k:k + 1])


def test_method_sort_is_functional_and_leaves_its_operand_unchanged():
    """jax.Array's convention (docs/sharp-edges.md): x.sort() returns the sorted value."""
    def f(x):
        y = x.sort()
        return x, y
    x = np.array([3.0, 1.0, 2.0])
    same(fd.jit(f)(x), (x, np.sort(x)))
    assert fnp.asarray(x).sort() is None          # outside transforms: NumPy, in place


# --- shapes, axes, ties, NaNs (hypothesis) ---------------------------------------------------

shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple)


@FEW
@given(shape=shapes, data=st.data(), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from([np.float64, np.float32, np.int32, np.bool_, np.complex128]))
def test_sort_argsort_any_axis_ties_and_nans(shape, data, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(dtype)       # many ties
    if x.dtype.kind in "fc" and x.size:
        x.flat[rng.integers(0, x.size, max(1, x.size // 3))] = np.nan
    if x.dtype.kind == "c" and x.size:
        x.flat[0] = complex(1.0, np.nan)
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    check_values(Case(lambda v: np.sort(v, axis=axis), None), (x,))
    # indices: the stable order, NumPy's kind='stable'
    want = np.argsort(x, axis=axis, kind="stable")
    same(fd.jit(lambda v: np.argsort(v, axis=axis))(x), want)
    same(traced(lambda v: fnp.argsort(v, axis=axis, kind="quicksort"), x)[0], want)


@FEW
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_sort_grad_any_axis(shape, data, seed):
    x = distinct(np.random.default_rng(seed), shape, np.float64)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    fd.check_grads(lambda v: np.sort(v, axis=axis) ** 2, (x,), order=2)


@FEW
@given(n=st.integers(1, 12), m=st.integers(0, 6), seed=st.integers(0, 2**31 - 1),
       right=st.booleans(), nan=st.booleans())
def test_searchsorted_matches_numpy(n, m, seed, right, nan):
    rng = np.random.default_rng(seed)
    a = np.sort(rng.integers(-3, 4, n).astype(float))   # duplicates
    v = np.concatenate([rng.integers(-4, 5, m).astype(float), a[:2]])
    if nan:
        a[-1] = np.nan
        v = np.append(v, np.nan)
    side = "right" if right else "left"
    same(fd.jit(lambda a, v: np.searchsorted(a, v, side=side))(a, v),
         np.searchsorted(a, v, side=side))


def test_searchsorted_complex_and_ints_and_empty():
    a = np.sort(np.array([1 + 2j, 1 + 1j, 0 + 5j, complex(1, np.nan), complex(np.nan, 0)]))
    v = np.array([1 + 1.5j, 2j, complex(1, np.nan), 3 + 0j])
    for side in ("left", "right"):
        same(fd.jit(lambda a, v: np.searchsorted(a, v, side=side))(a, v),
             np.searchsorted(a, v, side=side))
    same(fd.jit(lambda v: np.searchsorted(np.array([1, 3, 5]), v))(np.array([2.5, 3.0])),
         np.searchsorted(np.array([1, 3, 5]), np.array([2.5, 3.0])))
    same(fd.jit(lambda v: np.searchsorted(np.zeros(0), v))(np.ones(3)),
         np.searchsorted(np.zeros(0), np.ones(3)))


def test_digitize_with_traced_bins_picks_the_direction_under_jit():
    x = np.array([-1.0, 0.5, 1.5, 3.0])
    for b in (np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.0]), np.array([1.0, 1.0])):
        for right in (False, True):
            same(fd.jit(lambda x, b: np.digitize(x, b, right=right))(x, b),
                 np.digitize(x, b, right=right))


def test_lexsort_three_keys_and_axis():
    rng = np.random.default_rng(1)
    keys = [rng.integers(0, 2, (3, 5)) for _ in range(3)]
    for axis in (0, 1, -1):
        same(fd.jit(lambda *k: np.lexsort(k, axis=axis))(*keys), np.lexsort(keys, axis=axis))


def test_zero_d_and_flat_cases_as_numpy():
    x = np.float64(2.0)
    same(traced(lambda v: np.argsort(v), x)[0], np.argsort(x))
    same(traced(lambda v: np.sort(v, axis=None), x)[0], np.sort(x, axis=None))
    # NumPy 2's argpartition of a 0-d array is array([0]) (as its argsort); NumPy 1.x
    # gave array(0), and funcdiff follows NumPy 2 on both
    same(traced(lambda v: np.argpartition(v, 0), x)[0], np.argsort(x))
    same(traced(lambda v: np.lexsort((v,)), x)[0], np.lexsort((x,)))


def test_sort_of_float16_and_uint8_keeps_dtype():
    for dt in (np.float16, np.uint8, np.int8):
        x = np.array([3, 1, 2], dt)
        same(fd.jit(np.sort)(x), np.sort(x))


def test_derivative_at_ties_goes_to_the_first_of_the_tied_elements():
    """The documented convention (docs/subgradients.md): a stable sort; the tangent of
    each output is that of the element which landed there."""
    x = np.array([2.0, 1.0, 2.0, 1.0])
    jac = fd.jacfwd(np.sort)(x)
    np.testing.assert_array_equal(jac, np.eye(4)[[1, 3, 0, 2]])
    np.testing.assert_array_equal(fd.jacrev(np.sort)(x), jac)


def test_sort_in_generated_code_is_numpy_sort():
    src = fd.jit(np.sort).lower(np.ones(3)).source
    assert "np.sort(" in src and "kind='stable'" in src


# --- errors ----------------------------------------------------------------------------------

ERRORS = {
    "sort kind": (lambda x: np.sort(x, kind="bogus"), ValueError, "kind"),
    "sort order": (lambda x: fnp.sort(x, order="f0"), TypeError, "order"),
    "sort 0-d axis": (lambda x: np.sort(x[0]), AXIS_ERROR, "axis"),
    "partition kth": (lambda x: np.partition(x, 5), ValueError, "out of bounds"),
    "partition bool kth": (lambda x: np.partition(x, True), TypeError, "boolean"),
    "partition float kth": (lambda x: np.partition(x, 1.5), TypeError, "integer"),
    "lexsort empty": (lambda x: fnp.lexsort(()) + x, TypeError, "keys"),
    "lexsort shapes": (lambda x: np.lexsort((x, x[:2])), ValueError, "same shape"),
    "searchsorted 2-D": (lambda x: np.searchsorted(x.reshape(1, 3), 1.0), ValueError, "1-D"),
    "searchsorted side": (lambda x: np.searchsorted(x, 1.0, side="middle"), ValueError,
                          "side"),
    "digitize complex": (lambda x: np.digitize(x + 1j, x), TypeError, "complex"),
    "digitize 2-D bins": (lambda x: np.digitize(x, x.reshape(3, 1)), ValueError, "1-D"),
    "digitize non-monotonic": (lambda x: np.digitize(x, np.array([0.0, 2.0, 1.0])),
                               ValueError, "monoton"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    f, kind, match = ERRORS[name]
    x = np.array([3.0, 1.0, 2.0])
    with pytest.raises(kind, match=match) as info:
        fd.grad(lambda v: np.sum(f(v) * 1.0))(x)
    # (axis errors are NumPy's AxisError, as everywhere in funcdiff.numpy)
    assert isinstance(info.value, (FuncdiffError, AXIS_ERROR))


def test_partition_kth_must_be_static_under_jit():
    with pytest.raises(FuncdiffError, match="static"):
        fd.jit(lambda x, k: np.partition(x, k))(np.ones(3), 1)


def test_errors_of_numpy_itself_are_the_same_kind():
    x = np.array([3.0, 1.0, 2.0])
    for f in (lambda v: np.partition(v, 5), lambda v: np.digitize(v, np.array([0, 2, 1]))):
        with pytest.raises(ValueError):
            f(x)
        with pytest.raises(ValueError):
            traced(f, x)

