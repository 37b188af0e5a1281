"""Arrays of other libraries: Dask, CuPy, and array-API arrays (array-api-strict, PyTorch).

funcdiff's programs are plain array programs, so it hands them to the library the
inputs come from instead of converting the inputs to NumPy.  Two paths:

- **NumPy protocols** (Dask, CuPy: types with ``__array_function__`` and
  ``__array_ufunc__``): a primitive's NumPy ``impl`` runs as it is; NumPy hands each call
  to the array's library, which computes lazily (Dask) or on its device (CuPy).
- **The array-API namespace** (array-api-strict, PyTorch: no NumPy protocols): a
  primitive runs through its ``xp_impl(xp, *args, **params)`` rule with ``xp`` the
  arrays' namespace (``array_api_compat.array_namespace``).

``apply(prim, vals, params)`` is the one place a primitive is applied to values that may
be foreign (the eager trace, ``bind``, the interpreter and jit's generated code call it
once ``state.active`` is set, i.e. after the first foreign array met a transform, so
NumPy-only programs pay one attribute test).  A primitive the library cannot run is a
``ArrayLibraryError`` naming the primitive and the array type; an ``impl`` that had to
convert its operands to NumPy (materializing a lazy array) warns once per primitive and
type (``ArrayLibraryFallbackWarning``).

Core does not depend on any of these libraries: ``array_api_compat`` is imported when
it is installed and only needed for the namespace path.
"""
from __future__ import annotations

import math
import threading
import warnings

import numpy as np

from .avals import OPERAND_KINDS, ShapedArray
from .errors import ArrayLibraryError, ArrayLibraryFallbackWarning

try:   # optional: the array-API namespace of torch, CuPy, Dask ... (the `array-api` extra)
    import array_api_compat as _compat
except ImportError:   # pragma: no cover - exercised where the extra is not installed
    _compat = None

_PY = (bool, int, float, complex)


class _State:
    """``active``: some transform has met a non-NumPy array in this process (sticky), so
    primitive applications check their operands' types."""
    active = False


state = _State()


def is_foreign(x) -> bool:
    """Whether ``x`` is an array of another library (not NumPy, not a Python scalar, not
    a tracer): it has a shape and a dtype and speaks the array API or NumPy's protocols."""
    t = type(x)
    if t is np.ndarray or t in _PY or isinstance(x, (np.ndarray, np.generic)):
        return False
    if hasattr(t, "__array_namespace__") or hasattr(t, "__array_function__"):
        return hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "ir_var")
    return _compat is not None and _compat.is_array_api_obj(x)


def numpy_protocols(x) -> bool:
    """Whether NumPy's functions hand calls on ``x`` (an array or an array type) to its
    library (Dask, CuPy)."""
    t = x if isinstance(x, type) else type(x)
    return hasattr(t, "__array_function__") and hasattr(t, "__array_ufunc__")


def type_name(x) -> str:
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype with the same name as another library's (``torch.float32``,
    ``array_api_strict.float64``)."""
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def aval_of(x, what="argument") -> ShapedArray:
    """The aval of a foreign array: its shape and dtype.  A Dask array whose chunk sizes
    are unknown (after boolean indexing, ``unique``...) has NaN dimensions: funcdiff's IR
    needs every shape, so that is an error saying how to fix it."""
    shape = tuple(x.shape)
    for d in shape:
        if d is None or (isinstance(d, float) and math.isnan(d)):
            raise ArrayLibraryError(
                f"{what} is a {type_name(x)} of unknown shape {shape}: funcdiff traces "
                "programs on known shapes.  For a Dask array call "
                "x.compute_chunk_sizes() (or x = x.rechunk(...) with known sizes) first.")
    try:
        dtype = numpy_dtype(x.dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in OPERAND_KINDS:
        raise ArrayLibraryError(
            f"{what} is a {type_name(x)} of dtype {x.dtype}: funcdiff computes on "
            "boolean, integer, floating-point and complex arrays only.  Convert it "
            "first (x.astype(float)).")
    return ShapedArray(shape, dtype)


def first_foreign(vals):
    """The first foreign array among ``vals`` (a list may nest one level), or None."""
    for v in vals:
        if type(v) is list:
            v = first_foreign(v)
            if v is not None:
                return v
        elif is_foreign(v):
            return v
    return None


def namespace(*arrays):
    """The array-API namespace of ``arrays`` (their library's, made standard by
    array-api-compat)."""
    arrays = [a for a in arrays if is_foreign(a)]
    if hasattr(type(arrays[0]), "__array_namespace__") and _compat is None:
        return arrays[0].__array_namespace__()
    if _compat is None:
        raise ArrayLibraryError(
            f"{type_name(arrays[0])} arrays are computed on through the array-API "
            "namespace, which needs array-api-compat: pip install 'funcdiff[array-api]'.")
    try:
        return _compat.array_namespace(*arrays)
    except TypeError as e:   # arrays of two libraries (array-api-compat's message)
        kinds = sorted({type_name(a) for a in arrays})
        raise ArrayLibraryError(
            f"arrays of different libraries in one operation ({', '.join(kinds)}): "
            f"funcdiff computes with one array library at a time ({e}).  Convert them "
            "to one library first.") from e


_warned: set = set()
_warn_lock = threading.Lock()


def _warn_fallback(prim, x):
    key = (prim.name, type(x))
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(ArrayLibraryFallbackWarning(
        f"`{prim.name}` on a {type_name(x)} has no lazy form in that library: its operands "
        "were converted to NumPy arrays (computed, in memory) and the result is a NumPy "
        "array.  Said once per primitive and array type; see docs/scaling.md for what "
        "runs lazily."), stacklevel=3)


def _unsupported(prim, x, why=""):
    return ArrayLibraryError(
        f"`{prim.name}` cannot run on a {type_name(x)}{why}.  funcdiff hands its "
        "primitives to the array's library; this one has no rule there.  Compute this "
        "part on NumPy arrays (x.compute() / numpy.asarray(x)) or express it with "
        "primitives that have one (docs/scaling.md lists them).")


def apply(prim, vals, params):
    """``prim`` applied to ``vals`` (concrete values, perhaps of another library)."""
    x = first_foreign(vals)
    if x is None:
        return prim.impl(*vals, **params)
    if numpy_protocols(x):
        try:
            out = prim.impl(*vals, **params)
        except ArrayLibraryError:
            raise
        except Exception as e:
            if isinstance(e, (ArithmeticError, FloatingPointError)):
                raise
            raise _unsupported(prim, x, f" ({type(e).__name__}: {e})") from e
        outs = out if prim.multiple_results else (out,)
        # a fallback computed in NumPy: no output is foreign (with several outputs the
        # first may be a NumPy operand passed through, as optimization_barrier's)
        if any(isinstance(o, np.ndarray) for o in outs) and \
                not any(is_foreign(o) for o in outs):
            _warn_fallback(prim, x)
        return out
    rule = prim.xp_impl
    if rule is None:
        raise _unsupported(prim, x, " (an array-API array: only primitives with an "
                                    "array-API rule run on it)")
    xp = namespace(*[v for v in vals if type(v) is not list])
    # NumPy operands (constants, parameters) join the namespace; Python scalars stay
    return rule(xp, *to_namespace(xp, *vals), **params)


def to_namespace(xp, *vals):
    """``vals`` with NumPy arrays and scalars made arrays of namespace ``xp`` (Python
    scalars and ``xp``'s arrays stay as they are)."""
    return [v if not isinstance(v, (np.ndarray, np.generic)) else
            xp.asarray(v if getattr(v, "flags", None) is None or v.flags.writeable
                       else np.array(v))   # (a read-only broadcast: torch would share it)
            for v in vals]


def xp_array(xp, v):
    """``v`` (a NumPy array or scalar, or already ``xp``'s) as an array of ``xp``."""
    return to_namespace(xp, v)[0]


def dispatcher(prim):
    """``fn(*vals, **params)`` applying ``prim`` via ``apply``: what jit's generated code
    calls for a primitive on foreign arrays where it has no namespace spelling."""
    def fn(*vals, **params):
        return apply(prim, vals, params)
    fn.__name__ = f"apply_{prim.name}"
    return fn


def asarray(x):
    """``numpy.asarray(x)``, except that another library's array is left as it is (an
    ``impl`` normalizing its operands must not materialize a Dask array)."""
    if type(x) is np.ndarray or (not isinstance(x, np.ndarray) and is_foreign(x)):
        return x
    return np.asarray(x)


def array_kind(vals):
    """The type of the first foreign array among ``vals`` (None: NumPy only): what
    compiled programs are keyed by.  Arrays of two libraries are refused: neither
    library computes on the other's arrays."""
    kinds = {type(v) for v in vals if is_foreign(v)}
    if len(kinds) > 1:
        names = ", ".join(sorted(f"{t.__module__}.{t.__qualname__}" for t in kinds))
        raise ArrayLibraryError(
            f"arrays of different libraries among the inputs ({names}): funcdiff computes "
            "with one array library at a time.  Convert them to one library first "
            "(NumPy arrays mix with any of them).")
    x = first_foreign(vals)
    return None if x is None else type(x)
