"""Selection: ``choose``, ``select``, ``piecewise`` (values chosen elementwise by
conditions or indices), ``compress``, ``extract`` (entries chosen by a condition: a
value-dependent length, see ``_sizes``), and the functional ``place``, ``put``.

Derivatives follow the selection: each output entry's derivative is that of the value it
was taken from (``select``: the first true condition's choice; ``piecewise``: the
function of the last true condition, as NumPy applies them in order; ``choose``: the
choice its index names); conditions and indices are piecewise constant and carry none.
docs/subgradients.md has the table.

``piecewise`` follows NumPy where the conditions' values are known (outside ``jit`` and
``vmap``): each function sees only ``x[cond]``.  Under ``jit``/``vmap`` they are not
known, so, as in JAX, each function is applied to every element (one at a time, by a
``vmap``) and the conditions pick the results; the elements outside a function's piece
are first replaced by one inside it (without derivative), so the function never leaves
its domain there and no NaN reaches a derivative.  For elementwise functions (the usual
case) both give the same values; a function that mixes elements (``v - v.mean()``) sees
the whole piece outside jit and single elements under it.

``place`` and ``put`` modify their argument in NumPy.  Traced values are immutable, so,
as in JAX, they take ``inplace=False`` and return the updated array; called plainly (no
transform) with the default ``inplace=True`` they are NumPy's own, in place.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffIndexError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, state
from ..primitives import base as pb
from ..primitives import elementwise as ew
from ..primitives import shape as sh
from ..primitives.elementwise import stop_gradient_p
from ..primitives.indexing import make_indexer, scatter
from ..primitives.reduce import cumsum, reduce_or_p, reduce_sum
from ..api.vmap import vmap
from ._core import aval, canonical_axis, cast, implements, operand
from ._creation import array
from ._indexing import _update, as_array, getitem
from ._shape import broadcast_arrays, stack
from ._sizes import concrete, implements_sized, known, padded, static_size, true_positions

__all__ = ["choose", "select", "piecewise", "compress", "extract", "place", "put"]

_PY = (int, float, complex)


def _no_out(name, out):
    if out is not None:
        raise FuncdiffTypeError(f"`{name}`: out= is not supported on traced values (they "
                                "are immutable); use the returned value")


def _dtype_of(values, name):
    """NumPy's result dtype of ``values``, Python scalars (and weak traced values)
    counting as weak, as NumPy 2 does in ``select``/``choose``."""
    objs = []
    for v in values:
        if type(v) in _PY:
            objs.append(v)
            continue
        a = aval(operand(v))
        objs.append(a.dtype.type(0).item() if a.weak_type else a.dtype)
    try:
        return np.result_type(*objs)
    except TypeError as e:
        raise FuncdiffTypeError(f"`{name}`: the choices have no common dtype: {e}") from None


def _flat(x):
    return sh.reshape(x, (aval(x).size,))


# --- choose, select ---------------------------------------------------------------------------

@implements(np.choose)
def choose(a, choices, out=None, mode="raise"):
    """NumPy's ``choose``: ``choices[a[i]][i]`` (all broadcast together), one
    ``gather`` from the stacked choices.  ``mode="raise"`` raises for an index outside
    ``[0, len(choices))``: at trace time when the indices are known, else when the
    program runs (the gather's bounds check)."""
    _no_out("choose", out)
    idx = operand(a)
    ia = aval(idx)
    if ia.dtype.kind not in "biu":
        raise FuncdiffTypeError(f"`choose`: cannot cast the indices from dtype "
                                f"{ia.dtype.name} to intp (they must be integers)")
    if type(choices) is Tracer or isinstance(choices, np.ndarray):
        choices = list(choices)
    choices = [operand(c) for c in choices]
    n = len(choices)
    if n == 0:
        raise FuncdiffValueError("`choose`: choices must not be empty")
    dtype = _dtype_of(choices, "choose")
    idx = cast(idx, np.intp)
    mode = "raise" if mode is None else mode
    if mode == "wrap":
        idx = ew.rem(idx, n)
    elif mode == "clip":
        idx = ew.minimum(ew.maximum(idx, 0), n - 1)
    elif mode == "raise":
        val = known(idx)
        if val is not None:
            if np.any((val < 0) | (val >= n)):
                raise FuncdiffValueError("`choose`: invalid entry in choice array "
                                         f"(indices must be in [0, {n}))")
        else:   # negative indices would wrap in the gather: make them out of bounds
            idx = ew.select(ew.lt(idx, 0), n, idx)
    else:
        raise FuncdiffValueError(f"`choose`: mode must be 'raise', 'wrap' or 'clip', got "
                                 f"{mode!r}")
    idx, *choices = broadcast_arrays(idx, *[cast(c, dtype) for c in choices])
    shape = aval(idx).shape
    grid = tuple(np.arange(d).reshape((1,) * k + (d,) + (1,) * (len(shape) - k - 1))
                 for k, d in enumerate(shape))
    return getitem(stack(choices), (idx,) + grid)


@implements(np.select)
def select(condlist, choicelist, default=0):
    """NumPy's ``select``: where several conditions hold, the first one's choice (a chain
    of ``where``, last condition first).  The dtype is NumPy's (Python scalars weak)."""
    if len(condlist) != len(choicelist):
        raise FuncdiffValueError("`select`: list of cases must be same length as list of "
                                 "conditions")
    if len(condlist) == 0:
        raise FuncdiffValueError("`select` with an empty condition list is not possible")
    dtype = _dtype_of(list(choicelist) + [default], "select")
    conds = [operand(c) for c in condlist]
    for i, c in enumerate(conds):
        if aval(c).dtype != np.bool_:
            raise FuncdiffTypeError(f"`select`: invalid entry {i} in condlist: should be "
                                    f"boolean ndarray (got {aval(c).str_short()})")
    out = cast(operand(default), dtype)
    for c, v in zip(reversed(conds), reversed(list(choicelist))):
        out = ew.select(c, cast(operand(v), dtype), out)
    shape = np.broadcast_shapes(*[aval(operand(v)).shape for v in
                                  conds + list(choicelist) + [default]])
    return out if aval(out).shape == shape else pb.broadcast_to(out, shape)


# --- piecewise ----------------------------------------------------------------------------------

def _mask_for(c, shape):
    """A condition of ``piecewise`` (a boolean index into ``y``) as a mask of ``y``'s
    ``shape``: it covers the leading axes (0-d: all of them)."""
    ca = aval(c)
    if ca.shape != shape[:ca.ndim]:
        raise FuncdiffIndexError(
            f"`piecewise`: boolean index did not match indexed array: a condition of shape "
            f"{ca.shape} for x of shape {shape}")
    c = sh.reshape(c, ca.shape + (1,) * (len(shape) - ca.ndim))
    return c if aval(c).shape == shape else pb.broadcast_to(c, shape)


def _first_inside(x, m):
    """``x`` with the entries outside the mask ``m`` replaced by the first entry inside
    it (``x``'s first entry if none), without derivative: a function evaluated on it
    sees only values from its own piece."""
    xa = aval(x)
    if xa.size == 0:
        return x
    flat_m = _flat(m)
    # entries before the first True: those where the running count of Trues is 0
    before = reduce_sum(ew.convert_element_type(
        ew.eq(cumsum(ew.convert_element_type(flat_m, dtype=np.intp), 0), 0),
        dtype=np.intp), (0,))
    first = ew.select(ew.lt(before, xa.size), before, 0)
    return ew.select(m, x, stop_gradient_p.bind(getitem(_flat(x), first)))


def _elementwise_call(func, x, k, args, kw):
    """``func`` applied to each element of ``x`` (a ``vmap`` over them, as JAX's
    ``piecewise``): the result has ``x``'s shape."""
    xa = aval(x)
    if xa.size == 0:
        return x
    r = vmap(lambda v: operand(func(v, *args, **kw)))(sh.reshape(x, (xa.size,)))
    if aval(r).shape != (xa.size,):
        raise FuncdiffValueError(
            f"`piecewise` under jit/vmap applies each function to one element at a time "
            f"(the conditions' values are not known there), so it must return one value "
            f"per element; funclist[{k}] returned shape {aval(r).shape[1:]}.  Call "
            "piecewise outside jit, or write it with funcdiff.numpy.where.")
    return sh.reshape(r, xa.shape)


def _array_like(c) -> bool:
    """Whether NumPy's ``piecewise`` would see an array (not a scalar) in ``c``: a
    traced value stands for an ndarray, and one of ndim 0 for a NumPy scalar (what
    indexing a 1-d condition array gives)."""
    return isinstance(c, (list, np.ndarray)) or (type(c) is Tracer and c.ndim > 0)


@implements(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """NumPy's ``piecewise``: ``funclist[k](x[condlist[k]], *args, **kw)`` (or a
    constant) where ``condlist[k]`` holds, later conditions winning, zero (or the extra
    last function) where none does; the result has ``x``'s dtype.  See the module
    docstring for jit/vmap."""
    x = operand(x)
    xa = aval(x)
    n2 = len(funclist)
    if np.isscalar(condlist) or type(condlist) is bool or (
            not _array_like(condlist[0]) and xa.ndim != 0):
        condlist = [condlist]       # NumPy's undocumented single-condition form
    conds = array(condlist, dtype=bool)
    n = aval(conds).shape[0]
    if n == n2 - 1:
        none = ew.logical_not(reduce_or_p.bind(conds, axes=(0,)))   # the "otherwise"
        conds = sh.concatenate([conds, sh.reshape(none, (1,) + aval(none).shape)], 0)
        n += 1
    elif n != n2:
        raise FuncdiffValueError(f"`piecewise`: with {n} condition(s), either {n} or "
                                 f"{n + 1} functions are expected")
    val = known(conds)
    y = sh.full(xa.shape, 0, xa.dtype)
    for k, func in enumerate(funclist):
        if val is not None:        # NumPy's own steps: f sees x[cond] only
            ck = val[k]
            if ck.ndim == 0:         # y[True] = f(x[True]): all of it, or nothing
                if ck:
                    r = func(sh.reshape(x, (1,) + xa.shape), *args, **kw) \
                        if callable(func) else func
                    y = sh.reshape(pb.broadcast_to(cast(operand(r), xa.dtype),
                                                   (1,) + xa.shape), xa.shape)
                continue
            if not callable(func):
                y = _update("set", y, ck, func, None)
                continue
            vals = getitem(x, ck)
            if aval(vals).size:
                y = _update("set", y, ck, func(vals, *args, **kw), None)
            continue
        m = _mask_for(getitem(conds, k), xa.shape)
        if callable(func):
            r = _elementwise_call(func, _first_inside(x, m), k, args, kw)
        else:
            r = operand(func)
        y = ew.select(m, cast(r, xa.dtype), y)
    return y


# --- compress, extract ------------------------------------------------------------------------

def _compress(name, condition, a, axis, size, fill_value):
    size = static_size(size, name)
    cond = operand(condition)
    if aval(cond).ndim != 1:
        raise FuncdiffValueError(f"`{name}`: condition must be a 1-d array (got shape "
                                 f"{aval(cond).shape})")
    x = operand(a)
    if axis is None or aval(x).ndim == 0:   # (0-d: as a 1-d array, as NumPy)
        axis = 0 if axis is None else canonical_axis(axis, 1)
        x = _flat(x)
    else:
        axis = canonical_axis(axis, aval(x).ndim)
    n, m = aval(x).shape[axis], aval(cond).shape[0]
    lead = (slice(None),) * axis
    if size is None:
        idx = np.nonzero(concrete(cond, name, "pass size=N (the result's length along "
                                  "the axis, at most its length there; missing entries "
                                  "are fill_value=)"))[0]
        if idx.size and idx[-1] >= n:
            raise FuncdiffIndexError(f"`{name}`: index {idx[-1]} is out of bounds for axis "
                                     f"{axis} with size {n}")
        return getitem(x, lead + (idx,))
    # JAX's rule: condition and axis are cut to the shorter of the two
    cond = getitem(cond, slice(0, n)) if m > n else cond
    x = getitem(x, lead + (slice(0, m),)) if n > m else x
    length = min(n, m)
    if size > length:
        raise FuncdiffValueError(
            f"`{name}`: size must be positive and not greater than the size of the array "
            f"axis; got size={size} for a.shape[axis]={length}")
    mask = cond if aval(cond).dtype == np.bool_ else ew.ne(cond, 0)
    pos, count = true_positions(mask, size)
    return padded(getitem(x, lead + (pos,)), count, size, fill_value, axis)


@implements_sized(np.compress)
def compress(condition, a, axis=None, out=None, *, size=None, fill_value=0):
    """NumPy's ``compress``: the slices of ``a`` along ``axis`` (flattened if None)
    where ``condition`` is nonzero; derivatives flow to the selected entries.  JAX's
    ``size=``/``fill_value=`` give ``size`` slices (at most the axis' length), padded
    with ``fill_value``, and work under jit/vmap (see ``_sizes``)."""
    _no_out("compress", out)
    return _compress("compress", condition, a, axis, size, fill_value)


@implements_sized(np.extract)
def extract(condition, arr, *, size=None, fill_value=0):
    """NumPy's ``extract``: ``compress(ravel(condition), ravel(arr))``, with ``size=``
    / ``fill_value=`` as ``compress``."""
    return _compress("extract", _flat(operand(condition)), _flat(operand(arr)), None,
                     size, fill_value)


# --- place, put (functional with inplace=False) ---------------------------------------------

def _in_place(name, arr, np_fn, args):
    """``inplace=True``: NumPy's own function when nothing is traced (it returns None);
    under a transform, JAX's error."""
    if not state.stack:
        return np_fn(arr, *args)
    raise FuncdiffValueError(
        f"`{name}` modifies its array argument in place, which traced values (immutable) "
        f"cannot be.  Pass inplace=False to get the updated array instead: "
        f"a = funcdiff.numpy.{name}(a, ..., inplace=False).")


def _functional(out, eager):
    return as_array(out) if eager and isinstance(out, np.ndarray) else out


@implements_sized(np.place, ("inplace",))
def place(arr, mask, vals, *, inplace=True):
    """NumPy's ``place``: the entries of ``arr`` where ``mask`` holds, in order, become
    ``vals`` (its first ones, repeated if too few).  With ``inplace=False`` it returns
    the updated array (needed under transforms); static shapes throughout, so it works
    under jit/vmap too.  Derivatives flow to ``vals`` (the entries used) and to the
    entries of ``arr`` that stay."""
    if inplace:
        return _in_place("place", arr, np.place, (mask, vals))
    eager = not state.stack
    x = operand(arr)
    m = _flat(operand(mask))
    if aval(m).dtype != np.bool_:
        m = ew.ne(m, 0)
    if aval(m).size != aval(x).size:
        raise FuncdiffValueError("`place`: mask and data must be the same size")
    v = _flat(operand(vals))
    if not isinstance(vals, (list, tuple)) and type(vals) not in _PY and not np.can_cast(
            aval(v).dtype, aval(x).dtype, "safe"):
        # NumPy converts an array of values with casting="safe" (a list: to arr's dtype)
        raise FuncdiffTypeError(f"`place`: cannot cast array data from dtype "
                                f"{aval(v).dtype.name} to {aval(x).dtype.name} according "
                                "to the rule 'safe'")
    nv = aval(v).size
    if nv == 0:
        val = known(m)
        if val is None:
            raise FuncdiffValueError(
                "`place`: vals is empty, and inside jit/vmap the mask's values are not "
                "known, so it cannot be checked that no entry is selected")
        if val.any():
            raise FuncdiffValueError("`place`: cannot insert from an empty array!")
        return _functional(x, eager)
    rank = ew.sub(cumsum(ew.convert_element_type(m, dtype=np.intp), 0), 1)
    taken = getitem(v, ew.rem(ew.maximum(rank, 0), nv))
    out = ew.select(m, cast(taken, aval(x).dtype), _flat(x))
    return _functional(sh.reshape(out, aval(x).shape), eager)


@implements_sized(np.put, ("inplace",))
def put(a, ind, v, mode="raise", *, inplace=True):
    """NumPy's ``put``: ``a.flat[ind] = v`` (``v`` repeated to ``len(ind)``, the last of
    duplicate indices winning), with ``inplace=False`` returning the updated array.
    ``mode`` is NumPy's: ``"raise"`` (out-of-bounds indices raise: at trace time when
    known, else when the program runs), ``"wrap"``, ``"clip"``.  Derivatives flow to
    ``v`` (the entries written last) and to the entries of ``a`` not written."""
    if inplace:
        return _in_place("put", a, np.put, (ind, v, mode))
    eager = not state.stack
    x = operand(a)
    xa = aval(x)
    i = _flat(operand(ind))
    if aval(i).dtype != np.intp:
        i = ew.convert_element_type(i, dtype=np.intp)
    vals = _flat(operand(v))
    ni, nv = aval(i).size, aval(vals).size
    if ni == 0 or nv == 0:
        return _functional(x, eager)
    if xa.size == 0:
        raise FuncdiffIndexError("`put`: cannot replace elements of an empty array")
    mode = "raise" if mode is None else mode
    if mode == "wrap":
        i = ew.rem(i, xa.size)
    elif mode == "clip":
        i = ew.minimum(ew.maximum(i, 0), xa.size - 1)
    elif mode == "raise":
        val = known(i)
        if val is not None and np.any((val < -xa.size) | (val >= xa.size)):
            bad = val[(val < -xa.size) | (val >= xa.size)][0]
            raise FuncdiffIndexError(f"`put`: index {bad} is out of bounds for axis 0 with "
                                     f"size {xa.size}")
    else:
        raise FuncdiffValueError(f"`put`: mode must be 'raise', 'wrap' or 'clip', got "
                                 f"{mode!r}")
    if nv != ni:
        vals = getitem(vals, np.arange(ni) % nv)
    out = scatter(_flat(x), i, cast(vals, xa.dtype), indexer=make_indexer([("array", 0)]))
    return _functional(sh.reshape(out, xa.shape), eager)
