"""Shape functions: NumPy's reshaping, joining, splitting, tiling, flipping and padding.

Every function is a composition of the linear shape primitives (``reshape``,
``transpose``, ``broadcast_to``, ``slice``, ``concatenate``, ``rev``, ``pad``), so each
is exact, linear and differentiable for free; no new primitive is needed.

Conventions (NumPy's, see each docstring): negative axes, ``axis=None`` where NumPy has
it, lists of arrays that mix traced values, ndarrays and numbers.  A Python scalar
given to a shape function becomes a (strongly typed) array as ``numpy.asarray`` does.
Sizes, shifts, repeat counts and pad widths are static: they must be concrete values.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import FuncdiffTypeError, FuncdiffValueError, ShapeError
from ..core.trace import Tracer
from ..primitives import base as pb, shape as sp
from ..primitives.base import convert_element_type
from ..primitives.elementwise import mul, sub
from ._core import aval, canonical_axis, implements, operand
from ._indexing import take

__all__ = ["reshape", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze",
           "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack",
           "row_stack", "split", "array_split", "hsplit", "vsplit", "dsplit", "tile",
           "repeat", "broadcast_to", "broadcast_arrays", "broadcast_shapes", "flip",
           "fliplr", "flipud", "roll", "rot90", "ravel", "atleast_1d", "atleast_2d",
           "atleast_3d", "pad", "shape", "ndim", "size", "append"]

_PY = (bool, int, float, complex)
# NumPy 2 returns tuples from atleast_Nd(*arys) and broadcast_arrays; NumPy 1.x lists
_SEQ = type(np.atleast_1d(0, 0))
_BSEQ = type(np.broadcast_arrays(np.zeros(1)))


def _axis_error(axis, ndim_):
    exc = np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError  # type: ignore
    return exc(axis, ndim_)


def _arr(x):
    """``operand(x)`` with Python scalars made into arrays (as ``np.asarray`` would)."""
    x = operand(x)
    if type(x) in _PY:
        return np.asarray(x)
    return x


def _shape(x):
    return aval(x).shape


def _ndim(x):
    return len(aval(x).shape)


def _static_int(v, what):
    """A concrete Python int (sizes, shifts and counts are static)."""
    if type(v) is Tracer:
        v = v.concrete_value(what)
    return int(v)


def _static_ints(v, what):
    if type(v) is Tracer:
        v = v.concrete_value(what)
    return np.asarray(v)


def _normalize_axes(axis, ndim_, what="axis"):
    """``axis`` (int or sequence) as a tuple of non-negative ints, in the given order,
    with NumPy's errors for out-of-range and repeated axes."""
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    out = tuple(canonical_axis(operator_index(a), ndim_) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in `{what}` argument")
    return out


def operator_index(a):
    import operator
    try:
        return operator.index(a)
    except TypeError:
        raise TypeError(f"'{type(a).__name__}' object cannot be interpreted as an "
                        "integer") from None


def _slice_axis(x, axis, start, stop):
    """``x[..., start:stop, ...]`` on one axis (static bounds, already in range)."""
    shp = _shape(x)
    lo = [0] * len(shp)
    hi = list(shp)
    lo[axis], hi[axis] = start, stop
    return sp.slice_(x, lo, hi)


def _unstack(x):
    """The leading-axis items of an array, as NumPy iterates over it."""
    shp = _shape(x)
    if not shp:
        raise TypeError("iteration over a 0-d array")
    return [pb.reshape(_slice_axis(x, 0, i, i + 1), shp[1:]) for i in range(shp[0])]


def _as_list(arrays, name):
    if type(arrays) is Tracer or isinstance(arrays, np.ndarray):
        arrays = _unstack(arrays) if type(arrays) is Tracer else list(arrays)
    elif not isinstance(arrays, (list, tuple)):
        try:
            arrays = list(arrays)
        except TypeError:
            raise TypeError(f"`{name}` expects a sequence of arrays") from None
    return [_arr(a) for a in arrays]


def _order(a, order, name):
    if order in ("C", None):
        return "C"
    if order == "F":
        return "F"
    if order in ("A", "K"):
        # traced values have no memory layout: they behave as C-contiguous arrays
        if isinstance(a, np.ndarray) and a.flags.f_contiguous and not a.flags.c_contiguous:
            return "F"
        return "C"
    raise ValueError(f"`{name}`: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")


def _reverse_axes(x):
    n = _ndim(x)
    return pb.transpose(x, tuple(range(n - 1, -1, -1)))


# --- reshape, ravel, transpose -------------------------------------------------------------

def _infer_shape(newshape, size, old):
    if np.ndim(newshape) == 0:
        newshape = (newshape,)
    newshape = [operator_index(d) if type(d) is not Tracer else
                _static_int(d, "a shape") for d in newshape]
    unknown = [i for i, d in enumerate(newshape) if d < 0]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension")
    if unknown:
        if newshape[unknown[0]] != -1:
            raise ValueError(f"negative dimensions not allowed in {tuple(newshape)}")
        known = int(np.prod([d for d in newshape if d >= 0], dtype=np.int64))
        if known == 0 or size % known:
            raise ShapeError(f"`reshape`: cannot reshape array of size {size} (shape "
                             f"{old}) into shape {tuple(newshape)}")
        newshape[unknown[0]] = size // known
    if int(np.prod(newshape, dtype=np.int64)) != size:
        raise ShapeError(f"`reshape`: cannot reshape array of size {size} (shape {old}) "
                         f"into shape {tuple(newshape)}")
    return tuple(newshape)


def _reshape(x, newshape, order="C"):
    a = aval(x)
    shape_ = _infer_shape(newshape, a.size, a.shape)
    if order == "F":
        # column-major reshape = reverse the axes, reshape row-major, reverse back
        return _reverse_axes(pb.reshape(_reverse_axes(x), shape_[::-1]))
    return pb.reshape(x, shape_)


@implements(np.reshape, numpy2_kwargs=("shape", "copy"))
def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """NumPy's ``reshape`` (``-1`` infers a size; ``order`` 'C', 'F' or 'A')."""
    if newshape is not None:
        if shape is not None:
            raise TypeError("You cannot specify 'newshape' and 'shape' arguments at the "
                            "same time.")
        shape = newshape
    if shape is None:
        raise TypeError("reshape() missing required argument 'shape' (pos 2)")
    x = _arr(a)
    return _reshape(x, shape, _order(x, order, "reshape"))


@implements(np.ravel)
def ravel(a, order="C"):
    """NumPy's ``ravel``: the 1-d array of the elements (row-major by default)."""
    x = _arr(a)
    return _reshape(x, (-1,), _order(x, order, "ravel"))


@implements(np.transpose)
def transpose(a, axes=None):
    """NumPy's ``transpose``: reverse the axes, or permute them as ``axes`` says."""
    x = _arr(a)
    n = _ndim(x)
    if axes is None:
        return _reverse_axes(x)
    axes = tuple(axes) if np.ndim(axes) else (axes,)
    if len(axes) != n:
        raise ValueError("axes don't match array")
    perm = _normalize_axes(axes, n, "transpose")
    return pb.transpose(x, perm)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """NumPy's ``swapaxes``."""
    x = _arr(a)
    n = _ndim(x)
    i, j = canonical_axis(axis1, n), canonical_axis(axis2, n)
    perm = list(range(n))
    perm[i], perm[j] = perm[j], perm[i]
    return pb.transpose(x, perm)


def _moveaxis(x, source, destination):
    n = _ndim(x)
    src = _normalize_axes(source, n, "source")
    dst = _normalize_axes(destination, n, "destination")
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number "
                         "of elements")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return pb.transpose(x, order)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """NumPy's ``moveaxis`` (int or sequences of axes)."""
    return _moveaxis(_arr(a), source, destination)


@implements(np.expand_dims)
def expand_dims(a, axis):
    """NumPy's ``expand_dims`` (an int or a tuple of axes of the result)."""
    x = _arr(a)
    shp = _shape(x)
    out_ndim = len(shp) + (1 if np.ndim(axis) == 0 else len(axis))
    axes = _normalize_axes(axis, out_ndim, "expand_dims")
    it = iter(shp)
    new = tuple(1 if i in axes else next(it) for i in range(out_ndim))
    return pb.reshape(x, new)


@implements(np.squeeze)
def squeeze(a, axis=None):
    """NumPy's ``squeeze``; an axis whose size is not 1 is an error, as in NumPy."""
    x = _arr(a)
    shp = _shape(x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(shp) if d == 1)
    else:
        axes = _normalize_axes(axis, len(shp), "squeeze")
        if not shp:      # axis 0 / -1 of a 0-d array: nothing to squeeze (NumPy)
            return x
        if any(shp[i] != 1 for i in axes):
            raise ShapeError("cannot select an axis to squeeze out which has size not "
                             f"equal to one (shape {shp}, axis {axis})")
    return pb.reshape(x, tuple(d for i, d in enumerate(shp) if i not in axes))


# --- joining -------------------------------------------------------------------------------

def _cast_all(xs, dtype, casting, name):
    if dtype is None:
        return xs
    dtype = np.dtype(dtype)
    out = []
    for x in xs:
        a = aval(x)
        if a.dtype != dtype:
            if not np.can_cast(a.dtype, dtype, casting=casting):
                raise FuncdiffTypeError(
                    f"`{name}`: cannot cast array data from {a.dtype!r} to {dtype!r} "
                    f"according to the rule {casting!r}")
            x = convert_element_type(x, dtype=dtype)
        out.append(x)
    return out


def _concat(xs, axis, name="concatenate"):
    if not xs:
        raise ValueError("need at least one array to concatenate")
    n = _ndim(xs[0])
    if n == 0:
        raise ShapeError("zero-dimensional arrays cannot be concatenated")
    ax = canonical_axis(axis, n)
    for x in xs[1:]:
        if _ndim(x) != n:
            raise ShapeError(
                f"`{name}`: all the input arrays must have the same number of dimensions, "
                f"but got shapes {', '.join(str(_shape(y)) for y in xs)}")
    if len(xs) == 1:
        return xs[0]
    return sp.concatenate(xs, ax)


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """NumPy's ``concatenate`` (``axis=None`` flattens first; dtypes promote)."""
    if out is not None:
        raise FuncdiffTypeError("`concatenate`: out= is not supported on traced values")
    if type(arrays) is Tracer and _ndim(arrays) >= 2 and axis is not None:
        # the rows of one traced array: a transpose and a reshape, not n slices
        x = _cast_all([arrays], dtype, casting, "concatenate")[0]
        shp = _shape(x)
        if shp[0] == 0:
            raise ValueError("need at least one array to concatenate")
        ax = canonical_axis(axis, len(shp) - 1)
        y = _moveaxis(x, 0, ax)
        return pb.reshape(y, shp[1:ax + 1] + (shp[0] * shp[ax + 1],) + shp[ax + 2:])
    xs = _cast_all(_as_list(arrays, "concatenate"), dtype, casting, "concatenate")
    if axis is None:
        xs = [_reshape(x, (-1,)) for x in xs]
        axis = 0
    return _concat(xs, axis)


@implements(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """NumPy's ``stack``: join same-shape arrays along a new axis."""
    if out is not None:
        raise FuncdiffTypeError("`stack`: out= is not supported on traced values")
    if type(arrays) is Tracer and _ndim(arrays) >= 1:
        x = _cast_all([arrays], dtype, casting, "stack")[0]
        if _shape(x)[0] == 0:
            raise ValueError("need at least one array to stack")
        return _moveaxis(x, 0, canonical_axis(axis, _ndim(x)))
    xs = _cast_all(_as_list(arrays, "stack"), dtype, casting, "stack")
    if not xs:
        raise ValueError("need at least one array to stack")
    shapes = {_shape(x) for x in xs}
    if len(shapes) != 1:
        raise ShapeError("all input arrays must have the same shape, got "
                         f"{', '.join(str(_shape(x)) for x in xs)}")
    ax = canonical_axis(axis, _ndim(xs[0]) + 1)
    return _concat([expand_dims.traced(x, ax) for x in xs], ax, "stack")


def _atleast(x, n):
    x = _arr(x)
    shp = _shape(x)
    if len(shp) >= n:
        return x
    if n == 1:
        return pb.reshape(x, (1,))
    if n == 2:
        return pb.reshape(x, (1,) * (2 - len(shp)) + shp)
    # atleast_3d: 0-d -> (1, 1, 1), (N,) -> (1, N, 1), (M, N) -> (M, N, 1)
    new = {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}[len(shp)]
    return pb.reshape(x, new)


def _atleast_fn(n, np_fn):
    def f(*arys):
        res = [_atleast(a, n) for a in arys]
        return res[0] if len(res) == 1 else _SEQ(res)
    f.__name__ = f.__qualname__ = f"atleast_{n}d"
    f.__doc__ = f"NumPy's ``atleast_{n}d``."
    return implements(np_fn)(f)


atleast_1d = _atleast_fn(1, np.atleast_1d)
atleast_2d = _atleast_fn(2, np.atleast_2d)
atleast_3d = _atleast_fn(3, np.atleast_3d)


@implements(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    """NumPy's ``hstack``: along axis 1, or axis 0 for 1-d arrays."""
    xs = _cast_all([_atleast(a, 1) for a in _as_list(tup, "hstack")], dtype, casting,
                   "hstack")
    if not xs:
        raise ValueError("need at least one array to concatenate")
    return _concat(xs, 0 if _ndim(xs[0]) == 1 else 1, "hstack")


@implements(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    """NumPy's ``vstack``: along axis 0 after ``atleast_2d``."""
    xs = _cast_all([_atleast(a, 2) for a in _as_list(tup, "vstack")], dtype, casting,
                   "vstack")
    return _concat(xs, 0, "vstack")


row_stack = vstack


@implements(np.dstack)
def dstack(tup):
    """NumPy's ``dstack``: along axis 2 after ``atleast_3d``."""
    return _concat([_atleast(a, 3) for a in _as_list(tup, "dstack")], 2, "dstack")


@implements(np.column_stack)
def column_stack(tup):
    """NumPy's ``column_stack``: 1-d arrays become columns, then join along axis 1."""
    xs = []
    for a in _as_list(tup, "column_stack"):
        shp = _shape(a)
        xs.append(pb.reshape(a, (shp[0] if shp else 1, 1)) if len(shp) < 2 else a)
    return _concat(xs, 1, "column_stack")


@implements(np.append)
def append(arr, values, axis=None):
    """NumPy's ``append`` (a concatenation; ``axis=None`` flattens both)."""
    x, v = _arr(arr), _arr(values)
    if axis is None:
        if _ndim(x) != 1:
            x = _reshape(x, (-1,))
        v = _reshape(v, (-1,))
        axis = _ndim(x) - 1
    return _concat([x, v], axis, "append")


# --- splitting -----------------------------------------------------------------------------

def _split(x, indices_or_sections, axis, equal, name):
    n_axis = _ndim(x)
    ax = canonical_axis(axis, n_axis)
    total = _shape(x)[ax]
    ios = indices_or_sections
    if type(ios) is Tracer:
        ios = ios.concrete_value(f"`{name}` sections")
    if np.ndim(ios) == 0:
        sections = operator_index(ios) if not isinstance(ios, np.ndarray) else int(ios)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and total % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(total, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        points = [0] + list(np.cumsum(sizes))
    else:
        points = [0] + [int(i) for i in ios] + [total]
    out = []
    for st, end in zip(points[:-1], points[1:]):
        lo, hi, _ = slice(int(st), int(end)).indices(total)
        hi = max(hi, lo)
        out.append(_slice_axis(x, ax, lo, hi))
    return out


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """NumPy's ``split``: equal sections (an int) or split points (a sequence)."""
    return _split(_arr(ary), indices_or_sections, axis, True, "split")


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """NumPy's ``array_split``: like ``split``, sections may differ in size by one."""
    return _split(_arr(ary), indices_or_sections, axis, False, "array_split")


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    x = _arr(ary)
    if _ndim(x) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(x, indices_or_sections, 1 if _ndim(x) > 1 else 0, True, "hsplit")


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    x = _arr(ary)
    if _ndim(x) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(x, indices_or_sections, 0, True, "vsplit")


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    x = _arr(ary)
    if _ndim(x) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(x, indices_or_sections, 2, True, "dsplit")


# --- tiling and repeating ------------------------------------------------------------------

def _repeat_each(x, ax, count):
    """Every element along ``ax`` repeated ``count`` times: insert an axis after ``ax``,
    broadcast it to ``count``, merge the two (exact and linear)."""
    shp = _shape(x)
    y = pb.reshape(x, shp[:ax + 1] + (1,) + shp[ax + 1:])
    y = pb.broadcast_to(y, shp[:ax + 1] + (count,) + shp[ax + 1:])
    return pb.reshape(y, shp[:ax] + (shp[ax] * count,) + shp[ax + 1:])


@implements(np.tile)
def tile(A, reps):
    """NumPy's ``tile``: each axis ``i`` repeated ``reps[i]`` times as a block."""
    x = _arr(A)
    reps = _static_ints(reps, "`tile` reps")
    reps = tuple(int(r) for r in np.atleast_1d(reps))
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    shp = _shape(x)
    d = max(len(reps), len(shp))
    shp = (1,) * (d - len(shp)) + shp
    reps = (1,) * (d - len(reps)) + reps
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) -> (r0, s0, r1, s1, ...) -> (r0*s0, r1*s1, ...)
    inter = tuple(v for s in shp for v in (1, s))
    big = tuple(v for r, s in zip(reps, shp) for v in (r, s))
    y = pb.broadcast_to(pb.reshape(x, inter), big)
    return pb.reshape(y, tuple(r * s for r, s in zip(reps, shp)))


_MAX_RUNS = 8


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    """NumPy's ``repeat`` (an int or one count per element; counts must be concrete)."""
    x = _arr(a)
    if axis is None or _ndim(x) == 0:    # (a 0-d array repeats as a 1-d one, as NumPy)
        ax = 0 if axis is None else canonical_axis(axis, 1)
        x = _reshape(x, (-1,))
    else:
        ax = canonical_axis(axis, _ndim(x))
    counts = repeats
    if type(counts) is Tracer:
        counts = counts.concrete_value("`repeat` counts")
    if isinstance(counts, (np.ndarray, np.generic)):
        # arrays cast with the 'safe' rule; Python numbers convert as int() does
        if not np.can_cast(counts.dtype, np.intp, casting="safe"):
            raise FuncdiffTypeError(f"`repeat`: cannot cast repeats of dtype "
                                    f"{counts.dtype} to int according to the rule 'safe'")
        counts = np.asarray(counts, dtype=np.intp)
    else:
        counts = np.array(counts, dtype=np.intp)
    if counts.ndim > 1:
        raise ValueError("object too deep for desired array")
    n = _shape(x)[ax]
    if counts.size == 1:
        c = int(counts.reshape(()))
        if c < 0:
            raise ValueError("negative dimensions are not allowed")
        return _repeat_each(x, ax, c)
    if counts.size != n:
        raise ValueError(f"operands could not be broadcast together with shape ({n},) "
                         f"({counts.size},)")
    if (counts < 0).any():
        raise ValueError("negative dimensions are not allowed")
    # runs of equal counts become one slice repeated together; many runs: one gather
    starts = ([0] if n else []) + [i for i in range(1, n) if counts[i] != counts[i - 1]]
    if len(starts) > _MAX_RUNS:
        return take.traced(x, np.repeat(np.arange(n), counts), axis=ax)
    pieces = []
    for i, j in zip(starts, starts[1:] + [n]):
        if counts[i]:
            pieces.append(_repeat_each(_slice_axis(x, ax, i, j), ax, int(counts[i])))
    if not pieces:
        return _slice_axis(x, ax, 0, 0)
    return pieces[0] if len(pieces) == 1 else sp.concatenate(pieces, ax)


# --- broadcasting --------------------------------------------------------------------------

@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    """NumPy's ``broadcast_to``."""
    x = _arr(array)
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    shape = tuple(operator_index(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError("all elements of broadcast shape must be non-negative")
    return pb.broadcast_to(x, shape)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """NumPy's ``broadcast_arrays``."""
    xs = [_arr(a) for a in args]
    try:
        shape_ = np.broadcast_shapes(*[_shape(x) for x in xs])
    except ValueError:
        raise ShapeError("shape mismatch: objects cannot be broadcast to a single shape: "
                         f"{', '.join(str(_shape(x)) for x in xs)}") from None
    return _BSEQ(pb.broadcast_to(x, shape_) for x in xs)


broadcast_shapes = np.broadcast_shapes


# --- flipping and rolling ------------------------------------------------------------------

@implements(np.flip)
def flip(m, axis=None):
    """NumPy's ``flip`` (``axis`` None, int or tuple)."""
    x = _arr(m)
    n = _ndim(x)
    axes = tuple(range(n)) if axis is None else _normalize_axes(axis, n, "flip")
    return sp.rev(x, tuple(sorted(axes)))


@implements(np.fliplr)
def fliplr(m):
    x = _arr(m)
    if _ndim(x) < 2:
        raise ValueError("Input must be >= 2-d.")
    return sp.rev(x, (1,))


@implements(np.flipud)
def flipud(m):
    x = _arr(m)
    if _ndim(x) < 1:
        raise ValueError("Input must be >= 1-d.")
    return sp.rev(x, (0,))


def _roll_axis(x, ax, shift):
    n = _shape(x)[ax]
    if n == 0:
        return x
    s = shift % n
    if s == 0:
        return x
    return sp.concatenate([_slice_axis(x, ax, n - s, n), _slice_axis(x, ax, 0, n - s)], ax)


@implements(np.roll)
def roll(a, shift, axis=None):
    """NumPy's ``roll`` (shift and axis ints or tuples, broadcast together)."""
    x = _arr(a)
    shift = _static_ints(shift, "`roll` shift")
    if axis is None:
        shp = _shape(x)
        flat = _reshape(x, (-1,))
        return pb.reshape(_roll_axis(flat, 0, int(np.sum(shift))), shp)
    n = _ndim(x)
    b = np.broadcast(shift, axis)
    if b.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    shifts = {}
    for sh, ax in b:
        ax = canonical_axis(ax, n)
        shifts[ax] = shifts.get(ax, 0) + int(sh)
    for ax, sh in sorted(shifts.items()):
        x = _roll_axis(x, ax, sh)
    return x


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """NumPy's ``rot90``: rotate by 90 degrees ``k`` times in the plane ``axes``."""
    x = _arr(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    n = _ndim(x)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == n:
        raise ValueError("Axes must be different.")
    if not (-n <= axes[0] < n and -n <= axes[1] < n):
        raise ValueError(f"Axes={axes} out of range for array of ndim={n}.")
    a0, a1 = axes[0] % n, axes[1] % n
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return sp.rev(x, tuple(sorted((a0, a1))))
    perm = list(range(n))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return pb.transpose(sp.rev(x, (a1,)), perm)
    return sp.rev(pb.transpose(x, perm), (a1,))


# --- pad -----------------------------------------------------------------------------------

def _pairs(x, ndim_, name):
    """NumPy's ``_as_pairs`` for static values: broadcast to ``(ndim, 2)`` ints."""
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must be of integral type.")
    x = np.round(x).astype(np.intp)
    if x.ndim < 3:
        if x.size == 1:
            x = x.ravel()
            if x[0] < 0:
                raise ValueError("index can't contain negative values")
            return [(int(x[0]), int(x[0]))] * ndim_
        if x.size == 2 and x.shape != (2, 1):
            x = x.ravel()
            if x[0] < 0 or x[1] < 0:
                raise ValueError("index can't contain negative values")
            return [(int(x[0]), int(x[1]))] * ndim_
    if x.size and x.min() < 0:
        raise ValueError("index can't contain negative values")
    return [(int(a), int(b)) for a, b in np.broadcast_to(x, (ndim_, 2)).tolist()]


def _value_pairs(values, ndim_, dtype):
    """``constant_values`` broadcast to ``(ndim, 2)`` scalars of ``dtype`` (traced values
    allowed: they are sliced out, so the padding value is differentiable)."""
    v = operand(values)
    if type(v) is not Tracer and not (isinstance(v, (np.ndarray, np.generic)) or
                                     type(v) in _PY):
        v = np.asarray(v)
    if type(v) is not Tracer:
        arr = np.asarray(v)
        if arr.ndim < 3 and arr.size == 1:
            s = arr.reshape(()).astype(dtype)[()]
            return [(s, s)] * ndim_
        if arr.ndim < 3 and arr.size == 2 and arr.shape != (2, 1):
            a, b = arr.ravel().astype(dtype)
            return [(a, b)] * ndim_
        arr = np.broadcast_to(arr, (ndim_, 2)).astype(dtype)
        return [(arr[i, 0], arr[i, 1]) for i in range(ndim_)]
    if aval(v).dtype != dtype:
        v = convert_element_type(v, dtype=dtype)
    shp = _shape(v)
    if len(shp) < 3 and int(np.prod(shp)) == 1:
        s = pb.reshape(v, ())
        return [(s, s)] * ndim_
    if len(shp) < 3 and int(np.prod(shp)) == 2 and shp != (2, 1):
        flat = pb.reshape(v, (2,))
        a, b = (pb.reshape(_slice_axis(flat, 0, i, i + 1), ()) for i in range(2))
        return [(a, b)] * ndim_
    full_ = pb.broadcast_to(v, (ndim_, 2))
    return [tuple(pb.reshape(sp.slice_(full_, (i, j), (i + 1, j + 1)), ())
                  for j in range(2)) for i in range(ndim_)]


def _pad_edge(cur, ax, lo, hi):
    shp = _shape(cur)
    n = shp[ax]
    parts = []
    if lo:
        edge = _slice_axis(cur, ax, 0, 1)
        parts.append(pb.broadcast_to(edge, shp[:ax] + (lo,) + shp[ax + 1:]))
    parts.append(cur)
    if hi:
        edge = _slice_axis(cur, ax, n - 1, n)
        parts.append(pb.broadcast_to(edge, shp[:ax] + (hi,) + shp[ax + 1:]))
    return sp.concatenate(parts, ax) if len(parts) > 1 else cur


def _odd(edge, chunk):
    # 2 * edge - chunk, in the array's dtype (as NumPy's in-place assignment casts)
    dt = aval(chunk).dtype
    out = sub(mul(edge, 2), chunk)
    return out if aval(out).dtype == dt else convert_element_type(out, dtype=dt)


def _pad_reflect(cur, ax, lo, hi, method, include_edge, period):
    """NumPy's iterative ``_set_reflect_both``, on the growing array ``cur``."""
    while lo > 0 or hi > 0:
        n = _shape(cur)[ax]
        if include_edge:
            old = n // period * period
            e = 1
        else:
            old = (n - 1) // (period - 1) * (period - 1)
            e = 0
        parts = []
        left = right = None
        if lo > 0:
            c = min(old, lo)
            left = sp.rev(_slice_axis(cur, ax, 1 - e, c + 1 - e), (ax,))
            if method == "odd":
                left = _odd(_slice_axis(cur, ax, 0, 1), left)
            lo -= c
        if hi > 0:
            c = min(old, hi)
            right = sp.rev(_slice_axis(cur, ax, n + e - 1 - c, n + e - 1), (ax,))
            if method == "odd":
                right = _odd(_slice_axis(cur, ax, n - 1, n), right)
            hi -= c
        parts = [p for p in (left, cur, right) if p is not None]
        cur = sp.concatenate(parts, ax)
    return cur


def _pad_wrap(cur, ax, lo, hi, period0):
    """NumPy's iterative ``_set_wrap_both``."""
    while lo > 0 or hi > 0:
        n = _shape(cur)[ax]
        period = n // period0 * period0
        left = right = None
        if lo > 0:
            c = min(period, lo)
            left = _slice_axis(cur, ax, period - c, period)
            lo -= c
        if hi > 0:
            c = min(period, hi)
            right = _slice_axis(cur, ax, n - period, n - period + c)
            hi -= c
        cur = sp.concatenate([p for p in (left, cur, right) if p is not None], ax)
    return cur


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "empty")


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """NumPy's ``pad`` with modes 'constant' (``constant_values``), 'edge', 'reflect',
    'symmetric' (``reflect_type`` 'even' or 'odd'), 'wrap' and 'empty' (zeros); pad
    widths in every NumPy form (int, pair, per-axis pairs, dict)."""
    x = _arr(array)
    shp = _shape(x)
    nd = len(shp)
    if isinstance(pad_width, dict):
        seq = [(0, 0)] * nd
        for ax, w in pad_width.items():
            seq[ax] = (w, w) if np.ndim(w) == 0 else tuple(w)
        pad_width = seq
    widths = _pairs(_static_ints(pad_width, "`pad` widths"), nd, "pad_width")
    if callable(mode) or mode not in _PAD_MODES:
        raise FuncdiffValueError(
            f"`pad`: mode {mode!r} is not supported on traced values (supported: "
            f"{', '.join(_PAD_MODES)}).")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    if set(kwargs) - allowed:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': "
                         f"{set(kwargs) - allowed}")
    dtype = aval(x).dtype
    if mode in ("constant", "empty"):
        if mode == "empty":
            values = [(np.zeros((), dtype)[()],) * 2] * nd
        else:
            values = _value_pairs(kwargs.get("constant_values", 0), nd, dtype)
        first = values[0][0] if nd else None
        flat_vals = [v for pair in values for v in pair]
        same = all(v is first for v in flat_vals) or (
            all(type(v) is not Tracer for v in flat_vals) and
            all(bool(v == first) for v in flat_vals))
        if same and nd:
            return sp.pad(x, first, [(lo, hi, 0) for lo, hi in widths])
        # axis by axis, as NumPy fills: later axes' values win in the corners
        for ax, ((lo, hi), (vlo, vhi)) in enumerate(zip(widths, values)):
            for w, v, side in ((lo, vlo, 0), (hi, vhi, 1)):
                if w:
                    cfg = [(0, 0, 0)] * nd
                    cfg[ax] = (w, 0, 0) if side == 0 else (0, w, 0)
                    x = sp.pad(x, v, cfg)
        return x
    if int(np.prod(shp, dtype=np.int64)) == 0:
        for ax, (lo, hi) in enumerate(widths):
            if shp[ax] == 0 and (lo or hi):
                raise ValueError(f"can't extend empty axis {ax} using modes other than "
                                 "'constant' or 'empty'")
        return sp.pad(x, np.zeros((), dtype)[()], [(lo, hi, 0) for lo, hi in widths])
    method = kwargs.get("reflect_type", "even")
    if method not in ("even", "odd"):
        raise ValueError(f"reflect_type must be 'even' or 'odd', got {method!r}")
    for ax, (lo, hi) in enumerate(widths):
        if not (lo or hi):
            continue
        if mode == "edge" or (mode in ("reflect", "symmetric") and shp[ax] == 1):
            x = _pad_edge(x, ax, lo, hi)
        elif mode == "wrap":
            x = _pad_wrap(x, ax, lo, hi, shp[ax])
        else:
            x = _pad_reflect(x, ax, lo, hi, method, mode == "symmetric", shp[ax])
    return x


# --- shape queries (Python ints) -----------------------------------------------------------

@implements(np.shape)
def shape(a):
    """NumPy's ``shape``: a tuple of Python ints."""
    return tuple(aval(operand(a)).shape)


@implements(np.ndim)
def ndim(a):
    """NumPy's ``ndim``: a Python int."""
    return len(aval(operand(a)).shape)


@implements(np.size)
def size(a, axis=None):
    """NumPy's ``size``: a Python int (of one axis, or of the whole array)."""
    shp = aval(operand(a)).shape
    if axis is None:
        return int(np.prod(shp, dtype=np.int64))
    if np.ndim(axis) == 0:
        return shp[canonical_axis(axis, len(shp))]
    return int(np.prod([shp[canonical_axis(ax, len(shp))] for ax in axis], dtype=np.int64))
