"""Shape primitives: rev, pad, slice, concatenate and the creation primitive iota (the
structural ones every rule helper binds -- broadcast_to, reshape, transpose, full -- are
in base.py).  All are linear; each block holds the primitive, its shape rule, jvp (via
``deflinear``), transpose and batching rule.  ``loop_batcher`` (a generic, slow batching
rule) is here because it slices and concatenates."""
from __future__ import annotations

import math

import numpy as np

from ..core.arraylib import asarray
from ..core.avals import ShapedArray
from ..core.errors import ShapeError
from .base import (Zero, _shape_prim, _zero_ct, aval, axis_size, bdim_at_front, cast_ct,
                   defaxes, deflinear, expand_dims, fit_to, full, instantiate, is_undefined,
                   moveaxis, reduce_sum, reshape, shift_axis, zeros_like_aval)
from .elementwise import select, sub

# --- rev (flip) --------------------------------------------------------------------------

rev_p = _shape_prim("rev")


def rev(x, axes):
    axes = tuple(int(a) for a in axes)
    return x if not axes else rev_p.bind(x, axes=axes)


rev_p.impl = lambda x, *, axes: np.flip(x, axes)
rev_p.abstract_eval = lambda x, *, axes: x
deflinear(rev_p, lambda ct, x, *, axes: [_zero_ct(x) if type(ct) is Zero else rev(ct, axes)])
rev_p.emit = "np.flip({0}, {axes})"
rev_p.returns_view = True
defaxes(rev_p, "axes")

# --- iota (creation; full is in base.py) ------------------------------------------------

iota_p = _shape_prim("iota")
iota_p.impl = lambda *, start, stop, step, dtype: np.arange(start, stop, step, dtype=dtype)


def _iota_abstract(*, start, stop, step, dtype):
    return ShapedArray((len(np.arange(start, stop, step)),), dtype)


iota_p.abstract_eval = _iota_abstract
iota_p.jvp = lambda primals, tangents, **p: (iota_p.bind(**p),
                                            Zero(iota_p.abstract_eval(**p)))
iota_p.emit = "np.arange({start}, {stop}, {step}, dtype={dtype})"


def iota(start, stop, step, dtype):
    return iota_p.bind(start=start, stop=stop, step=step, dtype=np.dtype(dtype))


# --- pad (lax.pad semantics: (lo, hi, interior) per axis; negative lo/hi crop) -------------

pad_p = _shape_prim("pad")


def pad(x, padding_value, config):
    config = tuple((int(lo), int(hi), int(it)) for lo, hi, it in config)
    if all(c == (0, 0, 0) for c in config):
        return x
    return pad_p.bind(x, padding_value, config=config)


def _pad_shape(shape, config):
    return tuple(lo + hi + d + max(d - 1, 0) * it for d, (lo, hi, it) in zip(shape, config))


def _interleave(x, v, axis, it):
    """``it`` copies of ``v`` between neighbours along ``axis`` (interior padding),
    with stack and reshape only (what a lazy library has)."""
    d = x.shape[axis]
    y = np.stack([x] + [np.full_like(x, v)] * it, axis=axis + 1)
    y = np.reshape(y, x.shape[:axis] + (d * (it + 1),) + x.shape[axis + 1:])
    return y[(slice(None),) * axis + (slice(0, max(d * (it + 1) - it, 0)),)]


def _pad_impl(x, v, *, config):
    x = asarray(x)
    if type(x) is not np.ndarray:
        # another library's array (Dask): no in-place writes, its own functions, lazily:
        # interior padding by interleaving, then crop and numpy.pad
        shape = _pad_shape(x.shape, config)
        if x.size == 0 or math.prod(shape) == 0:   # (Dask pads no empty arrays)
            return np.full_like(x, v, shape=shape)
        for axis, (_, _, it) in enumerate(config):
            if it:
                x = _interleave(x, v, axis, it)
        crop = tuple(slice(-lo if lo < 0 else 0, d + hi if hi < 0 else d)
                     for d, (lo, hi, _) in zip(x.shape, config))
        return np.pad(x[crop], [(max(lo, 0), max(hi, 0)) for lo, hi, _ in config],
                      constant_values=v)
    grown = [(max(lo, 0), max(hi, 0), it) for lo, hi, it in config]
    shape = _pad_shape(x.shape, grown)
    out = np.full(shape, v, dtype=x.dtype)
    idx = tuple(slice(lo, lo + max(d - 1, 0) * (it + 1) + 1 if d else lo, it + 1)
                for d, (lo, hi, it) in zip(x.shape, grown))
    out[idx] = x
    crop = tuple(slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n)
                 for n, (lo, hi, it) in zip(shape, config))
    return out[crop]


def _pad_abstract(x, v, *, config):
    if len(config) != x.ndim:
        raise ShapeError(f"`pad`: {len(config)} padding specs for shape {x.shape}")
    if v.shape != ():
        raise ShapeError("`pad`: the padding value must be a scalar")
    if any(it < 0 for _, _, it in config):
        raise ShapeError("`pad`: interior padding must be >= 0")
    shape = _pad_shape(x.shape, config)
    if any(d < 0 for d in shape):
        raise ShapeError(f"`pad`: padding {config} of shape {x.shape} is negative")
    return ShapedArray(shape, x.dtype)


def _pad_jvp(primals, tangents, *, config):
    (x, v), (tx, tv) = primals, tangents
    out = pad(x, v, config)
    if type(tx) is Zero and type(tv) is Zero:
        return out, Zero(aval(out).strengthen())
    tx = instantiate(tx)
    tv = np.zeros((), aval(out).dtype)[()] if type(tv) is Zero else tv
    return out, pad(tx, tv, config)


def _pad_transpose(ct, x, v, *, config):
    if type(ct) is Zero:
        return [_zero_ct(x) if is_undefined(x) else None,
                _zero_ct(v) if is_undefined(v) else None]
    cta = aval(ct)
    unpadded = pad(ct, np.zeros((), cta.dtype)[()], [(-lo, -hi, 0) for lo, hi, _ in config])
    ux = aval(unpadded)
    ct_x = slice_(unpadded, (0,) * ux.ndim, ux.shape, tuple(it + 1 for _, _, it in config))
    res = [ct_x if is_undefined(x) else None]
    if is_undefined(v):
        total = reduce_sum(ct, axes=tuple(range(cta.ndim)))
        inner = reduce_sum(ct_x, axes=tuple(range(cta.ndim)))
        res.append(sub(total, inner))
    else:
        res.append(None)
    return res


pad_p.impl = _pad_impl
pad_p.abstract_eval = _pad_abstract
pad_p.jvp = _pad_jvp
pad_p.transpose = _pad_transpose
pad_p.linear = True
pad_p.emit = "_rt.pad({0}, {1}, {config})"


def _pad_batch(args, dims, *, config):
    (x, v), (dx, dv) = args, dims
    if dv is None:       # one padding value: pad every example, not the batch axis
        config = list(config)
        config.insert(dx, (0, 0, 0))
        return pad(x, v, config), dx
    # a per-example padding value: pad with zeros, then select v where padding went
    size = axis_size(args, dims)
    x = bdim_at_front(x, dx, size)
    xa = aval(x)
    padded = pad(x, np.zeros((), xa.dtype)[()], [(0, 0, 0)] + list(config))
    inside = pad(full(xa.shape[1:], True, np.bool_), False, config)
    v = moveaxis(v, dv, 0)
    v = reshape(v, (size,) + (1,) * len(config))
    return select(inside, padded, v), 0


pad_p.batch = _pad_batch

# --- slice (static start/limit/strides, strides > 0) --------------------------------------

slice_p = _shape_prim("slice")


def slice_(x, start, limit, strides=None):
    start = tuple(int(s) for s in start)
    limit = tuple(int(s) for s in limit)
    strides = tuple(int(s) for s in strides) if strides else (1,) * len(start)
    if start == (0,) * len(start) and limit == aval(x).shape and all(s == 1 for s in strides):
        return x
    return slice_p.bind(x, start=start, limit=limit, strides=strides)


def _slice_impl(x, *, start, limit, strides):
    return asarray(x)[tuple(slice(a, b, s) for a, b, s in zip(start, limit, strides))]


def _slice_abstract(x, *, start, limit, strides):
    if not (len(start) == len(limit) == len(strides) == x.ndim):
        raise ShapeError(f"`slice`: start/limit/strides must have {x.ndim} entries")
    for a, b, s, d in zip(start, limit, strides, x.shape):
        if not (0 <= a <= b <= d) or s < 1:
            raise ShapeError(f"`slice`: [{a}:{b}:{s}] out of range for shape {x.shape}")
    shape = tuple(len(range(a, b, s)) for a, b, s in zip(start, limit, strides))
    return ShapedArray(shape, x.dtype)


def _slice_transpose(ct, x, *, start, limit, strides):
    if type(ct) is Zero:
        return [_zero_ct(x)]
    xa = aval(x)
    cta = aval(ct)
    config = []
    for a, d, s, n in zip(start, xa.shape, strides, cta.shape):
        used = a + (n - 1) * s + 1 if n else a
        config.append((a, d - used, s - 1))
    return [pad(ct, np.zeros((), cta.dtype)[()], config)]


slice_p.impl = _slice_impl
slice_p.returns_view = True
slice_p.abstract_eval = _slice_abstract
deflinear(slice_p, _slice_transpose)
slice_p.emit = lambda args, params, gen: "{}[{}]".format(args[0], ", ".join(
    f"{a}:{b}" + (f":{s}" if s != 1 else "")
    for a, b, s in zip(params["start"], params["limit"], params["strides"])) or "()")


def _slice_batch(args, dims, *, start, limit, strides):
    (x,), (d,) = args, dims
    start, limit, strides = list(start), list(limit), list(strides)
    start.insert(d, 0)
    limit.insert(d, aval(x).shape[d])
    strides.insert(d, 1)
    return slice_(x, start, limit, strides), d


slice_p.batch = _slice_batch

# --- concatenate -------------------------------------------------------------------------

concatenate_p = _shape_prim("concatenate")


def concatenate(xs, axis):
    xs = list(xs)
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, axis=int(axis))


def _concatenate_impl(*xs, axis):
    return np.concatenate([asarray(x) for x in xs], axis=axis)


def _concatenate_abstract(*xs, axis):
    x0 = xs[0]
    if not 0 <= axis < x0.ndim:
        raise ShapeError(f"`concatenate`: axis {axis} out of range for {x0.ndim}-d operands")
    for x in xs[1:]:
        if x.ndim != x0.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape))
                                    if i != axis):
            raise ShapeError("`concatenate`: operand shapes "
                             f"{', '.join(str(x.shape) for x in xs)} differ off axis {axis}")
    dtype = np.result_type(*[x.dtype for x in xs])
    shape = list(x0.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(tuple(shape), dtype)


def _concatenate_jvp(primals, tangents, *, axis):
    out = concatenate_p.bind(*primals, axis=axis)
    if all(type(t) is Zero for t in tangents):
        return out, Zero(aval(out).strengthen())
    tans = [zeros_like_aval(aval(p).strengthen()) if type(t) is Zero else t
            for p, t in zip(primals, tangents)]
    return out, fit_to(concatenate_p.bind(*tans, axis=axis), aval(out))


def _concatenate_transpose(ct, *xs, axis):
    res = []
    offset = 0
    for x in xs:
        xa = aval(x)
        n = xa.shape[axis]
        if is_undefined(x):
            if type(ct) is Zero:
                res.append(Zero(xa.strengthen()))
            else:
                cta = aval(ct)
                start = [0] * cta.ndim
                limit = list(cta.shape)
                start[axis], limit[axis] = offset, offset + n
                res.append(cast_ct(slice_(ct, start, limit), xa))
        else:
            res.append(None)
        offset += n
    return res


concatenate_p.impl = _concatenate_impl
concatenate_p.abstract_eval = _concatenate_abstract
concatenate_p.jvp = _concatenate_jvp
concatenate_p.transpose = _concatenate_transpose
concatenate_p.linear = True
concatenate_p.emit = "np.concatenate([{args}], axis={axis})"


def _concatenate_batch(args, dims, *, axis):
    d0 = next(d for d in dims if d is not None)
    if all(d == d0 for d in dims):    # all mapped along the same axis: keep it
        return concatenate(args, shift_axis(axis, d0)), d0
    size = axis_size(args, dims)
    return concatenate([bdim_at_front(x, d, size) for x, d in zip(args, dims)],
                       axis + 1), 0


concatenate_p.batch = _concatenate_batch


def index_axis(x, i: int, axis: int):
    """``x`` indexed at ``i`` along ``axis`` (slice + reshape: no gather)."""
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
