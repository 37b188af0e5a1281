"""Reductions and cumulative ops: reduce_max / min / prod, argmax / argmin, reduce_and /
or, cumsum / cumprod (reduce_sum and the reducer factory are in base.py, as the rule
helpers bind reduce_sum).  ``axes`` is a sorted tuple of non-negative ints;
reductions keep their operand's dtype (``funcdiff.numpy`` casts first, as NumPy does).

Subgradients: ``reduce_max``/``reduce_min`` split the tangent evenly between tied
maxima (consistent with ``maximum``); ``reduce_prod`` and ``cumprod`` have exact
derivatives at zeros (no division by the operand)."""
from __future__ import annotations

import numpy as np

from ..core.arraylib import asarray
from ..core.avals import ShapedArray
from ..core.errors import ShapeError
from ..core.trace import Primitive
from .base import (Zero, _check_axes, _reduce_cost, _reduce_shape, _reducer, aval,
                   broadcast_to, convert_element_type, defaxis, defjvp_zero, deflinear,
                   defreducer, expand_reduced, fit_to, full, instantiate, reduce_sum,
                   reshape, transpose)
from .elementwise import div, eq, lt, mul, select
from .shape import concatenate, iota, rev, slice_


# --- max / min -----------------------------------------------------------------------------

reduce_max_p = _reducer("reduce_max", np.max)
reduce_min_p = _reducer("reduce_min", np.min)
reduce_max_p.returns_new_array = reduce_min_p.returns_new_array = True


def reduce_max(x, axes):
    axes = tuple(sorted(int(a) for a in axes))
    return reduce_max_p.bind(x, axes=axes) if axes else x


def reduce_min(x, axes):
    axes = tuple(sorted(int(a) for a in axes))
    return reduce_min_p.bind(x, axes=axes) if axes else x


def _minmax_jvp(prim):
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        if type(t) is Zero:
            return out, Zero(aval(out).strengthen())
        xa = aval(x)
        at = convert_element_type(eq(x, expand_reduced(out, xa.shape, axes)), dtype=xa.dtype)
        count = reduce_sum(at, axes)
        return out, fit_to(div(reduce_sum(mul(t, at), axes), count), aval(out))
    prim.jvp = jvp


_minmax_jvp(reduce_max_p)
_minmax_jvp(reduce_min_p)

# --- prod ---------------------------------------------------------------------------------

reduce_prod_p = _reducer("reduce_prod", np.prod)
reduce_prod_p.returns_new_array = True


def reduce_prod(x, axes):
    axes = tuple(sorted(int(a) for a in axes))
    return reduce_prod_p.bind(x, axes=axes) if axes else x


def _exclusive_products(x, axis):
    """prod_{j != i} x_j along ``axis`` without division (exact at zeros)."""
    n = aval(x).shape[axis]
    if n == 0:
        return x
    xa = aval(x)
    one_shape = list(xa.shape)
    one_shape[axis] = 1
    ones = full(one_shape, 1, xa.dtype)

    def shifted(y):  # [1, y_0, ..., y_{n-2}]
        start = [0] * xa.ndim
        limit = list(xa.shape)
        limit[axis] = n - 1
        return concatenate([ones, slice_(y, start, limit)], axis)

    left = cumprod(shifted(x), axis)                       # prod_{j < i}
    right = rev(cumprod(shifted(rev(x, (axis,))), axis), (axis,))  # prod_{j > i}
    return mul(left, right)


def _prod_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    out = reduce_prod(x, axes)
    if type(t) is Zero:
        return out, Zero(aval(out).strengthen())
    xa = aval(x)
    # move reduced axes last and flatten them into one axis
    keep = [i for i in range(xa.ndim) if i not in axes]
    perm = keep + list(axes)
    kept_shape = tuple(xa.shape[i] for i in keep)
    n = int(np.prod([xa.shape[i] for i in axes], dtype=np.int64))
    xf = reshape(transpose(x, perm), kept_shape + (n,))
    tf = reshape(transpose(instantiate(t), perm), kept_shape + (n,))
    partial = _exclusive_products(xf, len(kept_shape))
    return out, fit_to(reduce_sum(mul(tf, partial), (len(kept_shape),)), aval(out))


reduce_prod_p.jvp = _prod_jvp

# --- boolean and arg reductions (no derivative) ----------------------------------------------

reduce_and_p = _reducer("reduce_and", np.all, keep_dtype=False)
reduce_or_p = _reducer("reduce_or", np.any, keep_dtype=False)
defjvp_zero(reduce_and_p)
defjvp_zero(reduce_or_p)


def _argreducer(name, np_fn):
    p = Primitive(name)
    p.impl = lambda x, *, axis, index_dtype: np_fn(x, axis=axis).astype(index_dtype)

    def abstract_eval(x, *, axis, index_dtype):
        _check_axes(name, x, (axis,))
        if x.size == 0:
            raise ShapeError(f"`{name}`: attempt to get {name} of an empty sequence")
        return ShapedArray(_reduce_shape(x, (axis,)), index_dtype)

    p.abstract_eval = abstract_eval
    p.cost = _reduce_cost
    p.emit = f"np.{np_fn.__name__}({{0}}, axis={{axis}}).astype({{index_dtype}})"
    defjvp_zero(p)
    defreducer(p, "axis")
    return p


argmax_p = _argreducer("argmax", np.argmax)
argmin_p = _argreducer("argmin", np.argmin)

# --- cumulative ------------------------------------------------------------------------------


def _cumulative(name, np_fn):
    p = Primitive(name)
    p.sparsity = "cumulative"

    def impl(x, *, axis, reverse=False):
        x = asarray(x)
        if reverse:
            return np.flip(np_fn(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return np_fn(x, axis=axis, dtype=x.dtype)

    def abstract_eval(x, *, axis, reverse=False):
        _check_axes(name, x, (axis,))
        return ShapedArray(x.shape, x.dtype)

    p.impl = impl
    p.abstract_eval = abstract_eval
    p.cost = _reduce_cost
    p.emit = f"_rt.{name}({{0}}, {{axis}}, {{reverse}})"
    defaxis(p, "axis")
    return p


cumsum_p = _cumulative("cumsum", np.cumsum)
cumprod_p = _cumulative("cumprod", np.cumprod)


def cumsum(x, axis, reverse=False):
    return cumsum_p.bind(x, axis=int(axis), reverse=bool(reverse))


def cumprod(x, axis, reverse=False):
    return cumprod_p.bind(x, axis=int(axis), reverse=bool(reverse))


deflinear(cumsum_p, lambda ct, x, *, axis, reverse=False: [
    Zero(aval(x).strengthen()) if type(ct) is Zero else cumsum(ct, axis, not reverse)])


def _cumprod_jvp(primals, tangents, *, axis, reverse=False):
    """tangent_i = sum_{k<=i} t_k prod_{j<=i, j!=k} x_j: the partial products come from
    n cumprods of x with x_k replaced by 1 (primals only, exact at zeros; O(n^2) work
    along the axis), then multiply the tangent, so the rule is linear in t through
    ``mul``/``reduce_sum`` and transposes for reverse mode."""
    (x,), (t,) = primals, tangents
    out = cumprod(x, axis, reverse)
    if type(t) is Zero:
        return out, Zero(aval(out).strengthen())
    xa = aval(x)
    n = xa.shape[axis]
    if reverse:
        xr, tr = rev(x, (axis,)), rev(instantiate(t), (axis,))
        _, t_out = _cumprod_jvp((xr,), (tr,), axis=axis)
        return out, rev(t_out, (axis,))
    # k indexes a new leading axis; positions j along `axis`
    bshape = (n,) + xa.shape
    kk = reshape(iota(0, n, 1, np.int64), (n,) + (1,) * xa.ndim)
    jshape = [1] * (xa.ndim + 1)
    jshape[axis + 1] = n
    jj = reshape(iota(0, n, 1, np.int64), tuple(jshape))
    is_k = eq(kk, jj)
    one = np.ones((), xa.dtype)[()]
    z = select(broadcast_to(is_k, bshape), one, broadcast_to(x, bshape))
    cp = cumprod(z, axis + 1)                  # prod_{j<=i, j!=k} x_j
    mask = lt(jj, kk)  # i < k: output i does not involve x_k
    zero = np.zeros((), xa.dtype)[()]
    partial = select(broadcast_to(mask, bshape), zero, cp)
    # t_k along the new leading axis k, broadcast over positions i
    perm = (axis,) + tuple(i for i in range(xa.ndim) if i != axis)
    tk = reshape(transpose(instantiate(t), perm),
                 (n,) + xa.shape[:axis] + (1,) + xa.shape[axis + 1:])
    return out, reduce_sum(mul(partial, tk), (0,))


cumprod_p.jvp = _cumprod_jvp
