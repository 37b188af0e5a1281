"""One check of a funcdiff.numpy function through every transform, for the table-driven
tests of the NumPy surface (test_numpy_shape_more, test_numpy_differences,
test_numpy_stats, test_linalg_arrayapi, test_numpy_io).

``check_all(f, *arrays)``: ``f`` written with ``numpy`` (dispatching on traced values)
or ``funcdiff.numpy``; called plainly it is NumPy itself, the reference.  Then

* traced (``make_jaxpr`` + ``check_jaxpr`` + ``eval_jaxpr``) and ``jit`` equal NumPy
  (values, shapes, dtypes);
* ``vmap`` over a batch of two equals a Python loop over NumPy;
* derivatives (float64 inputs): ``check_grads`` to ``order`` -- jvp against central
  finite differences and the vjp dot-product identity, in both modes.
"""
from __future__ import annotations

import numpy as np

import funcdiff as fd
from funcdiff.test_util import check_grads

from _helpers import DEFAULT, assert_same, leaves, traced

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"

#: single precision to 2e-5 (1e-3 for float16), the rest to 1e-10
TOLS = {np.float16: 1e-3, np.float32: 2e-5, np.complex64: 2e-5, DEFAULT: 1e-10}


def same(got, want, tols=None):
    assert_same(got, want, tols=tols or TOLS, tree=True)


def _second(x, rng):
    """Another value of ``x``'s shape and dtype (the second example of a vmap batch)."""
    x = np.asarray(x)
    if x.dtype.kind in "fc":
        return (x + rng.uniform(0.1, 0.3, x.shape).astype(x.dtype)).astype(x.dtype)
    if x.dtype.kind == "b":
        return ~x
    return x + np.ones_like(x)


def check_all(f, *args, grads=True, order=2, vmap=True, jit=True, tols=None, seed=0,
              grad_tols=None):
    """``f(*args)`` traced, jitted, vmapped and differentiated, against NumPy."""
    want = f(*args)
    same(traced(f, *args), leaves(want), tols)
    if jit:
        same(fd.jit(f)(*args), want, tols)
    if vmap:
        rng = np.random.default_rng(seed)
        others = [_second(a, rng) for a in args]
        batched = [np.stack([a, b]) for a, b in zip(args, others)]
        loop = [leaves(f(*a)) for a in (args, others)]
        stacked = [np.stack([np.asarray(u), np.asarray(v)]) for u, v in zip(*loop)]
        same(leaves(fd.vmap(f)(*batched)), stacked, tols)
    if grads and all(np.asarray(a).dtype == np.float64 for a in args):
        check_grads(f, args, order=order, **(grad_tols or {}))
    return want
