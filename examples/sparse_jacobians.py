"""Sparse Jacobians by coloring: how many passes ``jacobian(f, sparse=True)`` needs as n
grows, for a banded, a block-diagonal and a dense Jacobian, beside the n passes of a
dense ``jacfwd``; and the report comparing the dense and colored costs.

    banded:  the 1-D Bratu residual  (u[i-1] - 2 u[i] + u[i+1]) / h^2 + exp(u[i])
    block:   tanh of x in blocks of 8, each block times its own dense 8 x 8 matrix
    dense:   tanh(W @ x) with W a dense n x n matrix

The pattern comes from the program (funcdiff reads it off the IR); the columns are
colored so that no two of one color share a row; one jvp per color then gives every
entry.  Banded and block patterns need a number of colors that does not grow with n.

Run:  python examples/sparse_jacobians.py [--fast] [--out DIR | --docs]
(FUNCDIFF_FAST=1 or --fast: small sizes.  The plot, when matplotlib is installed, goes
to examples/out/, to DIR with --out DIR, or with --docs to docs/img/.)
"""
import os
import sys
import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from _plotting import output_dir, pyplot, save  # noqa: E402  (examples/_plotting.py)

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
OUT = output_dir()          # where the plot goes (checked before the run)
SIZES = [16, 64, 256] if FAST else [16, 64, 256, 1024, 4096]
BLOCK = 8


def banded(u):
    h = 1.0 / (u.shape[0] + 1)
    up = fnp.concatenate([fnp.zeros(1), u, fnp.zeros(1)])
    return (up[2:] - 2 * up[1:-1] + up[:-2]) / h ** 2 + fnp.exp(u)


def make_block(n, rng):
    Ws = rng.standard_normal((n // BLOCK, BLOCK, BLOCK)) / np.sqrt(BLOCK)

    def block(x):                   # block-diagonal: each block of 8 mixes only itself
        xb = x.reshape(n // BLOCK, BLOCK, 1)
        return fnp.tanh(fnp.matmul(Ws, xb)).reshape(n)
    return block


def make_dense(n, rng):
    W = rng.standard_normal((n, n)) / np.sqrt(n)

    def dense(x):
        return fnp.tanh(W @ x)
    return dense


def main():
    rng = np.random.default_rng(0)
    rows = []
    print(f"{'n':>6} | {'banded':>7} {'block':>7} {'dense':>7} | jacfwd | "
          f"{'banded: sparse ms':>17} {'jacfwd ms':>9}")
    for n in SIZES:
        x = rng.uniform(0.0, 0.5, n)
        passes = []
        for f in (banded, make_block(n, rng), make_dense(n, rng)):
            J = fd.jacobian(f, sparse=True)(x)
            if n <= 256:            # the colored Jacobian is the dense one
                np.testing.assert_allclose(J.toarray(), fd.jacfwd(f)(x), rtol=1e-10,
                                           atol=1e-12)
            passes.append(J.n_passes)
        sparse_fn = fd.jit(fd.jacobian(banded, sparse=True))
        dense_fn = fd.jit(fd.jacfwd(banded))
        times = []
        for fn in (sparse_fn, dense_fn):
            fn(x)
            t = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t)
        rows.append((n, *passes))
        print(f"{n:>6} | {passes[0]:>7} {passes[1]:>7} {passes[2]:>7} | {n:>6} | "
              f"{times[0] * 1e3:>17.3f} {times[1] * 1e3:>9.3f}")
    print("\nthe report for the banded Jacobian at n = 1000:")
    print(fd.jacobian(banded, mode="report")(np.zeros(1000)))
    plot(rows)


def plot(rows):
    plt = pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ns = [r[0] for r in rows]
    ax.plot(ns, ns, "k:", label="dense jacfwd (n passes)")
    for k, name in enumerate(["banded (Bratu)", f"block-diagonal ({BLOCK} x {BLOCK})",
                              "dense"], start=1):
        ax.plot(ns, [r[k] for r in rows], "o-", label=f"{name}, colored")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (inputs = outputs)")
    ax.set_ylabel("passes (jvps)")
    ax.set_title("jacobian(f, sparse=True): passes versus n")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "sparse_jacobians.png", OUT)


if __name__ == "__main__":
    main()
