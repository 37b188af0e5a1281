"""Value-dependent shapes (issue 14, item 3): ``nonzero``, ``argwhere``, ``flatnonzero``,
``where(c)``, ``compress``, ``extract``, ``mask_indices`` and boolean-mask indexing.

* Without ``size=`` the values decide the shape: eagerly and under ``grad``/``jvp``/
  ``vjp`` (concrete tracing) the results equal NumPy's, and derivatives flow through the
  selected values (``check_grads``); under ``jit``/``vmap`` the error names the function
  and says to pass ``size=`` (boolean masks: ``where`` or ``nonzero(mask, size=)``).
* With JAX's ``size=``/``fill_value=``: NumPy's result truncated or padded (the reference
  is NumPy plus padding, written here), eagerly, traced (``make_jaxpr`` + ``eval_jaxpr``
  with ``check_jaxpr``), under ``jit`` and under ``vmap`` (equal to a Python loop), with
  derivatives through ``jit``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import (ConcretizationError, FuncdiffError,
                                  NonConcreteBooleanIndexError)
from funcdiff.test_util import check_grads

from _helpers import assert_same, traced, values
from _numpy_checks import NUMPY2

CASES = settings(max_examples=30, deadline=None)
GRADS = settings(max_examples=8, deadline=None)
DTYPES = [np.float64, np.float32, np.int32, np.bool_]

shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2 ** 32 - 1)


def _sparse(rng, shape, dtype):
    """Values of ``dtype`` with about half of them zero."""
    x = values(rng, shape, dtype)
    return np.where(rng.random(shape) < 0.5, np.zeros((), x.dtype), x).astype(x.dtype)


# --- NumPy references for size= -------------------------------------------------------------

def _pad(v, size, fill, axis=0):
    """``v`` cut or padded to ``size`` along ``axis`` with ``fill`` (cast to v's dtype)."""
    v = np.moveaxis(np.asarray(v), axis, 0)[:size]
    extra = np.full((size - v.shape[0],) + v.shape[1:], fill).astype(v.dtype)
    return np.moveaxis(np.concatenate([v, extra]), 0, axis)


def np_nonzero(a, size, fill=None):
    idx = np.nonzero(a)
    fills = fill if isinstance(fill, tuple) else (fill,) * len(idx)
    return tuple(_pad(i, size, 0 if f is None else f) for i, f in zip(idx, fills))


def np_argwhere(a, size, fill=None):
    if np.ndim(a) == 0:
        return np.zeros((size, 0), np.intp)
    return np.stack(np_nonzero(a, size, fill), axis=1)


def np_compress(cond, a, axis, size, fill=0):
    a = np.asarray(a)
    if axis is None:
        a, axis = a.ravel(), 0
    n, m = a.shape[axis], len(cond)
    cond, a = np.asarray(cond)[:n], np.take(a, np.arange(min(n, m)), axis)
    return _pad(np.compress(cond, a, axis), size, fill, axis)


# name -> (funcdiff call with size, its NumPy reference, the plain NumPy function)
SIZED = {
    "nonzero": (lambda x, s, f: fnp.nonzero(x, size=s, fill_value=f), np_nonzero, np.nonzero),
    "where": (lambda x, s, f: fnp.where(x, size=s, fill_value=f), np_nonzero, np.where),
    "flatnonzero": (lambda x, s, f: fnp.flatnonzero(x, size=s, fill_value=f),
                    lambda x, s, f: np_nonzero(np.ravel(x), s, f)[0], np.flatnonzero),
    "argwhere": (lambda x, s, f: fnp.argwhere(x, size=s, fill_value=f), np_argwhere,
                 np.argwhere),
}


def _everywhere(f, ref, x, batch):
    """``f(x)`` equals ``ref(x)`` eagerly, traced, under jit, and under vmap (a loop)."""
    want = ref(x)
    assert_same(f(x), want, exact=True, tree=True)
    assert_same(traced(f, x), want if isinstance(want, tuple) else [want], exact=True,
                tree=True)
    assert_same(fd.jit(f)(x), want, exact=True, tree=True)
    got = fd.vmap(f)(batch)
    for k, xb in enumerate(batch):
        assert_same(fd.tree_util.tree_map(lambda g: g[k], got), ref(xb), exact=True,
                    tree=True)


@CASES
@given(shapes, st.sampled_from(DTYPES), st.sampled_from(list(SIZED)), st.integers(0, 6),
       st.sampled_from([None, -1, 7]), seeds)
def test_sized_index_functions_match_numpy_everywhere(shape, dtype, name, size, fill,
                                                      seed):
    rng = np.random.default_rng(seed)
    x = _sparse(rng, shape, dtype)
    batch = np.stack([x, _sparse(rng, shape, dtype)])
    f, ref, _ = SIZED[name]
    _everywhere(lambda x: f(x, size, fill), lambda x: ref(x, size, fill), x, batch)


def test_fill_value_per_axis_and_float_fill():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]])
    got = fd.jit(lambda x: fnp.nonzero(x, size=4, fill_value=(-1, 9)))(x)
    assert_same(got, np_nonzero(x, 4, (-1, 9)), exact=True, tree=True)
    # the padding is cast to the indices' dtype
    got = fnp.argwhere(x, size=3, fill_value=5)
    assert_same(got, np_argwhere(x, 3, 5), exact=True)


@pytest.mark.parametrize("name", list(SIZED))
@pytest.mark.parametrize("dtype", DTYPES)
def test_without_size_the_values_decide_under_grad(name, dtype):
    """Concrete tracing: inside grad/jvp the results are NumPy's (constants)."""
    x = _sparse(np.random.default_rng(3), (3, 4), dtype)
    _, _, np_fn = SIZED[name]
    seen = []

    def f(w):
        xt = fnp.asarray(x)          # traced, its value known
        seen.append(getattr(np, name)(xt))
        return fnp.sum(w)

    fd.grad(f)(np.ones(2))
    assert_same(seen[0], np_fn(x), exact=True, tree=True)
    # eagerly it is NumPy itself
    assert_same(getattr(fnp, name)(x), np_fn(x), exact=True, tree=True)


def test_zero_dim_input_as_numpy():
    x = np.array(2.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = np.nonzero(x)
    except ValueError:    # NumPy 2: an error; funcdiff agrees with the NumPy it runs on
        with pytest.raises(ValueError):
            fd.grad(lambda x: fnp.sum(fnp.nonzero(x)[0]) * x)(x)
        with pytest.raises(ValueError):
            fd.jit(lambda x: fnp.nonzero(x, size=2))(x)
    else:                 # NumPy 1.x: deprecated, the answer of atleast_1d(x)
        seen = []
        fd.grad(lambda v: seen.append(fnp.nonzero(v)) or v)(x)
        assert_same(seen[0], want, exact=True, tree=True)
        assert_same(fd.jit(lambda x: fnp.nonzero(x, size=1))(x), want, exact=True, tree=True)
    # argwhere and flatnonzero of a 0-d value are defined
    assert_same(fd.jit(lambda x: fnp.argwhere(x, size=2))(x), np.zeros((2, 0), np.intp),
                exact=True)
    assert_same(fd.jit(lambda x: fnp.flatnonzero(x, size=2))(x), np.array([0, 0]),
                exact=True)


# --- errors -------------------------------------------------------------------------------------

NO_SIZE = [
    ("nonzero", lambda x: fnp.nonzero(x)),
    ("where", lambda x: fnp.where(x > 0)),
    ("flatnonzero", lambda x: fnp.flatnonzero(x)),
    ("argwhere", lambda x: fnp.argwhere(x)),
    ("compress", lambda x: fnp.compress(x > 0, x)),
    ("extract", lambda x: fnp.extract(x > 0, x)),
    ("nonzero", lambda x: np.nonzero(x)),        # plain NumPy reaches the same function
    ("compress", lambda x: np.compress(x > 0, x)),
]


@pytest.mark.parametrize("name,f", NO_SIZE, ids=[f"{n}{i}" for i, (n, _) in
                                                  enumerate(NO_SIZE)])
@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_without_size_under_jit_the_error_says_what_to_pass(name, f, transform):
    x = np.array([0.0, 1.5, -2.0, 3.0])
    with pytest.raises(ConcretizationError) as ei:
        if transform == "jit":
            fd.jit(f)(x)
        else:
            fd.vmap(f)(np.stack([x, x]))
    msg = str(ei.value)
    assert isinstance(ei.value, FuncdiffError)
    assert f"`{name}`" in msg and "size=" in msg and "test_numpy_masks.py" in msg


def test_size_must_be_a_static_nonnegative_int():
    x = np.array([0.0, 1.0])
    with pytest.raises(ConcretizationError, match="size= must be a static"):
        fd.jit(lambda x, n: fnp.nonzero(x, size=n))(x, 2)
    with pytest.raises(ValueError, match="size= must be >= 0"):
        fnp.nonzero(x, size=-1)
    with pytest.raises(TypeError, match="size= must be an int"):
        fnp.flatnonzero(x, size=1.5)
    with pytest.raises(ValueError, match="fill_value must be a scalar or a tuple"):
        fnp.nonzero(np.ones((2, 2)), size=2, fill_value=(1, 2, 3))
    with pytest.raises(ValueError, match="fill_value must be a scalar"):
        fnp.nonzero(x, size=2, fill_value=np.ones(2))
    with pytest.raises(ValueError, match="one-argument"):
        fnp.where(x > 0, x, x, size=2)
    with pytest.raises(ValueError, match="both or neither"):
        fnp.where(x > 0, x)


# --- boolean masks -----------------------------------------------------------------------------

@GRADS
@given(shapes, seeds)
def test_mask_indexing_differentiates_through_the_selected_values(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, shape)
    x = np.where(np.abs(x) < 0.1, 0.5, x)       # no entry at the threshold

    def f(x):
        return (x[x > 0] ** 3).sum() + fnp.sum(fnp.sin(x[x < 0]))
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(fd.grad(f)(x), np.where(x > 0, 3 * x ** 2, np.cos(x)))


@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_mask_indexing_under_jit_names_the_fixes(transform):
    x = np.array([0.5, -1.0, 2.0])
    f = (lambda x: x[x > 0].sum())
    with pytest.raises(NonConcreteBooleanIndexError) as ei:
        (fd.jit(f) if transform == "jit" else fd.vmap(f))(
            x if transform == "jit" else np.stack([x, x]))
    msg = str(ei.value)
    assert "where(mask, x, 0)" in msg and "nonzero(mask, size=" in msg
    assert "compress" in msg and "test_numpy_masks.py" in msg
    with pytest.raises(NonConcreteBooleanIndexError, match="where"):
        fd.jit(lambda x: x.at[x > 0].set(0.0))(x)


def test_mask_indexing_with_a_sized_nonzero_under_jit_and_vmap():
    """The fix the error names: x[nonzero(mask, size=n)] works under jit and vmap."""
    x = np.array([[0.5, -1.0, 2.0, -0.1], [-0.3, 0.2, 0.4, 0.9]])

    def f(x):
        return x[fnp.nonzero(x > 0, size=3, fill_value=0)]

    def ref(x):
        return x[np_nonzero(x > 0, 3, 0)]
    assert_same(fd.jit(lambda x: f(x))(x[0]), ref(x[0]))
    got = fd.vmap(f)(x)
    np.testing.assert_array_equal(got, np.stack([ref(r) for r in x]))
    g = fd.jit(fd.grad(lambda x: fnp.sum(f(x) ** 2)))(x[0])
    want = np.zeros(4)
    np.add.at(want, np_nonzero(x[0] > 0, 3, 0)[0], 2 * x[0][np_nonzero(x[0] > 0, 3, 0)])
    np.testing.assert_allclose(g, want)     # the padding (index 0) counts again


# --- compress, extract ---------------------------------------------------------------------------

@st.composite
def compress_case(draw):
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple))
    axis = draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    n = int(np.prod(shape)) if axis is None else shape[axis]
    m = draw(st.integers(0, n + 2))      # conditions shorter or longer than the axis
    return shape, axis, m


@CASES
@given(compress_case(), st.sampled_from([np.float64, np.float32, np.int32]), seeds,
       st.data())
def test_compress_with_size_matches_numpy_everywhere(case, dtype, seed, data):
    shape, axis, m = case
    rng = np.random.default_rng(seed)
    x = values(rng, shape, dtype)
    n = x.size if axis is None else shape[axis]
    size = data.draw(st.integers(0, min(n, m)))
    cond = rng.random(m) < 0.5
    cond2 = rng.random(m) < 0.5

    def f(c, x):
        return fnp.compress(c, x, axis=axis, size=size, fill_value=-7)

    def ref(c, x):
        return np_compress(c, x, axis, size, -7)
    want = ref(cond, x)
    assert_same(f(cond, x), want, exact=True)
    assert_same(traced(f, cond, x, unpack=True), want, exact=True)
    assert_same(fd.jit(f)(cond, x), want, exact=True)
    got = fd.vmap(f)(np.stack([cond, cond2]), np.stack([x, x + 1]))
    assert_same(got, np.stack([want, ref(cond2, x + 1)]), exact=True)


@CASES
@given(compress_case(), st.sampled_from([np.float64, np.float32, np.bool_]), seeds)
def test_compress_and_extract_without_size_as_numpy(case, dtype, seed):
    shape, axis, m = case
    rng = np.random.default_rng(seed)
    x = values(rng, shape, dtype)
    n = x.size if axis is None else shape[axis]
    cond = rng.random(m) < 0.5
    cond[n:] = False                      # True beyond the axis: IndexError (below)
    want = np.compress(cond, x, axis=axis)
    assert_same(fnp.compress(cond, x, axis=axis), want, exact=True)
    # a static condition: fine under jit and vmap too
    assert_same(fd.jit(lambda x: np.compress(cond, x, axis=axis))(x), want, exact=True)
    got = fd.vmap(lambda x: fnp.compress(cond, x, axis=axis))(np.stack([x, x]))
    assert_same(got, np.stack([want, want]), exact=True)
    # extract: the condition over the raveled array
    c2 = rng.random(shape) < 0.5
    assert_same(fd.jit(lambda x: np.extract(c2, x))(x), np.extract(c2, x), exact=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compress_extract_derivatives(dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 4)).astype(dtype)
    x = np.where(np.abs(x) < 0.1, 0.5, x).astype(dtype)
    c = np.array([True, False, True, True])
    fs = [
        lambda x: fnp.compress(x[0] > 0, x, axis=1) ** 2,       # condition from x
        lambda x: np.extract(x > 0, x) ** 3,
        lambda x: fnp.compress(c, x, axis=1, size=2, fill_value=0.5) ** 2,
        lambda x: fnp.extract(x > 0, fnp.sin(x), size=5, fill_value=-1.0),
    ]
    for f in fs:
        out = f(x)
        assert out.dtype == dtype
        if dtype == np.float64:
            check_grads(f, (x,), order=2)
    # under jit: derivatives flow to the selected values, never to the padding
    f = fd.jit(fd.grad(lambda x: fnp.sum(fnp.extract(x > 0, x, size=9, fill_value=3.0)
                                         ** 2)))
    np.testing.assert_allclose(f(x), 2 * x * (x > 0), rtol=1e-6)
    # a traced fill_value gets the padding's derivative: one per padded entry
    for cond, want in ((c, 0.0), (np.array([True, False, False, False]), 2.0)):
        g = fd.jit(fd.grad(lambda v: fnp.sum(fnp.compress(cond, x[0], size=3,
                                                          fill_value=v))))(dtype(1.0))
        assert g == want


def test_compress_errors_as_numpy_and_jax():
    x = np.arange(5.0)
    for f in (np.compress, fnp.compress):
        with pytest.raises(ValueError, match="1-d"):
            f(np.ones((2, 2), bool), x)
        with pytest.raises(IndexError):
            f(np.r_[np.zeros(5, bool), True], x)
    # traced: the same errors
    with pytest.raises(ValueError, match="1-d"):
        fd.grad(lambda x: fnp.sum(np.compress(np.ones((2, 2), bool), x)))(x)
    with pytest.raises(IndexError, match="out of bounds"):
        fd.grad(lambda x: fnp.sum(np.compress(np.r_[np.zeros(5, bool), True], x)))(x)
    # JAX's size= rules: at most the axis' length; Trues beyond the axis are cut
    with pytest.raises(ValueError, match="size must be"):
        fnp.compress(np.ones(5, bool), x, size=6)
    with pytest.raises(ValueError, match="size must be"):
        fnp.compress(np.ones(3, bool), x, size=4)       # cut to the condition's length
    assert_same(fnp.compress(np.r_[np.ones(5, bool), True], x, size=5), x, exact=True)
    with pytest.raises(TypeError, match="out="):
        fd.grad(lambda x: fnp.sum(fnp.compress([True], x, out=np.zeros(1))))(x)


def test_mask_indices_static_and_sized():
    for k in (-1, 0, 2):
        assert_same(fnp.mask_indices(4, np.triu, k), np.mask_indices(4, np.triu, k),
                    exact=True, tree=True)
        assert_same(fd.jit(lambda: fnp.mask_indices(4, np.tril, k))(),
                    np.mask_indices(4, np.tril, k), exact=True, tree=True)
    # a traced mask function: the mask is made of constants, so its values are known
    got = fd.jit(lambda: fnp.mask_indices(3, lambda m, k: fnp.asarray(m) * (m.sum() > 0)))()
    assert_same(got, np.nonzero(np.ones((3, 3))), exact=True, tree=True)
    assert_same(fnp.mask_indices(3, np.triu, size=8, ),
                np_nonzero(np.triu(np.ones((3, 3))), 8), exact=True, tree=True)
