"""A 30-second tour of funcdiff: grad of a real loss, forward vs reverse mode with their
predicted costs, a Hessian, jit with its speed-up measured here, and the generated code.

Run:  python examples/quickstart.py        (FUNCDIFF_FAST=1 shrinks the timing loops)
"""
import os
import time

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp

FAST = os.environ.get("FUNCDIFF_FAST") == "1"
rng = np.random.default_rng(0)


def section(title):
    print(f"\n== {title} " + "=" * (70 - len(title)))


# 1. grad of a real loss: logistic regression on synthetic data -----------------------
section("grad of a logistic-regression loss")
X = rng.standard_normal((200, 5))
w_true = np.array([1.5, -2.0, 0.5, 0.0, 1.0])
y = (X @ w_true + 0.3 * rng.standard_normal(200) > 0).astype(float)


def loss(w):
    logits = X @ w
    return fnp.mean(fnp.logaddexp(0.0, logits) - y * logits)


w = np.zeros(5)
for step in range(100):
    value, g = fd.value_and_grad(loss)(w)
    w = w - 1.0 * g
print(f"loss after 100 gradient steps: {value:.4f}")
print("fitted weights:", np.round(w, 2))

# 2. forward vs reverse mode, with predicted costs --------------------------------------
section("forward vs reverse mode")
A = rng.standard_normal((3, 100))


def f(x, A):                    # R^100 -> R^3: reverse mode needs 3 passes, forward 100
    return fnp.tanh(A @ x)


x = rng.standard_normal(100)
J_fwd, J_rev = fd.jacfwd(f)(x, A), fd.jacrev(f)(x, A)
print("jacfwd == jacrev:", np.allclose(J_fwd, J_rev), " shape", J_rev.shape)
c_fwd = fd.cost_analysis(fd.jacfwd(f))(x, A)
c_rev = fd.cost_analysis(fd.jacrev(f))(x, A)
print(f"predicted flops: jacfwd {c_fwd['flops']:,}  jacrev {c_rev['flops']:,}"
      f"  (reverse mode {c_fwd['flops'] / c_rev['flops']:.0f}x cheaper here)")

# 3. a Hessian and a Hessian-vector product -----------------------------------------------
section("second derivatives")


def rosenbrock(p):
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


p = np.array([-1.2, 1.0])
H = fd.hessian(rosenbrock)(p)
print("Hessian of Rosenbrock at (-1.2, 1):\n", H)
print("hvp(f)(p, v) == H @ v:", np.allclose(fd.hvp(rosenbrock)(p, np.array([1.0, 2.0])),
                                            H @ np.array([1.0, 2.0])))

# 4. jit: compile to fused NumPy code, measured here ------------------------------------------
section("jit")


def g(x):
    return fnp.sum(fnp.tanh(x) ** 2 + fnp.sin(x) * x)


grad_g = fd.grad(g)
fast_grad_g = fd.jit(fd.grad(g))
x = rng.standard_normal(1000)
assert np.allclose(grad_g(x), fast_grad_g(x))
n = 50 if FAST else 500


def timeit(fn):
    fn(x)
    t = time.perf_counter()
    for _ in range(n):
        fn(x)
    return (time.perf_counter() - t) / n


t_eager, t_jit = timeit(grad_g), timeit(fast_grad_g)
print(f"grad (eager): {t_eager * 1e6:8.1f} us per call")
print(f"jit(grad):    {t_jit * 1e6:8.1f} us per call  ({t_eager / t_jit:.1f}x faster)")

section("the code jit generated for grad(g)")
print(fast_grad_g.lower(x).source)

section("the IR (a jaxpr) of g")
print(fd.make_jaxpr(g)(np.ones(3)))
