"""Conventions shared by every ``funcdiff.numpy`` function.

Each public function is written once, for traced values, and registered with
``@implements(np.X)``: the decorator gives it an eager fast path (with no trace active it
*is* ``np.X``: same values, shapes and dtypes, no overhead beyond one check) and records
it in ``FUNCTIONS`` for NumPy's ``__array_function__`` / ``__array_ufunc__`` dispatch
and for the coverage table.

Inside a trace every call is recorded, even on constants, so ``zeros(n).at[i].set(v)``
works under every transform.  ``operand(x)`` turns any array-like (lists mixing
tracers and numbers included) into something a primitive accepts.
"""
from __future__ import annotations

import functools

import numpy as np

from .._np_compat import NUMPY2
from ..core import arraylib
from ..core.avals import ShapedArray
from ..core.debug import check_function, flags as debug_flags
from ..core.errors import FuncdiffError, FuncdiffTypeError, FuncdiffValueError
from ..core.trace import Tracer, current_source_info, get_aval, state
from ..primitives.base import convert_element_type, reshape, result_dtype
from ..primitives.shape import concatenate

FUNCTIONS: dict[object, object] = {}      # numpy callable -> funcdiff function
# callables run when NumPy's dispatch meets a function with no registration; one that
# returns True has registered more (see _methods._lookup)
ON_LOOKUP_MISS: list = []
UFUNC_METHODS: dict[tuple, object] = {}   # (ufunc, "reduce"/"accumulate") -> function
_PY = (bool, int, float, complex)


def implements(np_fn, *, name=None, eager_wrap=None, nin=None, prim=None, numpy2_kwargs=(),
               numpy1=None):
    """Register a traced implementation of ``np_fn`` with an eager fast path.

    ``prim`` (with ``nin``, 1 or 2): a primitive that ``traced`` just binds on its
    ``nin`` operands.  Calls with exactly ``nin`` positional arguments and no keywords
    (the common ``fnp.sin(x)`` / ``x * y``) then record it directly in the innermost
    trace, as ``prim.bind`` would, skipping ``traced``'s argument handling; other calls
    go through ``traced``.

    ``numpy2_kwargs``: keywords NumPy 2 added to ``np_fn``.  On NumPy 1.x an eager call
    passing one runs ``numpy1`` (NumPy 2's function written with NumPy 1.x's), or else
    ``traced`` on the NumPy values: NumPy 2's meaning, as under transforms, where
    NumPy's own function would reject the keyword.
    """

    def deco(traced):
        np_call = np_fn
        if numpy2_kwargs and not NUMPY2:
            @functools.wraps(np_fn)
            def np_call(*args, **kwargs):
                if any(k in kwargs for k in numpy2_kwargs):
                    return (numpy1 or traced)(*args, **kwargs)
                return np_fn(*args, **kwargs)
        if eager_wrap is not None:
            @functools.wraps(traced)
            def f(*args, **kwargs):
                if not state.stack:
                    return eager_wrap(np_call(*args, **kwargs))
                try:
                    return traced(*args, **kwargs)
                except FuncdiffError as e:
                    _locate(e, traced.__name__)
                    raise
        elif prim is not None and nin == 1:
            @functools.wraps(traced)
            def f(*args, **kwargs):
                stack = state.stack
                if not stack:
                    if debug_flags.nans:
                        return _checked(np_call, args, kwargs)
                    return np_call(*args, **kwargs)
                try:
                    if len(args) == 1 and not kwargs:
                        x = args[0]
                        if type(x) is not Tracer:
                            x = operand(x)
                        return stack[-1].process(prim, (x,), _NO_PARAMS)
                    return traced(*args, **kwargs)
                except FuncdiffError as e:
                    _locate(e, traced.__name__)
                    raise
        elif prim is not None and nin == 2:
            @functools.wraps(traced)
            def f(*args, **kwargs):
                stack = state.stack
                if not stack:
                    if debug_flags.nans:
                        return _checked(np_call, args, kwargs)
                    return np_call(*args, **kwargs)
                try:
                    if len(args) == 2 and not kwargs:
                        x, y = args
                        if type(x) is not Tracer:
                            x = operand(x)
                        if type(y) is not Tracer and type(y) not in _PY:
                            y = operand(y)
                        return stack[-1].process(prim, (x, y), _NO_PARAMS)
                    return traced(*args, **kwargs)
                except FuncdiffError as e:
                    _locate(e, traced.__name__)
                    raise
        else:
            @functools.wraps(traced)
            def f(*args, **kwargs):
                if not state.stack:
                    if debug_flags.nans:
                        return _checked(np_call, args, kwargs)
                    return np_call(*args, **kwargs)
                try:
                    return traced(*args, **kwargs)
                except FuncdiffError as e:
                    _locate(e, traced.__name__)
                    raise
        f.traced = traced
        f.numpy = np_fn
        if np_fn is not None:
            FUNCTIONS[np_fn] = f
        return f

    return deco


_NO_PARAMS: dict = {}   # shared, never mutated (process copies params into the Eqn)


def _checked(np_fn, args, kwargs):
    """The eager fast path with ``funcdiff.config.debug_nans`` on: NumPy's result, after
    checking it has no NaN the arguments did not have."""
    out = np_fn(*args, **kwargs)
    check_function(getattr(np_fn, "__name__", "function"), args, kwargs, out,
                   current_source_info())
    return out


def _locate(e, fname):
    """Add the user's line to a funcdiff error raised while tracing ``fname`` (unless the
    message already names it), so shape errors say where the bad call is."""
    src = current_source_info()
    if src is None or not e.args or not isinstance(e.args[0], str):
        return
    if f"{src.filename}:{src.lineno}" not in e.args[0]:
        e.args = (f"{e.args[0]}\n  (in `{fname}`, at {src})",) + e.args[1:]


def cast(x, dtype):
    """``x`` as ``dtype`` (and strong): a convert eqn only when something changes."""
    a = aval(x)
    dtype = np.dtype(dtype)
    if a.dtype == dtype and not a.weak_type:
        return x
    return convert_element_type(x, dtype=dtype)


def _contains_tracer(x) -> bool:
    if type(x) is Tracer:
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_tracer(e) for e in x)
    return False


def operand(x, dtype=None):
    """Any array-like as a primitive operand: a Tracer, a Python scalar (weak), a NumPy
    scalar or an ndarray.  Lists/tuples holding tracers are stacked, as
    ``funcdiff.numpy.array`` does (``to_array``)."""
    t = type(x)
    if t is Tracer or t in _PY:
        out = x
    elif isinstance(x, (np.ndarray, np.generic)):
        out = x
    elif isinstance(x, (list, tuple)):
        if not _contains_tracer(x):
            out = np.asarray(x)
        elif not state.stack:
            out = np.array(x)   # (raises: tracers outside their transform are leaked)
        else:
            try:
                out = to_array(x)
            except FuncdiffError as e:
                _locate(e, "array")
                raise

    elif arraylib.is_foreign(x):   # Dask, CuPy, torch ...: computed on by their library
        arraylib.state.active = True
        out = x
    elif hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        out = np.asarray(x)
    else:
        raise FuncdiffTypeError(f"{t.__name__} is not an array-like value")
    if dtype is not None:
        if get_aval(out).dtype != np.dtype(dtype):
            out = convert_element_type(out, dtype=np.dtype(dtype))
    return out


def aval(x) -> ShapedArray:
    return get_aval(x)


def shape(x):
    return get_aval(operand(x)).shape


def ndim(x):
    return len(shape(x))


def canonical_axis(axis, ndim_, name="axis"):
    """Normalise a (possibly negative) axis; NumPy's AxisError (a ValueError/IndexError)
    with the same message when out of range."""
    a = int(axis)
    if not -max(ndim_, 1) <= a < max(ndim_, 1) or (ndim_ == 0 and a not in (0, -1)):
        raise np.exceptions.AxisError(a, ndim_) if hasattr(np, "exceptions") \
            else np.AxisError(a, ndim_)  # type: ignore[attr-defined]
    return a % ndim_ if ndim_ else 0


def canonical_axes(axis, ndim_):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim_))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonical_axis(a, ndim_) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (canonical_axis(axis, ndim_),)


def result_type(*args):
    """NumPy's promotion of the operands, honouring weak Python scalars."""
    return result_dtype(np.add, *[aval(operand(a)) for a in args])


# --- array conversion (funcdiff.numpy.array, and operand() of lists of tracers) ------

def _record(x):
    """``x`` as a traced value: constants go through one (identity) convert eqn."""
    if type(x) is Tracer:
        return x
    return convert_element_type(x, dtype=aval(x).dtype)


def _stack_sequence(obj):
    """A (nested) list/tuple holding tracers as one traced array."""
    parts = [_stack_sequence(e) if isinstance(e, (list, tuple)) and _contains_tracer(e)
             else (e if type(e) is Tracer else np.asarray(e)) for e in obj]
    shapes = {aval(p).shape for p in parts}
    if len(shapes) != 1:
        raise FuncdiffValueError(
            "setting an array element with a sequence: the requested array has an "
            f"inhomogeneous shape (elements of shapes {sorted(shapes)}).  Every element "
            "of a list passed to funcdiff.numpy.array must have the same shape.")
    (shape,) = shapes
    # a weak (Python-scalar) tracer counts with its default dtype, as NumPy's
    # sequence conversion treats Python scalars
    dtype = np.result_type(*[aval(p).dtype for p in parts])
    rows = [reshape(cast(p, dtype), (1,) + shape) for p in parts]
    if len(rows) == 1:
        return _record(rows[0])
    return concatenate(rows, 0)


def to_array(obj, dtype=None, ndmin=0):
    """What ``funcdiff.numpy.array`` computes under a trace: ``obj`` as a traced array of
    ``dtype`` with at least ``ndmin`` axes, lists holding tracers stacked."""
    if type(obj) is Tracer:
        x = obj
    elif isinstance(obj, (list, tuple)) and _contains_tracer(obj):
        x = _stack_sequence(obj)
    else:
        x = np.asarray(obj, dtype=dtype)
    x = cast(x, dtype if dtype is not None else aval(x).dtype)
    nd = aval(x).ndim
    if ndmin > nd:
        x = reshape(x, (1,) * (ndmin - nd) + aval(x).shape)
    return _record(x)
