"""``ravel_pytree``: a pytree of arrays as one flat vector, and the way back."""
from __future__ import annotations

import numpy as np

from .tree_util import tree_flatten, tree_unflatten
from . import numpy as fnp

__all__ = ["ravel_pytree"]


def ravel_pytree(tree):
    """``(flat, unravel)``: ``flat`` concatenates every leaf raveled (dtype promoted as
    NumPy does); ``unravel(flat)`` rebuilds the tree with each leaf's shape and dtype.
    Works on traced values, so Jacobians and Hessians of pytree functions can be had
    as one matrix."""
    leaves, treedef = tree_flatten(tree)
    shapes = [np.shape(x) if not hasattr(x, "aval") else x.shape for x in leaves]
    dtypes = [np.result_type(x) if not hasattr(x, "aval") else x.dtype for x in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    if leaves:
        flat = fnp.concatenate([fnp.ravel(x) for x in leaves]) if len(leaves) > 1 else \
            fnp.ravel(leaves[0])
    else:
        flat = np.zeros(0)
    offsets = np.cumsum([0] + sizes)

    def unravel(vec):
        parts = []
        for s, d, a, b in zip(shapes, dtypes, offsets[:-1], offsets[1:]):
            p = fnp.reshape(vec[int(a):int(b)], s)
            if (p.dtype if hasattr(p, "dtype") else np.result_type(p)) != d:
                p = p.astype(d)
            parts.append(p)
        return tree_unflatten(treedef, parts)

    return flat, unravel


def __dir__():
    return sorted(__all__)   # dir() shows the public names only
