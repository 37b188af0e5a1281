"""L2-regularised logistic regression fitted by SciPy's L-BFGS with funcdiff gradients.

``scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B")`` wants one function
returning ``(loss, gradient)`` on a flat float64 vector: ``jit(value_and_grad(loss))``
on parameters packed with ``funcdiff.flatten_util.ravel_pytree`` is exactly that.

Data: scikit-learn's bundled breast-cancer dataset (569 x 30, no download) when
scikit-learn is installed, else a synthetic problem.  With scikit-learn the fit is
checked against ``sklearn.linear_model.LogisticRegression`` at the same regularisation.
Fast mode (FUNCDIFF_FAST=1 or --fast) caps the iterations.

Run:  python examples/logistic_lbfgs.py [--fast]
Needs: scipy; scikit-learn optional (pip install -e ".[examples]").
"""
import os
import sys

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.flatten_util import ravel_pytree

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
LAM = 1e-2                                     # L2 strength (on w, not on the bias)


def load_data(rng):
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        print("(scikit-learn not installed: using a synthetic dataset)")
        X = rng.standard_normal((500, 20))
        w = rng.standard_normal(20)
        y = (X @ w + 0.5 * rng.standard_normal(500) > 0).astype(float)
        return X, y, "synthetic (500 x 20)"
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)             # standardise the features
    return X, y.astype(float), "breast cancer (569 x 30)"


def loss(params, X, y):
    """Mean logistic loss, written stably: log(1 + e^z) - y z = logaddexp(0, z) - y z."""
    z = X @ params["w"] + params["b"]
    return fnp.mean(fnp.logaddexp(0.0, z) - y * z) + 0.5 * LAM * fnp.sum(params["w"] ** 2)


def main():
    try:
        from scipy.optimize import minimize
    except ImportError:
        print("This example needs SciPy for scipy.optimize.minimize: pip install scipy "
              "(or pip install -e \".[examples]\"). Skipping.")
        return
    rng = np.random.default_rng(0)
    X, y, name = load_data(rng)
    n, d = X.shape
    params0 = {"w": np.zeros(d), "b": 0.0}
    flat0, unravel = ravel_pytree(params0)      # dict of arrays <-> one flat vector

    value_and_grad = fd.jit(fd.value_and_grad(loss))
    calls = 0

    def fun(flat):
        nonlocal calls
        calls += 1
        value, grads = value_and_grad(unravel(flat), X, y)
        return float(value), ravel_pytree(grads)[0]

    res = minimize(fun, flat0, jac=True, method="L-BFGS-B",
                   options={"maxiter": 10 if FAST else 1000, "gtol": 1e-9, "ftol": 1e-15})
    params = unravel(res.x)
    acc = np.mean(((X @ params["w"] + params["b"]) > 0) == (y > 0.5))
    print(f"data: {name}")
    print(f"L-BFGS: {res.nit} iterations, {calls} loss+gradient evaluations "
          f"({value_and_grad.cache_info().misses} compilation), converged: {res.success}")
    print(f"loss {res.fun:.6f}, |grad| {np.linalg.norm(res.jac):.2e}, "
          f"training accuracy {acc:.2%}")

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return
    if name.startswith("synthetic"):
        return
    # sklearn minimises C * sum(loss) + |w|^2 / 2, ours mean(loss) + LAM |w|^2 / 2
    ref = LogisticRegression(C=1.0 / (n * LAM), tol=1e-10, max_iter=10000).fit(X, y)
    diff = max(np.max(np.abs(ref.coef_[0] - params["w"])),
               abs(ref.intercept_[0] - params["b"]))
    print(f"max |difference| from sklearn's LogisticRegression: {diff:.1e}")
    if not FAST and diff > 1e-4:
        print("does not match scikit-learn")
        sys.exit(1)


if __name__ == "__main__":
    main()
