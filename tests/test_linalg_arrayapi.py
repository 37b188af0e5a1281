"""funcdiff.numpy.linalg's cond, tensorinv, tensorsolve and NumPy 2's array-API
functions (cross diagonal matrix_norm vector_norm outer tensordot trace vecdot matmul
matrix_transpose), and fft.hfft/ihfft -- against NumPy (float64, float32, complex),
traced, jitted, vmapped and differentiated (``check_all``), and NumPy's errors.  On
NumPy 1.26 the array-API functions are funcdiff's own; the references are then
written with NumPy 1.x's functions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import ShapeError

from _helpers import traced, values
from _numpy_checks import NUMPY2, check_all, same

L = fnp.linalg          # NumPy's linalg on traced values dispatches here (NumPy 2)
seeds = st.integers(0, 2 ** 32 - 1)


def _x(shape, dtype=np.float64, seed=0):
    return values(np.random.default_rng(seed), shape, dtype)


def _well(shape, dtype=np.float64, seed=0):
    """Well-conditioned (stacks of) square matrices."""
    a = _x(shape, dtype, seed)
    return (a + 4 * np.eye(shape[-1], dtype=dtype)).astype(dtype)


CASES = [
    ("cond", lambda a: L.cond(a), [(3, 3)]),
    ("cond_stack_rect", lambda a: L.cond(a), [(2, 3, 4)]),
    *[(f"cond_{p}", (lambda p: lambda a: L.cond(a, p))(p), [(2, 3, 3)])
      for p in ("fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2)],
    ("tensorinv", lambda a: L.tensorinv(a.reshape(2, 3, 6), ind=2), ["w(6, 6)"]),
    ("tensorinv_ind1", lambda a: L.tensorinv(a, ind=1), ["w(4, 4)"]),
    ("tensorsolve", lambda a, b: L.tensorsolve(a.reshape(2, 3, 6), b), ["w(6, 6)", (2, 3)]),
    ("tensorsolve_axes", lambda a, b: L.tensorsolve(a.reshape(6, 2, 3), b, axes=(0,)),
     ["w(6, 6)", (2, 3)]),
    ("cross", lambda a, b: L.cross(a, b), [(4, 3), (3,)]),
    ("cross_axis", lambda a, b: L.cross(a, b, axis=0), [(3, 2), (3, 2)]),
    ("diagonal", lambda a: L.diagonal(a, offset=1), [(2, 3, 4)]),
    ("trace", lambda a: L.trace(a, offset=-1), [(2, 3, 4)]),
    ("matrix_norm", lambda a: L.matrix_norm(a), [(2, 3, 4)]),
    ("matrix_norm_ord", lambda a: L.matrix_norm(a, ord=1, keepdims=True), [(2, 3, 4)]),
    ("matrix_norm_nuc", lambda a: L.matrix_norm(a, ord="nuc"), [(3, 4)]),
    ("vector_norm", lambda a: L.vector_norm(a), [(2, 3)]),
    ("vector_norm_axis", lambda a: L.vector_norm(a, axis=1, ord=1), [(2, 3, 4)]),
    ("vector_norm_axes", lambda a: L.vector_norm(a, axis=(0, -1), keepdims=True, ord=3),
     [(2, 3, 4)]),
    ("vector_norm_inf", lambda a: L.vector_norm(a, axis=-1, ord=np.inf), [(3, 4)]),
    ("outer", lambda a, b: L.outer(a, b), [(3,), (4,)]),
    ("tensordot", lambda a, b: L.tensordot(a, b), [(2, 3, 4), (3, 4, 2)]),
    ("tensordot_axes", lambda a, b: L.tensordot(a, b, axes=([0, 2], [2, 0])),
     [(2, 3, 4), (4, 3, 2)]),
    ("matmul", lambda a, b: L.matmul(a, b), [(2, 3, 4), (4, 2)]),
    ("matrix_transpose", lambda a: L.matrix_transpose(a), [(2, 3, 4)]),
    ("vecdot", lambda a, b: L.vecdot(a, b), [(2, 3), (3,)]),
    ("vecdot_axis", lambda a, b: L.vecdot(a, b, axis=0), [(3, 2), (3, 1)]),
    ("hfft", lambda a: fnp.fft.hfft(a), [(5,)]),
    ("hfft_n_axis_norm", lambda a: fnp.fft.hfft(a, 7, axis=0, norm="ortho"), [(4, 3)]),
    ("ihfft", lambda a: fnp.fft.ihfft(a), [(6,)]),
    ("ihfft_n_norm", lambda a: fnp.fft.ihfft(a, 4, norm="forward"), [(2, 5)]),
]

# NumPy 1.26 has no array-API linalg functions: references written with its own
_NP1_REFS = {
    "cross": lambda a, b: np.cross(a, b), "cross_axis": lambda a, b: np.cross(a, b, axis=0),
    "diagonal": lambda a: np.diagonal(a, 1, -2, -1),
    "trace": lambda a: np.trace(a, -1, -2, -1),
    "matrix_norm": lambda a: np.linalg.norm(a, axis=(-2, -1)),
    "matrix_norm_ord": lambda a: np.linalg.norm(a, 1, (-2, -1), True),
    "matrix_norm_nuc": lambda a: np.linalg.norm(a, "nuc", (-2, -1)),
    "vector_norm": lambda a: np.linalg.norm(a.ravel()),
    "vector_norm_axis": lambda a: np.linalg.norm(a, 1, 1),
    "vector_norm_axes": lambda a: np.sum(np.abs(a) ** 3, axis=(0, 2), keepdims=True)
    ** (1 / 3),
    "vector_norm_inf": lambda a: np.linalg.norm(a, np.inf, -1),
    "outer": np.outer, "tensordot": np.tensordot,
    "tensordot_axes": lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
    "matmul": np.matmul, "matrix_transpose": lambda a: np.swapaxes(a, -1, -2),
    "vecdot": lambda a, b: np.sum(a.conj() * b, axis=-1),
    "vecdot_axis": lambda a, b: np.sum(a.conj() * b, axis=0),
}


def _args(shapes, dtype, seed=0):
    out = []
    for i, s in enumerate(shapes):
        if isinstance(s, str):
            out.append(_well(eval(s[1:]), dtype, seed + i))
        else:
            out.append(_x(s, dtype, seed + i))
    return out


def _check(name, f, args, **kw):
    if not NUMPY2 and name in _NP1_REFS:  # pragma: no cover - NumPy 1.x
        same(traced(f, *args), [_NP1_REFS[name](*args)])
        same(fd.jit(f)(*args), _NP1_REFS[name](*args))
        same(f(*args), _NP1_REFS[name](*args))       # funcdiff's, run eagerly
        return
    check_all(f, *args, **kw)


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_float64_all_transforms(name, f, shapes):
    _check(name, f, _args(shapes, np.float64))


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_other_dtypes(name, f, shapes, dtype):
    if dtype == np.complex128 and name.startswith(("ihfft", "cond_nuc")):
        pytest.skip("ihfft of complex input is refused by NumPy's rfft")
    _check(name, f, _args(shapes, dtype), grads=False)


def test_plain_numpy_names_dispatch():
    """numpy.linalg.X(traced) reaches funcdiff (on NumPy 2, where NumPy has them)."""
    a = _well((3, 3))
    for f in (lambda a: np.linalg.cond(a, 1), lambda a: np.linalg.tensorinv(a, ind=1),
              lambda a: np.fft.hfft(a[0]), lambda a: np.fft.ihfft(a[0])):
        check_all(f, a)
    if NUMPY2:
        for f in (lambda a: np.linalg.vector_norm(a, axis=0),
                  lambda a: np.linalg.matrix_transpose(a) @ np.linalg.outer(a[0], a[1]),
                  lambda a: np.linalg.vecdot(a, a[0]) + np.linalg.trace(a)):
            check_all(f, a)


def test_cond_of_a_singular_matrix_is_inf():
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    z = np.zeros((2, 2))
    for p in (None, 2, -2, "fro", 1, np.inf):   # ("nuc": NumPy raises, SVD of inf)
        with np.errstate(all="ignore"):
            want = np.linalg.cond(s, p)
        got = fd.jit(lambda a: L.cond(a, p))(s)
        # (the SVD's smallest singular value rounds to ~1e-16, not 0: huge, not inf)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for p in (None, 2, "fro", 1, -np.inf):
        with np.errstate(all="ignore"):
            want = np.linalg.cond(z, p)
        got = fd.jit(lambda a: L.cond(a, p))(z)
        assert np.isinf(got) and np.isinf(want), (p, got, want)
    with np.errstate(all="ignore"):
        assert np.isinf(fd.jit(lambda a: L.cond(a, -2))(z)) and np.isinf(np.linalg.cond(z, -2))
        assert np.isnan(fd.jit(lambda a: L.cond(a, 1))(z * np.nan))     # NaN input stays


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
       st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple), st.integers(1, 4),
       seeds)
def test_vecdot_broadcasting(b1, b2, n, seed):
    try:
        np.broadcast_shapes(b1, b2)
    except ValueError:
        return
    x, y = _x(b1 + (n,), seed=seed), _x(b2 + (n,), seed=seed + 1)
    want = np.sum(x * y, axis=-1)
    same(traced(lambda a, b: L.vecdot(a, b), x, y), [want])


def test_errors():
    a = _well((3, 3))
    run = lambda f: fd.grad(lambda x: np.sum(f(x)))(a)  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError, match="empty"):
        run(lambda x: L.cond(x[:0, :0]))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        run(lambda x: L.cond(x[:2], 1))
    with pytest.raises(ValueError, match="Invalid ind"):
        run(lambda x: L.tensorinv(x, ind=0))
    with pytest.raises(np.linalg.LinAlgError, match="prod"):
        run(lambda x: L.tensorsolve(x[:2], x[0, :2]))
    with pytest.raises(ShapeError, match="3-dimensional vectors"):
        run(lambda x: L.cross(x[:, :2], x[:, :2]))
    with pytest.raises(ShapeError, match="one-dimensional"):
        run(lambda x: L.outer(x, x[0]))
    with pytest.raises(ValueError, match="at least 2-dimensional"):
        run(lambda x: L.matrix_transpose(x[0]))
    with pytest.raises(ShapeError, match="mismatch in its core dimension"):
        run(lambda x: L.vecdot(x, x[:2, 0]))
    with pytest.raises(ValueError, match="Invalid norm value"):
        run(lambda x: fnp.fft.hfft(x, norm="sideways"))
