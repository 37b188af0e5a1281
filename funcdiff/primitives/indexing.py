"""Indexing primitives: ``gather`` (``x[idx]``) and the scatters behind ``x.at[idx]``.

Indices are described NumPy's way, not with XLA's gather dimension numbers.  The static
param ``indexer`` is an ``Indexer``: a tuple with one entry per element of a NumPy index
tuple, each one of

==================  ==================================================
``("int", i)``      a static integer (may be negative)
``("slice", a, b, s)``  ``a:b:s`` (each an int or None)
``("newaxis",)``    ``None``
``("ellipsis",)``   ``...``
``("array", k)``    the k-th integer-array operand (a tracer or an ndarray)
==================  ==================================================

so ``x[i, 1:, None, idx]`` is ``gather(x, idx, indexer=[@1, 1:, None, @2])`` when ``i``
is traced (it prints with ``@k`` standing for operand ``k``).  ``impl`` rebuilds the index
and lets NumPy index, so NumPy's full semantics come for free: advanced-index placement,
broadcasting of index arrays, negative indices, 0-d integer arrays acting as integers.
``abstract_eval`` runs NumPy itself on a zero-stride dummy of a zero-byte dtype, so the
shapes always agree with NumPy and cost no memory.  Static integers out of bounds are an
``IndexError`` at trace time; integer arrays out of bounds raise when the program runs,
as in NumPy (no clamping, unlike JAX).

Operands: ``gather(x, *idx)``; every scatter is ``scatter_*(x, *idx, updates)``, where
``updates`` broadcasts to the indexed shape ``x[idx].shape`` and has ``x``'s dtype.
Scatters never mutate their input.

==================  =========================================  ==========================
primitive           result                                     duplicate indices
==================  =========================================  ==========================
``scatter``         ``out[idx] = u``                           the last update wins (as
                                                               NumPy; the jvp credits
                                                               only the winning update)
``scatter_add``     ``np.add.at(out, idx, u)``                 accumulate
``scatter_mul``     ``np.multiply.at(out, idx, u)``            accumulate (product)
``scatter_min/max`` ``np.minimum.at`` / ``np.maximum.at``      min/max over all of them
==================  =========================================  ==========================

Derivatives: ``gather``, ``scatter_add`` and ``scatter`` are linear in ``(x, updates)``;
``scatter_mul`` is linear in ``x``; its derivative in the updates is exact at zeros
(no division by a zero update), but with duplicate indices its *second* derivative is
not, at points where an update at a repeated position is exactly zero (the product of
the other updates there is built from a zero count, which is piecewise constant).
``scatter_min``/``scatter_max`` split the tangent evenly between tied winners (the
original value and every update equal to the result), as ``maximum``/``minimum`` and
``reduce_max`` do.

Batching (vmap) rewrites a per-example indexing as one NumPy indexing of the batched
operands (a leading ``:`` for a mapped array, an ``arange`` index next to mapped index
arrays; see "batching" below); no primitive here loops over examples.  Generated code
spells ``gather`` as ``x[...]`` and each scatter as a call ``scatter_add(x, np.s_[...],
u)`` of a small runtime function (``np.add.at`` on a copy, and so on).
"""
from __future__ import annotations

import numpy as np

from ..core.arraylib import asarray
from ..core.avals import ShapedArray
from ..core.errors import FuncdiffIndexError, FuncdiffTypeError, ShapeError
from ..core.trace import Primitive
from .base import (Zero, add, aval, axis_size, batch_at_front_padded, broadcast_batch,
                   broadcast_to, cast_ct, convert_element_type, expand_dims, full,
                   is_undefined, moveaxis, reshape, unbroadcast)
from .elementwise import div, eq, mul, select
from .shape import iota

# --- the indexer -----------------------------------------------------------------------------


class Indexer(tuple):
    """A NumPy index tuple with the integer arrays taken out (hashable, printable)."""

    __slots__ = ()

    @property
    def n_arrays(self) -> int:
        return sum(1 for e in self if e[0] == "array")

    @property
    def advanced(self) -> bool:
        return any(e[0] == "array" for e in self)

    def render(self, array_name) -> str:
        """The inside of ``[...]``; ``array_name(k)`` spells the k-th index array."""
        parts = []
        for e in self:
            kind = e[0]
            if kind == "int":
                parts.append(repr(e[1]))
            elif kind == "slice":
                a, b, s = ("" if v is None else repr(v) for v in e[1:])
                parts.append(f"{a}:{b}" + (f":{s}" if s else ""))
            elif kind == "newaxis":
                parts.append("None")
            elif kind == "ellipsis":
                parts.append("...")
            else:
                parts.append(array_name(e[1]))
        return ", ".join(parts)

    def __str__(self):
        return "[" + self.render(lambda k: f"@{k + 1}") + "]"  # operand number (x is 0)

    def __repr__(self):
        return f"Indexer({str(self)})"


def make_indexer(entries) -> Indexer:
    """Validate and freeze a list of indexer entries (see the module docstring)."""
    out = []
    for e in entries:
        kind = e[0]
        if kind == "int":
            out.append(("int", int(e[1])))
        elif kind == "slice":
            out.append(("slice",) + tuple(None if v is None else int(v) for v in e[1:4]))
        elif kind in ("newaxis", "ellipsis"):
            out.append((kind,))
        elif kind == "array":
            out.append(("array", int(e[1])))
        else:
            raise ValueError(f"unknown indexer entry {e!r}")
    return Indexer(out)


def build_index(indexer, arrays):
    """The NumPy index tuple for ``indexer`` with ``arrays`` put back in."""
    idx = []
    for e in indexer:
        kind = e[0]
        if kind == "int":
            idx.append(e[1])
        elif kind == "slice":
            idx.append(slice(e[1], e[2], e[3]))
        elif kind == "newaxis":
            idx.append(None)
        elif kind == "ellipsis":
            idx.append(Ellipsis)
        else:
            idx.append(arrays[e[1]])
    return tuple(idx)


_DUMMY = np.dtype([])           # itemsize 0: indexing a dummy of it allocates nothing


def _consumed_axes(indexer, ndim):
    """Per entry, the axis of x it consumes (None for newaxis/ellipsis); raises NumPy's
    IndexErrors for too many indices and repeated ellipses."""
    n_ell = sum(1 for e in indexer if e[0] == "ellipsis")
    if n_ell > 1:
        raise FuncdiffIndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for e in indexer if e[0] in ("int", "slice", "array"))
    if consumed > ndim:
        raise FuncdiffIndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were "
            "indexed")
    axes, k = [], 0
    for e in indexer:
        if e[0] == "ellipsis":
            axes.append(None)
            k += ndim - consumed
        elif e[0] == "newaxis":
            axes.append(None)
        else:
            axes.append(k)
            k += 1
    return axes


def indexed_shape(opname, x: ShapedArray, indexer, idx_avals) -> tuple:
    """``x[idx].shape``, computed by NumPy on a dummy; checks static ints' bounds."""
    if len(idx_avals) != indexer.n_arrays:
        raise FuncdiffTypeError(f"`{opname}`: indexer {indexer} takes {indexer.n_arrays} "
                                f"index arrays, got {len(idx_avals)}")
    for k, a in enumerate(idx_avals):
        if a.dtype.kind not in "iu":
            raise FuncdiffIndexError(
                f"`{opname}`: index arrays must be integers, got {a.str_short()} (operand "
                f"@{k + 1}).  Only integers, slices (`:`), ellipsis (`...`), None and "
                "integer or boolean arrays are valid indices.")
    for e, axis in zip(indexer, _consumed_axes(indexer, x.ndim)):
        if e[0] == "int":
            n = x.shape[axis]
            if not -n <= e[1] < n:
                raise FuncdiffIndexError(
                    f"`{opname}`: index {e[1]} is out of bounds for axis {axis} with size "
                    f"{n} (indexing an array of shape {x.shape} with {indexer})")
    dummy = np.broadcast_to(np.empty((), _DUMMY), x.shape)
    zero = np.zeros((), np.intp)
    arrays = [np.broadcast_to(zero, a.shape) for a in idx_avals]
    try:
        return dummy[build_index(indexer, arrays)].shape
    except IndexError as e:
        raise FuncdiffIndexError(
            f"`{opname}`: {e} (indexing an array of shape {x.shape} with {indexer}, index "
            f"arrays of shapes {[a.shape for a in idx_avals]})") from None


def _runtime_index_error(opname, e, x, indexer, arrays):
    return FuncdiffIndexError(
        f"`{opname}`: {e} (indexing an array of shape {np.shape(x)} with {indexer}; "
        f"index arrays of shapes {[np.shape(a) for a in arrays]}).  Integer-array indices "
        "are checked when the program runs, as NumPy does.")


def _zeros(a: ShapedArray):
    return full(a.shape, 0, a.dtype)


def _has_array_dims(indexer, idx_avals) -> bool:
    """Whether duplicate positions are possible: an index array of ndim >= 1 (0-d
    integer arrays act as integers)."""
    return any(a.ndim > 0 for a in idx_avals)


# --- batching (vmap) and codegen, shared by gather and the scatters ----------------------------
#
# A batched ``x[idx]`` is one NumPy indexing of the batched operands:
# * only ``x`` mapped: its batch axis goes first and the index gets a leading ``:``;
# * index arrays mapped: each gets its batch axis first, padded with 1s to the rank of the
#   per-example broadcast index shape, so the batch axis leads the broadcast advanced-index
#   shape; if ``x`` is mapped too, its batch axis is indexed by ``arange(size)`` (of that
#   same padded rank), inserted just before the first index array, with ``x``'s batch axis
#   moved to the axis that index array consumes.  The advanced indices stay adjacent
#   exactly when they were, so NumPy places the advanced block where the per-example
#   indexing did (or first, for separated advanced indices, in both), batch axis leading.
# Where the batch axis lands in the result is then asked of NumPy itself (a dummy indexed
# with two batch sizes: the axis that changes), so the placement rule is never restated.


def _with_size(shape, bdim, n):
    shape = list(shape)
    if bdim is not None:
        shape[bdim] = n
    return tuple(shape)


def _landing_axis(indexer, x_shape, x_bdim, idx_shapes, idx_bdims) -> int:
    """The axis of ``x[idx]`` that the batch axes of ``x`` / the index arrays become."""
    outs = []
    for n in (2, 3):
        dummy = np.broadcast_to(np.empty((), _DUMMY), _with_size(x_shape, x_bdim, n))
        arrays = [np.broadcast_to(np.zeros((), np.intp), _with_size(s, d, n))
                  for s, d in zip(idx_shapes, idx_bdims)]
        outs.append(dummy[build_index(indexer, arrays)].shape)
    changed = [k for k, (a, b) in enumerate(zip(*outs)) if a != b]
    assert len(changed) == 1, (indexer, outs)
    return changed[0]


def _batched_indexing(x, dx, idx, didx, indexer, size, need_x):
    """Per-example ``x[idx]`` (``x`` with batch axis ``dx``, index arrays with batch axes
    ``didx``; None: not mapped) as one indexing of batched operands.  With ``need_x``,
    ``x`` comes out mapped even if it was not (scatters: the output is ``x``'s shape).
    Returns ``(x, idx, indexer, x_bdim, out_bdim)``: ``x_bdim`` the batch axis of the new
    ``x`` (None if not mapped), ``out_bdim`` that of the indexed result."""
    idx = list(idx)
    if need_x and dx is None:
        x, dx = broadcast_batch(x, size, 0), 0
    if all(d is None for d in didx):
        x, x_bdim = moveaxis(x, dx, 0), 0
        entries = [("slice", None, None, None)] + list(indexer)
        bdims = [None] * len(idx)
    else:
        rank = max(aval(i).ndim - (d is not None) for i, d in zip(idx, didx))
        idx = [i if d is None else batch_at_front_padded(i, d, rank)
               for i, d in zip(idx, didx)]
        bdims = [None if d is None else 0 for d in didx]
        entries = list(indexer)
        x_bdim = None
        if dx is not None:
            first = next(k for k, e in enumerate(entries) if e[0] == "array")
            x_bdim = _consumed_axes(indexer, aval(x).ndim - 1)[first]
            x = moveaxis(x, dx, x_bdim)
            entries.insert(first, ("array", len(idx)))
            idx.append(reshape(iota(0, size, 1, np.intp), (size,) + (1,) * rank))
            bdims.append(0)
    indexer = make_indexer(entries)
    out_bdim = _landing_axis(indexer, aval(x).shape, x_bdim, [aval(i).shape for i in idx],
                             bdims)
    return x, idx, indexer, x_bdim, out_bdim


def _gather_batch(args, dims, *, indexer):
    x, *idx = args
    dx, *didx = dims
    x, idx, indexer, _, out_bdim = _batched_indexing(x, dx, idx, didx, indexer,
                                                     axis_size(args, dims), need_x=False)
    return gather(x, *idx, indexer=indexer), out_bdim


def _updates_for(u, du, bdim, rank):
    """Updates that broadcast to a batched indexed shape of per-example rank ``rank``
    whose batch axis is ``bdim``."""
    ua = aval(u)
    if du is not None:
        return moveaxis(batch_at_front_padded(u, du, rank), 0, bdim)
    if ua.ndim > rank - bdim:
        # u's axes, aligned on the right, reach the batch axis: give it a 1 there
        u = reshape(u, (1,) * (rank - ua.ndim) + ua.shape)
        u = expand_dims(u, bdim)
    return u


def _scatter_batcher(prim):
    def batch(args, dims, *, indexer):
        x, *idx, u = args
        dx, *didx, du = dims
        size = axis_size(args, dims)
        rank = len(indexed_shape(prim.name, _unbatched(x, dx), indexer,
                                 [_unbatched(i, d) for i, d in zip(idx, didx)]))
        x, idx, indexer, x_bdim, out_bdim = _batched_indexing(x, dx, idx, didx, indexer,
                                                              size, need_x=True)
        u = _updates_for(u, du, out_bdim, rank)
        return prim.bind(x, *idx, u, indexer=indexer), x_bdim
    return batch


def _unbatched(v, d):
    """A stand-in with ``v``'s per-example aval (for shape computations only)."""
    a = aval(v)
    if d is None:
        return a
    return ShapedArray(a.shape[:d] + a.shape[d + 1:], a.dtype)


def _index_source(indexer, names) -> str:
    """An ``Indexer`` as the inside of ``[...]`` in generated code; ``names`` are the
    index arrays' names."""
    return indexer.render(names.__getitem__) or "()"


def _gather_emit(args, params, gen):
    return f"{args[0]}[{_index_source(params['indexer'], args[1:])}]"


def _scatter_emit(runner):
    def emit(args, params, gen):
        fn = gen.const(runner, runner.__name__)
        return (f"{fn}({args[0]}, np.s_[{_index_source(params['indexer'], args[1:-1])}], "
                f"{args[-1]})")
    return emit


# --- gather ------------------------------------------------------------------------------------

gather_p = Primitive("gather")
gather_p.sparsity = "gather"
gather_p.linear = True


def gather(x, *idx, indexer):
    """``x[idx]`` (``indexer`` an ``Indexer``; ``idx`` its integer arrays)."""
    return gather_p.bind(x, *idx, indexer=indexer)


def _gather_impl(x, *idx, indexer):
    x = asarray(x)   # (another library's array stays one: Dask indexes lazily)
    try:
        return x[build_index(indexer, idx)]
    except IndexError as e:
        raise _runtime_index_error("gather", e, x, indexer, idx) from None


def _gather_abstract(x, *idx, indexer):
    shape = indexed_shape("gather", x, indexer, idx)
    return ShapedArray(shape, x.dtype, x.weak_type)


def _gather_jvp(primals, tangents, *, indexer):
    x, *idx = primals
    out = gather(x, *idx, indexer=indexer)
    tx = tangents[0]
    if type(tx) is Zero:
        return out, Zero(aval(out).strengthen())
    return out, gather(tx, *idx, indexer=indexer)


def _gather_transpose(ct, x, *idx, indexer):
    if any(is_undefined(i) for i in idx):
        raise FuncdiffTypeError("`gather`: index arrays cannot be linear")
    xa = aval(x)
    if type(ct) is Zero:
        return [Zero(xa.strengthen())] + [None] * len(idx)
    ct = cast_ct(ct, xa.strengthen())
    if type(ct) is Zero:
        return [ct] + [None] * len(idx)
    return [scatter_add(_zeros(xa.strengthen()), *idx, ct, indexer=indexer)] + \
        [None] * len(idx)


gather_p.impl = _gather_impl
gather_p.abstract_eval = _gather_abstract
gather_p.jvp = _gather_jvp
gather_p.transpose = _gather_transpose
gather_p.cost = lambda avals_in, avals_out, **p: {"flops": 0, "transcendentals": 0}
gather_p.batch = _gather_batch
gather_p.emit = _gather_emit


# --- scatters: shared shape rule and impl --------------------------------------------------------

def _scatter_abstract(name):
    def abstract_eval(x, *rest, indexer):
        *idx, u = rest
        shape = indexed_shape(name, x, indexer, idx)
        if u.dtype != x.dtype:
            raise FuncdiffTypeError(
                f"`{name}`: updates have dtype {u.dtype.name} but the array has "
                f"{x.dtype.name} (funcdiff.numpy's .at[] casts them first)")
        try:
            ok = u.ndim <= len(shape) and np.broadcast_shapes(u.shape, shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(
                f"`{name}`: updates of shape {u.shape} do not broadcast to the indexed "
                f"shape {shape} (x of shape {x.shape} indexed with {indexer})")
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return abstract_eval


def _scatter_into(ufunc, out, index, u):
    """``out[index] (op)= u`` in place; duplicates of advanced indices go through
    ``ufunc.at`` (unbuffered, so they accumulate)."""
    if ufunc is None:
        out[index] = u
    elif any(getattr(i, "ndim", 0) > 0 for i in index):
        ufunc.at(out, index, u)
    else:
        out[index] = ufunc(out[index], u)


def _scatter_impl(name, ufunc):
    """``out = x.copy(); out[idx] (op)= u``."""

    def impl(x, *rest, indexer):
        *idx, u = rest
        out = np.array(x, copy=True)
        try:
            _scatter_into(ufunc, out, build_index(indexer, idx), u)
        except IndexError as e:
            raise _runtime_index_error(name, e, x, indexer, idx) from None
        return out

    return impl


def _scatter_runner(name, ufunc):
    """What jit's generated code calls: ``scatter_add(x, np.s_[...], u)``, the same
    update as ``impl`` on an index tuple spelled out in the source."""

    def run(x, index, u):
        out = np.array(x, copy=True)
        index = index if isinstance(index, tuple) else (index,)
        try:
            _scatter_into(ufunc, out, index, u)
        except IndexError as e:
            raise FuncdiffIndexError(
                f"`{name}`: {e} (indexing an array of shape {np.shape(x)}).  Integer-array "
                "indices are checked when the program runs, as NumPy does.") from None
        return out

    run.__name__ = run.__qualname__ = name
    return run


def _scatter_cost(avals_in, avals_out, *, indexer):
    # one combine per indexed element (the updates broadcast to the indexed shape)
    shape = indexed_shape("scatter", avals_in[0], indexer, avals_in[1:-1])
    return {"flops": int(np.prod(shape, dtype=np.int64)), "transcendentals": 0}


def _scatter_prim(name, ufunc):
    p = Primitive(name)
    p.sparsity = "scatter" if ufunc is None else "scatter_accumulate"
    p.impl = _scatter_impl(name, ufunc)
    p.abstract_eval = _scatter_abstract(name)
    p.cost = _scatter_cost
    p.emit = _scatter_emit(_scatter_runner(name, ufunc))
    p.batch = _scatter_batcher(p)
    return p


def _indexed_aval(x, idx, indexer):
    xa = aval(x)
    return ShapedArray(indexed_shape("scatter", xa, indexer, [aval(i) for i in idx]),
                       xa.dtype)


def _updates_ct(ct, idx, u, indexer):
    """Cotangent of the updates: the gathered cotangent, summed down to u's shape."""
    return unbroadcast(gather(ct, *idx, indexer=indexer), aval(u).strengthen())


def _zero_cts(x, idx, u):
    return ([Zero(aval(x).strengthen()) if is_undefined(x) else None] + [None] * len(idx)
            + [Zero(aval(u).strengthen()) if is_undefined(u) else None])


# --- scatter_add ---------------------------------------------------------------------------------

scatter_add_p = _scatter_prim("scatter_add", np.add)
scatter_add_p.linear = True


def scatter_add(x, *rest, indexer):
    """``x`` with ``updates`` (the last operand) added at ``idx``; duplicates accumulate."""
    return scatter_add_p.bind(x, *rest, indexer=indexer)


def _scatter_add_jvp(primals, tangents, *, indexer):
    x, *idx, u = primals
    tx, tu = tangents[0], tangents[-1]
    out = scatter_add(x, *idx, u, indexer=indexer)
    oa = aval(out)
    if type(tx) is Zero and type(tu) is Zero:
        return out, Zero(oa.strengthen())
    if type(tu) is Zero:
        return out, tx
    tx = _zeros(oa.strengthen()) if type(tx) is Zero else tx
    return out, scatter_add(tx, *idx, tu, indexer=indexer)


def _scatter_add_transpose(ct, x, *rest, indexer):
    *idx, u = rest
    if type(ct) is Zero:
        return _zero_cts(x, idx, u)
    res = [cast_ct(ct, aval(x).strengthen()) if is_undefined(x) else None]
    res += [None] * len(idx)
    res.append(_updates_ct(ct, idx, u, indexer) if is_undefined(u) else None)
    return res


scatter_add_p.jvp = _scatter_add_jvp
scatter_add_p.transpose = _scatter_add_transpose

# --- scatter (set) -------------------------------------------------------------------------------

scatter_p = _scatter_prim("scatter", None)
scatter_p.linear = True


def scatter(x, *rest, indexer):
    """``x`` with ``x[idx] = updates``; with duplicate indices the last update wins."""
    return scatter_p.bind(x, *rest, indexer=indexer)


def _winning_updates(x, idx, indexer):
    """For duplicate-capable indices: a mask of the indexed shape, True where that
    update is the one a ``scatter`` keeps (NumPy's last-wins, whatever its order):
    scatter each update's id, gather the ids back, compare (JAX's trick)."""
    shape = _indexed_aval(x, idx, indexer).shape
    n = int(np.prod(shape, dtype=np.int64))
    ids = reshape(_iota_int(n), shape)
    blank = full(aval(x).shape, -1, np.intp)
    won = gather(scatter(blank, *idx, ids, indexer=indexer), *idx, indexer=indexer)
    return eq(won, ids)


def _iota_int(n):
    return iota(0, n, 1, np.intp)


def _scatter_jvp(primals, tangents, *, indexer):
    x, *idx, u = primals
    tx, tu = tangents[0], tangents[-1]
    out = scatter(x, *idx, u, indexer=indexer)
    oa = aval(out)
    if type(tx) is Zero and type(tu) is Zero:
        return out, Zero(oa.strengthen())
    ta = oa.strengthen()
    if type(tu) is Zero:
        tu = np.zeros((), ta.dtype)[()]
    elif _has_array_dims(indexer, [aval(i) for i in idx]):
        # only the update that won at each position moves the output
        shape = _indexed_aval(x, idx, indexer).shape
        tu = select(_winning_updates(x, idx, indexer), broadcast_to(tu, shape),
                    np.zeros((), ta.dtype)[()])
    tx = _zeros(ta) if type(tx) is Zero else tx
    return out, scatter(tx, *idx, _as_updates(tu, ta.dtype), indexer=indexer)


def _as_updates(u, dtype):
    if aval(u).dtype != dtype:
        u = convert_element_type(u, dtype=dtype)
    return u


def _scatter_transpose(ct, x, *rest, indexer):
    *idx, u = rest
    if type(ct) is Zero:
        return _zero_cts(x, idx, u)
    res = []
    if is_undefined(x):
        zero = np.zeros((), aval(ct).dtype)[()]
        res.append(cast_ct(scatter(ct, *idx, zero, indexer=indexer), aval(x).strengthen()))
    else:
        res.append(None)
    res += [None] * len(idx)
    res.append(_updates_ct(ct, idx, u, indexer) if is_undefined(u) else None)
    return res


scatter_p.jvp = _scatter_jvp
scatter_p.transpose = _scatter_transpose

# --- scatter_mul ---------------------------------------------------------------------------------

scatter_mul_p = _scatter_prim("scatter_mul", np.multiply)
scatter_mul_p.linear = True     # in x (the updates are a residual)


def scatter_mul(x, *rest, indexer):
    """``x`` with ``x[idx] *= updates``; duplicates multiply together."""
    return scatter_mul_p.bind(x, *rest, indexer=indexer)


def _product_of_others(x, idx, u_b, indexer):
    """For each update j at position p: the product of the other updates at p, exactly
    (no division by a zero update): with Z[p] the number of zero updates at p and P[p]
    the product of the non-zero ones, it is P[p]/u_j if u_j != 0 (0 if Z[p] > 0), and
    P[p] if u_j == 0 and Z[p] == 1 (else 0)."""
    xa = aval(x).strengthen()
    dt = xa.dtype
    is_zero = eq(u_b, np.zeros((), dt)[()])
    one = np.ones((), dt)[()]
    zero = np.zeros((), dt)[()]
    safe = select(is_zero, one, u_b)
    ones = full(xa.shape, 1, dt)
    nonzero_prod = gather(scatter_mul(ones, *idx, safe, indexer=indexer), *idx,
                          indexer=indexer)
    n_zero = gather(scatter_add(full(xa.shape, 0, np.intp), *idx,
                                convert_element_type(is_zero, dtype=np.intp),
                                indexer=indexer), *idx, indexer=indexer)
    when_nonzero = select(eq(n_zero, 0), div(nonzero_prod, safe), zero)
    when_zero = select(eq(n_zero, 1), nonzero_prod, zero)
    return select(is_zero, when_zero, when_nonzero)


def _scatter_mul_jvp(primals, tangents, *, indexer):
    x, *idx, u = primals
    tx, tu = tangents[0], tangents[-1]
    out = scatter_mul(x, *idx, u, indexer=indexer)
    oa = aval(out).strengthen()
    t = Zero(oa)
    if type(tx) is not Zero:
        t = scatter_mul(tx, *idx, u, indexer=indexer)
    if type(tu) is not Zero:
        shape = _indexed_aval(x, idx, indexer).shape
        tu_b = broadcast_to(tu, shape)
        if _has_array_dims(indexer, [aval(i) for i in idx]):
            coef = _product_of_others(x, idx, broadcast_to(u, shape), indexer)
            tu_b = mul(tu_b, coef)
        # d out[p] = x[p] * sum_j (prod of the other updates at p) * du_j
        t_u = mul(x, scatter_add(_zeros(oa), *idx, tu_b, indexer=indexer))
        t = t_u if type(t) is Zero else add(t, t_u)
    return out, t


def _scatter_mul_transpose(ct, x, *rest, indexer):
    *idx, u = rest
    if is_undefined(u):
        raise FuncdiffTypeError("`scatter_mul`: transpose in the updates: the program is "
                                "not linear in its tangents")
    if type(ct) is Zero:
        return _zero_cts(x, idx, u)
    return [scatter_mul(ct, *idx, u, indexer=indexer)] + [None] * (len(idx) + 1)


scatter_mul_p.jvp = _scatter_mul_jvp
scatter_mul_p.transpose = _scatter_mul_transpose

# --- scatter_min / scatter_max -------------------------------------------------------------------

scatter_min_p = _scatter_prim("scatter_min", np.minimum)
scatter_max_p = _scatter_prim("scatter_max", np.maximum)


def scatter_min(x, *rest, indexer):
    """``x`` with ``x[idx] = minimum(x[idx], updates)``; over all duplicates."""
    return scatter_min_p.bind(x, *rest, indexer=indexer)


def scatter_max(x, *rest, indexer):
    """``x`` with ``x[idx] = maximum(x[idx], updates)``; over all duplicates."""
    return scatter_max_p.bind(x, *rest, indexer=indexer)


def _extremal_jvp(prim):
    def jvp(primals, tangents, *, indexer):
        x, *idx, u = primals
        tx, tu = tangents[0], tangents[-1]
        out = prim.bind(x, *idx, u, indexer=indexer)
        oa = aval(out).strengthen()
        if type(tx) is Zero and type(tu) is Zero:
            return out, Zero(oa)
        dt = oa.dtype
        shape = _indexed_aval(x, idx, indexer).shape
        # ties: x[p] (if it equals out[p]) and every update equal to out[p] share evenly
        kept = convert_element_type(eq(x, out), dtype=dt)
        won = convert_element_type(
            eq(broadcast_to(u, shape), gather(out, *idx, indexer=indexer)), dtype=dt)
        n_ties = add(kept, scatter_add(_zeros(oa), *idx, won, indexer=indexer))
        t = None
        if type(tx) is not Zero:
            t = mul(kept, tx)
        if type(tu) is not Zero:
            t_u = scatter_add(_zeros(oa), *idx, mul(won, broadcast_to(tu, shape)),
                              indexer=indexer)
            t = t_u if t is None else add(t, t_u)
        # no tie at all only where out[p] is NaN: give 0 there rather than 0/0
        n_ties = select(eq(n_ties, 0), np.ones((), dt)[()], n_ties)
        return out, div(t, n_ties)
    return jvp


scatter_min_p.jvp = _extremal_jvp(scatter_min_p)
scatter_max_p.jvp = _extremal_jvp(scatter_max_p)

SCATTERS = {"set": scatter, "add": scatter_add, "multiply": scatter_mul,
            "min": scatter_min, "max": scatter_max}

__all__ = ["Indexer", "make_indexer", "build_index", "indexed_shape", "gather",
           "scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max",
           "gather_p", "scatter_p", "scatter_add_p", "scatter_mul_p", "scatter_min_p",
           "scatter_max_p", "SCATTERS"]
