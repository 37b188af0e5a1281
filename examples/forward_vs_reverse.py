"""Forward vs reverse mode, made visible: for f: R^n -> R^m over a grid of (n, m), the
flops cost_analysis predicts for jacfwd and jacrev beside the times measured here, the
mode funcdiff.jacobian picks, and the crossover as a plot (when matplotlib is installed).

    f(x) = C @ tanh(B @ x),   B: (h, n),  C: (m, h)

Forward mode pushes n input directions through the linearized f (cost ~ n), reverse
mode pulls m output directions back (cost ~ m): the crossover sits near n = m.

Run:  python examples/forward_vs_reverse.py [--fast] [--out DIR | --docs]
(FUNCDIFF_FAST=1 or --fast: a small grid.  The plot goes to examples/out/, to DIR with
--out DIR, or with --docs to docs/img/, replacing the one the documentation shows.)
"""
import os
import sys
import time

# Small matrix products: BLAS threads only add noise (and, on a busy machine, waits
# of tens of milliseconds).  Set OPENBLAS_NUM_THREADS yourself to override.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import funcdiff as fd  # noqa: E402
import funcdiff.numpy as fnp  # noqa: E402
from _plotting import output_dir, pyplot, save  # noqa: E402  (examples/_plotting.py)

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
OUT = output_dir()          # where the plot goes (checked before the long run)
H = 64
SIZES = [2, 64] if FAST else [2, 8, 32, 128, 512]
REPS = 2 if FAST else 5


def f(x, B, C):
    return C @ fnp.tanh(B @ x)


def best_time(fn, *args):
    fn(*args)                                   # compile / warm up
    best = float("inf")
    for _ in range(REPS):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    rng = np.random.default_rng(0)
    jf, jr = fd.jit(fd.jacfwd(f)), fd.jit(fd.jacrev(f))
    rows = []
    print(f"f(x) = C @ tanh(B @ x), hidden width {H}; Jacobian w.r.t. x (n inputs, "
          f"m outputs)\n")
    print(f"{'n':>5} {'m':>5} | {'fwd Mflop':>10} {'rev Mflop':>10} {'predicted':>9} | "
          f"{'fwd ms':>8} {'rev ms':>8} {'measured':>8} | jacobian picks")
    for n in SIZES:
        for m in SIZES:
            x = rng.standard_normal(n)
            B = rng.standard_normal((H, n)) / np.sqrt(n)
            C = rng.standard_normal((m, H)) / np.sqrt(H)
            report = fd.jacobian(f, mode="report")(x, B, C)
            pf, pr = report.fwd["flops"], report.rev["flops"]
            tf, tr = best_time(jf, x, B, C), best_time(jr, x, B, C)
            np.testing.assert_allclose(jf(x, B, C), jr(x, B, C), rtol=1e-10, atol=1e-12)
            pred = "fwd" if pf < pr else "rev" if pr < pf else "tie"
            meas = "fwd" if tf < tr else "rev"
            rows.append((n, m, pf, pr, tf, tr, report.choice))
            print(f"{n:>5} {m:>5} | {pf / 1e6:>10.3f} {pr / 1e6:>10.3f} {pred:>9} | "
                  f"{tf * 1e3:>8.3f} {tr * 1e3:>8.3f} {meas:>8} | {report.choice}")
    agree = sum((r[2] < r[3]) == (r[4] < r[5]) for r in rows if r[0] != r[1])
    off = sum(r[0] != r[1] for r in rows)
    print(f"\npredicted and measured faster mode agree on {agree} of {off} grid points "
          "with n != m (timings of sub-millisecond calls are noisy)")
    print("\nwhy, for the largest n and smallest m:")
    n, m = SIZES[-1], SIZES[0]
    x, B, C = rng.standard_normal(n), rng.standard_normal((H, n)), rng.standard_normal((m, H))
    print(fd.jacobian(f, mode="report")(x, B, C))
    plot(rows)


def plot(rows):
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in SIZES:
        pts = sorted((r for r in rows if r[0] == n), key=lambda r: r[1])
        ms = [r[1] / n for r in pts]
        axes[0].plot(ms, [r[2] / r[3] for r in pts], "o-", label=f"n = {n}")
        axes[1].plot(ms, [r[4] / r[5] for r in pts], "o-", label=f"n = {n}")
    for ax, title in zip(axes, ["predicted (cost_analysis flops)", "measured (time)"]):
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axvline(1.0, color="gray", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("m / n  (outputs per input)")
        ax.set_ylabel("jacfwd / jacrev")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("f(x) = C tanh(B x): above 1 reverse mode is cheaper, below 1 forward "
                 "mode")
    fig.tight_layout()
    save(fig, "forward_vs_reverse.png", OUT)


if __name__ == "__main__":
    main()
