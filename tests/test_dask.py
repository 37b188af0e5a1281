"""Dask arrays: funcdiff's programs (eager grad/jvp/vjp, the interpreter, jit's generated
code) run on them lazily and give NumPy's numbers.

Laziness is checked with a scheduler that counts computes: building a gradient's graph
computes nothing; ``.compute()`` does, once.  References are NumPy (funcdiff on the same
data in memory, checked in turn against closed forms where they are short).  The
LocalCluster and memory-bound tests are at the end; skipped (saying so) without
``dask[array,distributed]`` (the ``dask`` extra).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.core import arraylib

da = pytest.importorskip("dask.array", reason="needs dask[array] (pip install 'funcdiff[dask]')")
dask = pytest.importorskip("dask")

N, D, CHUNK = 2000, 5, 500


def least_squares(w, X, y):
    return fnp.mean((X @ w - y) ** 2)


def logistic(w, X, y):
    z = X @ w
    return fnp.mean(fnp.logaddexp(0.0, z) - y * z)


def tanh_loss(w, X, y):
    return fnp.mean((fnp.tanh(X @ w) - y) ** 2)


LOSSES = [least_squares, logistic, tanh_loss]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = (rng.random(N) < 0.5).astype(float)
    w = rng.standard_normal(D) * 0.3
    return w, X, y, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)


class Counting:
    """A dask scheduler counting how often something is computed (then computing it
    synchronously)."""

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


def computed(x):
    """``x.compute()`` with the synchronous scheduler (not counted)."""
    assert isinstance(x, da.Array), type(x)
    with dask.config.set(scheduler="sync"):
        return x.compute()


def hvp(f, w, X, y, v):
    return fd.jvp(fd.grad(lambda w: f(w, X, y)), (w,), (v,))[1]


def jvp_out(f, w, X, y, v):
    return fd.jvp(lambda w: f(w, X, y), (w,), (v,))[1]


TRANSFORMS = {
    "grad": lambda f, w, X, y: fd.grad(f)(w, X, y),
    "jit(grad)": lambda f, w, X, y: fd.jit(fd.grad(f))(w, X, y),
    "value": lambda f, w, X, y: fd.value_and_grad(f)(w, X, y)[0],
    "jvp": lambda f, w, X, y: jvp_out(f, w, X, y, np.linspace(-1, 1, D)),
    "hvp": lambda f, w, X, y: hvp(f, w, X, y, np.linspace(-1, 1, D)),
    "jit(hvp)": lambda f, w, X, y: fd.jit(lambda w, X, y: hvp(f, w, X, y, np.linspace(
        -1, 1, D)))(w, X, y),
    "vjp": lambda f, w, X, y: fd.vjp(lambda w: f(w, X, y), w)[1](1.0)[0],
    "grad wrt X": lambda f, w, X, y: fd.grad(f, argnums=1)(w, X, y),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
def test_lazy_and_equal_to_numpy(f, name, data, counting):
    w, X, y, Xd, yd = data
    t = TRANSFORMS[name]
    out = t(f, w, Xd, yd)
    assert isinstance(out, da.Array), type(out)
    assert counting.calls == 0, "building the graph computed something"
    ref = t(f, w, X, y)
    got = computed(out)
    assert got.shape == np.shape(ref) and got.dtype == np.asarray(ref).dtype
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_references_match_closed_forms(data):
    """The NumPy references themselves: least squares' gradient and Hessian-vector
    product in closed form, 2 X^T (X w - y) / n and 2 X^T X v / n."""
    w, X, y, Xd, yd = data
    v = np.linspace(-1, 1, D)
    np.testing.assert_allclose(computed(fd.grad(least_squares)(w, Xd, yd)),
                               2 * X.T @ (X @ w - y) / N, rtol=1e-10)
    np.testing.assert_allclose(computed(hvp(least_squares, w, Xd, yd, v)),
                               2 * X.T @ (X @ v) / N, rtol=1e-10)
    s = 1 / (1 + np.exp(-(X @ w)))
    np.testing.assert_allclose(computed(fd.grad(logistic)(w, Xd, yd)), X.T @ (s - y) / N,
                               rtol=1e-10)


def test_one_compute_per_result(data, counting):
    """Computing the gradient is one dask compute; repeated (cached) calls stay lazy."""
    w, X, y, Xd, yd = data
    g = fd.grad(logistic)
    for _ in range(3):   # the eager cache: later calls reuse the compiled programs
        out = g(w, Xd, yd)
    assert counting.calls == 0
    out.compute()
    assert counting.calls == 1


def test_jit_source_is_numpy_calls_without_out(data):
    """jit's code for Dask arrays: NumPy calls that Dask takes over (no `out=` buffers,
    no numexpr), compiled once per array type next to the NumPy program."""
    w, X, y, Xd, yd = data
    f = fd.jit(fd.grad(tanh_loss))
    big = da.from_array(np.ones((8192, D)), chunks=(4096, D))
    f(w, big, da.zeros(8192, chunks=4096))
    f(w, np.ones((8192, D)), np.zeros(8192))
    entry = next(iter(f._cache.values()))
    (fn, src), = entry.foreign.values()
    assert "out=" not in src and "numexpr" not in src and "np.tanh(" in src
    assert "out=" in entry.source    # the NumPy program writes in place (same IR)
    assert f.cache_info().misses == 1


def test_mixed_numpy_params_and_dask_data_promote_as_numpy(data):
    """float32 data with float64 parameters: the host library's (NumPy's) promotion, the
    same dtypes as on NumPy arrays."""
    w, X, y, Xd, yd = data
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    for w_ in (w, w.astype(np.float32)):
        ref = fd.grad(least_squares)(w_, X32, y32)
        got = fd.grad(least_squares)(w_, Xd.astype(np.float32), yd.astype(np.float32))
        got = computed(got)
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-5)
        gX = computed(fd.grad(least_squares, argnums=1)(w_, Xd.astype(np.float32), y32))
        assert gX.dtype == np.float32


def test_dask_parameters(data):
    """The parameters may be Dask arrays too (0-d included)."""
    w, X, y, Xd, yd = data
    wd = da.from_array(w, chunks=2)
    got = fd.grad(least_squares)(wd, Xd, yd)
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(computed(got), fd.grad(least_squares)(w, X, y), rtol=1e-10)
    s = da.from_array(np.array(1.5))        # a 0-d Dask array
    f = lambda s, X: fnp.sum(fnp.sin(s * X))
    gs = fd.grad(f)(s, Xd)
    assert isinstance(gs, da.Array) and gs.shape == ()
    np.testing.assert_allclose(computed(gs), np.sum(np.cos(1.5 * X) * X), rtol=1e-10)
    np.testing.assert_allclose(computed(fd.jit(fd.grad(f))(s, Xd)), computed(gs),
                               rtol=1e-12)


def test_integer_and_complex_data(data):
    w, X, y, Xd, yd = data
    Xi = np.arange(N * D).reshape(N, D) % 7 - 3
    Xid = da.from_array(Xi, chunks=(CHUNK, D))
    np.testing.assert_allclose(computed(fd.grad(least_squares)(w, Xid, yd)),
                               fd.grad(least_squares)(w, Xi, y), rtol=1e-10)
    # complex data and a real loss of it: JAX's convention (conjugate gradient)
    Xc = X + 1j * X[::-1]
    Xcd = da.from_array(Xc, chunks=(CHUNK, D))
    f = lambda w, X: fnp.mean(fnp.abs(X @ w) ** 2)
    wc = w + 0.5j
    got = computed(fd.grad(f)(wc, Xcd))
    ref = fd.grad(f)(wc, Xc)
    assert got.dtype == ref.dtype == np.complex128
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    # closed form: f = |Xw|^2 / n, df/dw* = X^H X w / n; funcdiff returns conj(2 df/dw*)
    np.testing.assert_allclose(ref, np.conj(2 * Xc.conj().T @ (Xc @ wc) / N), rtol=1e-10)


def test_unknown_chunk_sizes_are_a_clear_error(data):
    w, X, y, Xd, yd = data
    Xu = Xd[Xd[:, 0] > 0]            # boolean indexing: row count unknown
    assert np.isnan(Xu.shape[0])
    with pytest.raises(fd.ArrayLibraryError, match="unknown shape.*compute_chunk_sizes"):
        fd.grad(least_squares, argnums=1)(w, Xu, 1.0)
    with pytest.raises(fd.ArrayLibraryError, match="unknown shape"):
        fd.grad(least_squares)(w, Xu, 1.0)          # closed over, not differentiated
    with pytest.raises(fd.ArrayLibraryError, match="unknown shape"):
        fd.jit(least_squares)(w, Xu, 1.0)
    Xk = Xu.compute_chunk_sizes()   # the fix the message names
    ref = fd.grad(least_squares)(w, X[X[:, 0] > 0], 1.0)
    np.testing.assert_allclose(computed(fd.grad(least_squares)(w, Xk, 1.0)), ref,
                               rtol=1e-10)


def test_non_numeric_dask_dtype_is_refused():
    s = da.from_array(np.array(["a", "b"]))
    with pytest.raises(fd.ArrayLibraryError, match="dtype"):
        fd.grad(lambda w, s: fnp.sum(w), argnums=1)(1.0, s)


def test_fallback_warns_once_and_stays_correct(data):
    """A primitive Dask has no lazy form of (here a determinant: Dask computes it in
    NumPy) warns once per primitive and array type, and the numbers stay right."""
    w, X, y, Xd, yd = data
    A = np.eye(3) * 2 + 0.1
    Ad = da.from_array(A, chunks=3)
    f = lambda A: fnp.linalg.det(A)
    arraylib._warned.difference_update({("det", da.Array), ("adjugate", da.Array)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = fd.grad(f)(Ad)
        fd.grad(f)(Ad)                        # said once
    said = sorted(str(w.message).split("`")[1] for w in caught
                  if w.category is fd.ArrayLibraryFallbackWarning)
    assert said == ["adjugate", "det"], said   # (det's derivative is its adjugate)
    assert all("dask.array.core.Array" in str(w.message) for w in caught)
    np.testing.assert_allclose(np.asarray(g), np.linalg.det(A) * np.linalg.inv(A).T,
                               rtol=1e-10)


def test_unsupported_primitive_is_a_clear_error():
    """A primitive whose NumPy spelling Dask refuses raises ArrayLibraryError naming the
    primitive and the array type, at the user's line."""
    x = da.from_array(np.arange(6.0), chunks=3)
    idx = np.array([0, 2, 2])
    f = lambda x: fnp.sum(x[idx] ** 2)   # its gradient scatters: np.add.at, not in Dask
    np.testing.assert_allclose(computed(f(x) + 0), np.sum(np.arange(6.0)[idx] ** 2))
    for g in (fd.grad(f), fd.jit(fd.grad(f))):
        with pytest.raises(fd.ArrayLibraryError,
                           match=r"`scatter_add` cannot run on a dask\.array\.core\.Array"
                                 r"(.|\n)*test_dask\.py"):
            g(x)


def test_closed_over_dask_constant(data):
    """A Dask array a function closes over (not an argument) is a constant of the
    program, computed on lazily too."""
    w, X, y, Xd, yd = data
    f = lambda w: least_squares(w, Xd, yd)
    out = fd.jit(fd.grad(f))(w)
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(computed(out), fd.grad(least_squares)(w, X, y), rtol=1e-10)


# --- data-parallel patterns ----------------------------------------------------------

def test_vmap_over_chunks(data):
    """Per-chunk gradients with vmap over a leading chunk axis; their mean is the full
    gradient (equal chunks)."""
    w, X, y, Xd, yd = data
    k = N // CHUNK
    Xc = Xd.reshape(k, CHUNK, D).rechunk((1, CHUNK, D))
    yc = yd.reshape(k, CHUNK).rechunk((1, CHUNK))
    per_chunk = fd.vmap(fd.grad(logistic), in_axes=(None, 0, 0))(w, Xc, yc)
    assert isinstance(per_chunk, da.Array) and per_chunk.shape == (k, D)
    ref = np.stack([fd.grad(logistic)(w, X[i * CHUNK:(i + 1) * CHUNK],
                                      y[i * CHUNK:(i + 1) * CHUNK]) for i in range(k)])
    np.testing.assert_allclose(computed(per_chunk), ref, rtol=1e-10)
    np.testing.assert_allclose(ref.mean(0), fd.grad(logistic)(w, X, y), rtol=1e-10)


def test_gradient_descent_one_compute_per_step(data, counting):
    w, X, y, Xd, yd = data
    step = fd.jit(fd.value_and_grad(logistic))
    wd, wn = np.zeros(D), np.zeros(D)
    losses = []
    for _ in range(5):
        loss, g = dask.compute(*step(wd, Xd, yd))
        losses.append(loss)
        wd = wd - 0.5 * g
        ln, gn = step(wn, X, y)
        wn = wn - 0.5 * gn
        np.testing.assert_allclose(loss, ln, rtol=1e-10)
    assert counting.calls == 5
    np.testing.assert_allclose(wd, wn, rtol=1e-10)
    assert losses[-1] < losses[0]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="needs dask[distributed]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           memory_limit="400MiB", dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_local_cluster_gradient_descent(data, cluster):
    """The same steps on a LocalCluster with two worker processes."""
    w, X, y, Xd, yd = data
    step = fd.jit(fd.value_and_grad(logistic))
    wd, wn = np.zeros(D), np.zeros(D)
    for _ in range(3):
        loss, g = dask.compute(*step(wd, Xd, yd), scheduler=cluster)
        wd = wd - 0.5 * g
        wn = wn - 0.5 * step(wn, X, y)[1]
    np.testing.assert_allclose(wd, wn, rtol=1e-10)


def test_local_cluster_data_larger_than_each_worker(cluster):
    """jit(grad(loss)) over 600 MiB of data generated lazily on the workers, whose memory
    limit is 400 MiB each: it completes, and equals the sum of per-chunk gradients
    computed one chunk at a time in NumPy here."""
    n, d, rows = 1_500_000, 50, 100_000
    X = da.random.RandomState(1).standard_normal((n, d), chunks=(rows, d))
    y = da.random.RandomState(2).random(n, chunks=rows)
    assert X.nbytes > 400 * 2 ** 20
    w = np.linspace(-0.1, 0.1, d)
    g = fd.jit(fd.grad(tanh_loss))(w, X, y)
    got = g.compute(scheduler=cluster)
    # reference: the same chunks, fetched one at a time
    ref = np.zeros(d)
    for i in range(n // rows):
        Xi, yi = dask.compute(X.blocks[i], y.blocks[i], scheduler=cluster)
        ref += fd.grad(lambda w: fnp.sum((fnp.tanh(Xi @ w) - yi) ** 2))(w)
    np.testing.assert_allclose(got, ref / n, rtol=1e-9)


# --- memory bounds ----------------------------------------------------------------------

_RSS_SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np, dask, dask.array as da
    import funcdiff as fd, funcdiff.numpy as fnp
    n, d, rows = {n}, 50, 50_000
    X = da.random.RandomState(1).standard_normal((n, d), chunks=(rows, d))
    y = da.random.RandomState(2).random(n, chunks=rows)
    loss = lambda w, X, y: fnp.mean((fnp.tanh(X @ w) - y) ** 2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    g = {transform}(np.full(d, 0.01), X, y)
    out = g.compute(scheduler="threads", num_workers=2)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(X.nbytes, before, peak, float(np.abs(out).sum()))
""")


@pytest.mark.parametrize("transform", ["fd.grad(loss)", "fd.jit(fd.grad(loss))"])
def test_in_process_peak_memory_is_a_fraction_of_the_data(transform):
    """Eager grad (and jit(grad)) over 800 MB of lazily generated data in one process:
    the peak resident memory grows by less than a quarter of the data size (a few chunks
    are in memory at a time; measured: 77 MiB for 763 MiB), in a subprocess with
    getrusage."""
    code = _RSS_SCRIPT.format(n=2_000_000, transform=transform)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    nbytes, before, peak, total = map(float, r.stdout.split())
    assert nbytes == 2_000_000 * 50 * 8
    assert np.isfinite(total) and total > 0
    assert peak - before < nbytes / 4, (peak - before, nbytes)


# --- hostile inputs: each was tried against NumPy on the same data --------------------

def _d(a):
    return da.from_array(a, chunks=tuple(max(1, s // 2) for s in np.shape(a)))


_R = np.random.default_rng(3)
_X, _Y, _W = _R.standard_normal((8, 3)), _R.standard_normal(8), _R.standard_normal(3)
_LS = least_squares
HOSTILE = {
    "f64 data, f32 params": (fd.grad(_LS), (_W.astype(np.float32), _X, _Y)),
    "jit, f64 data, f32 params": (fd.jit(fd.grad(_LS)), (_W.astype(np.float32), _X, _Y)),
    "f32, weak Python scalar": (fd.grad(lambda w, X: fnp.sum(X * 2.0 @ w)),
                                (_W.astype(np.float32), _X.astype(np.float32))),
    "uint8 data": (fd.grad(_LS), (_W, (np.abs(_X) * 10).astype(np.uint8), _Y)),
    "dict of Dask params": (fd.grad(lambda p, X: fnp.sum(fnp.tanh(X @ p["w"] + p["b"]))),
                            ({"w": _W, "b": np.array(0.3)}, _X)),
    "boolean mask": (fd.grad(lambda w, X, m: fnp.sum(fnp.where(m, X @ w, 0.0))),
                     (_W, _X, _X[:, 0] > 0)),
    "hessian": (fd.hessian(lambda w, X: fnp.sum(fnp.tanh(X @ w))), (_W, _X)),
    "jacfwd": (fd.jacfwd(lambda w, X: fnp.tanh(X @ w)), (_W, _X)),
    "jacrev": (fd.jacrev(lambda w, X: fnp.tanh(X @ w)), (_W, _X)),
    "vmap per-example grad": (fd.vmap(fd.grad(lambda w, x, y: (x @ w - y) ** 2),
                                      in_axes=(None, 0, 0)), (_W, _X, _Y)),
    "vmap in_axes=1": (fd.vmap(lambda c: fnp.sum(c ** 2), in_axes=1), (_X,)),
    "strided slice (interior pad)": (fd.grad(lambda X: fnp.sum(X[::2, ::-2] ** 2)), (_X,)),
    "negative-step and offset slices": (fd.jit(fd.grad(lambda X: fnp.sum(X[5:0:-3, 1:] ** 3))),
                                        (_X,)),
    "integer index": (fd.grad(lambda X: fnp.sum(X[3] ** 2)), (_X,)),
    "concatenate": (fd.grad(lambda X: fnp.sum(fnp.concatenate([X, X * 2]) ** 2)), (_X,)),
    "transpose + reshape": (fd.grad(lambda X: fnp.sum(X.T.reshape(-1) * fnp.arange(24.0))),
                            (_X,)),
    "batched einsum": (fd.grad(lambda A: fnp.sum(fnp.einsum("bij,bjk->bik", A, A))),
                       (_R.standard_normal((2, 3, 3)),)),
    "cumsum": (fd.grad(lambda x: fnp.sum(fnp.cumsum(x) ** 2)), (_Y,)),
    "clip and abs": (fd.grad(lambda x: fnp.sum(fnp.abs(fnp.clip(x, -0.5, 0.5)))), (_Y,)),
    "max": (fd.grad(lambda X: fnp.max(X)), (_X,)),
    "std": (fd.grad(lambda X: fnp.std(X)), (_X,)),
    "checkpoint": (fd.grad(lambda w, X: fnp.sum(fd.checkpoint(lambda w: fnp.tanh(X @ w))(w))),
                   (_W, _X)),
    "linearize": (lambda x: fd.linearize(fnp.sin, x)[1](x), (_Y,)),
    "grad of grad, 0-d": (fd.grad(fd.grad(lambda s, X: fnp.sum(fnp.sin(s * X)))),
                          (np.array(0.5), _X)),
    "holomorphic": (fd.grad(lambda z: fnp.sum(z ** 2), holomorphic=True), (_Y + 1j,)),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_inputs_equal_numpy(name):
    f, args = HOSTILE[name]
    ref = f(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fd.ArrayLibraryFallbackWarning)   # all lazy
        got = f(*fd.tree_util.tree_map(lambda a: _d(a) if isinstance(a, np.ndarray) else a,
                                       args))
    got, = dask.compute(got, scheduler="sync")
    for r, g in zip(fd.tree_util.tree_leaves(ref), fd.tree_util.tree_leaves(got)):
        assert np.asarray(g).dtype == np.asarray(r).dtype
        tol = 1e-6 if np.asarray(r).dtype == np.float32 else 1e-10   # (chunked sums)
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)


def test_integer_dask_input_to_grad_is_the_numpy_error():
    with pytest.raises(fd.GradientError, match="argument `X` is an integer array"):
        fd.grad(least_squares, argnums=1)(_W, _d(_X.astype(int)), _Y)


@pytest.mark.parametrize("shape, config", [
    ((5,), ((0, 0, 1),)), ((4, 3), ((1, -1, 2), (0, 2, 0))), ((3, 4), ((-2, 3, 1), (2, -3, 3))),
    ((0, 3), ((1, 1, 2), (0, 0, 1))), ((1,), ((0, 0, 4),)), ((2, 2), ((-2, 0, 0), (0, 0, 0)))])
def test_pad_on_dask_matches_numpy(shape, config):
    """The pad primitive's lazy Dask path (interleave, crop, numpy.pad) against its NumPy
    path, negative and interior padding and empty arrays included."""
    pad_p = fd.core.trace.registry["pad"]
    x = np.arange(math.prod(shape), dtype=float).reshape(shape)
    got = pad_p.impl(da.from_array(x, chunks=2), 0.5, config=config)
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(computed(got), pad_p.impl(x, 0.5, config=config))


def test_lowered_and_compiled_on_dask(data, counting):
    """jit(f).lower(...) shows the program for the arguments' array type, and its
    .compile()d form runs it (lazily) on Dask arrays."""
    w, X, y, Xd, yd = data
    f = fd.jit(fd.grad(tanh_loss))
    lowered = f.lower(w, Xd, yd)
    assert "np.tanh(" in lowered.as_text() and "out=" not in lowered.as_text()
    out = lowered.compile()(w, Xd, yd)
    assert isinstance(out, da.Array) and counting.calls == 0
    np.testing.assert_allclose(computed(out), fd.grad(tanh_loss)(w, X, y), rtol=1e-10)
