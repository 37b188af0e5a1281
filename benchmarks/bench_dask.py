"""Dask benchmark (issue 20): the gradient of a mean loss over a chunked dataset.

    loss(w, X, y) = mean((tanh(X @ w) - y) ** 2),   X: n x 50 float64

Two tables, ratios measured in this same run:

1. A dataset that fits in memory: hand-written NumPy gradient (the baseline), funcdiff's
   jit(grad) and eager grad on NumPy arrays, funcdiff's jit(grad) and grad on a Dask
   array of the same data (in-process threaded scheduler, two threads, including the
   compute), and the same gradient written by hand in dask.array.
2. A dataset that does not fit one worker (generated lazily with da.random on the
   workers; each worker's memory limit is below the data size): jit(grad) on a
   dask.distributed LocalCluster with 1 and with 2 worker processes (one thread each),
   and the hand-written Dask gradient on 2.

Run: python benchmarks/bench_dask.py [--smoke]  (needs the `dask` extra; without it the
script says so and exits).  Numbers are wall-clock medians of a few runs; the machine's
core count bounds what a second worker can gain.
"""
from __future__ import annotations

import os
import sys
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import funcdiff as fd  # noqa: E402
import funcdiff.numpy as fnp  # noqa: E402
from _harness import FAST, compare, table  # noqa: E402

try:
    import dask  # noqa: E402
    import dask.array as da  # noqa: E402
    import distributed  # noqa: E402
except ImportError as e:   # the `dask` extra is optional
    print(f"(skipped: {e}; pip install 'funcdiff[dask]')\n")
    sys.exit(0)

D = 50
N_FITS, ROWS_FITS = (20_000, 5_000) if FAST else (400_000, 50_000)
N_BIG, ROWS_BIG = (40_000, 10_000) if FAST else (2_000_000, 100_000)
WORKER_MEMORY = "400MiB"
REPS = 3


def loss(w, X, y):
    return fnp.mean((fnp.tanh(X @ w) - y) ** 2)


def by_hand(w, X, y):
    """The gradient written out: 2/n X^T ((tanh(Xw) - y) (1 - tanh(Xw)^2)).  Works on
    NumPy and Dask arrays alike."""
    t = np.tanh(X @ w)
    return X.T @ ((t - y) * (1 - t * t)) * (2.0 / X.shape[0])


def fits_in_memory():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_FITS, D))
    y = rng.random(N_FITS)
    w = np.linspace(-0.1, 0.1, D)
    Xd, yd = da.from_array(X, chunks=(ROWS_FITS, D)), da.from_array(y, chunks=ROWS_FITS)
    jg, g = fd.jit(fd.grad(loss)), fd.grad(loss)
    threads = {"scheduler": "threads", "num_workers": 2}
    fns = {
        "NumPy by hand": lambda: by_hand(w, X, y),
        "funcdiff jit(grad), NumPy": lambda: jg(w, X, y),
        "funcdiff grad, NumPy": lambda: g(w, X, y),
        "funcdiff jit(grad), Dask (2 threads)": lambda: jg(w, Xd, yd).compute(**threads),
        "funcdiff grad, Dask (2 threads)": lambda: g(w, Xd, yd).compute(**threads),
        "Dask by hand (2 threads)": lambda: by_hand(w, Xd, yd).compute(**threads),
    }
    ref = by_hand(w, X, y)
    for k, f in fns.items():
        np.testing.assert_allclose(f(), ref, rtol=1e-9, err_msg=k)
    res = compare(fns, reps=REPS, target=0.0)
    return table(f"a dataset that fits: {N_FITS:,} x {D} float64 "
                 f"({X.nbytes / 2**20:.0f} MiB), chunks of {ROWS_FITS:,} rows",
                 res, baseline="NumPy by hand")


def does_not_fit():
    X = da.random.RandomState(1).standard_normal((N_BIG, D), chunks=(ROWS_BIG, D))
    y = da.random.RandomState(2).random(N_BIG, chunks=ROWS_BIG)
    w = np.linspace(-0.1, 0.1, D)
    jg = fd.jit(fd.grad(loss))
    results, ref = {}, None
    for workers in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                memory_limit=WORKER_MEMORY, dashboard_address=None)
            client = distributed.Client(cluster)
        try:
            fns = {f"funcdiff jit(grad), {workers} worker(s)":
                   lambda: jg(w, X, y).compute(scheduler=client)}
            if workers == 2:
                fns["Dask by hand, 2 workers"] = lambda: by_hand(w, X, y).compute(
                    scheduler=client)
            for k, f in fns.items():
                out = f()
                ref = out if ref is None else ref
                np.testing.assert_allclose(out, ref, rtol=1e-9, err_msg=k)
            results.update(compare(fns, reps=REPS, target=0.0))
        finally:
            client.close()
            cluster.close()
    return table(f"a dataset larger than a worker's memory: {N_BIG:,} x {D} float64 "
                 f"({X.nbytes / 2**20:.0f} MiB, generated on the workers), worker "
                 f"memory limit {WORKER_MEMORY}, chunks of {ROWS_BIG:,} rows",
                 results, baseline="funcdiff jit(grad), 1 worker(s)")


if __name__ == "__main__":
    print(fits_in_memory())
    print(does_not_fit())
