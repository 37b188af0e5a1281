"""An MLP classifier for handwritten digits, trained with ``jit(value_and_grad(loss))``
and a hand-written Adam optimizer.

The data is scikit-learn's bundled ``load_digits`` (1,797 8x8 images shipped inside the
package: no download).  Full mode trains 40 epochs and reaches about 98% test accuracy;
fast mode (FUNCDIFF_FAST=1 or --fast, used by CI) trains 3 epochs.

Run:  python examples/mlp_digits.py [--fast]
Needs: scikit-learn (pip install -e ".[examples]").
"""
import os
import sys
import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.scipy.special import logsumexp
from funcdiff.tree_util import tree_map

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
EPOCHS = 3 if FAST else 40
BATCH = 64
HIDDEN = 128


def load_data(rng):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)          # pixel values 0..16 -> 0..1
    perm = rng.permutation(len(X))
    n_test = len(X) // 4
    test, train = perm[:n_test], perm[n_test:]
    return X[train], y[train], X[test], y[test]


def init_params(rng, sizes):
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        params.append({"W": W.astype(np.float32), "b": np.zeros(n_out, np.float32)})
    return params


def predict(params, x):
    """Logits of a ReLU MLP; plain funcdiff.numpy code."""
    h = x
    for layer in params[:-1]:
        h = fnp.maximum(h @ layer["W"] + layer["b"], 0.0)
    last = params[-1]
    return h @ last["W"] + last["b"]


def loss(params, x, labels_onehot):
    """Mean softmax cross-entropy."""
    logits = predict(params, x)
    log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
    return -fnp.mean(fnp.sum(labels_onehot * log_probs, axis=1))


# --- Adam, by hand, on pytrees of arrays ------------------------------------------------

def adam_init(params):
    zeros = tree_map(np.zeros_like, params)
    return {"m": zeros, "v": tree_map(np.zeros_like, params), "t": 0}


def adam_update(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    params = tree_map(lambda p, m, v: p - lr * (m / c1) / (np.sqrt(v / c2) + eps),
                      params, m, v)
    return params, {"m": m, "v": v, "t": t}


# --- a text progress bar (no dependency) -------------------------------------------------

def progress(epoch, done, total, loss_value, width=30):
    filled = int(width * done / total)
    bar = "#" * filled + "." * (width - filled)
    line = f"epoch {epoch:3d}/{EPOCHS} [{bar}] {done:4d}/{total} loss {loss_value:.4f}"
    if sys.stdout.isatty():
        print("\r" + line, end="" if done < total else "\n", flush=True)
    elif done == total:                        # logs and CI: one line per epoch
        print(line, flush=True)


def accuracy(params, X, y):
    return float(np.mean(np.argmax(predict(params, X), axis=1) == y))


def main():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("This example needs scikit-learn for its bundled digits dataset: "
              "pip install scikit-learn  (or pip install -e \".[examples]\"). Skipping.")
        return
    rng = np.random.default_rng(0)
    X_train, y_train, X_test, y_test = load_data(rng)
    onehot = np.eye(10, dtype=np.float32)
    params = init_params(rng, [64, HIDDEN, 10])
    state = adam_init(params)
    step = fd.jit(fd.value_and_grad(loss))    # traced once per batch shape, then cached
    print(f"digits: {len(X_train)} train / {len(X_test)} test images, 8x8 pixels; "
          f"MLP 64-{HIDDEN}-10, Adam, batch {BATCH}, {EPOCHS} epochs"
          + (" (fast mode)" if FAST else ""))

    n_batches = len(X_train) // BATCH          # full batches only: one compiled shape
    t0 = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        perm = rng.permutation(len(X_train))
        total = 0.0
        for i in range(n_batches):
            idx = perm[i * BATCH:(i + 1) * BATCH]
            value, grads = step(params, X_train[idx], onehot[y_train[idx]])
            params, state = adam_update(params, grads, state)
            total += float(value)
            progress(epoch, i + 1, n_batches, total / (i + 1))
    elapsed = time.perf_counter() - t0

    train_acc = accuracy(params, X_train, y_train)
    test_acc = accuracy(params, X_test, y_test)
    print(f"trained in {elapsed:.1f} s ({step.cache_info().misses} compilation, "
          f"{EPOCHS * n_batches} steps); parameters stay "
          f"{params[0]['W'].dtype}")
    print(f"train accuracy: {train_acc:.2%}")
    print(f"test accuracy:  {test_acc:.2%}")
    if not FAST and test_acc < 0.95:
        print("test accuracy below 95%: something is wrong")
        sys.exit(1)


if __name__ == "__main__":
    main()
