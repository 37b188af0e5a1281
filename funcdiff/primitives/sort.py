"""Sorting: the ``sort`` primitive, one mechanism behind NumPy's sort family.

``sort(*operands, dimension, num_keys)`` sorts every operand (all of one shape) along
``dimension`` by the first ``num_keys`` of them, lexicographically (the first key is the
primary one), with a **stable** order (equal keys keep their order), as JAX's
``lax.sort``.  NaNs sort last and complex numbers lexicographically (real part, then
imaginary part), as in NumPy, which computes it.  So ``argsort(x)`` is the last output of
``sort(x, iota)``, ``lexsort`` sorts an iota by several keys, and ``take_along_axis(y,
argsort(x))`` is a second operand.

Derivatives: each output is a permutation of its operand, so its tangent is the operand's
tangent gathered by that permutation (found by sorting an iota along).  At ties the
output takes the tangent of the element that landed there (stable order: the first of
the tied elements in the input comes first), which is JAX's convention and a valid
one-sided derivative; ``reduce_max`` instead splits the tangent among tied maxima.  The
rule is a ``gather``, so it transposes for reverse mode and differentiates again.

Batching moves ``dimension`` past the batch axis (unmapped operands are broadcast); jit
spells one operand ``np.sort(x, kind='stable')`` and several ``np.argsort`` /
``np.lexsort`` plus ``np.take_along_axis``.
"""
from __future__ import annotations

import numpy as np

from ..core.avals import ShapedArray
from ..core.errors import FuncdiffTypeError, ShapeError
from ..core.trace import Primitive
from .base import Zero, aval, axis_size, broadcast_to, matchaxis, reshape, shift_axis
from .indexing import gather, make_indexer
from .shape import iota

sort_p = Primitive("sort", multiple_results=True)
sort_p.doc = ("`sort(*xs, dimension, num_keys)`: stable sort of all operands along "
              "`dimension` by the first `num_keys` (NaNs last); argsort sorts an iota along")


def sort(*operands, dimension, num_keys=1):
    """The operands sorted along ``dimension`` by the first ``num_keys`` of them (a list)."""
    return list(sort_p.bind(*operands, dimension=int(dimension), num_keys=int(num_keys)))


def iota_along(shape, dimension, dtype=np.intp):
    """``0, 1, ..., n - 1`` along ``dimension``, broadcast to ``shape`` (a view)."""
    n = shape[dimension]
    v = reshape(iota(0, n, 1, dtype), tuple(n if i == dimension else 1
                                            for i in range(len(shape))))
    return broadcast_to(v, tuple(shape))


def take_along_axis(x, idx, axis):
    """``numpy.take_along_axis(x, idx, axis)`` as one ``gather`` (``idx`` of ``x``'s
    rank; static ``arange`` indices on the other axes)."""
    shape = aval(idx).shape
    nd = len(shape)
    arrays, entries = [], []
    for i in range(nd):
        if i == axis:
            arrays.append(idx)
        else:
            arrays.append(np.arange(aval(x).shape[i]).reshape(
                tuple(-1 if j == i else 1 for j in range(nd))))
        entries.append(("array", i))
    return gather(x, *arrays, indexer=make_indexer(entries))


def _permutation(keys, dimension):
    """The stable permutation sorting ``keys`` lexicographically along ``dimension``."""
    if len(keys) == 1:
        return np.argsort(keys[0], axis=dimension, kind="stable")
    return np.lexsort(keys[::-1], axis=dimension)      # lexsort: the last key is primary


def _sort_impl(*operands, dimension, num_keys):
    ops = [np.asarray(o) for o in operands]
    if len(ops) == 1:
        return [np.sort(ops[0], axis=dimension, kind="stable")]
    perm = _permutation(ops[:num_keys], dimension)
    return [np.take_along_axis(o, perm, axis=dimension) for o in ops]


def _sort_abstract(*operands, dimension, num_keys):
    if not operands:
        raise FuncdiffTypeError("`sort`: needs at least one operand")
    shape = operands[0].shape
    if any(o.shape != shape for o in operands):
        raise ShapeError(f"`sort`: operands must have one shape, got "
                         f"{[o.shape for o in operands]}")
    if not 0 <= dimension < len(shape):
        raise ShapeError(f"`sort`: dimension {dimension} invalid for shape {shape}")
    if not 1 <= num_keys <= len(operands):
        raise FuncdiffTypeError(f"`sort`: num_keys={num_keys} with {len(operands)} "
                                "operands")
    return [ShapedArray(o.shape, o.dtype, o.weak_type) for o in operands]


def _sort_jvp(primals, tangents, *, dimension, num_keys):
    if all(type(t) is Zero for t in tangents):
        outs = sort(*primals, dimension=dimension, num_keys=num_keys)
        return outs, [Zero(aval(o).strengthen()) for o in outs]
    shape = aval(primals[0]).shape
    *outs, perm = sort(*primals, iota_along(shape, dimension), dimension=dimension,
                       num_keys=num_keys)
    t_out = [Zero(aval(o).strengthen()) if type(t) is Zero
             else take_along_axis(t, perm, dimension) for o, t in zip(outs, tangents)]
    return outs, t_out


def _sort_batch(args, dims, *, dimension, num_keys):
    size = axis_size(args, dims)
    d = next(d for d in dims if d is not None)
    args = [x if dx == d else matchaxis(x, dx, d, size) for x, dx in zip(args, dims)]
    outs = sort(*args, dimension=shift_axis(dimension, d), num_keys=num_keys)
    return outs, [d] * len(outs)


def _sort_cost(avals_in, avals_out, *, dimension, num_keys):
    a = avals_in[0]
    n = a.shape[dimension]
    compares = a.size * max(int(np.ceil(np.log2(max(n, 2)))), 1) * num_keys
    return {"flops": int(compares + a.size * (len(avals_in) - 1)), "transcendentals": 0}


def _sort_emit(args, params, gen):
    d, k = params["dimension"], params["num_keys"]
    if len(args) == 1:
        return f"[np.sort({args[0]}, axis={d}, kind='stable')]"
    return f"{gen.const(_sort_impl, 'sort')}({', '.join(args)}, dimension={d}, num_keys={k})"


sort_p.impl = _sort_impl
sort_p.abstract_eval = _sort_abstract
sort_p.jvp = _sort_jvp
sort_p.batch = _sort_batch
sort_p.cost = _sort_cost
sort_p.emit = _sort_emit
sort_p.returns_new_array = True   # np.lexsort + take_along_axis: new arrays

__all__ = ["sort", "sort_p", "iota_along", "take_along_axis"]
