"""``frompyfunc`` and ``vectorize``: a Python function of scalars (or, with a
``signature``, of core arrays) mapped over broadcast arrays, as JAX does it.

The inputs are broadcast against each other, their loop dimensions flattened into one
axis, and the function is mapped over that axis with ``funcdiff.vmap``: it is traced
once, and the result differentiates, batches and compiles like any other funcdiff
program.  NumPy's ``frompyfunc`` returns object arrays; funcdiff's results have the
dtypes the function computes (float64 from float64, float32 from float32, ...).  As in
JAX, a function may return arrays (not only scalars): they become trailing axes.

The function may branch on its arguments' values (``if x > 0:``), as code written for
NumPy's scalar loop does.  ``vmap`` cannot trace that (the mapped values are
abstract), so on ``ConcretizationError`` funcdiff falls back to NumPy's own strategy, a
Python loop over the elements: that works wherever the values are known (plain calls,
``grad``/``jvp``/``vjp``); inside ``jit``/``vmap`` the error says to use
``funcdiff.numpy.where`` or ``funcdiff.lax.cond`` instead.

``ufunc`` (what ``frompyfunc`` returns) has NumPy's attributes (``nin nout nargs
identity``) and methods: ``reduce`` and ``accumulate`` fold the function along an axis
in a ``funcdiff.lax.scan`` (NumPy's order, ``func(func(a0, a1), a2)``; the running
value keeps the dtype of the first step's result), ``outer``, ``reduceat`` (static
indices) and ``at`` (a scan over the indices, so a repeated index applies the function
again, as NumPy's unbuffered ``at``).
"""
from __future__ import annotations

import functools
import math
import operator
import re

import numpy as np

from ..core.errors import ConcretizationError, FuncdiffIndexError, FuncdiffTypeError, \
    FuncdiffValueError, ShapeError
from ..core.trace import Tracer, state
from ..lax._control import scan
from ..primitives import base as pb, shape as sp
from ..api.vmap import vmap
from ._core import FUNCTIONS, aval, canonical_axis, cast, operand, result_type
from ._indexing import _update, getitem
from ._math import where
from ._shape import _moveaxis, _normalize_axes, _slice_axis, concatenate, stack

__all__ = ["frompyfunc", "vectorize"]

_PY = (bool, int, float, complex)


def _shape(x):
    return aval(x).shape


def _reshape(x, shape):
    return x if _shape(x) == tuple(shape) else sp.reshape(x, tuple(shape))


def _lead(x):
    """``x`` with a new leading axis of length 1."""
    return sp.reshape(x, (1,) + _shape(x))


# --- the map ---------------------------------------------------------------------------------

def _flat_args(name, args, cores):
    """Broadcast the loop dimensions of ``args`` (``args[i]`` ends in the core
    dimensions named by ``cores[i]``) and flatten them into one leading axis.  An
    argument that is a weakly typed scalar (a Python number) stays as it is, unmapped, so
    it promotes as in a ufunc; the others are mapped, 0-d ones too (so that ``func``
    always sees traced values, which promote as NumPy 2 on every NumPy version).  Returns ``(args, in_axes, loop shape, {core
    dimension: size})``."""
    sizes, loops = {}, []
    for i, (x, core) in enumerate(zip(args, cores)):
        shp = _shape(x)
        k = len(shp) - len(core)
        if k < 0:
            raise ShapeError(f"`{name}`: input {i} has {len(shp)} dimension(s), but its "
                             f"core dimensions ({', '.join(core)}) need {len(core)}")
        for d, n in zip(core, shp[k:]):
            if sizes.setdefault(d, n) != n:
                raise ShapeError(f"`{name}`: inconsistent size for core dimension {d!r}: "
                                 f"{sizes[d]} and {n}")
        loops.append(shp[:k])
    try:
        loop = np.broadcast_shapes(*loops)
    except ValueError:
        raise ShapeError(f"`{name}`: the inputs' loop shapes {', '.join(map(str, loops))} "
                         "do not broadcast together") from None
    size = math.prod(loop)
    flat, in_axes = [], []
    for x, lp in zip(args, loops):
        if not lp and aval(x).weak_type:
            flat.append(x)
            in_axes.append(None)
            continue
        core_shape = _shape(x)[len(lp):]
        if lp != loop:
            x = pb.broadcast_to(x, loop + core_shape)
        flat.append(_reshape(x, (size,) + core_shape))
        in_axes.append(0)
    return flat, in_axes, loop, sizes


def _outputs(name, res, nout, out_cores, sizes, info):
    """The function's per-element result as a list of operands: ``nout`` of them
    (``None``: one, or a tuple's items), checked against the signature's output core
    dimensions.  ``info["tuple"]`` records whether it was a tuple."""
    is_tuple = isinstance(res, tuple)
    info["tuple"] = is_tuple
    if nout is None:
        outs = list(res) if is_tuple else [res]
    elif nout == 1:
        outs = [res]
    elif isinstance(res, (tuple, list)) and len(res) == nout:
        outs = list(res)
    else:
        got = f"{type(res).__name__} of length {len(res)}" \
            if isinstance(res, (tuple, list)) else f"one {type(res).__name__}"
        raise FuncdiffValueError(f"`{name}`: the function must return {nout} values (a "
                                 f"tuple), got a {got}")
    outs = [operand(o) for o in outs]
    if out_cores is not None:
        for i, (o, core) in enumerate(zip(outs, out_cores)):
            shp = _shape(o)
            if len(shp) != len(core) or any(sizes.setdefault(d, n) != n
                                            for d, n in zip(core, shp)):
                raise ShapeError(f"`{name}`: output {i} has shape {shp}, which does not "
                                 f"match the signature's ({', '.join(core)})")
    return outs


def _map(name, func, args, cores, nout, out_cores=None, info=None):
    """``func`` mapped over the broadcast loop dimensions of ``args``: a list of arrays
    of shape ``loop shape + the output's own shape``."""
    flat, in_axes, loop, sizes = _flat_args(name, args, cores)
    size = math.prod(loop)
    info = {} if info is None else info

    def one(*xs):
        return _outputs(name, func(*xs), nout, out_cores, sizes, info)

    if all(ax is None for ax in in_axes):    # Python numbers only: one plain call
        return one(*flat)
    try:
        outs = vmap(one, in_axes=tuple(in_axes))(*flat)
    except ConcretizationError as e:
        if size == 0:
            raise
        try:   # NumPy's strategy: one call per element (values known outside jit/vmap)
            rows = [one(*[x if ax is None else getitem(x, i)
                          for x, ax in zip(flat, in_axes)]) for i in range(size)]
        except ConcretizationError:
            raise ConcretizationError(
                f"`{name}` maps its function with funcdiff.vmap, and the function "
                "branches on its argument's value (a Python `if`, `while`, `and`/`or`, "
                "or `float()`), which vmap cannot trace.  Where the values are known "
                "(plain calls, grad/jvp/vjp) funcdiff loops over the elements instead, as "
                "NumPy does, but inside jit or vmap they are not: write the branch with "
                "funcdiff.numpy.where(c, a, b) or funcdiff.lax.cond.") from e
        outs = [stack([r[k] for r in rows]) for k in range(len(rows[0]))]
    return [_reshape(o, loop + _shape(o)[1:]) for o in outs]


def _scalar_operand(x):
    """``x`` as an array operand (Python scalars made arrays, as ``np.asarray``)."""
    x = operand(x)
    return np.asarray(x) if type(x) in _PY else x


# --- frompyfunc ------------------------------------------------------------------------------

class ufunc:
    """NumPy's ufunc interface on a Python scalar function (see ``frompyfunc``)."""

    def __init__(self, func, nin, nout, *, identity=None, _numpy=None):
        self._func = func
        # NumPy's own ufunc that ``func`` implements elementwise (funcdiff's methods of
        # numpy.maximum & co.): called directly, and asked for dtypes and reorderability
        self._numpy = _numpy
        self.nin, self.nout = operator.index(nin), operator.index(nout)
        if self.nin < 1 or self.nout < 1:
            raise FuncdiffValueError(f"frompyfunc: nin and nout must be at least 1, got "
                                     f"nin={nin}, nout={nout}")
        self.nargs = self.nin + self.nout     # NumPy's count: inputs and outputs
        self.identity = identity
        self.signature = None
        self.__name__ = _numpy.__name__ if _numpy is not None else \
            f"{getattr(func, '__name__', 'func')} (vectorized)"
        self.__doc__ = getattr(func, "__doc__", None)

    # equal ufuncs of one function hash alike (a static argument of jit)
    def _key(self):
        return (self._func, self.nin, self.nout, self.identity)

    def __eq__(self, other):
        return isinstance(other, ufunc) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"<funcdiff ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, where=True, dtype=None):
        """``func`` on the broadcast elements of the ``nin`` arguments (a tuple of
        ``nout`` arrays when ``nout > 1``)."""
        if len(args) != self.nin:
            raise FuncdiffTypeError(f"{self.__name__} takes {self.nin} positional "
                                    f"argument(s), got {len(args)}")
        self._no_out("", out)
        if not (where is True or (isinstance(where, (bool, np.bool_)) and where)):
            raise FuncdiffTypeError(
                f"{self.__name__}(..., where=mask): the masked-out entries would be what an "
                "uninitialized output holds.  Use funcdiff.numpy.where(mask, u(...), "
                "fallback).")
        ops = [operand(a) for a in args]
        if dtype is not None:
            ops = [cast(o, dtype) for o in ops]
        if self._numpy is not None:    # elementwise already: broadcasts by itself
            res = self._func(*ops)
            outs = list(res) if self.nout > 1 else [res]
        else:
            outs = _map(self.__name__, self._func, ops, [()] * self.nin, self.nout)
        if dtype is not None:
            outs = [cast(o, dtype) for o in outs]
        return outs[0] if self.nout == 1 else tuple(outs)

    def _no_out(self, method, out):
        if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
            raise FuncdiffTypeError(f"{self.__name__}{method}(..., out=...): funcdiff "
                                    "results are new arrays; use the returned value.")

    def _binary(self, method):
        if self.nin != 2 or self.nout != 1:
            raise FuncdiffValueError(
                f"{self.__name__}.{method} is only supported for binary functions with one "
                f"output (nin=2, nout=1); this one has nin={self.nin}, nout={self.nout}")

    def _reorderable(self, x):
        """Whether a reduction may run over several axes: NumPy's ufuncs say so
        themselves (asked on a tiny array of ``x``'s dtype); a Python function's
        reduction may if it has an identity, as NumPy's frompyfunc."""
        if self._numpy is None:
            return self.identity is not None
        try:
            self._numpy.reduce(np.ones((1, 1), aval(x).dtype), axis=(0, 1))
        except ValueError:
            return False
        return True

    def _loop_dtype(self, method, x, dtype):
        """The dtype NumPy's ufunc reduces/accumulates ``x`` in (``add.reduce`` of int8
        works in int64), asked on a tiny array; None for a Python function."""
        if self._numpy is None:
            return None
        return getattr(self._numpy, method)(np.ones(2, aval(x).dtype), dtype=dtype).dtype

    def _fold(self, x, start, mask):
        """Fold ``func`` along the leading axis of ``x``, from ``start`` (None: from
        ``x[0]``), skipping elements where ``mask`` (if any) is False.  Returns the
        running values after each folded element, stacked (None if there are none),
        and the value before the first."""
        if start is None:
            start, x = getitem(x, 0), _slice_axis(x, 0, 1, _shape(x)[0])
            mask = None if mask is None else _slice_axis(mask, 0, 1, _shape(mask)[0])
        n = _shape(x)[0]
        if n == 0:
            return start, None

        def step(c, x_i, m_i):
            y = self(c, x_i)
            return y if m_i is None else where(m_i, y, cast(c, aval(y).dtype))

        # the first step outside the loop fixes the running value's dtype
        first = step(start, getitem(x, 0), None if mask is None else getitem(mask, 0))
        if n == 1:
            return start, _lead(first)
        dt = aval(first).dtype

        def body(c, xm):
            y = cast(step(c, *xm), dt)
            return y, y

        rest = [_slice_axis(x, 0, 1, n), None if mask is None else _slice_axis(mask, 0, 1, n)]
        _, ys = scan(body, first, rest)
        return start, concatenate([_lead(first), ys])

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
               where=None):
        """NumPy's ``ufunc.reduce``: ``func(...func(func(a[0], a[1]), a[2])..., a[-1])``
        along ``axis``, or from ``initial`` when given.  ``identity`` is the result of
        an empty reduction and, with a ``where`` mask and no ``initial``, the starting
        value (NumPy wants ``initial`` there; JAX takes the identity).  Several axes
        are reduced in C order and need an identity, as in NumPy."""
        self._binary("reduce")
        self._no_out(".reduce", out)
        x = _scalar_operand(array)
        dtype = self._loop_dtype("reduce", x, dtype) or dtype
        if dtype is not None:
            x = cast(x, dtype)
        shp = _shape(x)
        nd = len(shp)
        axes = tuple(range(nd)) if axis is None else \
            tuple(sorted(_normalize_axes(axis, nd, f"{self.__name__}.reduce")))
        if len(axes) > 1 and not self._reorderable(x):
            raise FuncdiffValueError(
                f"reduction operation '{self.__name__}' is not reorderable, so at most one "
                "axis may be specified (give frompyfunc an identity to reduce over several)")
        mask = None
        if where is not None and where is not True:
            mask = _scalar_operand(where)
            if aval(mask).dtype != np.dtype(bool):
                raise FuncdiffTypeError(f"{self.__name__}.reduce: where= must be a boolean "
                                        f"mask, got dtype {aval(mask).dtype}")
            mask = pb.broadcast_to(mask, shp)
            if initial is None:
                if self.identity is None:
                    raise FuncdiffValueError(
                        f"reduction operation '{self.__name__}' does not have an identity, "
                        "so to use a where mask one has to specify 'initial'")
                initial = self.identity
        if not axes:   # nothing to reduce: NumPy returns the array (masked: initial)
            return x if mask is None else where(mask, x, cast(initial, aval(x).dtype))
        rest = tuple(d for i, d in enumerate(shp) if i not in axes)
        # the reduced axes first, flattened in C order
        perm = axes + tuple(i for i in range(nd) if i not in axes)
        lead = (math.prod(shp[a] for a in axes),) + rest
        x = _reshape(pb.transpose(x, perm), lead)
        if mask is not None:
            mask = _reshape(pb.transpose(mask, perm), lead)
        start = None
        if initial is None and lead[0] == 0:
            if self.identity is None:
                raise FuncdiffValueError(f"zero-size array to reduction operation "
                                         f"{self.__name__} which has no identity")
            initial = self.identity
        if initial is not None:
            start = operand(initial)
            if type(start) in _PY:   # a Python scalar is weak, as in a ufunc's reduce
                start = cast(start, result_type(x, start))
            start = pb.broadcast_to(start, rest)
            if dtype is not None:
                start = cast(start, dtype)
        start, ys = self._fold(x, start, mask)
        res = start if ys is None else getitem(ys, -1)
        if keepdims:
            res = _reshape(res, tuple(1 if i in axes else d for i, d in enumerate(shp)))
        return res

    def accumulate(self, array, axis=0, dtype=None, out=None):
        """NumPy's ``ufunc.accumulate``: ``a[0]``, then the running values of
        ``reduce`` along ``axis`` (all in the dtype of the running value)."""
        self._binary("accumulate")
        self._no_out(".accumulate", out)
        if axis is None or isinstance(axis, (tuple, list)):
            raise FuncdiffValueError(f"{self.__name__}.accumulate does not allow multiple "
                                     "axes")
        x = _scalar_operand(array)
        if not _shape(x):
            raise FuncdiffValueError(f"{self.__name__}.accumulate: the array must have at "
                                     "least one dimension")
        dtype = self._loop_dtype("accumulate", x, dtype) or dtype
        if dtype is not None:
            x = cast(x, dtype)
        ax = canonical_axis(operator.index(axis), len(_shape(x)))
        x = _moveaxis(x, ax, 0)
        if _shape(x)[0] == 0:
            return _moveaxis(x, 0, ax)
        start, ys = self._fold(x, None, None)
        res = _lead(start) if ys is None else \
            concatenate([_lead(cast(start, aval(ys).dtype)), ys])
        return _moveaxis(res, 0, ax)

    def outer(self, A, B, /, **kwargs):
        """NumPy's ``ufunc.outer``: ``func(A[i...], B[j...])`` for every pair, of shape
        ``A.shape + B.shape``."""
        if self.nin != 2:
            raise FuncdiffValueError(f"{self.__name__}.outer is only supported for binary "
                                     f"functions (nin=2); this one has nin={self.nin}")
        a, b = _scalar_operand(A), _scalar_operand(B)
        return self(_reshape(a, _shape(a) + (1,) * len(_shape(b))), b, **kwargs)

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        """NumPy's ``ufunc.reduceat``: ``reduce`` over each ``a[indices[i]:indices[i+1]]``
        (``a[indices[i]]`` alone where ``indices[i] >= indices[i+1]``; the last slice
        runs to the end).  The indices fix the segments, so they must be concrete."""
        self._binary("reduceat")
        self._no_out(".reduceat", out)
        if type(indices) is Tracer:
            indices = indices.concrete_value(f"{self.__name__}.reduceat's indices")
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise FuncdiffTypeError(f"{self.__name__}.reduceat: indices must be a 1-d "
                                    f"sequence of integers, got {indices!r}")
        x = _scalar_operand(array)
        if dtype is not None:
            x = cast(x, dtype)
        ax = canonical_axis(operator.index(axis), len(_shape(x)))
        x = _moveaxis(x, ax, 0)
        n = _shape(x)[0]
        if np.any((idx < 0) | (idx >= n)):
            raise FuncdiffIndexError(f"{self.__name__}.reduceat: an index is out of range "
                                     f"for an axis of length {n}: {idx.tolist()}")
        bounds = list(idx[1:]) + [n]
        parts = [self.reduce(_slice_axis(x, 0, lo, hi if hi > lo else lo + 1))
                 for lo, hi in zip(idx.tolist(), bounds)]
        if not parts:
            return _moveaxis(_slice_axis(x, 0, 0, 0), 0, ax)
        dt = np.result_type(*[aval(p).dtype for p in parts])
        return _moveaxis(stack([cast(p, dt) for p in parts]), 0, ax)

    def at(self, a, indices, b=None, /, *, inplace=True):
        """NumPy's ``ufunc.at``: ``a[indices] = func(a[indices], b)``, unbuffered (a
        repeated index applies ``func`` again).  Outside transforms on a NumPy array it
        writes into ``a`` and returns None, as NumPy; ``inplace=False`` (JAX's keyword)
        returns the updated array instead, which traced values need."""
        if self.nout != 1 or self.nin not in (1, 2) or (b is None) != (self.nin == 1):
            raise FuncdiffValueError(
                f"{self.__name__}.at takes b for a binary function and no b for a unary "
                f"one (with one output); this one has nin={self.nin}, nout={self.nout}")
        if inplace and (state.stack or not isinstance(a, np.ndarray)):
            raise FuncdiffTypeError(
                f"{self.__name__}.at(a, ...) writes into `a`, which only a NumPy array "
                "outside transforms allows.  Pass inplace=False: a = u.at(a, idx, b, "
                "inplace=False) returns the updated array (as in JAX).")
        x = operand(a)
        idx = indices if isinstance(indices, tuple) else (indices,)
        arr = [k for k, i in enumerate(idx)
               if not (isinstance(i, slice) or i is Ellipsis or i is None)]
        idx = tuple(operand(i) if k in arr else i for k, i in enumerate(idx))
        loop = np.broadcast_shapes(*[_shape(idx[k]) for k in arr]) if arr else ()
        if not loop:   # one position (or a block): no repeats possible
            args = (getitem(x, idx),) + (() if b is None else (operand(b),))
            res = _update("set", x, idx, self(*args), None)
        else:          # as JAX: b's leading axes follow the indices' broadcast shape
            cnt = math.prod(loop)
            ind = [_reshape(pb.broadcast_to(idx[k], loop), (cnt,)) for k in arr]
            bs = None
            if b is not None:
                bb = _scalar_operand(b)
                bb = pb.broadcast_to(bb, loop + _shape(bb)[len(loop):])
                bs = _reshape(bb, (cnt,) + _shape(bb)[len(loop):])

            def body(cur, step):
                ii, bi = step
                pos = dict(zip(arr, ii))
                one = tuple(pos.get(k, i) for k, i in enumerate(idx))
                args = (getitem(cur, one),) + (() if bi is None else (bi,))
                return _update("set", cur, one, self(*args), None), None

            res, _ = scan(body, x, (ind, bs))
        if inplace:
            a[...] = res
            return None
        return res


def frompyfunc(func, /, nin, nout, *, identity=None):
    """NumPy's ``frompyfunc``, as in JAX: a ``ufunc`` that maps the scalar function
    ``func`` over broadcast arrays with ``funcdiff.vmap`` (so it differentiates,
    batches and compiles), with ``nin``/``nout``/``nargs``/``identity`` and the ufunc
    methods ``reduce accumulate outer reduceat at``.  Results have the dtypes ``func``
    computes, not NumPy's object dtype."""
    if not callable(func):
        raise FuncdiffTypeError(f"frompyfunc: func must be callable, got "
                                f"{type(func).__name__}")
    return ufunc(func, nin, nout, identity=identity)


# funcdiff's own (NumPy's returns object-array ufuncs, which a trace cannot reach)
frompyfunc.traced = frompyfunc
frompyfunc.numpy = np.frompyfunc


def numpy_ufunc_method(np_ufunc, method):
    """funcdiff's ``np_ufunc.reduce`` / ``accumulate`` / ``reduceat`` (``numpy.maximum.
    accumulate(x)`` on a traced ``x``) for a binary NumPy ufunc that funcdiff implements:
    the function folded along the axis in a scan, in NumPy's loop dtype.  None when
    there is no such method (or funcdiff lacks the ufunc)."""
    f = FUNCTIONS.get(np_ufunc)
    if f is None or np_ufunc.nin != 2 or np_ufunc.nout != 1 or \
            np_ufunc.signature is not None or method not in ("reduce", "accumulate",
                                                               "reduceat"):
        return None
    return getattr(ufunc(f, 2, 1, identity=np_ufunc.identity, _numpy=np_ufunc), method)


# --- vectorize -------------------------------------------------------------------------------

_DIMS = r"\(\s*(?:\w+\s*(?:,\s*\w+\s*)*)?\)"
_SIGNATURE = re.compile(rf"^\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*->\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*$")


def _parse_signature(signature):
    """A gufunc signature ``"(m,n),(n)->(m)"`` as (input cores, output cores)."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise FuncdiffValueError(f"not a valid gufunc signature: {signature!r}")
    ins, outs = signature.split("->")
    return [[tuple(d.strip() for d in m.split(",") if d.strip())
             for m in re.findall(r"\(([^)]*)\)", s)] for s in (ins, outs)]


class vectorize:
    """NumPy's ``vectorize`` (as JAX's): ``pyfunc`` mapped over the broadcast elements
    of its arguments -- or, with a gufunc ``signature`` such as ``"(n),(n)->()"``,
    over their loop dimensions, each call seeing whole core dimensions -- by
    ``funcdiff.vmap``.  ``excluded`` arguments (positions or keyword names) are passed
    through unmapped; ``otypes`` casts the outputs; ``cache`` is accepted and ignored.
    Usable as a decorator, ``@vectorize`` or ``@vectorize(signature=...)``."""

    def __init__(self, pyfunc=np._NoValue, otypes=None, doc=None, excluded=None,
                 cache=False, signature=None):
        self.pyfunc = None if pyfunc is np._NoValue else pyfunc
        if isinstance(otypes, str):
            otypes = list(otypes)
        self.otypes = None if otypes is None else [np.dtype(t) for t in otypes]
        self.excluded = set(excluded or ())
        self.cache = cache
        self.signature = signature
        self._cores = None if signature is None else _parse_signature(signature)
        self._doc = doc
        if self.pyfunc is not None:
            functools.update_wrapper(self, self.pyfunc, updated=())
            if doc is not None:
                self.__doc__ = doc

    def __call__(self, *args, **kwargs):
        if self.pyfunc is None:   # @vectorize(signature=...): now given the function
            return vectorize(args[0], otypes=self.otypes, doc=self._doc,
                             excluded=self.excluded, signature=self.signature)
        name = f"vectorize({getattr(self.pyfunc, '__name__', 'pyfunc')})"
        pos = [i for i in range(len(args)) if i not in self.excluded]
        kws = [k for k in kwargs if k not in self.excluded]
        ops = [operand(args[i]) for i in pos] + [operand(kwargs[k]) for k in kws]
        if self._cores is None:
            cores, out_cores, nout = [()] * len(ops), None, None
        else:
            cores, out_cores = self._cores
            if len(cores) != len(ops):
                raise FuncdiffTypeError(f"`{name}`: the signature {self.signature!r} has "
                                        f"{len(cores)} input(s), but {len(ops)} "
                                        "argument(s) are mapped")
            nout = len(out_cores)

        def call(*xs):
            full = list(args)
            for i, x in zip(pos, xs):
                full[i] = x
            return self.pyfunc(*full, **dict(kwargs, **dict(zip(kws, xs[len(pos):]))))

        info = {}
        outs = _map(name, call, ops, cores, nout, out_cores, info)
        if self.otypes is not None:
            if len(self.otypes) != len(outs):
                raise FuncdiffValueError(f"`{name}`: otypes gives {len(self.otypes)} "
                                         f"type(s) for {len(outs)} output(s)")
            outs = [cast(o, t) for o, t in zip(outs, self.otypes)]
        if out_cores is not None:
            return outs[0] if len(out_cores) == 1 else tuple(outs)
        return tuple(outs) if info.get("tuple") else outs[0]
