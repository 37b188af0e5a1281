"""Gaussian-process regression: hyperparameters by maximising the marginal likelihood,
differentiated through a Cholesky factorisation and a solve with the factor.

    K = s^2 exp(-|x - x'|^2 / (2 l^2)) + sigma^2 I,   K = L L^T
    -log p(y | l, s, sigma) = 1/2 |L^-1 y|^2 + sum(log diag L) + n/2 log(2 pi)

The three hyperparameters live in log space (so they stay positive) and are fitted by
Adam on ``jit(value_and_grad(nll))``; ``check_grads`` first confirms the derivatives
of the whole pipeline (kernel, ``linalg.cholesky``, ``linalg.solve``) against finite
differences, to second order.  The data are noisy samples of sin(3x) with noise
standard deviation 0.1, which the fit recovers.  Fast mode (FUNCDIFF_FAST=1 or --fast):
fewer points and steps.

Run:  python examples/gaussian_process.py [--fast]
"""
import os
import sys

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff.test_util import check_grads

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
N = 30 if FAST else 80
STEPS = 150 if FAST else 300
NOISE = 0.1


def kernel(x1, x2, log_l, log_s):
    d2 = (x1[:, None] - x2[None, :]) ** 2
    return fnp.exp(2 * log_s) * fnp.exp(-0.5 * d2 / fnp.exp(2 * log_l))


def nll(theta, x, y):
    """Negative log marginal likelihood of y under the GP with log hyperparameters theta."""
    log_l, log_s, log_sigma = theta[0], theta[1], theta[2]
    K = kernel(x, x, log_l, log_s) + fnp.exp(2 * log_sigma) * fnp.eye(len(x))
    L = fnp.linalg.cholesky(K)
    alpha = fnp.linalg.solve(L, y)                 # L^-1 y
    return (0.5 * fnp.sum(alpha ** 2) + fnp.sum(fnp.log(fnp.diagonal(L)))
            + 0.5 * len(x) * np.log(2 * np.pi))


def posterior_mean(theta, x, y, x_new):
    log_l, log_s, log_sigma = theta
    K = kernel(x, x, log_l, log_s) + np.exp(2 * log_sigma) * np.eye(len(x))
    return kernel(x_new, x, log_l, log_s) @ np.linalg.solve(K, y)


def main():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-2, 2, N))
    y = np.sin(3 * x) + NOISE * rng.standard_normal(N)
    theta = np.array([np.log(1.0), np.log(1.0), np.log(0.5)])   # l, s, sigma

    check_grads(lambda t: nll(t, x[:8], y[:8]), (theta,), order=2)
    print("check_grads(nll, order=2): derivatives through cholesky/solve agree with "
          "finite differences")

    step = fd.jit(fd.value_and_grad(nll))
    m, v = np.zeros(3), np.zeros(3)
    lr, b1, b2 = 0.05, 0.9, 0.999
    for t in range(1, STEPS + 1):
        value, g = step(theta, x, y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
        if t % (STEPS // 5) == 0 or t == 1:
            l, s, sigma = np.exp(theta)
            print(f"  step {t:4d}: -log p(y) = {value:8.3f}   lengthscale {l:.3f}  "
                  f"signal {s:.3f}  noise {sigma:.3f}")

    l, s, sigma = np.exp(theta)
    x_test = np.linspace(-1.8, 1.8, 50)
    rmse = np.sqrt(np.mean((posterior_mean(theta, x, y, x_test) - np.sin(3 * x_test)) ** 2))
    print(f"fitted: lengthscale {l:.3f}, signal std {s:.3f}, noise std {sigma:.3f} "
          f"(true noise std {NOISE})")
    print(f"posterior mean vs the noise-free sin(3x): RMSE {rmse:.3f}")
    if not FAST and not (0.05 < sigma < 0.2 and rmse < 0.1):
        print("the fit did not recover the noise level")
        sys.exit(1)


if __name__ == "__main__":
    main()
