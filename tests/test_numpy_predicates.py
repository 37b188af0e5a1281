"""Predicates, dtype helpers and the array-API spellings (funcdiff/numpy/_predicates.py,
_arrayapi.py) against NumPy: traced values equal NumPy's (dtypes and shapes too),
through ``funcdiff.numpy`` and through NumPy's dispatch; dtype questions answered from
avals under ``jit`` (nothing concretized); ``vmap`` equal to a loop; derivatives of the
array-API products and reshapes; error paths.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core.errors import ConcretizationError, FuncdiffValueError
from funcdiff.test_util import check_grads

import _helpers
from _helpers import traced

VALUES = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**31 - 1)
NP2 = hasattr(np, "isdtype")
NP21 = hasattr(np, "unstack")
NP22 = hasattr(np, "matvec")


def _pair(rng, shape, dtype):
    """Two arrays with many near-equal, equal, NaN and infinite entries."""
    a = rng.standard_normal(shape)
    b = a + rng.choice([0.0, 1e-9, 1e-6, 1e-3, 1.0], shape) * rng.standard_normal(shape)
    for v in (np.nan, np.inf, -np.inf):
        a = np.where(rng.random(shape) < 0.1, v, a)
        b = np.where(rng.random(shape) < 0.1, v, b)
    b = np.where(rng.random(shape) < 0.2, a, b)
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (a + 1j * b).astype(dtype), (b + 1j * a).astype(dtype)
    if dtype.kind in "iu":
        return (np.nan_to_num(a, posinf=9, neginf=-9) * 3).astype(dtype), \
            (np.nan_to_num(b, posinf=9, neginf=-9) * 3).astype(dtype)
    return a.astype(dtype), b.astype(dtype)


def _both(f, *args):
    """f traced through funcdiff.numpy and through NumPy's dispatch; NumPy's value."""
    want = f(np, *args)
    for m in (np, fnp):
        got = traced(lambda *a: f(m, *a), *args)
        yield got if isinstance(want, tuple) else got[0], want


@VALUES
@given(shape=st.lists(st.integers(0, 4), max_size=2).map(tuple), seed=seeds,
       dtype=st.sampled_from([np.float64, np.float32, np.complex128, np.int32]),
       rtol=st.sampled_from([1e-5, 1e-8, 0.0]), atol=st.sampled_from([1e-8, 0.0, 1e-3]),
       equal_nan=st.booleans())
def test_isclose_allclose_array_equal(shape, seed, dtype, rtol, atol, equal_nan):
    a, b = _pair(np.random.default_rng(seed), shape, dtype)
    with np.errstate(all="ignore"):
        for got, want in _both(lambda m, a, b: m.isclose(a, b, rtol, atol, equal_nan), a, b):
            _helpers.assert_same(got, want)
        for got, want in _both(lambda m, a, b: m.allclose(a, b, rtol, atol, equal_nan), a, b):
            _helpers.assert_same(got, np.bool_(want))
        for x, y in ((a, b), (a, a), (a, a.copy())):
            for got, want in _both(lambda m, a, b: m.array_equal(a, b, equal_nan=equal_nan),
                                   x, y):
                _helpers.assert_same(got, np.bool_(want))
            for got, want in _both(lambda m, a, b: m.array_equiv(a, b), x, y):
                _helpers.assert_same(got, np.bool_(want))


def test_isclose_scalars_and_mixed_dtypes():
    a = np.array([1.0, 1.0 + 1e-7, 2.0, np.inf], np.float32)
    for b in (1.0, 1, np.array([1, 1, 2, 3]), np.float64(1.0)):
        want = np.isclose(a, b)
        (got,) = traced(lambda u: np.isclose(u, b), a)
        _helpers.assert_same(got, want)
        (got,) = traced(lambda u: np.isclose(b, u), a)
        _helpers.assert_same(got, np.isclose(b, a))
    (got,) = traced(lambda u: np.isclose(u, u[::-1], atol=u[0]), np.array([0.5, 1.0, 0.2]))
    _helpers.assert_same(got, np.isclose([0.5, 1.0, 0.2], [0.2, 1.0, 0.5], atol=0.5))


def test_shape_mismatches_are_python_false_without_concretizing():
    a = np.ones(3)
    assert fd.jit(lambda u: fnp.array_equal(u, u[:2]) + 0)(a) == 0
    assert fd.jit(lambda u: np.array_equiv(u, u[:2]) + 0)(a) == 0
    assert fd.jit(lambda u: np.array_equiv(u, u[None, :] * np.ones((2, 1))))(a)


def test_allclose_in_python_control_flow_under_grad_and_jit():
    def f(x):
        return fnp.sum(x ** 2) if np.allclose(x, 1.0) else fnp.sum(x)

    np.testing.assert_allclose(fd.grad(f)(np.ones(3)), 2 * np.ones(3))
    np.testing.assert_allclose(fd.grad(f)(np.full(3, 2.0)), np.ones(3))
    with pytest.raises(ConcretizationError):
        fd.jit(f)(np.ones(3))


@pytest.mark.parametrize("x", [np.array([1 + 0j, 2 + 1e-20j, 1j]), np.array([1.0, 2.0]),
                               np.array([1, 2], np.int8), np.array(3 + 4j), 2.5,
                               np.array([1 - 1j], np.complex64)], ids=str)
def test_iscomplex_isreal_and_object_versions(x):
    for name in ("iscomplex", "isreal"):
        want = getattr(np, name)(x)
        (got,) = traced(lambda u: getattr(np, name)(u), x) if np.ndim(x) or not \
            isinstance(x, float) else traced(lambda: getattr(fnp, name)(x))
        _helpers.assert_same(got, want)
    for name in ("iscomplexobj", "isrealobj"):
        want = getattr(np, name)(x)
        got = []
        fd.jit(lambda u: got.append(getattr(np, name)(u)) or u)(x)   # from the aval
        assert got == [want]


def test_real_if_close():
    z = np.array([1 + 1e-15j, 2 - 1e-16j])
    w = np.array([1 + 1e-3j, 2 + 0j])
    for v in (z, w, z.astype(np.complex64), np.array([1.0, 2.0]), np.arange(3)):
        for tol in (100, 1e-2):
            want = np.real_if_close(v, tol=tol)
            f = lambda u: np.real_if_close(u, tol=tol)  # noqa: E731
            # under vjp the values are known (make_jaxpr, like jit, has none)
            got = fd.vjp(f, v)[0] if v.dtype.kind == "c" else traced(f, v)[0]
            _helpers.assert_same(got, want)
    # the derivative flows through the real part
    g = fd.grad(lambda u: fnp.sum(fnp.real_if_close(u * (1 + 0j))) * 2)(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(g, 2.0)
    # real input works under jit/vmap; complex input needs concrete values
    np.testing.assert_array_equal(fd.jit(np.real_if_close)(np.ones(2)), np.ones(2))
    with pytest.raises(ConcretizationError, match="real_if_close"):
        fd.jit(np.real_if_close)(z)
    with pytest.raises(ConcretizationError, match="real_if_close"):
        fd.vmap(np.real_if_close)(np.stack([z, z]))


def test_isscalar_iterable():
    seen = []

    def f(x, s):
        seen.append((fnp.isscalar(x), fnp.isscalar(s), fnp.iterable(x), fnp.iterable(s),
                     fnp.isscalar(2.0), fnp.isscalar(np.ones(2)), fnp.iterable([1])))
        return x

    fd.jit(f)(np.ones(3), 2.0)
    fd.grad(lambda s: f(np.ones(3), s).sum() * s)(2.0)
    assert seen[0] == (False, True, True, False, True, False, True)
    assert seen[1] == (False, True, True, False, True, False, True)
    # plain numpy.isscalar is not dispatched: a tracer is not a NumPy scalar type
    fd.jit(lambda x: seen.append(np.isscalar(x)) or x)(1.0)
    assert seen[-1] is False


def test_dtype_helpers_from_avals():
    x32 = np.ones(3, np.float32)
    got = {}

    def f(x, i, s):
        got["rt"] = fnp.result_type(x, i, s, 1.0)
        got["rt_np"] = np.result_type(x, 2, np.int8)
        got["rt_weak"] = fnp.result_type(x, s * 2.0)
        got["cc"] = (fnp.can_cast(x, np.float64), np.can_cast(x, np.int8),
                     np.can_cast(i, np.int32, casting="same_kind"))
        got["pt"] = fnp.promote_types(x, i)
        if NP2:
            got["isd"] = (fnp.isdtype(x.dtype, "real floating"),
                          fnp.isdtype(i.dtype, ("integral", "bool")))
        return x

    fd.jit(f)(x32, np.arange(2), 2.0)
    assert got["rt"] == np.result_type(x32, np.arange(2), np.float64(2.0), 1.0)
    assert got["rt_np"] == np.result_type(x32, 2, np.int8)
    # s * 2.0 is a weak (Python) float: float32 stays float32, as NumPy 2 promotes
    assert got["rt_weak"] == np.float32
    assert got["cc"] == (True, False, True)
    assert got["pt"] == np.promote_types(np.float32, np.int64)
    if NP2:
        assert got["isd"] == (True, True)


# --- array-API spellings ------------------------------------------------------------------

def _arr(rng, shape, dtype=np.float64):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def test_astype_permute_dims_matrix_transpose_concat_unstack():
    rng = np.random.default_rng(0)
    x = _arr(rng, (2, 3, 4))
    cases = [(lambda m, u: m.permute_dims(u, (2, 0, 1)), x),
             (lambda m, u: m.matrix_transpose(u), x),
             (lambda m, u: m.concat([u, 2 * u], axis=-1), x),
             (lambda m, u: m.concat((u, u), axis=None), x),
             (lambda m, u: m.astype(u, np.float32), x),
             (lambda m, u: m.astype(u, np.int32), x * 3),
             (lambda m, u: m.astype(u + 1j * u, np.complex64), x)]
    if NP21:
        cases += [(lambda m, u: m.unstack(u), x), (lambda m, u: m.unstack(u, axis=-1), x)]
    for f, v in cases:
        if not all(hasattr(np, n) for n in ("permute_dims", "matrix_transpose", "concat",
                                             "astype")):
            pytest.skip("NumPy < 2.1 has no array-API spellings to compare with")
        for got, want in _both(f, v):
            _helpers.assert_same(got, want, tree=isinstance(want, tuple))
    check_grads(lambda u: fnp.matrix_transpose(fnp.permute_dims(u, (1, 0, 2))) ** 2, (x,),
                order=2)
    check_grads(lambda u: fnp.unstack(fnp.astype(u, np.float64), axis=1), (x,), order=1)
    with pytest.raises(FuncdiffValueError, match="at least 2-dimensional"):
        traced(fnp.matrix_transpose, np.ones(3))
    with pytest.raises(FuncdiffValueError, match="at least 1-d"):
        traced(fnp.unstack, np.float64(1.0))


GUFUNC_CASES = [
    # (name, shapes, kwargs)
    ("vecdot", [(3,), (3,)], {}), ("vecdot", [(2, 3), (3,)], {}),
    ("vecdot", [(4, 1, 3), (2, 3)], {}), ("vecdot", [(3, 2), (3, 2)], {"axis": 0}),
    ("vecdot", [(2, 3), (2, 3)], {"keepdims": True}),
    ("vecdot", [(3, 2), (2, 3)], {"axes": [0, 1]}),
    ("matvec", [(2, 3), (3,)], {}), ("matvec", [(4, 2, 3), (1, 3)], {}),
    ("matvec", [(3, 2), (3,)], {"axes": [(1, 0), (0,), (0,)]}),
    ("vecmat", [(2,), (2, 3)], {}), ("vecmat", [(4, 2), (4, 2, 3)], {}),
    ("vecmat", [(2,), (3, 2)], {"axes": [(0,), (1, 0), (0,)]}),
]


@pytest.mark.parametrize("name,shapes,kw", GUFUNC_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int64])
def test_vecdot_matvec_vecmat(name, shapes, kw, dtype):
    if not hasattr(np, name):
        pytest.skip(f"NumPy {np.__version__} has no {name}")
    rng = np.random.default_rng(1)
    args = [(_arr(rng, s, np.float64) * 3).astype(dtype) if np.dtype(dtype).kind == "i"
            else _arr(rng, s, dtype) for s in shapes]
    f = getattr(np, name)
    want = f(*args, **kw)
    for g in (f, getattr(fnp, name)):
        (got,) = traced(lambda *a: g(*a, **kw), *args)
        _helpers.assert_same(got, want, tols={np.float32: 1e-5, np.complex64: 1e-5,
                                              "default": 1e-12})
    if np.dtype(dtype).kind in "fc" and np.dtype(dtype).itemsize >= 8:
        check_grads(lambda *a: getattr(fnp, name)(*a, **kw), args, order=2)
    # vmap over a leading batch axis equals a loop
    batched = [np.stack([a, 2 * a]) for a in args]
    got = fd.vmap(lambda *a: getattr(fnp, name)(*a, **kw))(*batched)
    _helpers.assert_same(got, np.stack([f(*[b[i] for b in batched], **kw) for i in (0, 1)]),
                         tols={np.float32: 1e-5, "default": 1e-12})


def test_gufunc_errors():
    if not NP22:
        pytest.skip("NumPy < 2.2")
    with pytest.raises(ValueError):
        traced(lambda u: fnp.vecdot(u, u[:2]), np.ones(3))
    with pytest.raises(FuncdiffValueError, match="enough dimensions"):
        traced(lambda u: fnp.matvec(u, u), np.ones(3))
    with pytest.raises(TypeError, match="both 'axis' and 'axes'"):
        traced(lambda u: fnp.vecdot(u, u, axis=0, axes=[0, 0]), np.ones(3))
    with pytest.raises(TypeError, match="out="):
        traced(lambda u: fnp.vecdot(u, u, out=np.zeros(())), np.ones(3))
