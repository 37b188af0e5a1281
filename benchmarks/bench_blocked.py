"""jit's cache-blocked fusion and two-valued-constant pass (issue 21), ratios against
hand-written NumPy measured in the same run: the n=1e6 gradient (blocked, unblocked,
numexpr, and the floor of its three transcendental calls alone), block sizes, the
size threshold, a pure arithmetic chain (where numexpr can win), and the Hessian row.

Run: python benchmarks/bench_blocked.py [--smoke]
"""
from __future__ import annotations

import contextlib
import sys

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

try:
    from _harness import FAST, compare, table
    from bench_autodiff import f, f_grad_numpy, quartic, quartic_hessian_numpy
except ImportError:
    from benchmarks._harness import FAST, compare, table
    from benchmarks.bench_autodiff import f, f_grad_numpy, quartic, quartic_hessian_numpy

try:
    import numexpr  # noqa: F401
    HAS_NUMEXPR = True
except ImportError:
    HAS_NUMEXPR = False

N = 20_000 if FAST else 1_000_000
passes = sys.modules["funcdiff.jit.passes"]   # (funcdiff.jit is also the function)


@contextlib.contextmanager
def mode(blocked=True, numexpr=False, block=None, min_size=None):
    cfg = fd.config
    prev = (cfg.blocked_fusion, cfg.numexpr_fusion, cfg.blocked_fusion_block_size,
            cfg.blocked_fusion_min_size)
    cfg.blocked_fusion, cfg.numexpr_fusion = blocked, numexpr
    if block is not None:
        cfg.blocked_fusion_block_size = block
    if min_size is not None:
        cfg.blocked_fusion_min_size = min_size
    try:
        yield
    finally:
        (cfg.blocked_fusion, cfg.numexpr_fusion, cfg.blocked_fusion_block_size,
         cfg.blocked_fusion_min_size) = prev


def compiled(fun, *args, **kw):
    """A fresh jit of ``fun`` compiled under ``mode(**kw)``, checked against NumPy."""
    with mode(**kw):
        j = fd.jit(fun)
        j(*args)
    return lambda: j(*args)


def transcendentals_floor(x):
    """What the gradient's tanh, sin and cos cost alone, into preallocated outputs."""
    out = np.empty_like(x)

    def run():
        np.tanh(x, out=out)
        np.sin(x, out=out)
        np.cos(x, out=out)
    return run


def gradient():
    x = np.random.default_rng(4).standard_normal(N)
    g = fd.grad(f)
    assert np.allclose(fd.jit(g)(x), f_grad_numpy(x))
    fns = {"numpy (hand-written gradient)": lambda: f_grad_numpy(x),
           "jit(grad), blocked (default)": compiled(g, x),
           "jit(grad), NumPy code, unblocked": compiled(g, x, blocked=False)}
    if HAS_NUMEXPR:
        fns["jit(grad), numexpr, unblocked"] = compiled(g, x, blocked=False, numexpr=True)
    fns["tanh + sin + cos alone (the floor)"] = transcendentals_floor(x)
    return table(f"grad of sum(tanh(x)**2 + sin(x)*x), n={N:,}", compare(fns, reps=11),
                 baseline="numpy (hand-written gradient)")


def block_sizes():
    x = np.random.default_rng(4).standard_normal(N)
    g = fd.grad(f)
    fns = {"numpy (hand-written gradient)": lambda: f_grad_numpy(x)}
    for b in (2048, 4096, 8192, 16384, 32768):
        fns[f"blocks of {b:,}"] = compiled(g, x, block=b)
    return table(f"block size, the same gradient, n={N:,}", compare(fns, reps=9),
                 baseline="numpy (hand-written gradient)")


def threshold():
    lines = ["### blocked / unblocked time by size (the gradient; the threshold)", "",
             "| n | unblocked | blocked | blocked / unblocked |", "|---|---|---|---|"]
    g = fd.grad(f)
    for n in ((1024, 8192) if FAST else (4096, 16384, 65536, 262144, 1_000_000)):
        x = np.random.default_rng(5).standard_normal(n)
        r = compare({"plain": compiled(g, x, blocked=False),
                     "blocked": compiled(g, x, min_size=1)}, reps=9)
        p, b = r["plain"]["median"], r["blocked"]["median"]
        lines.append(f"| {n:,} | {p * 1e6:.0f} us | {b * 1e6:.0f} us | {b / p:.2f} |")
    return "\n".join(lines) + "\n\n"


def arithmetic_chain():
    x = np.random.default_rng(6).standard_normal(N)

    def chain(x):
        return ((x * 1.5 + 2.0) * x - x / 3.0) * (x + 0.5)

    fns = {"numpy": lambda: chain(x), "jit, blocked": compiled(chain, x),
           "jit, unblocked": compiled(chain, x, blocked=False)}
    if HAS_NUMEXPR:
        fns["jit, numexpr"] = compiled(chain, x, blocked=False, numexpr=True)
    return table(f"arithmetic chain ((x*1.5+2)*x - x/3)*(x+0.5), n={N:,}",
                 compare(fns, reps=11), baseline="numpy")


def hessian():
    x = np.random.default_rng(2).standard_normal(100)
    h = fd.hessian(quartic)
    with_pass = compiled(h, x)
    orig = passes.lift_two_valued
    passes.lift_two_valued = lambda c: c
    try:
        without = compiled(h, x)
    finally:
        passes.lift_two_valued = orig
    assert np.array_equal(with_pass(), without())
    assert np.allclose(with_pass(), quartic_hessian_numpy(x))
    return table("Hessian of R^100 -> R under jit", compare({
        "numpy (hand-derived)": lambda: quartic_hessian_numpy(x),
        "jit(hessian)": with_pass,
        "jit(hessian), two-valued constants not lifted": without}, reps=21),
        baseline="numpy (hand-derived)")


def main():
    parts = [gradient(), block_sizes(), threshold(), arithmetic_chain(), hessian()]
    report = "\n".join(parts)
    print(report)
    return report


if __name__ == "__main__":
    main()
