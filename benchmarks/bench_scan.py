"""Reverse mode through ``funcdiff.lax.scan`` (issue 5): ``jit(grad)`` of a 1,000-step
RNN (hidden 64, batch 32) written with ``scan``, against the same RNN unrolled in a
Python loop and jitted (one straight-line program of ~10,000 eqns), and against
autograd's ``grad`` of the Python loop when autograd is installed.

Also: a ``while_loop`` Newton iteration's ``jit(grad)`` (reverse mode JAX cannot do) vs
the same iteration as a Python loop under eager ``grad``.

Run: ``python benchmarks/bench_scan.py`` (``--smoke`` for a quick pass).
"""
from __future__ import annotations

import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax

try:
    from _harness import FAST, compare, machine, peers, table
except ImportError:  # run from the repo root as a module
    from benchmarks._harness import FAST, compare, machine, peers, table

STEPS = 100 if FAST else 1000
HIDDEN, BATCH, INPUT = 64, 32, 16


def make_data(seed=0):
    r = np.random.default_rng(seed)
    params = (r.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
              r.standard_normal((INPUT, HIDDEN)) / np.sqrt(INPUT),
              np.zeros(HIDDEN))
    xs = r.standard_normal((STEPS, BATCH, INPUT))
    return params, xs


def rnn_scan(params, xs):
    w, u, b = params

    def step(h, x):
        h = fnp.tanh(h @ w + x @ u + b)
        return h, None
    h, _ = lax.scan(step, fnp.zeros((BATCH, HIDDEN)), xs)
    return fnp.mean(h * h)


def rnn_unrolled(params, xs):
    w, u, b = params
    h = fnp.zeros((BATCH, HIDDEN))
    for t in range(xs.shape[0]):
        h = fnp.tanh(h @ w + xs[t] @ u + b)
    return fnp.mean(h * h)


def rnn_autograd(anp):
    def f(params, xs):
        w, u, b = params
        h = anp.zeros((BATCH, HIDDEN))
        for t in range(xs.shape[0]):
            h = anp.tanh(anp.dot(h, w) + anp.dot(xs[t], u) + b)
        return anp.mean(h * h)
    return f


def newton_while(a):
    def body(c):
        x, i = c
        return 0.5 * (x + a / x), i + 1
    x, _ = lax.while_loop(lambda c: fnp.max(fnp.abs(c[0] * c[0] - a)) > 1e-12, body,
                          (a + 1.0, 0))
    return fnp.sum(x)


def newton_py(a):
    x = a + 1.0
    while fnp.max(fnp.abs(x * x - a)) > 1e-12:
        x = 0.5 * (x + a / x)
    return fnp.sum(x)


def main():
    params, xs = make_data()
    out = [f"Machine: {machine()}", ""]

    scan_grad = fd.jit(fd.grad(rnn_scan))
    unrolled_grad = fd.jit(fd.grad(rnn_unrolled))
    t0 = time.perf_counter()
    g_scan = scan_grad(params, xs)
    t_scan_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    g_unrolled = unrolled_grad(params, xs)
    t_unrolled_compile = time.perf_counter() - t0
    for a, b in zip(g_scan, g_unrolled):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    fns = {
        "funcdiff jit(grad) of lax.scan": lambda: scan_grad(params, xs),
        "funcdiff jit(grad) of the unrolled loop": lambda: unrolled_grad(params, xs),
    }
    found = peers()
    if "autograd" in found:
        import autograd
        import autograd.numpy as anp
        ag = autograd.grad(rnn_autograd(anp))
        for a, b in zip(ag(params, xs), g_scan):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
        fns["autograd grad of the Python loop"] = lambda: ag(params, xs)
    res = compare(fns, reps=5 if not FAST else 3, target=0.2)
    n_eqns = len(unrolled_grad.lower(params, xs).jaxpr.eqns)
    extra = (f"First call (trace + transform + compile): scan {t_scan_compile:.2f} s, "
             f"unrolled {t_unrolled_compile:.2f} s ({n_eqns} eqns).  Gradients agree to "
             "1e-8." + ("" if "autograd" in found else "  (autograd not installed: not "
                                                         "compared.)"))
    out.append(table(f"jit(grad) of a {STEPS}-step RNN, hidden {HIDDEN}, batch {BATCH}",
                     res, baseline="funcdiff jit(grad) of the unrolled loop", extra=extra))

    a = np.linspace(0.5, 50.0, 256)
    newton_grad = fd.jit(fd.grad(newton_while))
    np.testing.assert_allclose(newton_grad(a), fd.grad(newton_py)(a), rtol=1e-8)
    res = compare({
        "funcdiff jit(grad) of lax.while_loop": lambda: newton_grad(a),
        "funcdiff grad of the Python while loop (eager)": lambda: fd.grad(newton_py)(a),
    }, reps=5 if not FAST else 3)
    out.append(table("grad of a Newton iteration (data-dependent trip count), 256 values",
                     res, baseline="funcdiff grad of the Python while loop (eager)"))
    report = "\n".join(out)
    print(report)
    return report


if __name__ == "__main__":
    main()
