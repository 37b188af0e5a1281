"""A small user program, type-checked by tests/test_typing.py with ``mypy --strict``:
the public API (grad, jit, vmap, pytrees, lax, funcdiff.numpy) annotated as JAX users
annotate (inputs ``ArrayLike``, results ``Array``)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import funcdiff as fd
import funcdiff.numpy as fnp
from funcdiff import lax, tree_util
from funcdiff.typing import Array, ArrayLike, DTypeLike


class Params(NamedTuple):
    w: Array
    b: Array


def predict(params: Params, x: ArrayLike) -> Array:
    return fnp.tanh(fnp.dot(x, params.w) + params.b)


def loss(params: Params, x: ArrayLike, y: ArrayLike) -> Array:
    err = predict(params, x) - y
    return fnp.mean(err ** 2)


def step(params: Params, x: ArrayLike, y: ArrayLike, lr: float = 0.1) -> Params:
    grads: Params = fd.grad(loss)(params, x, y)
    new: Params = tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
    return new


def cumulative(xs: ArrayLike) -> Array:
    def body(carry: Array, x: Array) -> tuple[Array, Array]:
        return carry + x, carry * x
    total, _ = lax.scan(body, fnp.zeros(()), xs)
    out: Array = lax.cond(total > 0, lambda t: t, lambda t: -t, total)
    return out


def count(n: int) -> int:
    i: int = lax.fori_loop(0, n, lambda i, c: c + 1, 0)
    return i


def cast(x: ArrayLike, dtype: DTypeLike) -> Array:
    return fnp.asarray(x).astype(dtype)


fast_step = fd.jit(step)
batched = fd.vmap(predict, in_axes=(None, 0))
p0 = Params(w=fnp.zeros(3), b=fnp.zeros(()))
xs = np.ones((4, 3))
p1 = fast_step(p0, xs, np.ones(4))
print(batched(p1, xs), cumulative(np.arange(3.0)), count(3), cast(1, "float32"))
leaves: list[Array] = tree_util.tree_leaves(p1)
v, g = fd.value_and_grad(lambda a: fnp.sum(a ** 2))(np.ones(2))
J = fd.jacfwd(fnp.sin)(np.ones(2))
ok: bool = isinstance(J, fd.Array)
