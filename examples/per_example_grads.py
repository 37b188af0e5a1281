"""Per-example gradients with ``vmap(grad(loss))``: one gradient per training example,
in one vectorized pass instead of a Python loop.

Per-example gradients are what differentially private SGD clips (each example's
gradient scaled to norm <= C before averaging), and what gradient-variance and
influence diagnostics need.  Written the functional way, the loss of ONE example is
differentiated and then mapped over the batch:

    per_example = jit(vmap(grad(loss_one), in_axes=(None, 0, 0)))

``in_axes=(None, 0, 0)``: the parameters are shared, examples and labels are mapped.
The script checks the result against a Python loop, shows that their mean is the batch
gradient, times both, and runs a few steps of DP-SGD-style clipped training.
Fast mode (FUNCDIFF_FAST=1 or --fast): a smaller batch.

Run:  python examples/per_example_grads.py [--fast]
"""
import os
import sys
import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.tree_util import tree_map

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
BATCH = 64 if FAST else 512
D, H = 20, 32


def loss_one(params, x, y):
    """Logistic loss of one example (x: (D,), y: scalar 0/1) for a one-hidden-layer net."""
    h = fnp.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["w2"] + params["b2"]
    return fnp.logaddexp(0.0, z) - y * z


def loss_batch(params, X, Y):
    return fnp.mean(fd.vmap(loss_one, in_axes=(None, 0, 0))(params, X, Y))


def best_time(fn, reps=3):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((D, H)) / np.sqrt(D), "b1": np.zeros(H),
              "w2": rng.standard_normal(H) / np.sqrt(H), "b2": 0.0}
    X = rng.standard_normal((BATCH, D))
    Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)

    per_example = fd.jit(fd.vmap(fd.grad(loss_one), in_axes=(None, 0, 0)))
    grad_one = fd.jit(fd.grad(loss_one))
    G = per_example(params, X, Y)                      # leaves gain a leading batch axis
    print("per-example gradient shapes:",
          {k: v.shape for k, v in sorted(G.items())})

    loop = [grad_one(params, X[i], Y[i]) for i in range(BATCH)]
    for k in G:
        assert np.allclose(G[k], np.stack([g[k] for g in loop]))
    batch_g = fd.grad(loss_batch)(params, X, Y)
    for k in G:
        assert np.allclose(G[k].mean(axis=0), batch_g[k])
    print("equal to a Python loop of grad; their mean equals grad of the batch loss")

    t_vmap = best_time(lambda: per_example(params, X, Y))
    t_loop = best_time(lambda: [grad_one(params, X[i], Y[i]) for i in range(BATCH)])
    print(f"{BATCH} examples: jit(vmap(grad)) {t_vmap * 1e3:.2f} ms, "
          f"loop of jit(grad) {t_loop * 1e3:.1f} ms ({t_loop / t_vmap:.0f}x)")

    # DP-SGD-style step: clip every example's gradient to norm <= C, average, add noise
    C, sigma, lr = 1.0, 0.5, 0.5

    def clipped_mean_grad(params, X, Y, noise_rng):
        G = per_example(params, X, Y)
        norms = np.sqrt(sum(np.sum(g.reshape(len(X), -1) ** 2, axis=1) for g in G.values()))
        scale = np.minimum(1.0, C / np.maximum(norms, 1e-12))
        return tree_map(
            lambda g: (np.tensordot(scale, g, axes=1)
                       + sigma * C * noise_rng.standard_normal(g.shape[1:])) / len(X), G), norms

    noise_rng = np.random.default_rng(1)
    steps = 20 if FAST else 100
    for step in range(steps + 1):
        if step % (steps // 4) == 0:
            logits = np.tanh(X @ params["W1"] + params["b1"]) @ params["w2"] + params["b2"]
            acc = np.mean((logits > 0) == (Y > 0.5))
            print(f"  step {step:3d}: loss {float(loss_batch(params, X, Y)):.4f}  "
                  f"accuracy {acc:.2%}")
        if step == steps:
            break
        g, norms = clipped_mean_grad(params, X, Y, noise_rng)
        params = tree_map(lambda p, g: p - lr * g, params, g)
    print(f"per-example gradient norms at the end: median {np.median(norms):.3f}, "
          f"max {norms.max():.3f} (clipped to {C})")


if __name__ == "__main__":
    main()
