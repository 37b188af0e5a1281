"""One-line helpers for the common shapes of batching (``vmap``) rules, as JAX's
``batching.defvectorized`` / ``defbroadcasting`` / ``defreducer``.

A batch rule is ``batch(args, dims, **params) -> (out, out_dim)`` (lists of outputs and
dims for ``multiple_results`` primitives).  ``dims[i]`` is the axis of ``args[i]`` that
is being mapped over, or ``not_mapped`` (``None``) when ``args[i]`` is the same for every
example.  A rule is only called when at least one argument is mapped, so the batch size
is ``axis_size(args, dims)``.  Rules bind primitives (never NumPy on traced values), so
they run eagerly, record under an enclosing trace, and differentiate.

Convention: move the batch axis as little as possible.  Elementwise ops keep it where it
is when the operands agree; reductions, slices and cumulative ops shift their axis
params around it; only ops that need a fixed layout (reshape, broadcast_to) move it to
the front.
"""
from __future__ import annotations

from ._rules import aval


# shape.py's rules use these helpers, so its binders are imported when first needed
def transpose(x, perm):
    from .shape import transpose
    return transpose(x, perm)


def reshape(x, shape):
    from .shape import reshape
    return reshape(x, shape)


def broadcast_to(x, shape):
    from .shape import broadcast_to
    return broadcast_to(x, shape)


not_mapped = None
"""The ``dims`` entry of an argument that is not mapped over (JAX's ``not_mapped``)."""


def axis_size(args, dims) -> int:
    """The batch size: the length of the mapped axis of any mapped argument."""
    for x, d in zip(args, dims):
        if d is not None:
            return aval(x).shape[d]
    raise ValueError("axis_size: no argument is mapped")


def shift_axis(a: int, bdim) -> int:
    """Where a per-example axis ``a`` sits in an array whose batch axis is ``bdim``."""
    return a if bdim is None or a < bdim else a + 1


def shift_axes(axes, bdim) -> tuple:
    return tuple(shift_axis(a, bdim) for a in axes)


def moveaxis(x, src: int, dst: int):
    """``numpy.moveaxis`` with the ``transpose`` primitive (a no-op when src == dst)."""
    nd = aval(x).ndim
    src, dst = src % nd, dst % nd
    if src == dst:
        return x
    perm = [i for i in range(nd) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def expand_dims(x, axis: int):
    """Insert a length-1 axis at ``axis`` (a reshape: a view, no copy)."""
    shape = list(aval(x).shape)
    shape.insert(axis, 1)
    return reshape(x, tuple(shape))


def broadcast_batch(x, size: int, axis: int):
    """An unmapped ``x`` made mapped: ``size`` copies along a new axis ``axis``
    (``broadcast_to``: a view in NumPy, no copy)."""
    shape = list(aval(x).shape)
    shape.insert(axis, size)
    return broadcast_to(expand_dims(x, axis), tuple(shape))


def matchaxis(x, src, dst: int, size: int):
    """``x`` with its batch axis at ``dst``: moved from ``src``, or broadcast if
    ``src`` is ``not_mapped``."""
    if src is None:
        return broadcast_batch(x, size, dst)
    return moveaxis(x, src, dst)


def bdim_at_front(x, bdim, size: int):
    """``x`` with its batch axis first (broadcast when not mapped)."""
    return matchaxis(x, bdim, 0, size)


def batch_at_front_padded(x, bdim, rank: int):
    """A mapped ``x`` with its batch axis first and length-1 axes inserted after it so
    that its per-example part has ``rank`` axes (NumPy broadcasting aligns the rest)."""
    x = moveaxis(x, bdim, 0)
    shape = aval(x).shape
    missing = rank - (len(shape) - 1)
    if missing > 0:
        x = reshape(x, shape[:1] + (1,) * missing + shape[1:])
    return x


# --- rule factories ----------------------------------------------------------------------

def vectorized_batcher(prim):
    """For primitives acting independently on each element of one operand, whose params
    name no axis: apply as is, the batch axis stays put."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **params), d
    return batch


def defvectorized(prim):
    prim.batch = vectorized_batcher(prim)
    return prim.batch


def align_broadcasting(args, dims):
    """Operands of an n-ary NumPy-broadcasting op, arranged so that the batch axes line
    up and NumPy broadcasting does the rest.  Returns ``(new_args, out_dim)``.

    If every mapped operand has the same batch axis and the full per-example rank, that
    axis is kept (unmapped operands that reach past it get a length-1 axis there);
    otherwise mapped operands move their batch axis to the front and get length-1 axes
    so they line up on the right, as NumPy broadcasting requires."""
    ranks = [aval(x).ndim - (d is not None) for x, d in zip(args, dims)]
    rank = max(ranks)
    mapped = [(d, r) for d, r in zip(dims, ranks) if d is not None]
    d0 = mapped[0][0]
    if all(d == d0 and r == rank for d, r in mapped):
        new = []
        for x, d, r in zip(args, dims, ranks):
            # an unmapped operand covers the last r per-example axes; if those include
            # positions at or before the batch axis it needs a 1 at the batch axis
            if d is None and r > rank - d0:
                x = expand_dims(x, d0 - (rank - r))
            new.append(x)
        return new, d0
    new = [x if d is None else batch_at_front_padded(x, d, rank)
           for x, d, r in zip(args, dims, ranks)]
    return new, 0


def broadcasting_batcher(prim):
    """For elementwise primitives with NumPy broadcasting (any number of operands)."""
    def batch(args, dims, **params):
        if len(args) == 1:
            return prim.bind(args[0], **params), dims[0]
        new, d = align_broadcasting(args, dims)
        return prim.bind(*new, **params), d
    return batch


def defbroadcasting(prim):
    prim.batch = broadcasting_batcher(prim)
    return prim.batch


def defreducer(prim, param: str = "axes"):
    """For reductions over the axes in ``params[param]`` (a tuple, or an int for
    single-axis ones such as argmax): the axes shift past the batch axis, and the
    batch axis moves left by the number of reduced axes before it."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        if aval(x).ndim == 1 and params[param] != ():
            # a 0-d example reduced over "axis 0" (NumPy allows it): give it that axis
            x = expand_dims(x, 1)
        axes = params[param]
        if isinstance(axes, int):
            new_axes = shift_axis(axes, d)
            removed = int(axes < d)
        else:
            new_axes = shift_axes(axes, d)
            removed = sum(1 for a in axes if a < d)
        params[param] = new_axes
        return prim.bind(x, **params), d - removed
    prim.batch = batch
    return batch


def defaxis(prim, param: str = "axis"):
    """For shape-preserving ops along one axis (cumsum, cumprod): shift the axis."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        if aval(x).ndim == 1:   # a 0-d example (NumPy allows axis 0): give it that axis
            out = prim.bind(expand_dims(x, 1), **dict(params, **{param: 1}))
            return reshape(out, aval(x).shape), 0
        params[param] = shift_axis(params[param], d)
        return prim.bind(x, **params), d
    prim.batch = batch
    return batch


def defaxes(prim, param: str = "axes"):
    """For shape-preserving ops over a tuple of axes (rev): shift the axes."""
    def batch(args, dims, **params):
        (x,), (d,) = args, dims
        params[param] = shift_axes(params[param], d)
        return prim.bind(x, **params), d
    prim.batch = batch
    return batch


def leading_batcher(prim):
    """For primitives that already treat leading axes as batch axes and want *equal*
    batch shapes across their array operands (``numpy.linalg``-style ``(..., n, n)``):
    mapped operands get their batch axis first, unmapped ones are broadcast along it
    (a view), and every output comes back with the batch axis first."""
    def batch(args, dims, **params):
        size = axis_size(args, dims)
        new = [bdim_at_front(x, d, size) for x, d in zip(args, dims)]
        out = prim.bind(*new, **params)
        if prim.multiple_results:
            return list(out), [0] * len(out)
        return out, 0
    return batch


def defleading(prim):
    prim.batch = leading_batcher(prim)
    return prim.batch


def index_axis(x, i: int, axis: int):
    """``x`` indexed at ``i`` along ``axis`` (slice + reshape: no gather)."""
    from .shape import slice_
    shape = aval(x).shape
    start = [0] * len(shape)
    limit = list(shape)
    start[axis], limit[axis] = i, i + 1
    return reshape(slice_(x, start, limit), shape[:axis] + shape[axis + 1:])


def loop_batcher(prim):
    """A correct but slow rule for any primitive: bind it once per example and stack the
    results (under ``jit`` the loop is unrolled into the jaxpr).  A stopgap for
    primitives whose vectorized rule is not written yet."""
    def batch(args, dims, **params):
        from .shape import concatenate
        size = axis_size(args, dims)
        per = []
        for i in range(size):
            ex = [x if d is None else index_axis(x, i, d) for x, d in zip(args, dims)]
            out = prim.bind(*ex, **params)
            per.append(list(out) if prim.multiple_results else [out])
        n_out = len(per[0]) if per else 0
        outs = [concatenate([expand_dims(p[k], 0) for p in per], 0) for k in range(n_out)]
        if prim.multiple_results:
            return outs, [0] * n_out
        return outs[0], 0
    return batch
