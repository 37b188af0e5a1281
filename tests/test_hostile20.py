"""Hostile tests of the Dask execution path (issue 20): odd chunkings, float32, integer
and boolean data, 0-d Dask arrays, Dask/NumPy operands on either side, reductions,
kinks, slicing, control flow, the jit cache across array types, laziness (a scheduler
that counts computes) and the identity of the user's containers.  References are
closed forms in NumPy on the same data."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.lax as lax
import funcdiff.numpy as fnp

da = pytest.importorskip("dask.array", reason="needs dask[array] (pip install 'funcdiff[dask]')")
dask = pytest.importorskip("dask")

RNG = np.random.default_rng(20)
X = RNG.standard_normal((7, 5))
W = RNG.standard_normal(5)
Y = RNG.standard_normal(7)
CHUNKINGS = [(3, 2), (1, 1), ((2, 5), (4, 1)), (7, 5)]


class Counting:
    """A dask scheduler counting computes (then computing synchronously)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        return dask.get(dsk, keys, **kwargs)


@pytest.fixture
def counting():
    c = Counting()
    with dask.config.set(scheduler=c):
        yield c


def value(x):
    """``x`` computed (sync scheduler, not counted); it must be a Dask array."""
    assert isinstance(x, da.Array), type(x)
    with dask.config.set(scheduler="sync"):
        return x.compute()


def close(got, want, dtype=np.float64, rtol=1e-10):
    assert got.dtype == dtype, (got.dtype, dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def tanh_sq(w, X):
    return fnp.sum(fnp.tanh(X @ w) ** 2)


def tanh_sq_grad_w(w, X):
    t = np.tanh(X @ w)
    return X.T @ (2 * t * (1 - t ** 2))


def tanh_sq_grad_X(w, X):
    t = np.tanh(X @ w)
    return np.outer(2 * t * (1 - t ** 2), w)


def tanh_sq_hessian(w, X):
    t = np.tanh(X @ w)
    s = 1 - t ** 2
    return X.T @ ((2 * s * s - 4 * t * t * s)[:, None] * X)


# ---------------------------------------------------------------- odd chunkings

@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_transforms_on_odd_chunkings(chunks, counting):
    Xd = da.from_array(X, chunks=chunks)
    t = np.tanh(X @ W)
    outs = {
        "grad": (fd.grad(tanh_sq)(W, Xd), tanh_sq_grad_w(W, X)),
        "grad X": (fd.grad(tanh_sq, argnums=1)(W, Xd), tanh_sq_grad_X(W, X)),
        "jit grad": (fd.jit(fd.grad(tanh_sq))(W, Xd), tanh_sq_grad_w(W, X)),
        "jacfwd": (fd.jacfwd(lambda w, X: fnp.tanh(X @ w))(W, Xd), (1 - t ** 2)[:, None] * X),
        "jacrev": (fd.jacrev(lambda w, X: fnp.tanh(X @ w))(W, Xd), (1 - t ** 2)[:, None] * X),
        "hessian": (fd.hessian(tanh_sq)(W, Xd), tanh_sq_hessian(W, X)),
        "jvp": (fd.jvp(lambda w: tanh_sq(w, Xd), (W,), (W,))[1], tanh_sq_grad_w(W, X) @ W),
        "vjp": (fd.vjp(lambda w: fnp.tanh(Xd @ w), W)[1](np.ones(7))[0],
                X.T @ (1 - t ** 2)),
        "vmap grad": (fd.vmap(fd.grad(lambda w, x: fnp.tanh(x @ w)), in_axes=(None, 0))(W, Xd),
                      (1 - t ** 2)[:, None] * X),
        "vmap axis 1": (fd.vmap(lambda x: fnp.sum(x ** 2), in_axes=1)(Xd), (X ** 2).sum(0)),
    }
    assert counting.calls == 0, "building the graphs computed something"
    for name, (got, want) in outs.items():
        close(value(got), want)


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("form", ["X @ w", "w @ X.T", "X * w", "w * X"])
def test_broadcasting_either_side(form, chunks, counting):
    Xd = da.from_array(X, chunks=chunks)
    f = {"X @ w": lambda w, X: fnp.sum((X @ w) ** 2),
         "w @ X.T": lambda w, X: fnp.sum((w @ X.T) ** 2),
         "X * w": lambda w, X: fnp.sum((X * w) ** 2),
         "w * X": lambda w, X: fnp.sum((w * X) ** 2)}[form]
    want = (2 * X.T @ (X @ W)) if "@" in form else 2 * W * (X ** 2).sum(0)
    for g in (fd.grad(f), fd.jit(fd.grad(f))):
        out = g(W, Xd)
        assert counting.calls == 0
        close(value(out), want)


# ---------------------------------------------------------------- dtypes

def test_float32_preserved(counting):
    X32, w32 = X.astype(np.float32), W.astype(np.float32)
    Xd = da.from_array(X32, chunks=(3, 2))
    outs = [(fd.grad(tanh_sq)(w32, Xd), tanh_sq_grad_w(w32, X32)),
            (fd.jit(fd.grad(tanh_sq))(w32, Xd), tanh_sq_grad_w(w32, X32)),
            (fd.grad(tanh_sq, argnums=1)(w32, Xd), tanh_sq_grad_X(w32, X32)),
            (fd.hessian(tanh_sq)(w32, Xd), tanh_sq_hessian(w32, X32)),
            (fd.jit(fd.grad(lambda X: fnp.sum(fnp.exp(X * 2.5) + 1.0)))(Xd),
             2.5 * np.exp(X32 * 2.5))]
    assert counting.calls == 0
    for got, want in outs:
        close(value(got), want, np.float32, rtol=1e-4)


def test_float32_dask_with_float64_numpy_promotes(counting):
    """A float64 NumPy parameter with float32 Dask data: float64, as NumPy does."""
    X32 = X.astype(np.float32)
    Xd = da.from_array(X32, chunks=(3, 2))
    g = fd.grad(lambda w, X: fnp.sum(fnp.sin(X @ w)))(W, Xd)
    assert counting.calls == 0
    close(value(g), X32.T.astype(np.float64) @ np.cos(X32 @ W))


def test_integer_and_bool_dask_data_with_float_params(counting):
    Xi = (X * 3).astype(np.int64)
    Xb = X > 0
    gi = fd.grad(lambda w, X: fnp.sum(fnp.tanh(X @ w)))(W, da.from_array(Xi, chunks=(3, 2)))
    gb = fd.grad(lambda w, X: fnp.sum(X * w * w))(W, da.from_array(Xb, chunks=(2, 3)))
    gw = fd.grad(lambda w, X: fnp.sum(fnp.where(X, w, -w) ** 2))(W, da.from_array(Xb, 1))
    assert counting.calls == 0
    close(value(gi), Xi.T @ (1 - np.tanh(Xi @ W) ** 2))
    close(value(gb), 2 * W * Xb.sum(0))
    close(value(gw), 2 * W * 7)


def test_integer_dask_argument_refused_for_grad():
    with pytest.raises(fd.GradientError, match="integer"):
        fd.grad(lambda x: fnp.sum(x * 1.0))(da.from_array(np.arange(4), chunks=2))


def test_zero_d_dask(counting):
    s = da.from_array(np.array(2.5))
    outs = [(fd.grad(lambda s: s ** 3)(s), 3 * 2.5 ** 2),
            (fd.jit(fd.grad(lambda s: s ** 3))(s), 3 * 2.5 ** 2),
            (fd.grad(lambda w, s: fnp.sum(s * w ** 2))(W, s), 5.0 * W),
            (fd.grad(lambda s, w: fnp.sum(s * w ** 2) + s ** 2)(s, W), np.sum(W ** 2) + 5.0)]
    assert counting.calls == 0
    for got, want in outs:
        close(value(got), want)
    # linear in s: the gradient does not depend on the Dask value (a NumPy result, as
    # docs/scaling.md says)
    close(np.asarray(fd.grad(lambda s, w: fnp.sum(s * w ** 2))(s, W)), np.sum(W ** 2))


# ---------------------------------------------------------------- reductions, kinks, slicing

def test_reductions_kinks_and_slices(counting):
    Xd = da.from_array(X, chunks=((2, 5), (1, 4)))
    r = np.zeros_like(X)
    r[1:5:2, :] += 2 * X[1:5:2, :]
    r[0, 0] += 1
    r[-1] += 1
    m = X == X.max(axis=0)
    outs = [
        (lambda X: fnp.sum(fnp.sum(X ** 2, axis=1, keepdims=True)), 2 * X),
        (lambda X: fnp.sum(fnp.mean(X, axis=0, keepdims=True) ** 2),
         np.broadcast_to(2 * X.mean(0) / 7, X.shape)),
        (lambda X: fnp.sum(fnp.maximum(X, 0.0)), (X > 0) * 1.0),
        (lambda X: fnp.sum(fnp.max(X, axis=0)), m * 1.0),
        (lambda X: fnp.sum(fnp.where(X > 0, X ** 2, -X)), np.where(X > 0, 2 * X, -1.0)),
        (lambda X: fnp.sum(X[1:5:2, ::-1] ** 2) + X[0, 0] + fnp.sum(X[-1]), r),
        (lambda X: fnp.sum(fnp.cumsum(X, axis=0) ** 2),
         np.cumsum((2 * np.cumsum(X, 0))[::-1], 0)[::-1]),
    ]
    got = [(g(f)(Xd), want) for f, want in outs for g in (fd.grad, lambda f: fd.jit(fd.grad(f)))]
    assert counting.calls == 0
    for out, want in got:
        close(value(out), want)


# ---------------------------------------------------------------- control flow

def test_cond_scan_fori_on_dask(counting):
    Xd = da.from_array(X, chunks=(3, 2))
    sign = 1.0 if W.sum() > 0 else -1.0
    outs = [
        (fd.grad(lambda w, X: lax.cond(fnp.sum(w) > 0, lambda a: fnp.sum(X @ a),
                                       lambda a: -fnp.sum(X @ a), w))(W, Xd), sign * X.sum(0)),
        (fd.grad(lambda w, X: lax.scan(lambda c, x: (c + fnp.sum(x * w), None), 0.0, X)[0])(
            W, Xd), X.sum(0)),
        (fd.grad(lambda w, X: lax.fori_loop(0, 3, lambda i, c: c + fnp.sum(X @ w), 0.0))(
            W, Xd), 3 * X.sum(0)),
    ]
    for out, want in outs:
        np.testing.assert_allclose(np.asarray(value(out) if isinstance(out, da.Array) else out),
                                   want, rtol=1e-10)


def test_while_loop_on_dask():
    Xd = da.from_array(X, chunks=(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fd.ArrayLibraryFallbackWarning)
        out = fd.jit(lambda X: lax.while_loop(lambda c: c[0] < 3,
                                              lambda c: (c[0] + 1, c[1] * 2.0), (0, X)))(Xd)
    got = out[1].compute() if isinstance(out[1], da.Array) else out[1]
    np.testing.assert_allclose(got, 8 * X)
    assert int(out[0]) == 3


# ---------------------------------------------------------------- jit cache, closures, containers

def test_jit_cache_numpy_dask_numpy(counting):
    want = 2 * X.T @ (X @ W - Y) / 7
    j = fd.jit(fd.grad(lambda w, X, y: fnp.mean((X @ w - y) ** 2)))
    Xd, yd = da.from_array(X, chunks=(3, 2)), da.from_array(Y, chunks=4)
    a = j(W, X, Y)
    b = j(W, Xd, yd)
    c = j(W, X, Y)
    d = j(W, X, yd)
    e = j(da.from_array(W, chunks=2), X, Y)
    assert counting.calls == 0
    assert type(a) is np.ndarray and type(c) is np.ndarray
    close(a, want)
    close(c, want)
    for out in (b, d, e):
        close(value(out), want)


def test_jit_closing_over_dask_stays_lazy(counting):
    """Bug (fixed: jit/passes/simplify.py): jit's scalar-operand rewrite called
    np.asarray on every constant, computing Dask arrays the function closes over
    (4 computes while compiling this gradient)."""
    Xd, yd = da.from_array(X, chunks=(3, 2)), da.from_array(Y, chunks=4)
    g1 = fd.jit(fd.grad(lambda w: fnp.mean((Xd @ w - yd) ** 2)))(W)
    g2 = fd.jit(lambda w: fnp.mean(Xd * w, axis=0) + da.from_array(np.array(2.0)))(W)
    assert counting.calls == 0, "compiling computed a closed-over Dask array"
    close(value(g1), 2 * X.T @ (X @ W - Y) / 7)
    close(value(g2), (X * W).mean(0) + 2.0)


def test_containers_keep_identity(counting):
    Xd, yd = da.from_array(X, chunks=(3, 2)), da.from_array(Y, chunks=4)
    lst, dct = [W, Xd], {"w": W, "X": Xd}
    f_l = lambda p, y: fnp.mean((p[1] @ p[0] - y) ** 2)   # noqa: E731
    f_d = lambda p, y: fnp.mean((p["X"] @ p["w"] - y) ** 2)   # noqa: E731
    outs = [fd.grad(f_l)(lst, yd), fd.grad(f_d)(dct, yd), fd.jit(fd.grad(f_d))(dct, yd)]
    assert counting.calls == 0
    assert lst[0] is W and lst[1] is Xd and len(lst) == 2
    assert dct["w"] is W and dct["X"] is Xd and list(dct) == ["w", "X"]
    r = X @ W - Y
    assert type(outs[0]) is list and set(outs[1]) == {"w", "X"}
    close(value(outs[0][0]), 2 * X.T @ r / 7)
    close(value(outs[0][1]), 2 * np.outer(r, W) / 7)
    for o in outs[1:]:
        close(value(o["w"]), 2 * X.T @ r / 7)
        close(value(o["X"]), 2 * np.outer(r, W) / 7)


# ---------------------------------------------------------------- errors and fallbacks

def test_closed_over_dask_index_is_a_clear_error(counting):
    """Bug (fixed: numpy/_indexing.py): a Dask integer array the function closes over,
    used as an index of a traced array, crashed with Dask's TypeError 'Only length-1
    arrays can be converted to Python scalars' (and a 0-d one was computed)."""
    Xd = da.from_array(X, chunks=(3, 2))
    idx = da.from_array(np.array([0, 2]), chunks=1)
    with pytest.raises(fd.ArrayLibraryError, match="index the function closes over"):
        fd.grad(lambda X: fnp.sum(X[idx]))(Xd)
    with pytest.raises(fd.ArrayLibraryError, match="index the function closes over"):
        fd.grad(lambda X: fnp.sum(X[da.from_array(np.array(1))]))(Xd)
    assert counting.calls == 0
    # passed as an argument it is traced, and works
    close(value(fd.jit(lambda X, i: X[i])(Xd, idx)), X[[0, 2]])


def test_checkpoint_on_dask_no_false_fallback_warning(counting):
    """Bug (fixed: core/arraylib.py): optimization_barrier (checkpoint) on a NumPy
    parameter and Dask data warned that it had computed its operands in NumPy, reading
    only its first output (the NumPy parameter passed through); nothing was computed."""
    Xd = da.from_array(X, chunks=(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", fd.ArrayLibraryFallbackWarning)
        g = fd.grad(fd.checkpoint(lambda w, X: fnp.sum(fnp.sin(X @ w))))(W, Xd)
    assert counting.calls == 0
    close(value(g), X.T @ np.cos(X @ W))


def test_sort_falls_back_with_numpy_value():
    Xd = da.from_array(X, chunks=(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fd.ArrayLibraryFallbackWarning)
        g = fd.grad(lambda X: fnp.sum(fnp.sort(X, axis=0)[-1]))(Xd)
    got = g.compute() if isinstance(g, da.Array) else g
    close(np.asarray(got), (X == X.max(axis=0)) * 1.0)


def test_reshape_dask_cannot_express_is_a_clear_error():
    """(7, 5) in chunks (3, 2) -> (5, 7): Dask refuses the reshape; funcdiff names it."""
    Xd = da.from_array(X, chunks=(3, 2))
    for g in (fd.grad, lambda f: fd.jit(fd.grad(f))):
        with pytest.raises(fd.ArrayLibraryError, match="`reshape` cannot run on a dask"):
            g(lambda X: fnp.sum(X.reshape(5, 7)[1:] ** 2))(Xd)


xps = pytest.importorskip("array_api_strict")


def _mixed_loss(w, X, y):
    return fnp.mean((X @ w - y) ** 2)


@pytest.mark.parametrize("order", ["strict X, dask y", "dask X, strict y"])
def test_two_array_libraries_under_jit_is_a_clear_error(order):
    """Bug (fixed: core/arraylib.array_kind, api/_flat.leaf_operands): jit with an
    array-api-strict array and a Dask array crashed with array-api-compat's (or NumPy's)
    TypeError ('Multiple namespaces for array inputs' / 'Cannot interpret
    array_api_strict.float64 as a data type')."""
    Xa, ya = xps.asarray(X), xps.asarray(Y)
    Xd, yd = da.from_array(X, chunks=(3, 2)), da.from_array(Y, chunks=4)
    args = (Xa, yd) if order.startswith("strict") else (Xd, ya)
    with pytest.raises(fd.ArrayLibraryError, match="arrays of different libraries"):
        fd.jit(fd.grad(_mixed_loss))(W, *args)
    with pytest.raises(fd.ArrayLibraryError, match="arrays of different libraries"):
        fd.grad(_mixed_loss, argnums=(0, 1, 2))(W, *args)


def test_two_array_libraries_eager_nondiff_strict_x():
    def loss(w, X, y):
        return fnp.mean((X @ w - y) ** 2)
    with pytest.raises(fd.ArrayLibraryError, match="arrays of different libraries"):
        fd.grad(loss)(W, xps.asarray(X), da.from_array(Y, chunks=4))


@pytest.mark.xfail(strict=True, reason=(
    "eager grad, only w (NumPy) differentiated, Dask X and array-api-strict y as "
    "constants: the constants' libraries are not compared, and `X @ w - y` fails as an "
    "ArrayLibraryError blaming `sub` on a Dask array ('TypeError: Cannot interpret "
    "array_api_strict.float64 as a data type') instead of naming the two libraries"))
def test_two_array_libraries_eager_nondiff_dask_x():
    def loss(w, X, y):
        return fnp.mean((X @ w - y) ** 2)
    with pytest.raises(fd.ArrayLibraryError, match="arrays of different libraries"):
        fd.grad(loss)(W, da.from_array(X, chunks=(3, 2)), xps.asarray(Y))


_FRESH = """
import numpy as np, array_api_strict as xp
import funcdiff as fd, funcdiff.numpy as fnp
rng = np.random.default_rng(1)
X, y, w = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal(3)
g = fd.grad(lambda w, X, y: fnp.mean((X @ w - y) ** 2))(w, xp.asarray(X), xp.asarray(y))
np.testing.assert_allclose(np.asarray(g), 2 * X.T @ (X @ w - y) / 6, rtol=1e-12)
print("ok")
"""


def test_fresh_process_numpy_param_strict_data():
    """Bug (fixed: api/autodiff._partial): in a fresh process, eager grad with a NumPy
    parameter and array-api-strict data as non-differentiated arguments crashed in
    `X @ w` with array-api-strict's TypeError 'Expected Array or Python scalar; got
    Tracer': the arguments were made traced constants only once some earlier call had
    met a foreign array (arraylib.state.active)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    r = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True,
                       timeout=300, env=env, cwd=root)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


@pytest.mark.xfail(strict=True, reason=(
    "eager vmap, array-api-strict X and y unmapped (in_axes None) with a NumPy batch of "
    "parameters: `X @ w` raises array-api-strict's builtins TypeError 'Expected Array or "
    "Python scalar; got Tracer' -- unmapped array-API leaves are not made constant "
    "tracers as grad's non-differentiated arguments are (jit(vmap(f)) works)"))
def test_vmap_unmapped_strict_data():
    Ws = RNG.standard_normal((2, 5))
    g = fd.vmap(lambda w, X, y: fnp.mean((X @ w - y) ** 2), in_axes=(0, None, None))
    got = g(Ws, xps.asarray(X), xps.asarray(Y))
    np.testing.assert_allclose(np.asarray(got), [np.mean((X @ w - Y) ** 2) for w in Ws],
                               rtol=1e-12)


def test_jit_vmap_unmapped_strict_data():
    Ws = RNG.standard_normal((2, 5))
    g = fd.jit(fd.vmap(lambda w, X, y: fnp.mean((X @ w - y) ** 2), in_axes=(0, None, None)))
    got = g(Ws, xps.asarray(X), xps.asarray(Y))
    np.testing.assert_allclose(np.asarray(got), [np.mean((X @ w - Y) ** 2) for w in Ws],
                               rtol=1e-12)
