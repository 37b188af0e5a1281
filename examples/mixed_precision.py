"""Mixed-precision residuals: the accuracy price of checkpoint_policies.save_in.

A float32 tanh network (width 64, batch 32, weights scaled 1/sqrt(width)) is
checkpointed whole with ``save_in(float16)`` and, when ml_dtypes is installed,
``save_in("bfloat16")``: everything the backward pass needs is saved, in low precision.
For each depth this prints the relative error of the gradient w.r.t. all weights
(``||g - g_exact|| / ||g_exact||``, g_exact from a hand-written float64 NumPy backward
pass) next to that of plain float32 reverse mode, and the saved bytes as a fraction of
saving everything in float32 (``cost_analysis``'s ``saved_bytes``).

The table in docs/checkpoint.md is this script's output.

Run:  python examples/mixed_precision.py [--fast]   (FUNCDIFF_FAST=1 or --fast: fewer depths)
"""
import os
import sys

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

try:
    import ml_dtypes  # noqa: F401 - only asks whether bfloat16 is available
    LOWP = [np.float16, "bfloat16"]
except ImportError:
    LOWP = [np.float16]

FAST = "--fast" in sys.argv or os.environ.get("FUNCDIFF_FAST") == "1"
DEPTHS = [1, 4, 16] if FAST else [1, 2, 4, 8, 16, 32, 64]
WIDTH, BATCH = 64, 32
cp = fd.checkpoint_policies


def net(Ws, x):
    h = x
    for W in Ws:
        h = fnp.tanh(h @ W)
    return fnp.sum(h ** 2)


def exact_grad(Ws, x):
    """The gradient of ``net`` w.r.t. ``Ws`` in float64, by hand."""
    hs = [x.astype(np.float64)]
    for W in Ws:
        hs.append(np.tanh(hs[-1] @ W.astype(np.float64)))
    g, out = 2 * hs[-1], []
    for W, h_in, h_out in zip(reversed(Ws), reversed(hs[:-1]), reversed(hs[1:])):
        pre = g * (1 - h_out ** 2)
        out.append(h_in.T @ pre)
        g = pre @ W.astype(np.float64).T
    return out[::-1]


def rel_error(g, want):
    num = sum(np.sum((np.asarray(a, np.float64) - b) ** 2) for a, b in zip(g, want))
    return float(np.sqrt(num / sum(np.sum(b ** 2) for b in want)))


def main():
    rng = np.random.default_rng(0)
    names = [np.dtype(d).name if not isinstance(d, str) else d for d in LOWP]
    print("| depth | float32 error | " + " | ".join(f"{n} error | {n} saved bytes"
                                                   for n in names) + " |")
    print("|---|---|" + "---|---|" * len(names))
    for depth in DEPTHS:
        Ws = [(rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
              for _ in range(depth)]
        x = rng.standard_normal((BATCH, WIDTH)).astype(np.float32)
        want = exact_grad(Ws, x)
        full = fd.checkpoint(net, policy=cp.everything_saveable)
        full_bytes = fd.cost_analysis(full)(Ws, x)["saved_bytes"]
        cells = [f"{rel_error(fd.jit(fd.grad(net))(Ws, x), want):.1e}"]
        for d in LOWP:
            low = fd.checkpoint(net, policy=cp.save_in(d))
            g = fd.jit(fd.grad(low))(Ws, x)
            assert all(a.dtype == np.float32 for a in g)
            low_bytes = fd.cost_analysis(low)(Ws, x)["saved_bytes"]
            cells += [f"{rel_error(g, want):.1e}", f"{low_bytes / full_bytes:.2f}x"]
        print(f"| {depth} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
