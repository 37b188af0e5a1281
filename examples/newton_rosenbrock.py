"""Newton's method on the Rosenbrock function, with exact gradients and Hessians.

    f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2,   minimum 0 at x = (1, ..., 1)

Each step solves  H(x) p = -g(x)  with ``funcdiff.hessian`` (forward-over-reverse) and
``funcdiff.value_and_grad``, both jitted; where H is not positive definite it is damped
(H + lam I), and a backtracking line search makes the method converge from far away.  Gradient descent on the same problem, for contrast, crawls along the curved
valley.  (For n >= 4 Rosenbrock also has a local minimum near x[0] = -1, which Newton
finds from the classic start (-1.2, 1, -1.2, 1, ...); this example starts at 0.)
Full mode: n = 10; fast mode (FUNCDIFF_FAST=1 or --fast): n = 4.

Run:  python examples/newton_rosenbrock.py [--fast]
"""
import os
import sys

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

FAST = os.environ.get("FUNCDIFF_FAST") == "1" or "--fast" in sys.argv
N = 4 if FAST else 10


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


value_and_grad = fd.jit(fd.value_and_grad(rosenbrock))
hessian = fd.jit(fd.hessian(rosenbrock))


def newton(x, tol=1e-10, max_steps=100):
    for k in range(max_steps):
        f, g = value_and_grad(x)
        if np.linalg.norm(g) < tol:
            return x, k
        H = hessian(x)
        lam = 0.0                                # where H is not positive definite,
        while True:                              # damp it: H + lam I (Levenberg)
            try:
                L = np.linalg.cholesky(H + lam * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                lam = max(2 * lam, 1e-3 * np.abs(H).max())
        p = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        t = 1.0
        while rosenbrock(x + t * p) > f + 1e-4 * t * (g @ p) and t > 1e-12:
            t *= 0.5                             # backtracking (Armijo) line search
        x = x + t * p
        print(f"  step {k + 1:2d}: f = {f:.3e}  |grad| = {np.linalg.norm(g):.3e}  "
              f"step length {t:g}")
    return x, max_steps


def gradient_descent(x, steps, lr=1e-3):
    for _ in range(steps):
        x = x - lr * value_and_grad(x)[1]
    return x


def main():
    x0 = np.zeros(N)
    # the derivatives are exact: compare with a hand-written gradient
    x = np.linspace(-1.0, 1.0, N)
    g_hand = np.zeros(N)
    g_hand[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g_hand[1:] += 200 * (x[1:] - x[:-1] ** 2)
    assert np.allclose(fd.grad(rosenbrock)(x), g_hand)
    H = hessian(x)
    assert np.allclose(H, H.T)

    print(f"Newton's method on the {N}-dimensional Rosenbrock function from {x0}")
    x_star, steps = newton(x0)
    err = np.max(np.abs(x_star - 1.0))
    print(f"Newton: {steps} steps, max |x - 1| = {err:.2e}, "
          f"f = {rosenbrock(x_star):.2e}")
    gd_steps = 200 if FAST else 2000
    x_gd = gradient_descent(x0, gd_steps)
    print(f"gradient descent: {gd_steps} steps, max |x - 1| = "
          f"{np.max(np.abs(x_gd - 1.0)):.2e}, f = {rosenbrock(x_gd):.2e}")
    if err > 1e-6:
        print("Newton's method did not converge")
        sys.exit(1)


if __name__ == "__main__":
    main()
