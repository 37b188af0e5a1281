"""Autodiff and jit benchmarks (issues 3 and 4), ratios against hand-written NumPy
gradients measured in the same run; autograd / JAX / PyTorch columns when installed.

Run: python benchmarks/bench_autodiff.py [--smoke]
"""
from __future__ import annotations

import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

try:
    from _harness import FAST, compare, peers, table
except ImportError:
    from benchmarks._harness import FAST, compare, peers, table

PEERS = peers()


# --- f(x) = sum(tanh(x)**2 + sin(x)*x) ------------------------------------------------

def f(x):
    return fnp.sum(fnp.tanh(x) ** 2 + fnp.sin(x) * x)


def f_grad_numpy(x):
    t = np.tanh(x)
    return 2.0 * t * (1.0 - t * t) + np.cos(x) * x + np.sin(x)


def small_elementwise(n):
    x = np.random.default_rng(0).standard_normal(n)
    g_eager, g_jit = fd.grad(f), fd.jit(fd.grad(f))
    assert np.allclose(g_eager(x), f_grad_numpy(x)) and np.allclose(g_jit(x), f_grad_numpy(x))
    fns = {"numpy (hand-written gradient)": lambda: f_grad_numpy(x),
           "funcdiff grad (eager)": lambda: g_eager(x),
           "funcdiff jit(grad)": lambda: g_jit(x)}
    if "autograd" in PEERS:
        import autograd
        import autograd.numpy as anp
        ag = autograd.grad(lambda x: anp.sum(anp.tanh(x) ** 2 + anp.sin(x) * x))
        fns["autograd grad"] = lambda: ag(x)
    if "jax" in PEERS:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        jf = lambda x: jnp.sum(jnp.tanh(x) ** 2 + jnp.sin(x) * x)  # noqa: E731
        jg, jgj = jax.grad(jf), jax.jit(jax.grad(jf))
        xj = jnp.asarray(x)
        fns["jax grad (no jit)"] = lambda: jg(xj).block_until_ready()
        fns["jax jit(grad)"] = lambda: jgj(xj).block_until_ready()
    if "torch" in PEERS:
        import torch
        xt = torch.tensor(x, requires_grad=True)

        def tg():
            y = (torch.tanh(xt) ** 2 + torch.sin(xt) * xt).sum()
            (g,) = torch.autograd.grad(y, xt)
            return g
        fns["torch eager"] = tg
    return table(f"grad of sum(tanh(x)**2 + sin(x)*x), n={n:,}", compare(fns),
                 baseline="numpy (hand-written gradient)")


def per_op_overhead():
    n_ops = 50
    x = np.random.default_rng(1).standard_normal(10)

    def chain(x):
        for i in range(n_ops // 2):
            x = fnp.sin(x) * 0.9
        return fnp.sum(x)

    g = fd.grad(chain)
    res = compare({"funcdiff eager grad": lambda: g(x)})
    per = res["funcdiff eager grad"]["median"] / (n_ops + 1) * 1e6
    return (f"### eager per-op overhead (un-jitted grad, {n_ops}-op chain, 10 elements)\n\n"
            f"{per:.1f} us per op\n")


# --- MLP 128x784-256-256-10, softmax cross-entropy ---------------------------------------

def mlp_setup(dtype):
    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 10]
    params = [((rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype),
               np.zeros(b, dtype)) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal((128, 784)).astype(dtype)
    labels = rng.integers(0, 10, 128)
    y = np.eye(10, dtype=dtype)[labels]
    return params, x, y


def mlp_loss(params, x, y):
    h = x
    for W, b in params[:-1]:
        h = fnp.tanh(h @ W + b)
    W, b = params[-1]
    logits = h @ W + b
    m = fnp.max(logits, axis=1, keepdims=True)
    lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
    return -fnp.sum(y * (logits - lse)) / x.shape[0]


def mlp_numpy(params, x, y):
    """Hand-written forward and backward pass."""
    hs = [x]
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
        hs.append(h)
    W, b = params[-1]
    logits = h @ W + b
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    lse = np.log(s) + m
    n = x.shape[0]
    loss = -np.sum(y * (logits - lse)) / n
    dlogits = (e / s * y.sum(axis=1, keepdims=True) - y) / n
    grads = []
    dh = dlogits
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        hin = hs[i]
        grads.append((hin.T @ dh, dh.sum(axis=0)))
        if i:
            dh = (dh @ W.T) * (1.0 - hin * hin)
    return loss, grads[::-1]


def mlp(dtype):
    params, x, y = mlp_setup(dtype)
    vg, vg_jit = fd.value_and_grad(mlp_loss), fd.jit(fd.value_and_grad(mlp_loss))
    l0, g0 = mlp_numpy(params, x, y)
    l1, g1 = vg(params, x, y)
    l2, g2 = vg_jit(params, x, y)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    assert np.allclose(l0, l1, rtol=tol) and np.allclose(l0, l2, rtol=tol)
    assert all(np.allclose(a[0], b[0], rtol=tol, atol=tol) for a, b in zip(g0, g2))
    assert g2[0][0].dtype == dtype
    fns = {"numpy (hand-written backward)": lambda: mlp_numpy(params, x, y),
           "funcdiff value_and_grad (eager)": lambda: vg(params, x, y),
           "funcdiff jit(value_and_grad)": lambda: vg_jit(params, x, y)}
    return table(f"MLP 128x784-256-256-10 value_and_grad, {np.dtype(dtype).name}",
                 compare(fns, reps=9), baseline="numpy (hand-written backward)")


# --- Hessian and HVP ------------------------------------------------------------------------

def quartic(x):
    return fnp.sum(fnp.tanh(x) ** 2) + 0.5 * fnp.sum(x ** 4)


def quartic_hessian_numpy(x):
    t = np.tanh(x)
    d2 = 2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t) + 6.0 * x * x
    return np.diag(d2)


def quartic_hvp_numpy(x, v):
    t = np.tanh(x)
    return (2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t) + 6.0 * x * x) * v


def hessians():
    rng = np.random.default_rng(2)
    x100 = rng.standard_normal(100)
    H = fd.jit(fd.hessian(quartic))
    assert np.allclose(H(x100), quartic_hessian_numpy(x100))
    out = table("Hessian of R^100 -> R under jit", compare({
        "numpy (hand-derived)": lambda: quartic_hessian_numpy(x100),
        "funcdiff jit(hessian)": lambda: H(x100)}), baseline="numpy (hand-derived)")
    x, v = rng.standard_normal(10_000), rng.standard_normal(10_000)
    hvp = fd.jit(fd.hvp(quartic))
    assert np.allclose(hvp(x, v), quartic_hvp_numpy(x, v))
    out += table("Hessian-vector product, n=10,000, under jit", compare({
        "numpy (hand-derived)": lambda: quartic_hvp_numpy(x, v),
        "funcdiff jit(hvp)": lambda: hvp(x, v)}), baseline="numpy (hand-derived)")
    return out


def compile_latency():
    lines = ["### jit compile latency (first call of jit(grad(f)))", "",
             "| eqns in f | first call | steady-state call | numpy gradient |", "|---|---|---|---|"]
    x = np.random.default_rng(3).standard_normal(100)
    for reps in ((20, 200) if FAST else (200, 2000)):
        def g(x, reps=reps):
            for _ in range(reps):
                x = fnp.tanh(x) * 0.5 + fnp.sin(x) * 0.25
            return fnp.sum(x)

        def g_np(x, reps=reps):
            xs = [x]
            for _ in range(reps):
                x = np.tanh(x) * 0.5 + np.sin(x) * 0.25
                xs.append(x)
            d = np.ones_like(x)
            for i in range(reps - 1, -1, -1):
                xi = xs[i]
                t = np.tanh(xi)
                d = d * ((1 - t * t) * 0.5 + np.cos(xi) * 0.25)
            return d

        jg = fd.jit(fd.grad(g))
        t0 = time.perf_counter()
        r = jg(x)
        first = time.perf_counter() - t0
        assert np.allclose(r, g_np(x))
        res = compare({"jit": lambda: jg(x), "numpy": lambda: g_np(x)}, reps=5)
        lines.append(f"| {reps * 5} | {first:.3f} s | {res['jit']['median'] * 1e3:.2f} ms "
                     f"| {res['numpy']['median'] * 1e3:.2f} ms |")
    return "\n".join(lines) + "\n"


def large_elementwise():
    x = np.random.default_rng(4).standard_normal(1_000_000)
    gj = fd.jit(fd.grad(f))
    return table("grad of sum(tanh(x)**2 + sin(x)*x), n=1e6, under jit", compare({
        "numpy (hand-written gradient)": lambda: f_grad_numpy(x),
        "funcdiff jit(grad)": lambda: gj(x)}, reps=7),
        baseline="numpy (hand-written gradient)")


def main():
    parts = [small_elementwise(10), per_op_overhead(), mlp(np.float64), mlp(np.float32),
             hessians(), large_elementwise(), compile_latency()]
    report = "\n".join(parts)
    print(report)
    return report


if __name__ == "__main__":
    main()
