"""funcdiff.numpy's reading, writing and printing functions and einsum_path next to
traced values: NumPy's outside transforms (creation and reading functions return
funcdiff.numpy.Array), constants of the trace inside, save/savez of a traced value a
clear error, einsum_path from shapes (also under jit)."""
from __future__ import annotations

import io

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import FuncdiffTypeError

from _numpy_checks import check_all, same

X = np.arange(6.0).reshape(2, 3) / 7.0


def _npy(a):
    buf = io.BytesIO()
    np.save(buf, a)
    buf.seek(0)
    return buf


def test_readers_outside_transforms_return_arrays(tmp_path):
    path = tmp_path / "x.bin"
    X.tofile(path)
    cases = [
        (fnp.frombuffer(X.tobytes()), np.frombuffer(X.tobytes())),
        (fnp.fromfile(path), np.fromfile(path)),
        (fnp.fromfile(str(path), count=2, offset=8), np.fromfile(str(path), count=2, offset=8)),
        (fnp.fromstring("1 2 3", sep=" "), np.fromstring("1 2 3", sep=" ")),
        (fnp.fromiter(iter([1, 2, 3]), np.float32), np.fromiter(iter([1, 2, 3]), np.float32)),
        (fnp.load(_npy(X)), np.load(_npy(X))),
        (fnp.from_dlpack(X), np.from_dlpack(X)),
    ]
    for got, want in cases:
        assert isinstance(got, fnp.Array)
        same(got, want)


def test_readers_inside_transforms_are_constants(tmp_path):
    path = tmp_path / "x.bin"
    X.tofile(path)

    def f(a):
        return (a * fnp.frombuffer(X.tobytes()).reshape(2, 3)
                + fnp.fromfile(path).reshape(2, 3) * a ** 2
                + fnp.fromstring("1 2 3", sep=" ") * fnp.load(_npy(X)))
    check_all(f, X + 1.0)
    # the value read can be updated functionally inside a trace
    g = lambda a: fnp.frombuffer(X.tobytes()).at[0].set(a[0, 0]).sum()  # noqa: E731
    assert fd.grad(g)(X)[0, 0] == 1.0


def test_fromiter_and_from_dlpack_of_traced_values():
    check_all(lambda a: fnp.fromiter((a[i] * i for i in range(3)), float), X[0])
    check_all(lambda a: fnp.fromiter(iter(a), np.float64, count=2), X[0])
    check_all(lambda a: fnp.from_dlpack(a) ** 2, X)
    with pytest.raises(ValueError, match="iterator too short"):
        fd.grad(lambda a: fnp.fromiter(iter(a), float, count=4).sum())(X[0])


def test_save_and_savez():
    buf, ref = io.BytesIO(), io.BytesIO()
    fnp.save(buf, X)
    np.save(ref, X)
    assert buf.getvalue() == ref.getvalue()          # NumPy's, outside transforms
    fnp.savez(buf, a=X)
    for call in (lambda a: np.save(io.BytesIO(), a), lambda a: fnp.save(io.BytesIO(), a),
                 lambda a: np.savez(io.BytesIO(), a), lambda a: np.savez(io.BytesIO(), w=a)):
        for transform in (fd.grad, fd.jit):
            with pytest.raises(FuncdiffTypeError, match="side effect"):
                transform(lambda a: (call(a), np.sum(a))[1])(X)
    # saving a constant inside a transform is NumPy's business
    fd.grad(lambda a: (np.save(io.BytesIO(), X), np.sum(a))[1])(X)


def test_printing():
    assert fnp.get_printoptions is np.get_printoptions
    assert fnp.set_printoptions is np.set_printoptions
    assert fnp.printoptions is np.printoptions
    assert fnp.array_repr(X) == np.array_repr(X) and fnp.array_str(X) == np.array_str(X)
    seen = []

    def f(a):
        seen.append((np.array_repr(a), np.array_str(a), fnp.array_repr(a)))
        return np.sum(a)

    fd.grad(f)(X)
    fd.jit(f)(X)
    assert "Traced<f64[2,3]>" in seen[0][0] and "0.142857" in seen[0][0]   # with its value
    assert "Traced<f64[2,3]>" in seen[0][1] and seen[0][2] == seen[0][0]
    assert seen[1][0] == "Traced<f64[2,3]>"                # under jit: no value known
    with fnp.printoptions(precision=2):
        assert "0.14" in fnp.array_str(X) and "0.142" not in fnp.array_str(X)


def test_einsum_path_from_shapes():
    a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))
    want = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="optimal")
    seen = []

    def f(x, y, z):
        seen.append(np.einsum_path("ij,jk,kl->il", x, y, z, optimize="optimal"))
        return np.einsum("ij,jk,kl->il", x, y, z, optimize=seen[-1][0])

    for transform in (fd.jit, fd.grad, fd.vmap):
        args = (a[None], b[None], c[None]) if transform is fd.vmap else (a, b, c)
        if transform is fd.grad:
            transform(lambda *xs: np.sum(f(*xs)))(*args)
        else:
            transform(f)(*args)
    assert all(s[0] == want[0] for s in seen)
    assert fnp.einsum_path("ij,jk->ik", a, b)[0] == np.einsum_path("ij,jk->ik", a, b)[0]
