"""Eager ``grad`` memory (issue 17): a 60-layer ``tanh(h @ W)`` network, batch 1024,
width 256, float64, the gradient w.r.t. every weight, without ``jit``.

Variants: a hand-written NumPy backward pass that frees each activation after its last
use (the baseline); ``fd.grad``; ``fd.grad`` with ``checkpoint`` around every layer;
``fd.grad`` with ``checkpoint_sequential`` (8 segments); autograd when installed.
Memory: the ``tracemalloc`` peak of one (warm) call above what was allocated before it,
result included -- every variant returns the same gradients.  ``saved_residuals``
(what ``print_saved_residuals`` lists, and ``cost_analysis``'s ``saved_bytes``) is
compared with the measured peak: it is what eager ``grad`` holds between its passes.

Run: python benchmarks/bench_eager.py [--smoke]
"""
from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import funcdiff as fd  # noqa: E402
import funcdiff.numpy as fnp  # noqa: E402

SMOKE = "--smoke" in sys.argv or os.environ.get("FUNCDIFF_FAST") == "1"
DEPTH, WIDTH, BATCH = (6, 16, 32) if SMOKE else (60, 256, 1024)
SEGMENTS = 3 if SMOKE else 8


def layer(h, W):
    return fnp.tanh(h @ W)


def loss(Ws, x):
    h = x
    for W in Ws:
        h = layer(h, W)
    return 0.5 * fnp.sum(h * h)


def loss_checkpointed(Ws, x):
    h = x
    for W in Ws:
        h = fd.checkpoint(layer)(h, W)
    return 0.5 * fnp.sum(h * h)


def loss_sequential(Ws, x):
    fns = [lambda h, W=W: layer(h, W) for W in Ws]
    h = fd.checkpoint_sequential(fns, SEGMENTS)(x)
    return 0.5 * fnp.sum(h * h)


def hand(Ws, x):
    hs = [x]
    for W in Ws:
        hs.append(np.tanh(hs[-1] @ W))
    y = hs[-1]
    g = y.copy()
    grads = [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        y = hs.pop()                     # this layer's output: its last use is here
        y *= y
        np.subtract(1.0, y, out=y)
        g *= y
        del y
        grads[i] = hs[-1].T @ g
        g = g @ Ws[i].T
    return grads


def peak(fn, *args):
    fn(*args)                            # warm: caches and compiled programs
    gc.collect()
    t = time.process_time()
    fn(*args)
    cpu = time.process_time() - t
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn(*args)
        p = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return p, cpu, out


def main():
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(DEPTH)]
    x = rng.standard_normal((BATCH, WIDTH))
    variants = {"numpy (hand-written backward)": hand,
                "funcdiff grad": fd.grad(loss),
                "funcdiff grad, checkpoint per layer": fd.grad(loss_checkpointed),
                f"funcdiff grad, checkpoint_sequential({SEGMENTS})": fd.grad(loss_sequential)}
    try:
        import autograd
        import autograd.numpy as anp

        def a_loss(Ws, x):
            h = x
            for W in Ws:
                h = anp.tanh(h @ W)
            return 0.5 * anp.sum(h * h)
        variants["autograd grad"] = autograd.grad(a_loss)
    except ImportError:
        pass
    ref = hand(Ws, x)
    results = {}
    for name, fn in variants.items():
        p, cpu, out = peak(fn, Ws, x)
        for a, b in zip(out, ref):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
        results[name] = (p, cpu)
        print(f"  measured {name}: peak {p / 2**20:.1f} MB, {cpu * 1e3:.0f} ms CPU",
              file=sys.stderr)
    mb = 2 ** 20
    base, base_t = results["numpy (hand-written backward)"]
    print(f"### eager grad peak memory: {DEPTH}-layer tanh network, width {WIDTH}, "
          f"batch {BATCH}, float64\n")
    print("| variant | peak (result included) | vs hand | CPU time (one call) | vs hand |")
    print("|---|---|---|---|---|")
    for name, (p, cpu) in results.items():
        print(f"| {name} | {p / mb:.1f} MB | {p / base:.2f}x | {cpu * 1e3:.0f} ms | "
              f"{cpu / base_t:.2f}x |")
    saved = sum(r.nbytes for r in fd.saved_residuals(loss, Ws, x)
                if r.kind == "intermediate")
    measured = results["funcdiff grad"][0]
    print(f"\nsaved_residuals (what print_saved_residuals lists): {saved / mb:.1f} MB of "
          f"intermediates, against the measured peak of {measured / mb:.1f} MB "
          f"({saved / measured:.2f}x): the peak is the residuals, plus the backward "
          f"pass's few layer-sized temporaries and the gradients made before the first "
          f"residuals are freed.")

if __name__ == "__main__":
    main()
