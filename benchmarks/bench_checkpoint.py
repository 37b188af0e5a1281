"""Checkpointing benchmark (issue 6): a deep tanh chain, value_and_grad w.r.t. all
weights.

Variants: hand-written NumPy backward that frees each activation as soon as the
backward pass is done with it (the memory baseline); funcdiff without checkpoint;
funcdiff with ``checkpoint_sequential`` (10 segments); funcdiff checkpointing every
layer -- each under ``jit`` and eagerly.

Memory: ``tracemalloc`` peak during one call, above the inputs (allocated before) and
the returned result (subtracted).  Time: best of a few calls, as ratios, in CPU time
(``time.process_time``: with one BLAS thread that is the compute time, robust to other
processes on a busy machine) and wall time.  Saved bytes:
what the reverse pass keeps from forward to backward, from ``saved_residuals``.


Run: python benchmarks/bench_checkpoint.py [--small | --smoke] [--float32]
(the default is 100 layers, width 256, batch 1024; --small is 20 x 64 x 128; --smoke or
FUNCDIFF_FAST=1 is 8 x 32 x 64, numbers not meaningful).
"""
from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc

# One BLAS thread: on a busy machine threaded BLAS makes timings erratic (set
# OPENBLAS_NUM_THREADS yourself to override).  Every variant runs under the same setting.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import funcdiff as fd  # noqa: E402
import funcdiff.numpy as fnp  # noqa: E402
from funcdiff.checkpoint import saved_residuals  # noqa: E402

SMOKE = "--smoke" in sys.argv or os.environ.get("FUNCDIFF_FAST") == "1"
SMALL = "--small" in sys.argv
DEPTH, WIDTH, BATCH = (8, 32, 64) if SMOKE else (20, 64, 128) if SMALL else (100, 256, 1024)
SEGMENTS = 3 if SMOKE else 10
DTYPE = np.float32 if "--float32" in sys.argv else np.float64
REPS = 1 if SMOKE else 3
KINDS = ("plain", "sequential", "every_layer", "dots_saveable", "cheap_remat", "save_in_f16")
LOWP_RTOL = 1e-2    # save_in(float16) rounds the residuals (docs/checkpoint.md)


def layer(h, W):
    return fnp.tanh(h @ W)


def make_loss(kind):
    def loss(Ws, x):
        fns = [lambda h, W=W: layer(h, W) for W in Ws]
        if kind == "plain":
            h = x
            for f in fns:
                h = f(h)
        elif kind == "sequential":
            h = fd.checkpoint_sequential(fns, SEGMENTS)(x)
        elif kind == "sequential_all":       # the last segment checkpointed too
            h = fd.checkpoint_sequential(fns, SEGMENTS, checkpoint_last=True)(x)
        elif kind == "every_layer":
            h = x
            for W in Ws:
                h = fd.checkpoint(layer)(h, W)
        elif kind == "dots_saveable":   # the whole chain, saving only matmul outputs
            def chain(Ws, h):
                for W in Ws:
                    h = layer(h, W)
                return h
            h = fd.checkpoint(chain, policy=fd.checkpoint_policies.dots_saveable)(Ws, x)
        elif kind == "cheap_remat":     # the whole chain, replaying only cheap ops
            def chain(Ws, h):
                for W in Ws:
                    h = layer(h, W)
                return h
            pol = fd.checkpoint_policies.all_but_cheap_elementwise_saveable
            h = fd.checkpoint(chain, policy=pol)(Ws, x)
        elif kind == "save_in_f16":     # the whole chain, everything saved in float16
            def chain(Ws, h):
                for W in Ws:
                    h = layer(h, W)
                return h
            pol = fd.checkpoint_policies.save_in(np.float16)
            h = fd.checkpoint(chain, policy=pol)(Ws, x)
        return 0.5 * (h * h).sum()
    return loss


def numpy_value_and_grad(Ws, x):
    """Forward keeping each layer's output; backward freeing each one after use."""
    hs = [x]
    for W in Ws:
        hs.append(np.tanh(hs[-1] @ W))
    y = hs[-1]
    value = 0.5 * np.sum(y * y)
    g = y.copy()
    grads = [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        y = hs.pop()                     # this layer's output: its last use is here
        y *= y
        np.subtract(1.0, y, out=y)       # 1 - tanh^2, in place
        g *= y
        del y
        grads[i] = hs[-1].T @ g
        g = g @ Ws[i].T
    return value, grads


def _nbytes(tree):
    return sum(np.asarray(a).nbytes for a in fd.tree_util.tree_leaves(tree))


def measure(fn, Ws, x):
    fn(Ws, x)                            # warm up (jit compiles here)
    times, walls = [], []
    for _ in range(REPS):
        gc.collect()
        t, w = time.process_time(), time.perf_counter()
        out = fn(Ws, x)
        times.append(time.process_time() - t)
        walls.append(time.perf_counter() - w)
        del out
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn(Ws, x)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return min(times), min(walls), peak, peak - _nbytes(out), out


def main():
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(DTYPE)
          for _ in range(DEPTH)]
    x = rng.standard_normal((BATCH, WIDTH)).astype(DTYPE)
    variants = {"numpy (hand-written, frees activations)": numpy_value_and_grad}
    for mode in ("jit", "eager"):
        for kind in KINDS:
            vg = fd.value_and_grad(make_loss(kind))
            variants[f"funcdiff {mode} {kind}"] = fd.jit(vg) if mode == "jit" else vg
    saved = {k: sum(r.nbytes for r in saved_residuals(make_loss(k), Ws, x)
                    if r.kind == "intermediate")
             for k in KINDS + ("sequential_all",)}
    results = {}
    ref_value, ref_grads = numpy_value_and_grad(Ws, x)
    for name, fn in variants.items():
        t, wall, peak_all, peak, out = measure(fn, Ws, x)
        value, grads = out
        np.testing.assert_allclose(value, ref_value, rtol=1e-4)
        for g, r in zip(grads, ref_grads):
            if name.endswith("save_in_f16"):    # rounded residuals: a norm-wise check
                assert np.linalg.norm(g - r) <= LOWP_RTOL * np.linalg.norm(r), name
            else:
                np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-5 * np.abs(r).max())
        results[name] = (t, peak, peak_all, wall)
        print(f"  measured {name}: {t * 1e3:.1f} ms CPU, {wall * 1e3:.1f} ms wall, peak "
              f"{peak / 2**20:.1f} MB", file=sys.stderr)

    np_t, np_peak, np_all, np_wall = results["numpy (hand-written, frees activations)"]
    mb = 2 ** 20
    print(f"### checkpoint: {DEPTH}-layer tanh chain, width {WIDTH}, batch {BATCH}, "
          f"{np.dtype(DTYPE).name}, value_and_grad w.r.t. all weights\n")
    print("| variant | CPU time | vs numpy | vs same-mode plain | wall time | peak above "
          "inputs and result | vs numpy | vs same-mode plain | peak above inputs "
          "(result included) | vs numpy | saved bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, (t, peak, peak_all, wall) in results.items():
        mode = name.split()[1] if name.startswith("funcdiff") else None
        kind = name.split()[2] if mode else None
        plain = results.get(f"funcdiff {mode} plain") if mode else None
        vs_plain_t = f"{t / plain[0]:.2f}x" if plain else ""
        vs_plain_m = f"{peak / plain[1]:.2f}x" if plain else ""
        sv = f"{saved[kind] / mb:.1f} MB" if kind else ""
        print(f"| {name} | {t * 1e3:.1f} ms | {t / np_t:.2f}x | {vs_plain_t} | "
              f"{wall * 1e3:.1f} ms | "
              f"{peak / mb:.1f} MB | {peak / np_peak:.2f}x | {vs_plain_m} | "
              f"{peak_all / mb:.1f} MB | {peak_all / np_all:.2f}x | {sv} |")
    print(f"\nsaved bytes: plain / sequential({SEGMENTS}) = "
          f"{saved['plain'] / max(saved['sequential'], 1):.1f}x; plain / every layer = "
          f"{saved['plain'] / max(saved['every_layer'], 1):.2f}x; plain / sequential "
          f"with the last segment checkpointed too = "
          f"{saved['plain'] / max(saved['sequential_all'], 1):.1f}x")
    jp = results["funcdiff jit plain"]
    js = results["funcdiff jit sequential"]
    jd = results["funcdiff jit dots_saveable"]
    print(f"\nTargets (jit): plain peak / numpy peak = {jp[1] / np_peak:.2f} "
          f"(target <= 1.2); sequential peak / plain peak = {js[1] / jp[1]:.2f} "
          f"(target <= 0.30); sequential time / plain time = {js[0] / jp[0]:.2f} "
          f"(target <= 1.5); saved-bytes cut = "
          f"{saved['plain'] / max(saved['sequential'], 1):.1f}x (target >= 8)")
    jc = results["funcdiff jit cheap_remat"]
    print(f"\ncheckpoint(chain, policy=dots_saveable) peak / numpy peak = "
          f"{jd[1] / np_peak:.2f}, time / plain time = {jd[0] / jp[0]:.2f}")
    print(f"\ncheckpoint(chain, policy=all_but_cheap_elementwise_saveable) peak / numpy "
          f"peak = {jc[1] / np_peak:.2f}, time / plain time = {jc[0] / jp[0]:.2f}")
    jl = results["funcdiff jit save_in_f16"]
    print(f"\ncheckpoint(chain, policy=save_in(float16)) saved bytes / plain = "
          f"{saved['save_in_f16'] / max(saved['plain'], 1):.2f}, peak / plain peak = "
          f"{jl[1] / jp[1]:.2f}, time / plain time = {jl[0] / jp[0]:.2f}")


if __name__ == "__main__":
    main()
