"""Checkpointing trades compute for memory: peak memory (tracemalloc) and time of
jit(value_and_grad) of a tanh chain against its depth, for

* no checkpoint: the backward pass keeps every layer's activations (O(depth));
* every layer checkpointed: each layer keeps its input -- about what plain reverse
  mode keeps anyway (print_saved_residuals shows it), so little is saved;
* sqrt(depth) segments (checkpoint_sequential): O(sqrt(depth)) memory for one extra
  forward pass;
* the whole chain checkpointed with policy=dots_saveable: only the matmul outputs are
  kept, tanh is recomputed layer by layer in the backward pass.

Beside each measurement: cost_analysis's prediction (peak_bytes, saved_bytes).

Run:  python examples/checkpoint_memory.py [--fast] [--out DIR | --docs]
(FUNCDIFF_FAST=1 or --fast: small sizes.  The plot goes to examples/out/, to DIR with
--out DIR, or with --docs to docs/img/, replacing the one the documentation shows.)
"""
import math
import os
import sys
import time
import tracemalloc

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")   # steady timings on a busy machine

import numpy as np  # noqa: E402

import funcdiff as fd  # noqa: E402
import funcdiff.numpy as fnp  # noqa: E402
from _plotting import output_dir, pyplot, save  # noqa: E402  (examples/_plotting.py)

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
OUT = output_dir()          # where the plot goes (checked before the long run)
DEPTHS = [4, 9] if FAST else [8, 16, 32, 64, 128]
WIDTH, BATCH = (32, 64) if FAST else (128, 512)
MB = 2 ** 20


def layer(h, W):
    return fnp.tanh(h @ W)


def make_loss(kind):
    def loss(Ws, x):
        h = x
        if kind == "none":
            for W in Ws:
                h = layer(h, W)
        elif kind == "every layer":
            for W in Ws:
                h = fd.checkpoint(layer)(h, W)
        elif kind == "sqrt(N) segments":
            fns = [lambda h, W=W: layer(h, W) for W in Ws]
            h = fd.checkpoint_sequential(fns, int(round(math.sqrt(len(Ws)))))(x)
        elif kind == "dots_saveable":
            def chain(Ws, h):
                for W in Ws:
                    h = layer(h, W)
                return h
            h = fd.checkpoint(chain, policy=fd.checkpoint_policies.dots_saveable)(Ws, x)
        return 0.5 * (h * h).sum()
    return loss


KINDS = ["none", "every layer", "sqrt(N) segments", "dots_saveable"]


def measure(fn, *args):
    fn(*args)                                   # compile
    best = float("inf")
    for _ in range(2 if FAST else 3):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return best, peak


def main():
    rng = np.random.default_rng(0)
    results = {k: [] for k in KINDS}
    print(f"jit(value_and_grad) of a tanh chain, width {WIDTH}, batch {BATCH}, float64; "
          "peak = tracemalloc peak above the inputs\n")
    print(f"{'depth':>5}  {'variant':<17} {'time ms':>8} {'peak MB':>8} "
          f"{'predicted':>9} {'saved MB':>8}")
    for depth in DEPTHS:
        Ws = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(depth)]
        x = rng.standard_normal((BATCH, WIDTH))
        ref = None
        for kind in KINDS:
            vg = fd.jit(fd.value_and_grad(make_loss(kind)))
            cost = vg.lower(Ws, x).cost_analysis()
            saved = fd.cost_analysis(make_loss(kind))(Ws, x)["saved_bytes"]
            t, peak = measure(vg, Ws, x)
            value, grads = vg(Ws, x)
            if ref is None:
                ref = grads
            else:
                for g, r in zip(grads, ref):
                    np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)
            results[kind].append((depth, t, peak, cost["peak_bytes"], saved))
            print(f"{depth:>5}  {kind:<17} {t * 1e3:>8.2f} {peak / MB:>8.2f} "
                  f"{cost['peak_bytes'] / MB:>9.2f} {saved / MB:>8.2f}")
    d = DEPTHS[-1]
    last = {k: v[-1] for k, v in results.items()}
    print(f"\nat depth {d}: sqrt(N) segments use {last['sqrt(N) segments'][2] / last['none'][2]:.0%}"
          f" of the memory of no checkpoint, in "
          f"{last['sqrt(N) segments'][1] / last['none'][1]:.2f}x the time")
    print("\nwhat a 4-layer chain checkpointed at every layer keeps for its backward pass:")
    Ws4 = [rng.standard_normal((WIDTH, WIDTH)) for _ in range(4)]
    fd.print_saved_residuals(make_loss("every layer"), Ws4, rng.standard_normal((BATCH, WIDTH)))
    plot(results)


def plot(results):
    plt = pyplot()
    if plt is None:
        return
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for kind, rows in results.items():
        ds = [r[0] for r in rows]
        line, = a1.plot(ds, [r[2] / MB for r in rows], "o-", label=kind)
        a1.plot(ds, [r[3] / MB for r in rows], "x:", color=line.get_color())
        a2.plot(ds, [r[1] * 1e3 for r in rows], "o-", label=kind)
    a1.set_title("peak memory (o measured, x predicted)")
    a1.set_ylabel("MB above inputs")
    a2.set_title("time of jit(value_and_grad)")
    a2.set_ylabel("ms")
    for ax in (a1, a2):
        ax.set_xlabel("depth (layers)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.suptitle(f"checkpointing a tanh chain (width {WIDTH}, batch {BATCH})")
    fig.tight_layout()
    save(fig, "checkpoint_memory.png", OUT)


if __name__ == "__main__":
    main()
