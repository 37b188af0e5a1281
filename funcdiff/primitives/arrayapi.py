"""Array-API rules: how a primitive runs on arrays that do not speak NumPy's protocols
(array-api-strict, PyTorch tensors through array-api-compat, ...).

Two facts are set on primitives here (see ``core/arraylib.py`` for where they are used):

- ``xp_name``: the standard's elementwise function computing the primitive
  (``xp.tanh``); jit's generated code writes ``xp.<name>(...)`` for it.
- ``xp_impl(xp, *args, **params)``: the primitive on namespace ``xp``'s arrays.

They live in one module rather than beside each primitive's other rules because they
are one table over the standard's names, checked as a whole against array-api-strict
(tests/test_array_api.py).  A primitive without them raises ``ArrayLibraryError`` on
such arrays.  (Dask and CuPy take the NumPy ``impl`` through NumPy's protocols and do not
need these.)
"""
from __future__ import annotations

import math

import numpy as np

from ..core.trace import registry
# (imported for their primitives: the registry holds them once their modules ran)
from . import base, dot, elementwise, reduce, shape  # noqa: F401

# NumPy ufunc name -> the array-API standard's name, where they differ
_RENAMED = {"absolute": "abs", "arccos": "acos", "arccosh": "acosh", "arcsin": "asin",
            "arcsinh": "asinh", "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh",
            "conjugate": "conj", "invert": "bitwise_invert", "power": "pow",
            "true_divide": "divide"}
# ufuncs the standard has no function for (computed by an xp_impl below, or not at all)
_NOT_STANDARD = {"cbrt", "erf", "exp2", "fmod", "ldexp", "expit"}


def xp_dtype(xp, dtype):
    """Namespace ``xp``'s dtype named like NumPy's ``dtype``."""
    return getattr(xp, np.dtype(dtype).name)


def _elementwise_rule(name):
    def rule(xp, *args):
        return getattr(xp, name)(*args)
    rule.__name__ = f"xp_{name}"
    return rule


for _p in registry.values():
    _fn = _p.np_fn
    if isinstance(_fn, np.ufunc) and _fn.__name__ not in _NOT_STANDARD and \
            _p.name != "ufunc":
        _p.xp_name = _RENAMED.get(_fn.__name__, _fn.__name__)
        _p.xp_impl = _elementwise_rule(_p.xp_name)


def _rule(name):
    def deco(fn):
        registry[name].xp_impl = fn
        return fn
    return deco


@_rule("logistic")
def _logistic(xp, x):
    return 1.0 / (1.0 + xp.exp(-x))


@_rule("select")
def _select(xp, pred, on_true, on_false):
    return xp.where(pred, on_true, on_false)


@_rule("convert_element_type")
def _convert(xp, x, *, dtype, weak_type=False):
    return xp.astype(x, xp_dtype(xp, dtype))


@_rule("broadcast_to")
def _broadcast_to(xp, x, *, shape):
    return xp.broadcast_to(x, shape)


@_rule("reshape")
def _reshape(xp, x, *, shape):
    return xp.reshape(x, shape)


@_rule("transpose")
def _transpose(xp, x, *, perm):
    return xp.permute_dims(x, perm)


@_rule("stop_gradient")
def _identity(xp, x):
    return x


@_rule("rev")
def _rev(xp, x, *, axes):
    return xp.flip(x, axis=axes)


@_rule("slice")
def _slice(xp, x, *, start, limit, strides):
    return x[tuple(slice(a, b, s) for a, b, s in zip(start, limit, strides))]


@_rule("concatenate")
def _concatenate(xp, *xs, axis):
    return xp.concat(list(xs), axis=axis)


@_rule("real")
def _real(xp, x):
    return xp.real(x)


@_rule("imag")
def _imag(xp, x):
    return xp.imag(x)


def _reducer(fn_name, keep_dtype):
    def rule(xp, x, *, axes):
        kw = {"dtype": x.dtype} if keep_dtype else {}
        return getattr(xp, fn_name)(x, axis=tuple(axes), **kw)
    return rule


for _name, _fn_name, _keep in [("reduce_sum", "sum", True), ("reduce_prod", "prod", True),
                               ("reduce_max", "max", False), ("reduce_min", "min", False),
                               ("reduce_and", "all", False), ("reduce_or", "any", False)]:
    registry[_name].xp_impl = _reducer(_fn_name, _keep)


@_rule("dot_general")
def _dot_general(xp, x, y, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    if not lb:
        return xp.tensordot(x, y, axes=(list(lc), list(rc)))
    lf = [i for i in range(x.ndim) if i not in lc and i not in lb]
    rf = [i for i in range(y.ndim) if i not in rc and i not in rb]
    bshape = [x.shape[i] for i in lb]
    mshape, nshape = [x.shape[i] for i in lf], [y.shape[i] for i in rf]
    k = math.prod(x.shape[i] for i in lc)
    b, m, n = math.prod(bshape), math.prod(mshape), math.prod(nshape)
    xt = xp.reshape(xp.permute_dims(x, list(lb) + lf + list(lc)), (b, m, k))
    yt = xp.reshape(xp.permute_dims(y, list(rb) + list(rc) + rf), (b, k, n))
    return xp.reshape(xp.matmul(xt, yt), tuple(bshape + mshape + nshape))


@_rule("argmax")
def _argmax(xp, x, *, axis, index_dtype):
    return xp.astype(xp.argmax(x, axis=axis), xp_dtype(xp, index_dtype))


@_rule("argmin")
def _argmin(xp, x, *, axis, index_dtype):
    return xp.astype(xp.argmin(x, axis=axis), xp_dtype(xp, index_dtype))
